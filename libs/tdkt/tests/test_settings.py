import pytest
from tdkt.settings import SettingsError, load_settings


@pytest.fixture
def good_env(monkeypatch, tmp_path):
    key = tmp_path / "public.pem"
    key.write_text("-----BEGIN PUBLIC KEY-----\n")
    env = {
        "MONGODB_URI": "mongodb://127.0.0.1:27017/",
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092,127.0.0.1:9093",
        "JWT_ISSUER": "tdkt-local",
        "JWT_AUDIENCE": "tdkt",
        "JWT_PUBLIC_KEY_FILE": str(key),
    }
    for name in [
        "MONGODB_URI",
        "MONGODB_DATABASE",
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_TOPIC_PARTITIONS",
        "JWT_ISSUER",
        "JWT_AUDIENCE",
        "JWT_ALGORITHM",
        "JWT_PUBLIC_KEY_FILE",
        "JWT_JWKS_URL",
        "TDKT_ENV",
        "LOG_LEVEL",
        "KAFKA_GROUP_ID",
    ]:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_defaults_are_sensible(good_env):
    s = load_settings("reports")
    assert s.mongo.database == "tdkt_reports"
    assert s.kafka.bootstrap_servers == ["127.0.0.1:9092", "127.0.0.1:9093"]
    assert s.consumer.group_id == "tdkt-reports"
    assert s.auth.algorithm == "RS256"


def test_every_bad_variable_is_named_at_once(good_env):
    good_env.delenv("MONGODB_URI")
    good_env.delenv("JWT_ISSUER")
    good_env.setenv("KAFKA_TOPIC_PARTITIONS", "0")
    good_env.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(SettingsError) as err:
        load_settings("awards")
    for name in ("MONGODB_URI", "JWT_ISSUER", "KAFKA_TOPIC_PARTITIONS", "LOG_LEVEL"):
        assert name in str(err.value)


def test_a_key_source_is_required(good_env):
    good_env.delenv("JWT_PUBLIC_KEY_FILE")
    with pytest.raises(SettingsError, match="JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL"):
        load_settings("notify")


def test_algorithm_none_is_refused(good_env):
    good_env.setenv("JWT_ALGORITHM", "none")
    with pytest.raises(SettingsError, match="JWT_ALGORITHM"):
        load_settings("notify")


def test_uri_scheme_is_checked(good_env):
    good_env.setenv("MONGODB_URI", "postgres://x")
    with pytest.raises(SettingsError, match="MONGODB_URI"):
        load_settings("registry")
