"""The inbox as an API worker keeps it (`service_layer.inbox`): a mailbox read again only when its
mark moves, messages kept once read. Whatever is kept, a new message shows at once, a
re-delivered event adds nothing, and a mailbox from before marks existed is still read."""

from __future__ import annotations

from tdkt.events.consumer import HandlerContext
from tdkt.events.envelope import Event, EventType
from tdkt_notify.service_layer import inbox, intake

from .test_notify import UNIT, app, client, db  # noqa: F401 — the app with its routes and units

DUE_SOON = EventType("vn.tdkt.reports.report.due_soon.v1", "reports.reports.v1")


def remind(db, period: str, event: Event | None = None) -> Event:  # noqa: F811
    report = {
        "id": f"mv.{UNIT}.{period}",
        "movement_id": "mv",
        "unit_id": UNIT,
        "period": period,
        "kind": "interim",
        "due": f"{period}-25",
        "state": "open",
        "version": 0,
        "late": False,
    }
    event = event or Event.new(DUE_SOON, source="/test", subject=report["id"], data={"report": report}, sequence=1)
    intake.on_event(event, HandlerContext(db=db, data=event.data, attempt=1))
    return event


def test_a_kept_mailbox_shows_each_new_message_and_nothing_twice(db, client, as_role):  # noqa: F811
    reporter = as_role("unit_reporter", unit=UNIT)
    first = remind(db, "2026-10")
    seen = client.get("/api/v1/inbox", headers=reporter).get_json()  # the mailbox kept under its mark
    assert (seen["total"], seen["unread"]) == (1, 1)
    mark = db[intake.MAILBOX_MARKS].find_one({"_id": f"unit:{UNIT}"})["n"]

    remind(db, "2026-11")
    after = client.get("/api/v1/inbox", headers=reporter).get_json()
    assert db[intake.MAILBOX_MARKS].find_one({"_id": f"unit:{UNIT}"})["n"] > mark
    assert (after["total"], after["unread"]) == (2, 2) and [i["title"] for i in after["items"]][1] == seen["items"][0]["title"]
    assert client.get("/api/v1/inbox/unread-count", headers=reporter).get_json() == {"unread": 2}

    remind(db, "2026-10", event=first)  # re-delivered: the mark may move, the mailbox doesn't
    again = client.get("/api/v1/inbox", headers=reporter).get_json()
    assert again == after

    client.post("/api/v1/inbox/read-all", json={}, headers=reporter)  # read marks are never kept
    assert client.get("/api/v1/inbox", headers=reporter).get_json()["unread"] == 0
    assert [i["read"] for i in client.get("/api/v1/inbox?unread=true", headers=reporter).get_json()["items"]] == []


def test_a_mailbox_without_a_mark_is_read_every_time(db, client, as_role):  # noqa: F811
    reporter = as_role("unit_reporter", unit=UNIT)
    remind(db, "2026-10")
    db[intake.MAILBOX_MARKS].delete_many({})  # as written before marks existed
    assert client.get("/api/v1/inbox", headers=reporter).get_json()["total"] == 1
    db[intake.MAILBOXES].update_one({"_id": f"unit:{UNIT}"}, {"$addToSet": {"entries": "2099-01-01T00:00:00+00:00|later"}})
    db[intake.MESSAGES].insert_one(
        {"_id": "later", "owner": f"unit:{UNIT}", "event_type": DUE_SOON.type, "title": "Muộn hơn", "text": "…", "created_at": "2099-01-01T00:00:00+00:00"}
    )
    body = client.get("/api/v1/inbox", headers=reporter).get_json()
    assert body["total"] == 2 and body["items"][0]["title"] == "Muộn hơn"
    assert (db.name, f"unit:{UNIT}") not in inbox._mailboxes
