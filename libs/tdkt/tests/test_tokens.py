import base64
import json
from datetime import timedelta

import jwt
import pytest
from tdkt.auth import TokenError, TokenVerifier
from tdkt.auth.tokens import generate_key_pair, mint_token
from tdkt.settings import AuthSettings


@pytest.fixture
def keys(tmp_path):
    private, public = tmp_path / "k.pem", tmp_path / "k.pub"
    assert generate_key_pair(private, public)
    assert not generate_key_pair(private, public), "an existing key pair is kept"
    return private, public


@pytest.fixture
def verifier(keys):
    return TokenVerifier(AuthSettings("tdkt-local", "tdkt", "RS256", keys[1], None, 0))


def token(keys, **kw):
    args = dict(issuer="tdkt-local", audience="tdkt", roles=["unit_reporter"], unit_id="03390")
    args.update(kw)
    return mint_token(keys[0].read_bytes(), **args)


def test_valid_token_gives_the_principal(keys, verifier):
    p = verifier.verify(token(keys))
    assert p.roles == {"unit_reporter"} and p.unit_id == "03390"
    assert p.may_see_unit("03390") and not p.may_see_unit("03412")
    assert p.unit_filter() == {"unit_id": "03390"}


def test_wide_sight_roles_see_every_unit(keys, verifier):
    p = verifier.verify(token(keys, roles=["tdkt_officer"], unit_id=None))
    assert p.sees_all_units and p.unit_filter() == {}


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda k: token(k, ttl=timedelta(seconds=-5)), "expired"),
        (lambda k: token(k, audience="other"), "another audience"),
        (lambda k: token(k, issuer="evil"), "another issuer"),
        (lambda k: token(k)[:-4] + "AAAA", "invalid token"),
        (lambda k: "not.a.token", "invalid token"),
    ],
)
def test_bad_tokens_are_refused(keys, verifier, make, message):
    with pytest.raises(TokenError, match=message):
        verifier.verify(make(keys))


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_alg_none_and_key_confusion_are_refused(keys, verifier):
    claims = jwt.decode(token(keys), options={"verify_signature": False})
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(TokenError):
        verifier.verify(unsigned)
    # HS256 "signed" with the public key as the shared secret (the classic confusion attack).
    forged = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}"
    import hashlib
    import hmac

    sig = base64.urlsafe_b64encode(hmac.new(keys[1].read_bytes(), forged.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
    with pytest.raises(TokenError):
        verifier.verify(f"{forged}.{sig}")


def test_unknown_roles_cannot_be_minted(keys):
    with pytest.raises(ValueError, match="unknown role"):
        token(keys, roles=["emperor"])
