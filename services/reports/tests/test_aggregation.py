"""A movement's figures over HTTP, from reports that went through the real workflow and the real
progress handler: completion against the movement's and the unit's own targets (lower-is-better
too), weighted score, punctuality, rank within clusters, what a unit may see, a unit's history,
and the Excel and CSV exports (opened back), with a unit whose name is a formula."""

from __future__ import annotations

import csv
import io
import time
import uuid
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from tdkt.events.consumer import HandlerContext
from tdkt.events.envelope import Event, EventType
from tdkt_reports.adapters.documents import Report
from tdkt_reports.domain import aggregation as figures
from tdkt_reports.domain import ranking
from tdkt_reports.service_layer import clusters
from tdkt_reports.service_layer.periods import report_id
from tdkt_reports.service_layer.progress import on_report

from .conftest import TODAY

FORMULA = '=HYPERLINK("http://x")'
CRITERIA = [
    {
        "key": "giai-ngan",
        "area": "kinh-te",
        "name": "Giải ngân đầu tư công",
        "unit_of_measure": "%",
        "target": 95,
        "direction": "higher_is_better",
        "value_type": "percent",
        "weight": 2,
    },
    {"key": "ocop", "area": "kinh-te", "name": "Sản phẩm OCOP", "unit_of_measure": "sản phẩm", "target": 2, "direction": "higher_is_better", "value_type": "integer", "weight": 1},
    {
        "key": "vu-viec",
        "area": "an-ninh",
        "name": "Vụ việc mất an ninh",
        "unit_of_measure": "vụ",
        "target": 2,
        "direction": "lower_is_better",
        "value_type": "integer",
        "weight": 1,
    },
]
AREAS = [{"key": "kinh-te", "title": "Phát triển kinh tế"}, {"key": "an-ninh", "title": "Quốc phòng, an ninh"}]
SCHEDULE = [  # ky-1 is past due (a submission now is late), final is open and not yet due
    {"kind": "interim", "period": "ky-1", "due": (TODAY - timedelta(days=5)).isoformat()},
    {"kind": "interim", "period": "ky-2", "due": (TODAY + timedelta(days=45)).isoformat()},
    {"kind": "final", "period": "final", "due": (TODAY + timedelta(days=10)).isoformat()},
]


def cluster(registry, name: str, members: list[str], kind: str = "cluster") -> str:
    """Publish a registry-shaped cluster event into this service's cluster projection."""
    cluster_id = uuid.uuid4().hex
    registry.sequences[cluster_id] = 1
    data = {"cluster": {"id": cluster_id, "name": name, "kind": kind, "description": None, "member_ids": members, "terms": []}}
    event = Event.new(EventType("vn.tdkt.registry.cluster.registered.v1", "registry.clusters.v1"), source="/registry", subject=cluster_id, data=data, sequence=1)
    clusters.on_cluster(event, HandlerContext(registry.db, data, 1))
    return cluster_id


def register(registry, movement_id: str, unit_id: str, targets: dict) -> None:
    registration = {"id": f"{movement_id}.{unit_id}", "movement_id": movement_id, "unit_id": unit_id, "targets": targets}
    registry.publish("registration.submitted", registration["id"], {"registration": registration}, "registry.registrations.v1")


@pytest.fixture
def report(client, as_role, officer, db):
    """Draft, submit and (if asked) review one period through HTTP, then feed its events to the progress handler."""

    def run(movement: dict, unit: str, period: str, values: dict, decision: str | None = None) -> None:
        rid = report_id(movement["id"], unit, period)
        reporter, head = as_role("unit_reporter", unit=unit), as_role("unit_head", unit=unit)
        etag = client.get(f"/api/v1/reports/{rid}", headers=reporter).headers["ETag"]
        saved = client.put(f"/api/v1/reports/{rid}/draft", json={"values": {k: {"value": v} for k, v in values.items()}}, headers=reporter | {"If-Match": etag})
        assert saved.status_code == 200, saved.get_json()
        submitted = client.post(f"/api/v1/reports/{rid}/submit", json={}, headers=head | {"If-Match": saved.headers["ETag"]})
        assert submitted.status_code == 200, submitted.get_json()
        if decision:
            reviewed = client.post(f"/api/v1/reports/{rid}/{decision}", json={"comment": "Thiếu số liệu"}, headers=officer | {"If-Match": submitted.headers["ETag"]})
            assert reviewed.status_code == 200, reviewed.get_json()
        for entry in Report.objects.get(id=rid).outbox:
            event = Event.from_outbox_entry(entry)
            on_report(event, HandlerContext(db, event.data, 1))

    return run


