"""Data shipped with the service: the default rule catalogue (`catalogue-default.json`)."""

DEFAULT_ISSUER = "Ủy ban nhân dân tỉnh Lai Châu"  # the issuer of the shipped catalogue; requests may name another
