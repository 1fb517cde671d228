"""`make demo`'s scenario as a test: the 2023 plan replayed through the four services, every
process real, over Kafka, with a real SMTP server and a webhook receiver (`tdkt_localstack.demo`)."""

from __future__ import annotations

import pytest
from tdkt.auth.tokens import mint_token
from tdkt_localstack import demo
from tdkt_localstack.pytest_plugin import TEST_AUDIENCE, TEST_ISSUER


@pytest.mark.timeout(900)  # the whole story: about 100 requests per service against the real store
@pytest.mark.services("registry", "reports", "awards", "notify")
def test_the_demo_replays_the_2023_plan_to_a_decision(system, dev_keys, smtp_server, tmp_path):
    for service, command in (("registry", "import-admin-units"), ("registry", "seed-plan"), ("awards", "seed-catalogue"), ("notify", "seed-routes")):
        system.tdkt(service, command)

    def token(*roles: str, unit: str | None = None, subject: str | None = None) -> str:
        return mint_token(dev_keys[0].read_bytes(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE, roles=list(roles), unit_id=unit, subject=subject)

    story: list[str] = []
    ctx = demo.Context(
        urls={s: system.url(s) for s in ("registry", "reports", "awards", "notify")},
        token=token,
        run=system.tdkt,
        mails=smtp_server.messages,
        out=tmp_path / "demo",
        say=lambda line: (story.append(line), print(line, flush=True)),
    )
    summary = demo.run(ctx)

    assert summary["units_2023"] == 35 and summary["successors"] >= 3
    assert summary["reports_late"] > 0 and summary["reports_on_time"] > 0
    assert summary["nominations"] == 5 and len(summary["eligible_ids"]) == 4
    [(name, reasons)] = summary["ineligible"].items()
    assert any("reports accepted" in r for r in reasons), reasons
    decision = summary["decision"]
    assert decision["state"] == "issued" and decision["totals"]["awardees"] == 4 and decision["totals"]["direct_workers"] == 2
    assert all(a["amount"] > 0 for a in decision["awardees"])
    assert summary["webhooks"] and summary["bad_signatures"] == 0 and summary["announcements"] >= 1
    for path in summary["files"].values():
        assert (tmp_path / "demo").joinpath(path.rsplit("/", 1)[-1]).stat().st_size > 0
    assert any("Nhắc" in str(m["Subject"]) or "Quá hạn" in str(m["Subject"]) for m in smtp_server.messages()), "reminders by email"