@pytest.fixture
def scene(registry, report):
    """Three units in two clusters: A reports both periods (accepted), B has the interim accepted
    and the final returned, C (named like a formula) has its interim returned."""
    a, b, c = registry.unit("Xã Bình Lư", code="03391"), registry.unit("Xã Tả Lèng", code="03392"), registry.unit(FORMULA, code="03393")
    movement = registry.movement([a, b, c], criteria=CRITERIA, content_areas=AREAS, due_dates=SCHEDULE)
    one, two = cluster(registry, "Cụm thi đua số 1", [a, b]), cluster(registry, "Cụm thi đua số 2", [c, uuid.uuid4().hex])
    register(registry, movement["id"], a, {"giai-ngan": 98, "ocop": 3, "vu-viec": 1})
    register(registry, movement["id"], c, {"giai-ngan": 90})
    report(movement, a, "ky-1", {"giai-ngan": 90, "ocop": 1, "vu-viec": 3}, "accept")
    report(movement, a, "final", {"giai-ngan": 96, "ocop": 3, "vu-viec": 1}, "accept")
    report(movement, b, "ky-1", {"giai-ngan": 99, "ocop": 2, "vu-viec": 2}, "accept")
    report(movement, b, "final", {"giai-ngan": 99, "ocop": 5, "vu-viec": 0}, "return")
    report(movement, c, "ky-1", {"giai-ngan": 80, "ocop": 0, "vu-viec": 4}, "return")
    return {"movement": movement, "a": a, "b": b, "c": c, "one": one, "two": two}


