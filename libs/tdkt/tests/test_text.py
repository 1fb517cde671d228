import unicodedata

from tdkt.text import fold, nfc, sort_key


def test_fold_removes_marks_and_d_stroke():
    assert fold("Thị trấn Tam Đường") == "thi tran tam duong"
    assert fold("  TAM   ĐƯỜNG ") == "tam duong"
    assert fold("Nùng Nàng") == fold("nung nang")
    assert fold("Hồ Thầu") == "ho thau"


def test_fold_treats_decomposed_input_like_composed():
    decomposed = unicodedata.normalize("NFD", "Bản Giang")
    assert decomposed != "Bản Giang"
    assert fold(decomposed) == fold("Bản Giang") == "ban giang"


def test_nfc_normalises_and_collapses_spaces():
    assert nfc(unicodedata.normalize("NFD", " Xã  Sơn Bình ")) == "Xã Sơn Bình"
    assert unicodedata.is_normalized("NFC", nfc(unicodedata.normalize("NFD", "Đường")))


def test_vietnamese_sort_order():
    names = ["Đông", "Dương", "An", "Ă", "Ân", "Bình", "Ơn", "Ôn", "On", "Xuân", "Ba", "Bà", "Bá", "Bả"]
    assert sorted(names, key=sort_key) == ["An", "Ă", "Ân", "Ba", "Bà", "Bả", "Bá", "Bình", "Dương", "Đông", "On", "Ôn", "Ơn", "Xuân"]
