"""Reports over HTTP: periods generated from a launched movement, the draft → submit → review
workflow with versions and their diff, late submissions, and who may do what."""

from __future__ import annotations

from datetime import timedelta

from tdkt_reports.adapters.documents import Report
from tdkt_reports.service_layer.periods import report_id

from .conftest import TODAY


def problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def test_launch_generates_periods_once_per_unit_and_period(registry, db):
    units = [registry.unit("Xã Bình Lư"), registry.unit("Xã Tả Lèng")]
    movement = registry.movement(units)
    assert Report.objects(movement_id=movement["id"]).count() == 6
    registry.movement(units, event="amended", movement_id=movement["id"])  # the same schedule again: nothing new
    assert Report.objects(movement_id=movement["id"]).count() == 6
    newcomer = registry.unit("Xã Khun Há")
    registry.movement([*units, newcomer], event="amended", movement_id=movement["id"])
    assert Report.objects(movement_id=movement["id"], unit_id=newcomer).count() == 3


def test_draft_submit_return_resubmit_accept(client, as_role, officer, registry):
    unit = registry.unit("Xã Bình Lư")
    movement = registry.movement([unit])
    rid = report_id(movement["id"], unit, movement["due_dates"][0]["period"])
    reporter, head = as_role("unit_reporter", unit=unit), as_role("unit_head", unit=unit)

    etag = client.get(f"/api/v1/reports/{rid}", headers=reporter).headers["ETag"]
    draft = {"narrative": "Tháng này giải ngân tốt", "values": {"giai-ngan": {"value": 96.5, "unit": "%"}, "ocop": {"value": 1}}, "self_assessment": "good"}
    saved = client.put(f"/api/v1/reports/{rid}/draft", json=draft, headers=reporter | {"If-Match": etag})
    assert saved.status_code == 200, saved.get_json()
    problem(client.post(f"/api/v1/reports/{rid}/submit", json={}, headers=reporter | {"If-Match": saved.headers["ETag"]}), 403)  # only the head submits
    submitted = client.post(f"/api/v1/reports/{rid}/submit", json={}, headers=head | {"If-Match": saved.headers["ETag"]})
    assert submitted.status_code == 200 and submitted.get_json()["state"] == "submitted"
    assert submitted.get_json()["late"] is True  # due five days ago: accepted, marked late
    problem(client.post(f"/api/v1/reports/{rid}/submit", json={}, headers=head | {"If-Match": submitted.headers["ETag"]}), 409)  # the same version twice

    returned = client.post(
        f"/api/v1/reports/{rid}/return", json={"item_comments": {"ocop": "Thiếu quyết định công nhận"}}, headers=officer | {"If-Match": submitted.headers["ETag"]}
    )
    assert returned.get_json()["state"] == "returned"
    fixed = client.put(
        f"/api/v1/reports/{rid}/draft", json=draft | {"values": {"giai-ngan": {"value": 96.5}, "ocop": {"value": 2}}}, headers=reporter | {"If-Match": returned.headers["ETag"]}
    )
    again = client.post(f"/api/v1/reports/{rid}/submit", json={}, headers=head | {"If-Match": fixed.headers["ETag"]})
    accepted = client.post(f"/api/v1/reports/{rid}/accept", json={"comment": "Đạt"}, headers=officer | {"If-Match": again.headers["ETag"]})
    body = accepted.get_json()
    assert body["state"] == "accepted" and [v["number"] for v in body["versions"]] == [1, 2]
    assert [r["decision"] for r in body["reviews"]] == ["returned", "accepted"]
    diff = client.get(f"/api/v1/reports/{rid}/diff?from=1&to=2", headers=officer).get_json()
    assert diff["values"] == [{"criterion": "ocop", "before": 1, "after": 2}] and diff["narrative_changed"] is False
    problem(client.put(f"/api/v1/reports/{rid}/draft", json=draft, headers=reporter | {"If-Match": accepted.headers["ETag"]}), 409)  # nobody edits an accepted report

    doc = Report.objects.get(id=rid)
    assert [e["type"].split(".")[-2] for e in doc.outbox] == ["submitted", "returned", "submitted", "accepted"]


def test_bad_input_is_refused_and_changes_nothing(client, as_role, registry):
    unit = registry.unit("Xã Bình Lư")
    movement = registry.movement([unit])
    rid = report_id(movement["id"], unit, movement["due_dates"][0]["period"])
    reporter = as_role("unit_reporter", unit=unit)
    etag = client.get(f"/api/v1/reports/{rid}", headers=reporter).headers["ETag"]
    cases = [
        ({"values": {"giai-ngan": {"value": "nhiều"}}}, "values.giai-ngan.value"),
        ({"values": {"giai-ngan": {"value": 96, "unit": "tỷ đồng"}}}, "values.giai-ngan.unit"),
        ({"values": {"giai-ngan": {"value": 140}}}, "values.giai-ngan.value"),
        ({"values": {"ocop": {"value": 1.5}}}, "values.ocop.value"),
        ({"values": {"khong-co": {"value": 1}}}, "values.khong-co"),
        ({"values": {}, "secret": 1}, "secret"),
    ]
    for body, field in cases:
        errors = problem(client.put(f"/api/v1/reports/{rid}/draft", json=body, headers=reporter | {"If-Match": etag}), 422)["errors"]["json"]
        assert field in errors or field.split(".")[0] in errors, (field, errors)
    assert Report.objects.get(id=rid).state == "open"

    future = report_id(movement["id"], unit, "final")
    etag = client.get(f"/api/v1/reports/{future}", headers=reporter).headers["ETag"]
    problem(client.put(f"/api/v1/reports/{future}/draft", json={"values": {}}, headers=reporter | {"If-Match": etag}), 409)  # not open yet
    problem(client.post(f"/api/v1/reports/{rid}/submit", json={}, headers=as_role("unit_head", unit=unit) | {"If-Match": etag}), 412)


