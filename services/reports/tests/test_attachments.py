"""Evidence attachments over HTTP against the real store: the type is judged by the content, the
name is made safe, limits hold with nothing left behind, evidence gates submission, and files
of submitted versions outlive the draft."""

from __future__ import annotations

import io
import struct
import unicodedata
import zipfile
import zlib
from urllib.parse import quote

import pytest
from tdkt.attachments.store import AttachmentStore, _probe
from tdkt.errors import Conflict, NotFound
from tdkt_reports.adapters.documents import Report
from tdkt_reports.service_layer import attachments as use_cases
from tdkt_reports.service_layer.periods import report_id

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body, compress_type=zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def docx(**extra: bytes) -> bytes:
    return zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>", **extra})


def xlsx() -> bytes:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active["A1"] = "Giải ngân"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def stored(db) -> int:
    """Attachments whose bytes are in the store, whichever layout it uses."""
    return db["attachment_files"].count_documents({}) + db["attachments.files"].count_documents({})


@pytest.fixture
def report(client, as_role, registry):
    """An open report of a movement whose `giai-ngan` criterion needs evidence."""
    unit = registry.unit("Xã Bình Lư")
    criteria = [
        {"key": "giai-ngan", "area": "kinh-te", "name": "Giải ngân", "unit_of_measure": "%", "value_type": "percent", "target": 95, "evidence_required": True},
        {"key": "ocop", "area": "kinh-te", "name": "Sản phẩm OCOP", "unit_of_measure": "sản phẩm", "value_type": "integer", "target": 1, "evidence_required": False},
    ]
    movement = registry.movement([unit], criteria=criteria)
    rid = report_id(movement["id"], unit, movement["due_dates"][0]["period"])

    class Open:
        id, unit_id = rid, unit
        reporter, head = as_role("unit_reporter", unit=unit), as_role("unit_head", unit=unit)
        url = f"/api/v1/reports/{rid}/attachments"

        def etag(self):
            return client.get(f"/api/v1/reports/{rid}", headers=self.reporter).headers["ETag"]

        def upload(self, data, filename, criterion=None, content_type=None, headers=None, etag=None):
            form = {"file": (io.BytesIO(data), filename, content_type)} | ({"criterion": criterion} if criterion is not None else {})
            return client.post(self.url, data=form, content_type="multipart/form-data", headers=(headers or self.reporter) | {"If-Match": etag or self.etag()})

    return Open()


def test_pdf_png_docx_xlsx_odt_are_stored_and_served_as_sniffed(client, report, officer):
    odt = zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office:document-content/>"})
    name = unicodedata.normalize("NFD", "Biên bản họp quý 3.pdf")  # as macOS sends it
    cases = [(PDF, name, "application/pdf"), (png(), "anh.png", None), (docx(), "ke-hoach.docx", DOCX), (xlsx(), "so-lieu.xlsx", None), (odt, "bao-cao.odt", None)]
    for data, filename, declared in cases:
        before = report.etag()
        created = report.upload(data, filename, content_type=declared, etag=before)
        assert created.status_code == 201, created.get_json()
        assert created.headers["ETag"] != before
    attachments = created.get_json()["attachments"]
    assert [a["content_type"] for a in attachments] == [
        "application/pdf",
        "image/png",
        DOCX,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.text",
    ]
    first = attachments[0]
    assert first["filename"] == "Biên bản họp quý 3.pdf" == unicodedata.normalize("NFC", name) and first["size"] == len(PDF)
    for headers in (report.reporter, officer):
        got = client.get(f"{report.url}/{first['id']}", headers=headers)
        assert got.status_code == 200 and got.data == PDF
        assert got.headers["Content-Type"] == "application/pdf" and got.headers["X-Content-Type-Options"] == "nosniff"
        assert got.headers["Content-Disposition"].endswith(f"filename*=UTF-8''{quote('Biên bản họp quý 3.pdf', safe='')}")
        assert 'filename="bien ban hop quy 3.pdf"' in got.headers["Content-Disposition"]
    stored_meta = Report.objects.get(id=report.id).attachments[0]
    assert stored_meta["uploaded_by"] and len(stored_meta["sha256"]) == 64 and stored_meta["criterion"] is None


