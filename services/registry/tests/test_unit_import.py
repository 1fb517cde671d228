"""Bulk import of agencies and organisations over HTTP (and once through the CLI): a dry run
writes nothing, apply creates, a re-run finds everything unchanged, and bad rows are named."""

from __future__ import annotations

import io
from datetime import date

import mongoengine
from click.testing import CliRunner
from openpyxl import Workbook
from tdkt_registry.adapters.unit_store import UnitStore
from tdkt_registry.entrypoints.cli import registry

URL = "/api/v1/unit-imports"
# Excel in a Vietnamese locale saves "CSV UTF-8" with a BOM and ";" between cells
VIETNAMESE_CSV = "\ufeff" + "\n".join(
    [
        "STT;Mã;Tên đơn vị;Loại;Mã đơn vị cấp trên;Ngày thành lập;Email;Điện thoại;Thủ trưởng;Chức vụ",
        "1;NV106;Phòng Nội vụ;agency;106;01/01/2020;noivu@tamduong.gov.vn;0213 3870 123;Nguyễn Văn An;Trưởng phòng",
        "2;TT106;Trung tâm Văn hóa - Thể thao;public service unit;106;2020-01-01;;;;",
        "3;;Hội Cựu chiến binh huyện;Mass organisation;106;;;;;",
        "4;NV106.TDKT;Tổ Thi đua - Khen thưởng;other;NV106;;;;;",
    ]
)


def upload(client, headers, data: bytes | str, filename: str = "units.csv", apply: bool = False):
    body = data.encode() if isinstance(data, str) else data
    form = {"file": (io.BytesIO(body), filename), "apply": "true" if apply else "false"}
    return client.post(URL, data=form, headers=headers, content_type="multipart/form-data")


def written(store: UnitStore) -> tuple[int, int]:
    return len(store.directory(fresh=True)), len(store.acts())


def test_csv_dry_run_apply_and_rerun(client, officer, small_tree, store):
    before = written(store)
    dry = upload(client, officer, VIETNAMESE_CSV)
    assert dry.status_code == 200, dry.get_json()
    plan = dry.get_json()
    assert plan["summary"] == {"create": 4, "change": 0, "unchanged": 0, "error": 0}
    assert [(r["row"], r["action"], r["code"]) for r in plan["rows"]] == [(2, "create", "NV106"), (3, "create", "TT106"), (4, "create", None), (5, "create", "NV106.TDKT")]
    assert written(store) == before  # a dry run writes nothing

    applied = upload(client, officer, VIETNAMESE_CSV, apply=True)
    assert applied.status_code == 201, applied.get_json()
    ids = {r["code"] or r["name"]: r["unit_id"] for r in applied.get_json()["rows"]}
    assert written(store) == (before[0] + 4, before[1] + 1)  # one establish act for the batch
    kids = client.get(f"/api/v1/units/{small_tree.district}/children", headers=officer).get_json()
    assert {k["name"]: k["kind"] for k in kids}.items() >= {
        "Phòng Nội vụ": "agency",
        "Trung tâm Văn hóa - Thể thao": "public_service_unit",
        "Hội Cựu chiến binh huyện": "mass_organisation",
    }.items()
    office = client.get(f"/api/v1/units/{ids['NV106']}", headers=officer).get_json()
    assert office["valid_from"] == "2020-01-01" and office["contacts"]["phone"] == "0213 3870 123" and office["head"] == {"name": "Nguyễn Văn An", "title": "Trưởng phòng"}
    team = client.get(f"/api/v1/units/{ids['NV106.TDKT']}", headers=officer).get_json()
    assert team["parent_id"] == ids["NV106"]  # the parent is an earlier row of the same file

    again = upload(client, officer, VIETNAMESE_CSV, apply=True)
    assert again.status_code == 201 and again.get_json()["summary"] == {"create": 0, "change": 0, "unchanged": 4, "error": 0}
    assert written(store) == (before[0] + 4, before[1] + 1)

    # a new phone number is a change (an update act), the rest stays unchanged
    edited = VIETNAMESE_CSV.replace("0213 3870 123", "0213 3870 999")
    rows = upload(client, officer, edited).get_json()["rows"]
    assert rows[0]["action"] == "change" and rows[0]["changes"] == [{"field": "phone", "old": "0213 3870 123", "new": "0213 3870 999"}]
    assert upload(client, officer, edited, apply=True).status_code == 201
    assert client.get(f"/api/v1/units/{ids['NV106']}", headers=officer).get_json()["contacts"]["phone"] == "0213 3870 999"

    # a new name is not overwritten: it needs a rename act
    renamed = upload(client, officer, VIETNAMESE_CSV.replace(";Phòng Nội vụ;", ";Phòng Nội vụ - Tư pháp;")).get_json()
    assert renamed["rows"][0]["action"] == "error" and renamed["rows"][0]["errors"][0]["column"] == "name" and "rename" in renamed["rows"][0]["errors"][0]["message"]


