"""The award decision as .docx (no servers): read back with python-docx, the administrative layout
of Nghị định 30/2020/NĐ-CP — header, title, legal bases, the three articles, signature block and
the annex with the awardees and the total — on A4 in Times New Roman."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import docx
import pytest
from docx.oxml.ns import qn
from tdkt_awards.adapters.decision_docx import date_words, money, render_decision

LEGAL_BASES = [
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015",
    "Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022;",
    "Nghị định số 98/2023/NĐ-CP ngày 31 tháng 12 năm 2023 của Chính phủ quy định chi tiết thi hành một số điều của Luật Thi đua, khen thưởng",
]

AWARDEES = [
    {"name": "Trường THCS Mường Tè", "position": "", "unit_name": "huyện Mường Tè", "title_name": "Bằng khen của Chủ tịch UBND tỉnh", "amount": 2_340_000, "subject": "collective"},
    {
        "name": "Nguyễn Thị Hồng Nhung",
        "position": "Giáo viên",
        "unit_name": "Trường THCS Mường Tè",
        "title_name": "Bằng khen của Chủ tịch UBND tỉnh",
        "amount": 1_170_000,
        "subject": "individual",
    },
    {"name": '=HYPERLINK("x")+Lò Văn Đức', "position": "Trưởng bản", "unit_name": "xã Pa Ủ", "title_name": "Chiến sĩ thi đua cơ sở", "amount": 1_000_000, "subject": "individual"},
]


def decision(**overrides):
    base = {
        "number": 12,
        "symbol": "QĐ-UBND",
        "issuer_name": "tỉnh Lai Châu",
        "place": "Lai Châu",
        "date": "2024-03-05",
        "subject": "khen thưởng thành tích xuất sắc trong phong trào thi đua năm học 2023 - 2024",
        "legal_bases": LEGAL_BASES,
        "proposed_by": "Giám đốc Sở Nội vụ tại Tờ trình số 45/TTr-SNV ngày 01 tháng 3 năm 2024",
        "awardees": AWARDEES,
        "total_amount": 4_510_000,
        "funding_source": "Quỹ Thi đua, khen thưởng tỉnh năm 2024",
        "recipients": ["Như Điều 3", "TT. Tỉnh ủy", "Lưu: VT, SNV"],
        "signer_title": "CHỦ TỊCH",
        "signed_by": "Lê Văn Lương",
    }
    return {**base, **overrides}


@pytest.fixture(scope="module")
def doc():
    return docx.Document(io.BytesIO(render_decision(decision())))


def body_texts(document):
    return [p.text for p in document.paragraphs]


def cell_texts(table):
    return [[cell.text for cell in row.cells] for row in table.rows]


def all_texts(document):
    texts = body_texts(document)
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                texts.extend(p.text for p in cell.paragraphs)
    return texts


def test_header_is_a_borderless_two_column_table(doc):
    header = doc.tables[0]
    left, right = (cell.paragraphs for cell in header.rows[0].cells)
    left_texts = [p.text for p in left if p.text]
    right_texts = [p.text for p in right if p.text]
    assert left_texts == ["ỦY BAN NHÂN DÂN", "TỈNH LAI CHÂU", "Số: 12/QĐ-UBND"]
    assert right_texts == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Lai Châu, ngày 05 tháng 3 năm 2024"]
    assert all(run.bold for p in right[:2] for run in p.runs)
    date_line = next(p for p in right if p.text.startswith("Lai Châu"))
    assert all(run.italic for run in date_line.runs)
    # The short rules under the issuer and under the motto are paragraph borders.
    assert sum(1 for p in left + right if p._p.find(f"{qn('w:pPr')}/{qn('w:pBdr')}") is not None) == 2
    borders = header._tbl.tblPr.find(qn("w:tblBorders"))
    assert borders is not None and {e.get(qn("w:val")) for e in borders} == {"nil"}


def test_title_bases_and_articles(doc):
    texts = body_texts(doc)
    assert "QUYẾT ĐỊNH" in texts
    assert "Về việc khen thưởng thành tích xuất sắc trong phong trào thi đua năm học 2023 - 2024" in texts
    assert "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH LAI CHÂU" in texts
    assert "QUYẾT ĐỊNH:" in texts
    title = next(p for p in doc.paragraphs if p.text == "QUYẾT ĐỊNH")
    assert title.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.CENTER and all(r.bold for r in title.runs)

    bases = [p for p in doc.paragraphs if p.text.startswith("Căn cứ")]
    assert [p.text for p in bases] == [
        "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
        "Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022;",
        "Căn cứ Nghị định số 98/2023/NĐ-CP ngày 31 tháng 12 năm 2023 của Chính phủ quy định chi tiết thi hành một số điều của Luật Thi đua, khen thưởng;",
    ]
    assert all(run.italic for p in bases for run in p.runs)
    assert "Theo đề nghị của Giám đốc Sở Nội vụ tại Tờ trình số 45/TTr-SNV ngày 01 tháng 3 năm 2024." in texts
    order = [texts.index(t) for t in ("QUYẾT ĐỊNH", bases[0].text, "QUYẾT ĐỊNH:")]
    assert order == sorted(order)

    articles = {t[:7]: t for t in texts if t.startswith("Điều ")}
    assert set(articles) == {"Điều 1.", "Điều 2.", "Điều 3."}
    assert "Bằng khen của Chủ tịch UBND tỉnh; Chiến sĩ thi đua cơ sở" in articles["Điều 1."]
    assert "01 tập thể và 02 cá nhân" in articles["Điều 1."]
    assert "4.510.000 đồng" in articles["Điều 2."]
    assert "Quỹ Thi đua, khen thưởng tỉnh năm 2024" in articles["Điều 2."]
    assert articles["Điều 3."].endswith("và các tập thể, cá nhân có tên tại Điều 1 chịu trách nhiệm thi hành Quyết định này./.")
    assert "Chánh Văn phòng Ủy ban nhân dân tỉnh Lai Châu, Giám đốc Sở Nội vụ" in articles["Điều 3."]
    lead = next(p for p in doc.paragraphs if p.text.startswith("Điều 2.")).runs[0]
    assert lead.text.strip() == "Điều 2." and lead.bold


def test_signature_block(doc):
    left, right = doc.tables[1].rows[0].cells
    left_texts = [p.text for p in left.paragraphs]
    assert left_texts == ["Nơi nhận:", "- Như Điều 3;", "- TT. Tỉnh ủy;", "- Lưu: VT, SNV."]
    heading = left.paragraphs[0].runs[0]
    assert heading.bold and heading.italic
    signer = [p for p in right.paragraphs]
    assert [p.text for p in signer if p.text] == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Lê Văn Lương"]
    assert signer[-1].runs[0].bold
    assert sum(1 for p in signer if not p.text) >= 3  # room for the signature and seal


def test_annex_on_a_new_page_with_rows_and_total(doc):
    xml = doc.element.body.xml
    texts = body_texts(doc)
    annex_title = texts.index("DANH SÁCH KHEN THƯỞNG")
    assert texts[annex_title + 1] == "(Kèm theo Quyết định số 12/QĐ-UBND ngày 05 tháng 3 năm 2024 của Chủ tịch Ủy ban nhân dân tỉnh Lai Châu)"
    assert xml.index('w:type="page"') < xml.index("DANH SÁCH KHEN THƯỞNG")

    rows = cell_texts(doc.tables[2])
    assert rows[0] == ["STT", "Họ và tên / Tên tập thể", "Chức vụ, đơn vị", "Danh hiệu / hình thức", "Số tiền (đồng)"]
    assert rows[1] == ["1", "Trường THCS Mường Tè", "huyện Mường Tè", "Bằng khen của Chủ tịch UBND tỉnh", "2.340.000"]
    assert rows[2] == ["2", "Nguyễn Thị Hồng Nhung", "Giáo viên, Trường THCS Mường Tè", "Bằng khen của Chủ tịch UBND tỉnh", "1.170.000"]
    # A name starting with "=" is text, exactly as given.
    assert rows[3] == ["3", '=HYPERLINK("x")+Lò Văn Đức', "Trưởng bản, xã Pa Ủ", "Chiến sĩ thi đua cơ sở", "1.000.000"]
    assert rows[4][0] == "Tổng cộng" and rows[4][-1] == "4.510.000"
    assert len(rows) == 5
    header_row = doc.tables[2].rows[0]._tr
    assert header_row.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None


def test_page_is_a4_portrait_with_decree_margins_and_times_new_roman(doc):
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert section.orientation == docx.enum.section.WD_ORIENT.PORTRAIT
    margins = [round(m.cm, 2) for m in (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)]
    assert margins == [2.0, 2.0, 3.0, 2.0]
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    rfonts = normal.element.rPr.rFonts
    assert {rfonts.get(qn(f"w:{a}")) for a in ("ascii", "hAnsi", "eastAsia", "cs")} == {"Times New Roman"}
    assert normal.font.size.pt == 14
    # No run overrides the font family, and body/header text stays 13–14 pt.
    runs = [r for p in doc.paragraphs for r in p.runs] + [r for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs]
    assert all(r.font.name is None for r in runs)
    sizes = {r.font.size.pt for r in runs if r.font.size is not None}
    assert sizes <= {11, 12, 13, 14}


def test_document_is_well_formed_and_parts_are_present():
    data = render_decision(decision())
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "word/document.xml" in z.namelist()
        assert z.testzip() is None


def test_text_is_never_interpreted_and_unrepresentable_characters_are_dropped():
    awardees = [{**AWARDEES[1], "name": "Đặng\x00 Thị\x0b Ánh 🌸 <b>&amp;</b>"}]
    document = docx.Document(io.BytesIO(render_decision(decision(awardees=awardees, total_amount=1_170_000))))
    rows = cell_texts(document.tables[2])
    assert rows[1][1] == "Đặng Thị Ánh 🌸 <b>&amp;</b>"
    assert rows[-1][-1] == "1.170.000"


def test_total_must_match_the_awardees():
    with pytest.raises(ValueError, match="total_amount"):
        render_decision(decision(total_amount=1))
    with pytest.raises(ValueError, match="amount"):
        render_decision(decision(awardees=[{**AWARDEES[0], "amount": "1000"}], total_amount=1000))


def test_small_numbers_and_dates_follow_the_decree():
    assert money(0) == "0"
    assert money(999) == "999"
    assert money(1_234_000) == "1.234.000"
    assert money(12_345_678_900) == "12.345.678.900"
    assert date_words(date(2024, 1, 5)) == "ngày 05 tháng 01 năm 2024"
    assert date_words(date(2024, 2, 29)) == "ngày 29 tháng 02 năm 2024"
    assert date_words(date(2024, 12, 31)) == "ngày 31 tháng 12 năm 2024"
    document = docx.Document(io.BytesIO(render_decision(decision(number=7, date="2025-01-09T08:30:00+07:00"))))
    header = [p.text for c in document.tables[0].rows[0].cells for p in c.paragraphs]
    assert "Số: 07/QĐ-UBND" in header
    assert "Lai Châu, ngày 09 tháng 01 năm 2025" in header


def test_subject_already_starting_with_ve_viec_is_not_doubled():
    document = docx.Document(io.BytesIO(render_decision(decision(subject="Về việc khen thưởng đột xuất"))))
    assert "Về việc khen thưởng đột xuất" in body_texts(document)