def test_evidence_required_criterion_blocks_submit_until_attached(client, report):
    saved = client.put(
        f"/api/v1/reports/{report.id}/draft", json={"values": {"giai-ngan": {"value": 96}, "ocop": {"value": 1}}}, headers=report.reporter | {"If-Match": report.etag()}
    )
    refused = problem(client.post(f"/api/v1/reports/{report.id}/submit", json={}, headers=report.head | {"If-Match": saved.headers["ETag"]}), 422)
    assert "attachments.giai-ngan" in refused["errors"]["json"]
    general = report.upload(PDF, "chung.pdf")  # a general attachment proves no criterion
    problem(client.post(f"/api/v1/reports/{report.id}/submit", json={}, headers=report.head | {"If-Match": general.headers["ETag"]}), 422)
    proof = report.upload(PDF, "quyet-toan.pdf", criterion="giai-ngan")
    assert proof.get_json()["attachments"][-1]["criterion"] == "giai-ngan"
    submitted = client.post(f"/api/v1/reports/{report.id}/submit", json={}, headers=report.head | {"If-Match": proof.headers["ETag"]})
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["versions"][0]["attachments"] == [a["id"] for a in proof.get_json()["attachments"]]


def test_disguised_or_mismatched_files_and_unknown_criteria_are_refused(report, db):
    cases = [
        (b"<!DOCTYPE html><script>alert(1)</script>", "bao-cao.pdf", None, "file"),
        (b"MZ\x90\x00\x03" + b"\x00" * 100, "bao-cao.pdf", "application/pdf", "file"),  # a Windows executable
        (png(), "bao-cao.pdf", None, "file"),  # a real image, named as a PDF
        (PDF, "bao-cao.html", None, "file"),
        (PDF, "bao-cao.pdf", "text/html", "file"),
        (zipped({"a.txt": b"x"}), "bao-cao.docx", None, "file"),  # a zip, not a document
        (docx(**{"word/vbaProject.bin": b"macro"}), "bao-cao.docx", None, "file"),
        (b"", "rong.pdf", None, "file"),
    ]
    for data, filename, declared, field in cases:
        errors = problem(report.upload(data, filename, content_type=declared), 422)["errors"]
        assert field in errors["files"], (filename, errors)
    assert "criterion" in problem(report.upload(PDF, "a.pdf", criterion="khong-co"), 422)["errors"]["form"]
    assert Report.objects.get(id=report.id).attachments == [] and stored(db) == 0


def test_size_limits_hold_and_leave_nothing_behind(report, db):
    at_limit = PDF + b"0" * (use_cases.MAX_BYTES - len(PDF))  # 10 MB: above the service's 1 MB body cap
    assert report.upload(at_limit, "day-du.pdf").status_code == 201
    for size in (use_cases.MAX_BYTES + 1, 12 * 1024 * 1024):  # caught by the view, then by the body limit
        body = problem(report.upload(PDF + b"0" * (size - len(PDF)), "qua-lon.pdf"), 413)
        assert "10 MB" in body["detail"] and " / " in body["detail"]
    assert len(Report.objects.get(id=report.id).attachments) == 1 and stored(db) == 1


def test_file_names_are_made_safe(report):
    cases = {
        "../../etc/passwd": "passwd.pdf",
        "/home/cb/Báo cáo\x00 quý\t3.pdf": "Báo cáo quý 3.pdf",
        "hoa-don\u202efdp.exe": "hoa-don fdp.exe",  # the override is gone, so the real extension shows…
        "..": "minh-chung.pdf",
        "a<b>:c|d?.PDF": "a_b__c_d_.PDF",
    }
    for raw, expected in cases.items():
        response = report.upload(PDF, raw)
        if expected.endswith(".exe"):
            problem(response, 422)  # …and a PDF called .exe is refused
            assert use_cases.clean_filename(raw) == expected
            continue
        assert response.status_code == 201, (raw, response.get_json())
        assert response.get_json()["attachments"][-1]["filename"] == expected
    assert use_cases.clean_filename("C:\\Users\\cb\\Báo cáo.pdf") == "Báo cáo.pdf"  # what old browsers send (the multipart layer eats the backslashes)


def test_only_the_units_own_writers_change_and_only_those_who_see_it_download(client, report, registry, as_role, officer):
    attached = report.upload(PDF, "a.pdf").get_json()["attachments"][0]
    other = as_role("unit_reporter", unit=registry.unit("Xã Tả Lèng"))
    problem(client.get(f"{report.url}/{attached['id']}", headers=other), 404)
    problem(report.upload(PDF, "b.pdf", headers=other), 404)
    problem(client.delete(f"{report.url}/{attached['id']}", headers=other | {"If-Match": report.etag()}), 404)
    problem(report.upload(PDF, "b.pdf", headers=officer), 403)
    problem(client.get(f"{report.url}/0123456789abcdef0123456789abcdef", headers=officer), 404)
    assert client.get(f"{report.url}/{attached['id']}", headers=officer).data == PDF
    files = {"file": (io.BytesIO(PDF), "c.pdf")}
    problem(client.post(report.url, data=files, content_type="multipart/form-data", headers=report.reporter), 428)
    problem(report.upload(PDF, "c.pdf", etag='"stale"'), 412)


