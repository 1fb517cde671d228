"""Hostile file names on awards' dossier uploads, sent as raw multipart bytes (so NUL, CR/LF, the
right-to-left override and quotes reach the server exactly as an attacker sends them): each is
stored as a plain last-segment name, downloaded with a Content-Disposition that is one header line
whose ASCII `filename` holds no quote, slash or control character and whose `filename*` decodes
back to the stored name, and packed into the province export zip under a member name that cannot
leave the archive's folder (no zip-slip). The bytes live in the store (`tdkt.attachments.store`,
documents in the service's database), never at a path built from the name.

Already covered elsewhere (not repeated): reports' evidence names (`../../etc/passwd`, NUL, tab,
RTL override, Windows-reserved characters) in services/reports/tests/test_attachments.py::
test_file_names_are_made_safe, and the oversized evidence there.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from urllib.parse import unquote

import pytest

from .conftest import collective, created

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
HOSTILE = {
    "../../etc/passwd.pdf": "passwd.pdf",
    "..\\..\\windows\\win.ini.pdf": "windowswin.ini.pdf",  # the multipart layer reads `\\` as an escape: no separator is left
    "/etc/cron.d/x.pdf": "x.pdf",
    "C:\\Windows\\System32\\a.pdf": "C_WindowsSystem32a.pdf",
    "nul\x00byte.pdf": "nul byte.pdf",
    "ctl\x01\x1b[31m.pdf": "ctl [31m.pdf",
    "rtl\u202efdp.pdf": "rtl fdp.pdf",
    "zero\u200bwidth.pdf": "zero width.pdf",
    '"quoted"; filename=evil.pdf': "evil.pdf",  # the unescaped quote ends the parameter: the multipart parser takes the second
    "....pdf": "pdf.pdf",  # dots stripped: no hidden or parent name
    ".hidden.pdf": "hidden.pdf",
    "Tờ trình khen thưởng năm 2026.pdf": "Tờ trình khen thưởng năm 2026.pdf",
}


def multipart(doc_type: str, filename: str, data: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with `filename` written byte for byte into its header."""
    boundary = uuid.uuid4().hex
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\n{doc_type}\r\n--{boundary}\r\n'.encode()
    part = b'Content-Disposition: form-data; name="file"; filename="' + filename.encode("utf-8") + b'"\r\nContent-Type: application/pdf\r\n\r\n'
    return head + part + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def dossier(awards, as_role):
    client = awards.test_client()
    head = as_role("unit_head", unit="u-a")
    draft = client.post("/api/v1/nominations", json=collective("u-a", "BANG_KHEN_TINH_TT"), headers=head)
    return client, head, created(draft)["id"]


def upload(client, head, nomination_id: str, filename: str, doc_type: str = "khac"):
    etag = client.get(f"/api/v1/nominations/{nomination_id}", headers=head).headers["ETag"]
    body, content_type = multipart(doc_type, filename, PDF)
    return client.post(f"/api/v1/nominations/{nomination_id}/attachments", data=body, content_type=content_type, headers={**head, "If-Match": etag})


def check_disposition(header: str, stored: str) -> None:
    assert "\r" not in header and "\n" not in header and "\x00" not in header
    found = re.fullmatch(r'attachment; filename="([A-Za-z0-9._ -]+)"; filename\*=UTF-8\'\'([A-Za-z0-9%._~-]+)', header)
    assert found, header
    assert unquote(found.group(2), errors="strict") == stored


@pytest.mark.parametrize(("raw", "expected"), list(HOSTILE.items()), ids=[repr(k)[:30] for k in HOSTILE])
def test_a_hostile_name_is_stored_plain_and_downloaded_safely(dossier, raw, expected):
    client, head, nomination_id = dossier
    response = upload(client, head, nomination_id, raw)
    assert response.status_code == 201, (raw, response.get_data(as_text=True)[:400])
    attached = response.get_json()["attachments"][-1]
    assert attached["filename"] == expected
    got = client.get(f"/api/v1/nominations/{nomination_id}/attachments/{attached['id']}", headers=head)
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["X-Content-Type-Options"] == "nosniff" and got.mimetype == "application/pdf"
    check_disposition(got.headers["Content-Disposition"], expected)


def test_a_very_long_name_is_shortened_keeping_its_extension(dossier):
    client, head, nomination_id = dossier
    response = upload(client, head, nomination_id, "Báo cáo thành tích " * 40 + ".pdf")
    assert response.status_code == 201, response.get_data(as_text=True)[:400]
    name = response.get_json()["attachments"][-1]["filename"]
    assert len(name) <= 150 and name.endswith(".pdf") and name.startswith("Báo cáo thành tích")


def test_a_name_claiming_another_type_is_refused_naming_the_file(dossier):
    client, head, nomination_id = dossier
    for raw in ("invoice.pdf\u202egpj.exe", "report.pdf.html", "x.exe"):
        response = upload(client, head, nomination_id, raw)
        assert response.status_code == 422 and "file" in response.get_json()["errors"]["files"], (raw, response.get_data(as_text=True)[:300])


def test_the_province_export_zip_keeps_every_member_inside_its_folder(dossier, awards, as_role, officer):
    """Dossier documents go into the zip as `<nomination_id>/<type>-<filename>`: with hostile names
    uploaded, no member name is absolute, climbs with `..`, or carries a backslash or control character."""
    from tdkt_awards.adapters.documents import Nomination

    client, head, nomination_id = dossier
    for raw, doc_type in (("../../../../tmp/evil.pdf", "to_trinh"), ("..\\..\\evil.pdf", "bao_cao_thanh_tich"), ("/etc/passwd\x00.pdf", "bien_ban_binh_xet")):
        assert upload(client, head, nomination_id, raw, doc_type).status_code == 201
    Nomination._get_collection().update_one({"_id": nomination_id}, {"$set": {"state": "approved"}})  # as after a passing tally (tested in services/awards)
    proposal = created(client.post("/api/v1/province-proposals", json={"nomination_ids": [nomination_id]}, headers=officer))
    exported = client.get(f"/api/v1/province-proposals/{proposal['id']}/export.zip", headers=officer)
    assert exported.status_code == 200, exported.get_data(as_text=True)[:300]
    with zipfile.ZipFile(io.BytesIO(exported.data)) as archive:
        names = archive.namelist()
    documents = [n for n in names if n != "proposal.json"]
    assert len(documents) == 3, names
    for name in documents:
        assert not name.startswith(("/", "\\")) and "\\" not in name and not re.search(r"[\x00-\x1f]", name), name
        assert ".." not in name.split("/") and name.startswith(f"{nomination_id}/"), name