def test_xlsx_works_the_same(client, officer, small_tree, store):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Code", "Name", "Kind", "Parent code", "Valid from", "Phone"])
    sheet.append(["NV106", "Phòng Nội vụ", "agency", 106, date(2020, 1, 1), "0213 3870 123"])
    sheet.append([None, None, None, None, None, None])  # a blank row keeps the numbering
    sheet.append(["TCKH106", "Phòng Tài chính - Kế hoạch", "agency", 106, "01/01/2020", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()

    dry = upload(client, officer, data, "don-vi.xlsx").get_json()
    assert dry["summary"]["create"] == 2 and [r["row"] for r in dry["rows"]] == [2, 4]
    assert upload(client, officer, data, "don-vi.xlsx", apply=True).status_code == 201
    assert [k["code"] for k in client.get(f"/api/v1/units/{small_tree.district}/children", headers=officer).get_json() if k["kind"] == "agency"] == ["NV106", "TCKH106"]
    assert upload(client, officer, data, "don-vi.xlsx").get_json()["summary"] == {"create": 0, "change": 0, "unchanged": 2, "error": 0}


def test_row_errors_are_named_and_nothing_is_written(client, officer, small_tree, store):
    csv = "\n".join(
        [
            "code,name,kind,parent_code,valid_from",
            "X1,Phòng Một,spaceship,106,",
            "03412,Văn phòng HĐND - UBND,agency,106,",
            "X3,Phòng Ba,agency,106,31/02/2024",
            "X4,,agency,106,",
            "X5,Phòng Năm,agency,99999,",
            "X6,Phòng Sáu,agency,106,",
            "X6,Phòng Bảy,agency,106,",
        ]
    )
    before = written(store)
    response = upload(client, officer, csv, apply=True)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    body = response.get_json()
    errors = {r["row"]: {e["column"]: e["message"] for e in r["errors"]} for r in body["rows"]}
    assert sorted(errors) == [2, 3, 4, 5, 6, 8]  # row 7 is fine, the header is row 1
    assert "spaceship" in errors[2]["kind"]
    assert "Xã Bình Lư" in errors[3]["name"]  # 03412 belongs to an existing unit, named
    assert "31/02/2024" in errors[4]["valid_from"]
    assert "name" in errors[5]
    assert "99999" in errors[6]["parent_code"]
    assert "Phòng Sáu" in errors[8]["code"]  # the same new code twice names the first holder
    assert body["summary"] == {"create": 1, "change": 0, "unchanged": 0, "error": 6}
    assert any("row 2" in line for line in body["errors"]["files"]["file"])
    assert written(store) == before


def test_refusals(client, officer, as_role, small_tree):
    fake = upload(client, officer, "name,kind\nPhòng A,agency\n", "units.xlsx")
    assert fake.status_code == 422 and "file" in fake.get_json()["errors"]["files"]

    too_big = upload(client, officer, b"name,kind\n" + b"x" * (5 * 1024 * 1024 + 1))
    assert too_big.status_code == 413 and "5 MB" in too_big.get_json()["detail"]

    head = as_role("unit_head", unit=small_tree.communes["03412"])
    assert upload(client, head, VIETNAMESE_CSV).status_code == 403


def test_cli_import_units(small_tree, tmp_path):
    path = tmp_path / "don-vi.csv"
    path.write_text(VIETNAMESE_CSV, encoding="utf-8")
    runner = CliRunner()

    dry = runner.invoke(registry, ["import-units", str(path)])
    assert dry.exit_code == 0, dry.output
    assert "4 create" in dry.output and "dry run: nothing written; run again with --apply" in dry.output

    applied = runner.invoke(registry, ["import-units", str(path), "--apply"])
    assert applied.exit_code == 0, applied.output
    directory = UnitStore(mongoengine.get_db()).directory(fresh=True)  # the CLI's own connection
    assert directory.by_code("NV106", date.today()).current.name == "Phòng Nội vụ"

    assert "4 unchanged" in runner.invoke(registry, ["import-units", str(path)]).output

    path.write_text("name,kind\nPhòng A,spaceship\n", encoding="utf-8")
    bad = runner.invoke(registry, ["import-units", str(path), "--apply"])
    assert bad.exit_code == 1 and "spaceship" in bad.output
