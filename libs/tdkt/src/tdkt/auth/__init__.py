"""Bearer JWTs: who is calling, with which roles, from which unit."""

from tdkt.auth.principal import ROLES, WIDE_SIGHT_ROLES, Principal
from tdkt.auth.tokens import TokenError, TokenVerifier

__all__ = ["Principal", "ROLES", "WIDE_SIGHT_ROLES", "TokenVerifier", "TokenError"]
