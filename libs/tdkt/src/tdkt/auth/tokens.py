"""Verifying bearer tokens (services) and minting them (the local stack's `tdkt token`).

The algorithm, issuer and audience come from configuration, never from the token: a token that
says `alg: none` or HS256 with the public key as secret is simply not valid here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tdkt.auth.principal import ROLES, Principal
from tdkt.settings import AuthSettings


class TokenError(Exception):
    """The bearer token is missing, malformed, expired, or not for us; the message says which."""


class TokenVerifier:
    def __init__(self, settings: AuthSettings):
        self.settings = settings
        self._key = None
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300) if settings.jwks_url else None

    def _key_for(self, token: str):
        if self._jwks is not None:
            return self._jwks.get_signing_key_from_jwt(token).key
        if self._key is None:
            self._key = serialization.load_pem_public_key(Path(self.settings.public_key_file).read_bytes())
        return self._key

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=[self.settings.algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("token expired") from None
        except jwt.InvalidAudienceError:
            raise TokenError("token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise TokenError("token is from another issuer") from None
        except (jwt.PyJWTError, ValueError) as exc:
            raise TokenError(f"invalid token: {exc}") from None
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise TokenError("invalid token: roles must be a list of strings")
        unit = claims.get("unit_id")
        if unit is not None and not isinstance(unit, str):
            raise TokenError("invalid token: unit_id must be a string")
        return Principal(subject=str(claims["sub"]), roles=frozenset(r for r in roles if r in ROLES), unit_id=unit, name=claims.get("name"))


def generate_key_pair(private_path: Path, public_path: Path) -> bool:
    """Create the development RSA key pair if missing; True when it was created."""
    if private_path.exists() and public_path.exists():
        return False
    private_path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    private_path.chmod(0o600)
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return True


def mint_token(
    private_key_pem: bytes,
    *,
    issuer: str,
    audience: str,
    roles: list[str],
    unit_id: str | None,
    subject: str | None = None,
    name: str | None = None,
    ttl: timedelta = timedelta(hours=8),
    algorithm: str = "RS256",
) -> str:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(unknown)}; known roles: {', '.join(ROLES)}")
    now = datetime.now(UTC)
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject or f"dev-{'-'.join(roles)}-{unit_id or 'all'}",
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
        "roles": roles,
    }
    if unit_id:
        claims["unit_id"] = unit_id
    if name:
        claims["name"] = name
    return jwt.encode(claims, serialization.load_pem_private_key(private_key_pem, password=None), algorithm=algorithm)
