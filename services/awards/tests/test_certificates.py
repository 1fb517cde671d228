"""Certificates (Giấy khen / Bằng khen / giấy chứng nhận danh hiệu) as PDF: over HTTP against the
real store for an issued decision (a page per award that stands, read back with pypdf, Vietnamese
text intact), and the renderer alone (fonts missing, fitting, same input → same bytes)."""

from __future__ import annotations

import io
import unicodedata
from urllib.parse import quote

import mongoengine
import pypdf
import pytest
from tdkt.web.app import create_app
from tdkt_awards.adapters.certificate_pdf import FONT_DIR_VARIABLE, CertificateFontsMissing, font_paths, heading, render_certificates
from tdkt_awards.bootstrap import SERVICE
from tdkt_awards.service_layer.catalogue import seed_default

ISSUER = "Ủy ban nhân dân tỉnh Lai Châu"
HUONG = {"subject": "individual", "name": "Nguyễn Thị Hương", "position": "Giáo viên", "unit_name": "Trường Tiểu học Sơn Bình", "title_code": "LDTT", "period": "2026"}
SCHOOL = {"subject": "collective", "name": "Trường Tiểu học Sơn Bình", "unit_name": "huyện Tam Đường", "title_code": "GIAY_KHEN_TT"}
DUC = {"subject": "individual", "name": "Phạm Văn Đức", "position": "Trưởng bản", "unit_name": "xã Pa Ủ", "title_code": "BANG_KHEN_TINH_CN", "period": "2026"}
HOUSEHOLD = {"subject": "household", "name": "Hộ ông Vàng A Sử", "title_code": "GIA_DINH_VAN_HOA"}


@pytest.fixture
def app(service_env):
    app = create_app(SERVICE)
    with app.app_context():
        seed_default("test")
    yield app
    mongoengine.disconnect()


@pytest.fixture
def client(app):
    return app.test_client()


def body(awardees: list[dict]) -> dict:
    return {
        "issuer": ISSUER,
        "issuer_name": "tỉnh Lai Châu",
        "place": "Lai Châu",
        "decision_date": "2026-11-29",
        "subject": "khen thưởng các tập thể, cá nhân có thành tích xuất sắc trong phong trào thi đua năm 2026",
        "legal_bases": ["Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022"],
        "proposed_by": "Giám đốc Sở Nội vụ",
        "funding_source": "Quỹ thi đua, khen thưởng của tỉnh",
        "recipients": ["Như Điều 3", "Lưu: VT, NV"],
        "signer": {"name": "Lê Văn Lương", "title": "CHỦ TỊCH"},
        "awardees": awardees,
    }


def drafted(client, as_role, awardees: list[dict]) -> str:
    response = client.post("/api/v1/decisions", json=body(awardees), headers=as_role("tdkt_officer"))
    assert response.status_code == 201, response.get_json()
    return f"/api/v1/decisions/{response.get_json()['id']}"


def issued(client, as_role, awardees: list[dict]) -> tuple[str, dict]:
    url = drafted(client, as_role, awardees)
    etag = client.get(url, headers=as_role("tdkt_officer")).headers["ETag"]
    response = client.post(f"{url}/issue", json={}, headers=as_role("chairman") | {"If-Match": etag})
    assert response.status_code == 200, response.get_json()
    return url, response


def revoke(client, as_role, url: str, issued_response, awardee_ids: list[str] | None) -> None:
    payload = {"reason": "Kê khai không trung thực", "legal_basis": {"number": "99/QĐ-UBND", "issuer": ISSUER, "date": "2026-12-20"}}
    if awardee_ids is not None:
        payload["awardee_ids"] = awardee_ids
    response = client.post(f"{url}/revocations", json=payload, headers=as_role("chairman") | {"If-Match": issued_response.headers["ETag"]})
    assert response.status_code == 201, response.get_json()


