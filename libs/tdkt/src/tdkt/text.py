"""Vietnamese text: NFC storage, diacritic-insensitive folding for search, and sort keys.

Users type `tam duong`, `Tam Đường` or `TAM ĐUONG` and expect the same unit. Folding removes the
tone and vowel marks (combining characters after NFD) and maps đ/Đ, which Unicode does not
decompose, to d.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_D = str.maketrans({"đ": "d", "Đ": "d"})
_SPACES = re.compile(r"\s+")

# Vietnamese alphabetical order: a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y,
# then tone as the last criterion (none, huyền, hỏi, ngã, sắc, nặng).
_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_LETTER_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền hỏi ngã sắc nặng
_BASE_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve (ă), circumflex (â ê ô), horn (ơ ư)


def nfc(text: str) -> str:
    """The form text is stored in: NFC with surrounding blanks removed and inner runs collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """Lower-case, mark-free form for search: `Thị trấn Tam Đường` → `thi tran tam duong`."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


@lru_cache(maxsize=1 << 16)  # lists sort thousands of names, mostly the same ones again
def sort_key(text: str) -> tuple:
    """Key that orders names as a Vietnamese reader expects (đ after d, ơ after ô, tones last)."""
    letters: list[int] = []
    tones: list[int] = []
    for ch in nfc(text).lower():
        parts = unicodedata.normalize("NFD", ch)
        base, marks = parts[0], parts[1:]
        tone = next((_TONES[m] for m in marks if m in _TONES), 0)
        kept = unicodedata.normalize("NFC", base + "".join(m for m in marks if m in _BASE_MARKS))
        letters.append(_LETTER_RANK.get(kept, 100 + ord(kept[0])))
        tones.append(tone)
    return tuple(letters), tuple(tones)
