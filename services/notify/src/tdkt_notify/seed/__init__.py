"""Data shipped with the service: the default routing rules (`routes-default.json`)."""