def pages_text(data: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [unicodedata.normalize("NFC", page.extract_text()) for page in reader.pages]


def problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def test_a_page_per_standing_award_with_the_vietnamese_text(client, as_role):
    url, response = issued(client, as_role, [HUONG, SCHOOL, DUC, HOUSEHOLD])
    decision = response.get_json()
    household = next(a for a in decision["awardees"] if a["name"] == HOUSEHOLD["name"])
    revoke(client, as_role, url, response, [household["awardee_id"]])

    got = client.get(f"{url}/certificates.pdf", headers=as_role("finance_officer"))
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    name = f"giay-khen-{decision['number']:02d}-QĐ-UBND.pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert f"filename*=UTF-8''{quote(name, safe='')}" in got.headers["Content-Disposition"]
    got.headers["Content-Disposition"].encode("latin-1")  # a header a WSGI server can send

    pages = pages_text(got.data)
    assert len(pages) == 3, "the revoked household has no certificate"
    reference = f"Quyết định số {decision['number']:02d}/QĐ-UBND ngày 29/11/2026"
    for page, awardee in zip(pages, (HUONG, SCHOOL, DUC), strict=True):
        for text in (awardee["name"], reference, "Tặng", "TỈNH LAI CHÂU", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Lê Văn Lương"):
            assert text in page, (text, page)
        assert "Lai Châu, ngày 29 tháng 11 năm 2026" in page and "thành tích xuất sắc trong phong trào thi đua năm 2026" in page
        assert "Vàng A Sử" not in page
    assert "GIẤY CHỨNG NHẬN" in pages[0] and "Lao động tiên tiến" in pages[0]  # a title is certified
    assert "Giáo viên, Trường Tiểu học Sơn Bình" in pages[0]
    assert "GIẤY KHEN" in pages[1] and "(TẬP THỂ)" not in pages[1]  # a form is its own heading
    assert "BẰNG KHEN CỦA CHỦ TỊCH UBND TỈNH" in pages[2].replace("\n", " ")

    reader = pypdf.PdfReader(io.BytesIO(got.data))
    assert all(float(p.mediabox.width) > float(p.mediabox.height) for p in reader.pages)  # landscape
    assert (round(float(reader.pages[0].mediabox.width)), round(float(reader.pages[0].mediabox.height))) == (842, 595)  # A4 in points
    assert reader.metadata.author == ISSUER and reference in reader.metadata.title
    assert client.get(f"{url}/certificates.pdf", headers=as_role("tdkt_officer")).data == got.data, "the same decision gives the same bytes"


def test_only_an_issued_decision_known_to_a_reader_with_an_award_standing(client, as_role, monkeypatch, tmp_path):
    officer = as_role("tdkt_officer")
    draft = drafted(client, as_role, [SCHOOL])
    assert "ban hành" in problem(client.get(f"{draft}/certificates.pdf", headers=officer), 409)["detail"]
    problem(client.get("/api/v1/decisions/no-such-decision/certificates.pdf", headers=officer), 404)

    url, response = issued(client, as_role, [SCHOOL])
    problem(client.get(f"{url}/certificates.pdf", headers=as_role("unit_head")), 403)
    assert client.get(f"{url}/certificates.pdf").status_code == 401

    monkeypatch.setenv(FONT_DIR_VARIABLE, str(tmp_path))  # a server without the fonts says what to install
    missing = problem(client.get(f"{url}/certificates.pdf", headers=officer), 503)
    assert "DejaVuSerif.ttf" in missing["detail"] and FONT_DIR_VARIABLE in missing["detail"]
    monkeypatch.delenv(FONT_DIR_VARIABLE)

    revoke(client, as_role, url, response, None)  # every award taken back: nothing to print
    problem(client.get(f"{url}/certificates.pdf", headers=officer), 409)


# --- the renderer alone -----------------------------------------------------------------------


def data(**overrides) -> dict:
    base = {
        "issuer": ISSUER,
        "issuer_name": "tỉnh Lai Châu",
        "number": 7,
        "symbol": "QĐ-UBND",
        "place": "Lai Châu",
        "date": "2026-01-05",
        "issued_at": "2026-01-05T03:00:00+00:00",
        "subject": "Về việc khen thưởng đột xuất",
        "signer_title": "Chủ tịch",
        "signed_by": "Lê Văn Lương",
        "awardees": [{**HUONG, "title_name": "Lao động tiên tiến", "kind": "title"}],
    }
    return base | overrides


def test_missing_fonts_name_the_files_and_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(FONT_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(CertificateFontsMissing) as raised:
        render_certificates(data())
    error = raised.value
    assert error.status == 503
    assert error.details["missing"] == [str(tmp_path / "DejaVuSerif.ttf"), str(tmp_path / "DejaVuSerif-Bold.ttf")]
    assert FONT_DIR_VARIABLE in error.message and "fonts-dejavu-core" in error.message
    assert " / " in error.message  # Vietnamese / English

    (tmp_path / "DejaVuSerif.ttf").write_bytes(b"")
    with pytest.raises(CertificateFontsMissing) as raised:
        font_paths()
    assert raised.value.details["missing"] == [str(tmp_path / "DejaVuSerif-Bold.ttf")]


def test_the_renderer_alone_fits_long_text_on_one_page_and_is_deterministic():
    long_name = "Nguyễn Thị Hương Giang " * 20
    awardees = [
        {"name": long_name, "position": "Chuyên viên\x00\n", "unit_name": "Sở Nội vụ", "title_name": "Giấy khen (cá nhân)", "kind": "form"},
        # decomposed accents (NFD) come out composed
        {"name": unicodedata.normalize("NFD", "Lò Thị Mai"), "title_name": "Chiến sĩ thi đua cơ sở", "kind": "title"},
    ]
    pdf = render_certificates(data(awardees=awardees))
    assert pdf == render_certificates(data(awardees=awardees))
    pages = pages_text(pdf)
    assert len(pages) == 2
    assert "Chuyên viên, Sở Nội vụ" in pages[0] and "GIẤY KHEN" in pages[0]
    assert "Quyết định số 07/QĐ-UBND ngày 05/01/2026" in pages[0]
    assert "Lò Thị Mai" in pages[1] and "Chiến sĩ thi đua cơ sở" in pages[1]
    assert "Khen thưởng đột xuất" in pages[1] and "Về việc" not in pages[1]
    assert "Lai Châu, ngày 05 tháng 01 năm 2026" in pages[1] and "CHỦ TỊCH" in pages[1]
    with pytest.raises(ValueError, match="number"):
        render_certificates(data(number=None))


def test_headings():
    assert heading("Giấy khen (tập thể)", "form") == ("GIẤY KHEN", None)
    assert heading("Bằng khen của Thủ tướng Chính phủ (cá nhân)", "form") == ("BẰNG KHEN CỦA THỦ TƯỚNG CHÍNH PHỦ", None)
    assert heading("Lao động tiên tiến", "title") == ("GIẤY CHỨNG NHẬN", "Danh hiệu “Lao động tiên tiến”")
