"""The `tdkt` operator commands, against the real broker where they touch it."""

from __future__ import annotations

from click.testing import CliRunner
from tdkt.auth import TokenVerifier
from tdkt.cli import main
from tdkt.events.kafka import make_producer
from tdkt.settings import AuthSettings


def test_token_is_valid_for_the_local_stack(dev_keys):
    runner = CliRunner()
    result = runner.invoke(main, ["token", "--role", "unit_reporter", "--unit", "03390", "--key", str(dev_keys[0])], env={"JWT_ISSUER": "tdkt-local", "JWT_AUDIENCE": "tdkt"})
    assert result.exit_code == 0, result.output
    principal = TokenVerifier(AuthSettings("tdkt-local", "tdkt", "RS256", dev_keys[1], None, 0)).verify(result.output.strip())
    assert principal.roles == {"unit_reporter"} and principal.unit_id == "03390"


def test_token_refuses_what_makes_no_sense(dev_keys, tmp_path):
    runner = CliRunner()
    no_unit = runner.invoke(main, ["token", "--role", "unit_head", "--key", str(dev_keys[0])])
    assert no_unit.exit_code != 0 and "pass --unit" in no_unit.output
    bad_role = runner.invoke(main, ["token", "--role", "emperor", "--key", str(dev_keys[0])])
    assert bad_role.exit_code != 0 and "emperor" in bad_role.output
    no_key = runner.invoke(main, ["token", "--role", "admin", "--key", str(tmp_path / "missing.pem")])
    assert no_key.exit_code != 0 and "make up" in no_key.output


def test_dlq_list_and_redrive(make_topic, kafka_settings, servers):
    topic = make_topic(partitions=1)
    producer = make_producer(kafka_settings)
    headers = [("ce_id", b"1"), ("dlq_origin_topic", topic.name.encode()), ("dlq_error", b"boom")]
    producer.send(topic.dlq, key=b"k", value=b"{}", headers=headers).get(10)
    producer.close()
    env = {"KAFKA_BOOTSTRAP_SERVERS": servers.kafka_bootstrap}
    runner = CliRunner()
    listed = runner.invoke(main, ["dlq", "list"], env=env)
    assert listed.exit_code == 0 and f"{topic.dlq}\t1 waiting" in listed.output
    moved = runner.invoke(main, ["dlq", "redrive", topic.dlq], env=env)
    assert moved.exit_code == 0 and "1 record(s) re-driven" in moved.output and topic.name in moved.output
    assert f"{topic.dlq}\t0 waiting" in runner.invoke(main, ["dlq", "list"], env=env).output
    wrong = runner.invoke(main, ["dlq", "redrive", topic.name], env=env)
    assert wrong.exit_code != 0 and "is not a dead-letter topic" in wrong.output