def test_a_unit_sees_only_its_own_reports(client, as_role, officer, registry):
    mine, theirs = registry.unit("Xã Bình Lư"), registry.unit("Xã Tả Lèng")
    movement = registry.movement([mine, theirs])
    other = report_id(movement["id"], theirs, movement["due_dates"][0]["period"])
    me = as_role("unit_reporter", unit=mine)
    problem(client.get(f"/api/v1/reports/{other}", headers=me), 404)
    problem(client.put(f"/api/v1/reports/{other}/draft", json={"values": {}}, headers=me | {"If-Match": "*"}), 404)
    listed = client.get("/api/v1/reports", query_string={"movement_id": movement["id"]}, headers=me).get_json()
    assert listed["total"] == 3 and {r["unit_id"] for r in listed["items"]} == {mine}
    assert client.get("/api/v1/reports", query_string={"movement_id": movement["id"]}, headers=officer).get_json()["total"] == 6


def test_a_page_of_reports_names_each_reports_movement(client, officer, registry):
    unit = registry.unit("Xã Bình Lư")
    first, second = registry.movement([unit]), registry.movement([unit], title="Thi đua xây dựng nông thôn mới")
    items = client.get("/api/v1/reports", headers=officer).get_json()["items"]  # one title read per movement, not per report
    assert len(items) == 6 and {(r["movement_id"], r["movement_title"]) for r in items} == {(first["id"], first["title"]), (second["id"], second["title"])}


def test_a_merged_units_open_periods_pass_to_its_successor(client, as_role, registry):
    old, successor = registry.unit("Thị trấn Tam Đường"), registry.unit("Xã Bình Lư (mới)")
    movement = registry.movement([old])
    registry.unit("Thị trấn Tam Đường", event="merged", id=old, end_reason="merged", valid_to=(TODAY - timedelta(days=1)).isoformat(), successor_ids=[successor])
    open_now = Report.objects.get(id=report_id(movement["id"], old, movement["due_dates"][0]["period"]))
    assert open_now.unit_id == successor and open_now.original_unit_id == old
    assert open_now.history[-1]["action"] == "inherited"
    client_headers = as_role("unit_reporter", unit=successor)
    assert client.get(f"/api/v1/reports/{open_now.id}", headers=client_headers).status_code == 200


def test_report_events_feed_the_units_progress_once(client, as_role, officer, registry, db):
    from tdkt.events.consumer import HandlerContext
    from tdkt.events.envelope import Event
    from tdkt_reports.adapters.documents import Progress
    from tdkt_reports.service_layer.progress import on_report, progress_id

    unit = registry.unit("Xã Bình Lư")
    movement = registry.movement([unit])
    rid = report_id(movement["id"], unit, movement["due_dates"][0]["period"])
    reporter, head = as_role("unit_reporter", unit=unit), as_role("unit_head", unit=unit)
    etag = client.get(f"/api/v1/reports/{rid}", headers=reporter).headers["ETag"]
    saved = client.put(f"/api/v1/reports/{rid}/draft", json={"values": {"giai-ngan": {"value": 97}, "ocop": {"value": 1}}}, headers=reporter | {"If-Match": etag})
    submitted = client.post(f"/api/v1/reports/{rid}/submit", json={}, headers=head | {"If-Match": saved.headers["ETag"]})
    client.post(f"/api/v1/reports/{rid}/accept", json={}, headers=officer | {"If-Match": submitted.headers["ETag"]})

    events = [Event.from_outbox_entry(e) for e in Report.objects.get(id=rid).outbox]
    for event in [*events, *events]:  # each twice, and the accepted one before the submitted one again
        on_report(event, HandlerContext(db, event.data, 1))
    on_report(events[0], HandlerContext(db, events[0].data, 1))
    progress = Progress.objects.get(id=progress_id(movement["id"], unit))
    assert [e["type"] for e in progress.outbox] == ["vn.tdkt.reports.movement_progress.updated.v1"] * 2
    latest = progress.outbox[-1]["data"]
    assert latest["accepted"] == 1 and latest["periods_total"] == 3 and latest["last_accepted"]["values"]["giai-ngan"]["value"] == 97


def test_the_same_launch_event_again_finishes_opening_the_periods(registry, db):
    """A consumer killed after copying the movement but before opening every period gets the
    same event again: the copy is unchanged, and the missing periods still open."""
    from tdkt.events.consumer import HandlerContext
    from tdkt.events.envelope import Event, EventType
    from tdkt_reports.service_layer.projections import on_movement

    units = [registry.unit("Xã Bình Lư"), registry.unit("Xã Tả Lèng")]
    movement = registry.movement(units)
    db.reports.delete_many({"movement_id": movement["id"], "unit_id": units[1]})  # as if the kill came half-way
    again = Event.new(
        EventType("vn.tdkt.registry.movement.launched.v1", "registry.movements.v1"), source="/registry", subject=movement["id"], data={"movement": movement}, sequence=1
    )
    on_movement(again, HandlerContext(db, again.data, 1))
    assert Report.objects(movement_id=movement["id"]).count() == 6