def aggregation(client, headers, movement_id: str, **query) -> dict:
    response = client.get(f"/api/v1/movements/{movement_id}/aggregation", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_completion_score_punctuality_and_ranks(client, officer, scene):
    body = aggregation(client, officer, scene["movement"]["id"])
    assert body["stale"] is False and body["total"] == 3
    rows = {r["unit_id"]: r for r in body["items"]}
    a, b, c = rows[scene["a"]], rows[scene["b"]], rows[scene["c"]]
    # A: the final report's values (accepted) win over the interim's
    assert {k: v["value"] for k, v in a["criteria"].items()} == {"giai-ngan": 96, "ocop": 3, "vu-viec": 1}
    assert a["criteria"]["giai-ngan"]["completion"] == 101.05  # 96 / 95
    assert a["criteria"]["ocop"]["completion"] == 150.0  # 3 / 2, capped
    assert a["criteria"]["vu-viec"]["completion"] == 150.0  # lower is better: 2 / 1, capped
    assert a["score"] == 125.53  # (2 × 1.0105 + 1.5 + 1.5) / 4
    assert a["areas"] == {"kinh-te": 117.37, "an-ninh": 150.0}
    assert a["criteria"]["giai-ngan"]["completion_registered"] == 97.96 and a["score_registered"] == 98.98  # against 98, 3 and 1
    assert (a["punctuality"], a["periods_due"], a["on_time"], a["late"], a["final_accepted"]) == (50.0, 2, 1, 1, True)
    # B: its final was returned, so the accepted interim's values count
    assert b["criteria"]["giai-ngan"]["value"] == 99 and b["score"] == 102.11 and b["score_registered"] is None
    assert b["punctuality"] == 50.0 and b["final_accepted"] is False
    # C: nothing accepted, late once
    assert c["score"] == 0.0 and c["criteria"]["giai-ngan"]["value"] is None and c["punctuality"] == 0.0
    assert [r["unit_id"] for r in body["items"]] == [scene["a"], scene["b"], scene["c"]] and [r["rank"] for r in body["items"]] == [1, 2, 3]
    assert {(x["id"], x["rank"], x["of"]) for x in b["clusters"]} == {(scene["one"], 2, 2)}
    assert c["clusters"][0]["rank"] == 1 and c["clusters"][0]["of"] == 1  # the non-participant member does not count
    t = body["totals"]
    assert (t["units"], t["reported"], t["accepted"], t["late"], t["final_accepted"]) == (3, 3, 2, 3, 1)
    assert t["average_score"] == 75.88 and t["average_punctuality"] == 33.33
    assert t["criteria"]["giai-ngan"] == {"reported": 2, "total_value": 195.0, "average_value": 97.5, "average_completion": 102.63, "met": 2}


def test_weights_clusters_sorting_and_bad_input(client, officer, scene):
    mid = scene["movement"]["id"]
    reweighted = aggregation(client, officer, mid, weights="ocop:0,vu-viec:0")
    assert [r["unit_id"] for r in reweighted["items"]][:2] == [scene["b"], scene["a"]]  # 104.21 beats 101.05 on disbursement alone
    assert reweighted["weights"] == {"giai-ngan": 2.0, "ocop": 0.0, "vu-viec": 0.0}
    one = aggregation(client, officer, mid, cluster_id=scene["one"])
    assert [(r["unit_id"], r["cluster_rank"]) for r in one["items"]] == [(scene["a"], 1), (scene["b"], 2)]
    assert one["totals"]["units"] == 2 and one["cluster"]["name"] == "Cụm thi đua số 1"
    by_name = aggregation(client, officer, mid, sort="name", per_page=2)
    assert [r["name"] for r in by_name["items"]] == ["Xã Bình Lư", "Xã Tả Lèng"] and by_name["pages"] == 2  # letters before signs
    for query, field in (({"weights": "khong-co:1"}, "weights"), ({"weights": "ocop:x"}, "weights"), ({"sort": "secret"}, "sort")):
        response = client.get(f"/api/v1/movements/{mid}/aggregation", query_string=query, headers=officer)
        assert response.status_code == 422 and field in response.get_json()["errors"]["query"], response.get_json()
    assert client.get(f"/api/v1/movements/{mid}/aggregation", query_string={"cluster_id": "nowhere"}, headers=officer).status_code == 404
    assert client.get(f"/api/v1/movements/{uuid.uuid4().hex}/aggregation", headers=officer).status_code == 404


def test_a_unit_sees_the_totals_and_only_its_own_row(client, as_role, scene):
    mid = scene["movement"]["id"]
    mine = as_role("unit_reporter", unit=scene["b"])
    body = aggregation(client, mine, mid)
    assert [r["unit_id"] for r in body["items"]] == [scene["b"]] and body["items"][0]["rank"] == 2 and body["totals"]["units"] == 3
    assert client.get(f"/api/v1/movements/{mid}/units/{scene['b']}/history", headers=mine).status_code == 200
    assert client.get(f"/api/v1/movements/{mid}/units/{scene['a']}/history", headers=mine).status_code == 404
    assert client.get(f"/api/v1/movements/{mid}/export.xlsx", headers=mine).status_code == 403
    assert client.get(f"/api/v1/movements/{mid}/export.csv", headers=as_role("unit_head", unit=scene["b"])).status_code == 403


def test_history_across_periods(client, officer, scene):
    body = client.get(f"/api/v1/movements/{scene['movement']['id']}/units/{scene['a']}/history", headers=officer).get_json()
    assert [(p["period"], p["state"], p["late"], p["overdue"]) for p in body["periods"]] == [
        ("ky-1", "accepted", True, False),
        ("final", "accepted", False, False),
        ("ky-2", "not_submitted", False, False),
    ]
    assert body["periods"][0]["values"] == {"giai-ngan": 90, "ocop": 1, "vu-viec": 3} and body["name"] == "Xã Bình Lư"


def test_new_reports_are_served_stale_then_fresh(client, as_role, officer, scene, report):
    mid, c = scene["movement"]["id"], scene["c"]
    first = aggregation(client, officer, mid)
    report(scene["movement"], c, "final", {"giai-ngan": 95, "ocop": 2, "vu-viec": 2}, "accept")
    second = aggregation(client, officer, mid)
    assert second["stale"] is True and second["computed_at"] == first["computed_at"]  # the table it has, while it refreshes
    deadline = time.monotonic() + 15
    while (body := aggregation(client, officer, mid))["stale"] and time.monotonic() < deadline:
        time.sleep(0.05)
    row = next(r for r in body["items"] if r["unit_id"] == c)
    assert body["stale"] is False and row["score"] == 100.0 and row["punctuality"] == 50.0


def test_excel_export_layout(client, officer, scene):
    response = client.get(f"/api/v1/movements/{scene['movement']['id']}/export.xlsx", headers=officer)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet") and "attachment" in response.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.data)).active
    column_a = [ws.cell(row=r, column=1).value for r in range(1, ws.max_row + 1)]
    texts = [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert column_a[0] == "ỦY BAN NHÂN DÂN" and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in texts and "Độc lập – Tự do – Hạnh phúc" in texts
    assert "BẢNG TỔNG HỢP KẾT QUẢ THỰC HIỆN PHONG TRÀO THI ĐUA" in column_a and scene["movement"]["title"] in column_a
    start, end = (date.fromisoformat(scene["movement"][k]).strftime("%d/%m/%Y") for k in ("period_start", "period_end"))
    assert f"Thời gian: {start} – {end}" in column_a and f"Tính đến ngày {TODAY:%d/%m/%Y}" in column_a
    header = column_a.index("STT") + 1
    assert [ws.cell(row=header, column=c).value for c in (3, 5)] == ["Phát triển kinh tế", "Quốc phòng, an ninh"]
    assert ws.cell(row=header + 1, column=3).value == "Giải ngân đầu tư công" and "Chỉ tiêu: 95" in ws.cell(row=header + 2, column=3).value
    first = header + 4
    units = [ws.cell(row=r, column=2).value for r in range(first, first + 3)]
    assert units == ["Xã Bình Lư", "Xã Tả Lèng", "'" + FORMULA] and ws.cell(row=first + 2, column=2).data_type == "s"  # text, not a formula
    assert [ws.cell(row=first, column=c).value for c in range(1, 9)] == [1, "Xã Bình Lư", 96, 3, 1, 125.53, 1, 50]
    assert ws.cell(row=first + 3, column=2).value.startswith("Tổng cộng") and ws.cell(row=first + 3, column=3).value == 97.5  # a percentage is averaged
    assert ws.cell(row=first + 3, column=4).value == 5  # a count is summed
    assert "NGƯỜI LẬP BIỂU" in column_a and "THỦ TRƯỞNG ĐƠN VỊ" in texts and texts.count("(Ký, ghi rõ họ tên)") == 2
    assert ws.cell(row=first, column=2).font.name == "Times New Roman" and ws.freeze_panes == f"C{first}"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9 and ws.column_dimensions["B"].width == 34


def test_csv_export(client, officer, scene):
    response = client.get(f"/api/v1/movements/{scene['movement']['id']}/export.csv", query_string={"cluster_id": scene["two"]}, headers=officer)
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:6] == ["STT", "Mã đơn vị", "Đơn vị", "Giải ngân đầu tư công (%)", "Sản phẩm OCOP (sản phẩm)", "Vụ việc mất an ninh (vụ)"]
    assert len(rows) == 2 and rows[1][1:3] == ["03393", "'" + FORMULA] and rows[1][-1] == TODAY.strftime("%d/%m/%Y")
    everything = list(csv.reader(io.StringIO(client.get(f"/api/v1/movements/{scene['movement']['id']}/export.csv", headers=officer).data.decode("utf-8-sig"))))
    assert [r[2] for r in everything[1:]] == ["Xã Bình Lư", "Xã Tả Lèng", "'" + FORMULA]


# ---- the rules alone ----


def test_completion_by_direction():
    assert figures.completion(4, 2, "lower_is_better") == 0.5
    assert figures.completion(0, 0, "lower_is_better") == 1.0 and figures.completion(0, 0) == 1.0
    assert figures.completion(0, 2, "lower_is_better") == figures.CAP  # better than asked, as far as it counts
    assert figures.completion(3, 0, "lower_is_better") == 0.0  # a zero-tolerance target missed
    assert figures.completion(7, 0) == 1.0 and figures.completion(300, 100) == figures.CAP
    assert figures.completion(True, 1, value_type="boolean") == 1.0 and figures.completion(False, None, value_type="boolean") == 0.0
    assert figures.completion(5, None) is None and figures.completion(None, 5) is None


def test_ties_go_to_punctuality_then_vietnamese_name_order():
    movement = figures.summary({"_id": "m", "criteria": CRITERIA[:1], "content_areas": AREAS[:1], "due_dates": SCHEDULE[:1], "participant_ids": ["u1", "u2", "u3"]})
    on_time = {"values": {"giai-ngan": 95}, "periods": {"ky-1": ["accepted", False]}}
    late = {"values": {"giai-ngan": 95}, "periods": {"ky-1": ["accepted", True]}}
    units = [("u1", "Xã Đông Hưng", on_time), ("u2", "Xã Dương Quỳ", on_time), ("u3", "Xã An Bình", late)]
    rows = {u: figures.base_row(movement, TODAY, {"id": u, "name": n}, f, {}) for u, n, f in units}
    table = ranking.rank(movement, rows, [], figures.parse_weights(None, movement["criteria"]))
    assert [table.row(u)["name"] for u in table.order] == ["Xã Dương Quỳ", "Xã Đông Hưng", "Xã An Bình"]  # d before đ; the late one last


def test_the_final_reports_values_win_only_once_accepted():
    interim = {"state": "accepted", "kind": "interim", "due": "2024-06-30", "values": {"x": {"value": 1}, "y": {"value": 5}}}
    final = {"state": "accepted", "kind": "final", "due": "2024-12-15", "values": {"x": {"value": 9}}}
    assert figures.facts_of({"2024-06": interim, "final": final})["values"] == {"x": 9, "y": 5}
    assert figures.facts_of({"2024-06": interim, "final": final | {"state": "submitted"}})["values"] == {"x": 1, "y": 5}


def test_a_cold_process_answers_busy_until_its_first_load_is_done(client, officer, scene, monkeypatch):
    from tdkt_reports.service_layer import aggregation as use_cases

    monkeypatch.setattr(use_cases, "COLD_WAIT_S", 0)
    url = f"/api/v1/movements/{scene['movement']['id']}/aggregation"
    first = client.get(url, headers=officer)
    assert first.status_code == 503 and first.headers["Retry-After"], first.get_json()
    deadline = time.monotonic() + 15
    while (response := client.get(url, headers=officer)).status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert response.status_code == 200 and response.get_json()["total"] == 3