def test_files_of_submitted_versions_stay_and_accepted_ones_cannot_be_removed(client, report, officer, db):
    proof = report.upload(PDF, "quyet-toan.pdf", criterion="giai-ngan").get_json()["attachments"][0]["id"]
    saved = client.put(
        f"/api/v1/reports/{report.id}/draft", json={"values": {"giai-ngan": {"value": 96}, "ocop": {"value": 1}}}, headers=report.reporter | {"If-Match": report.etag()}
    )
    submitted = client.post(f"/api/v1/reports/{report.id}/submit", json={}, headers=report.head | {"If-Match": saved.headers["ETag"]})
    problem(client.delete(f"{report.url}/{proof}", headers=report.reporter | {"If-Match": submitted.headers["ETag"]}), 409)  # awaiting review
    returned = client.post(f"/api/v1/reports/{report.id}/return", json={"comment": "Bổ sung"}, headers=officer | {"If-Match": submitted.headers["ETag"]})

    assert client.delete(f"{report.url}/{proof}", headers=report.reporter | {"If-Match": returned.headers["ETag"]}).status_code == 204
    assert client.get(f"/api/v1/reports/{report.id}", headers=report.reporter).get_json()["attachments"] == []
    assert client.get(f"{report.url}/{proof}", headers=officer).data == PDF  # version 1 still refers to it
    draft_only = report.upload(png(), "nhap.png").get_json()["attachments"][0]["id"]
    client.delete(f"{report.url}/{draft_only}", headers=report.reporter | {"If-Match": report.etag()})
    problem(client.get(f"{report.url}/{draft_only}", headers=officer), 404)
    assert stored(db) == 1  # the unreferenced file's bytes went with it

    again = report.upload(PDF, "quyet-toan-2.pdf", criterion="giai-ngan")
    resubmitted = client.post(f"/api/v1/reports/{report.id}/submit", json={}, headers=report.head | {"If-Match": again.headers["ETag"]})
    problem(resubmitted, 409)  # state is still "returned": the draft must be saved again
    saved = client.put(
        f"/api/v1/reports/{report.id}/draft", json={"values": {"giai-ngan": {"value": 97}, "ocop": {"value": 1}}}, headers=report.reporter | {"If-Match": report.etag()}
    )
    resubmitted = client.post(f"/api/v1/reports/{report.id}/submit", json={}, headers=report.head | {"If-Match": saved.headers["ETag"]})
    accepted = client.post(f"/api/v1/reports/{report.id}/accept", json={}, headers=officer | {"If-Match": resubmitted.headers["ETag"]})
    latest = accepted.get_json()["attachments"][0]["id"]
    conflict = problem(client.delete(f"{report.url}/{latest}", headers=report.reporter | {"If-Match": accepted.headers["ETag"]}), 409)
    assert conflict["report_state"] == "accepted"
    assert client.get(f"{report.url}/{latest}", headers=report.reporter).status_code == 200
    assert client.get(f"{report.url}/{proof}", headers=report.reporter).status_code == 200


def test_at_most_twenty_files_and_a_failed_report_write_keeps_no_bytes(report, db, monkeypatch):
    for n in range(use_cases.MAX_FILES):
        assert report.upload(png(), f"anh-{n}.png").status_code == 201
    problem(report.upload(png(), "anh-21.png"), 409)
    assert stored(db) == use_cases.MAX_FILES

    def lost_race(doc, event):
        raise Conflict("Báo cáo vừa được thay đổi / the report changed meanwhile")

    Report.objects(id=report.id).update(set__attachments=[])
    monkeypatch.setattr(use_cases, "_save", lost_race)
    problem(report.upload(PDF, "a.pdf"), 409)
    assert stored(db) == use_cases.MAX_FILES  # the upload's bytes were deleted again


@pytest.mark.parametrize("backend", ["gridfs", "chunks"])
def test_both_store_layouts_round_trip(db, backend):
    store = AttachmentStore(db, backend=backend)
    data = bytes(range(256)) * 2500  # 640 000 bytes: three chunks
    attachment_id = store.put(data, filename="a.pdf", report_id="r")
    assert store.get(attachment_id) == data and store.info(attachment_id)["size"] == len(data)
    store.delete(attachment_id)
    store.delete(attachment_id)  # twice: nothing left, no error
    with pytest.raises(NotFound):
        store.get(attachment_id)


def test_the_probe_avoids_unindexed_gridfs(db):
    ferretdb = "ferretdbVersion" in db.command("buildInfo")
    assert _probe(db) == ("chunks" if ferretdb else "gridfs")
