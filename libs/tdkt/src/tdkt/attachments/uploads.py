"""Uploaded files as evidence (tờ trình, báo cáo, minh chứng): what we accept and how names are made safe.

The type of a file is read from its bytes, never from what the client says: the sniffed type
must be one we accept, and a name or declared content type that says otherwise is refused (an
HTML page called `.pdf` is not a PDF). Shared by every service that takes documents (reports'
evidence, awards' dossiers).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from typing import BinaryIO, Protocol

from tdkt.errors import DomainError, Invalid

MAX_BYTES = 10 * 1024 * 1024
ZIP_MIME = ("application/zip", "application/x-zip-compressed")
# sniffed type → (extensions a name may carry, content types a client may declare for it)
TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "application/pdf": ((".pdf",), ("application/x-pdf",)),
    "image/png": ((".png",), ("image/x-png",)),
    "image/jpeg": ((".jpg", ".jpeg", ".jpe", ".jfif"), ("image/jpg", "image/pjpeg")),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ((".docx",), ZIP_MIME),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ((".xlsx",), ZIP_MIME),
    "application/vnd.oasis.opendocument.text": ((".odt",), ZIP_MIME),
    "application/vnd.oasis.opendocument.spreadsheet": ((".ods",), ZIP_MIME),
}
ODF = ("application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet")
ACCEPTED = "PDF, PNG, JPEG, DOCX, XLSX, ODT, ODS"
GENERIC = ("", "application/octet-stream", "binary/octet-stream")  # what clients send when they do not know
EXTENSION = re.compile(r"\.[a-z][a-z0-9]{1,4}$")  # ".pdf", ".html"; not the ".2 final" of "Báo cáo v1.2 final"
UNSAFE = re.compile(r'[<>:"|?*]')  # not allowed in Windows names


class TooLarge(DomainError):
    status = 413
    slug = "payload-too-large"


class Upload(Protocol):
    filename: str | None
    mimetype: str | None
    stream: BinaryIO


def sniff(data: bytes) -> str | None:
    """The content type of these bytes if it is one we accept, else None."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:  # an Office/OpenDocument file is a zip: tell them apart by their members (names only: no zip bomb is inflated)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if any(n.endswith("vbaProject.bin") or n.startswith(("Basic/", "Scripts/")) for n in names):
                return None  # macros: not evidence, and a classic way in
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                odf = archive.read("mimetype").decode("ascii", "replace").strip()
                return odf if odf in ODF and "content.xml" in names else None
    # zipfile raises NotImplementedError for a compression method it cannot read and RuntimeError
    # for an encrypted member: either way the file is not evidence we can open.
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, RuntimeError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if "xl/workbook.xml" in names:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def clean_filename(raw: str | None) -> str:
    """The last path segment, NFC, without control or format characters (e.g. the right-to-left
    override that makes `gpj.exe` read as `exe.jpg`) nor characters Windows refuses; Vietnamese kept."""
    name = unicodedata.normalize("NFC", re.split(r"[\\/]", raw or "")[-1])
    name = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in name)
    name = re.sub(r"\s+", " ", UNSAFE.sub("_", name)).strip(" .")  # no ".." nor hidden ".name"
    if len(name) > 150:  # shorten the stem, keep the extension
        found = EXTENSION.search(name.lower())
        ext = found.group() if found else ""
        name = name[: 150 - len(ext)].rstrip(" .") + name[len(name) - len(ext) :]
    return name


def check_type(data: bytes, filename: str, declared: str | None, default_name: str = "minh-chung") -> tuple[str, str]:
    """(content type, file name with the right extension), or 422 naming `file`."""
    sniffed = sniff(data)
    if sniffed is None:
        raise Invalid("file", f"Chỉ nhận tệp {ACCEPTED} / only {ACCEPTED} files are accepted (judged by the content, not the name)", location="files")
    extensions, aliases = TYPES[sniffed]
    found = EXTENSION.search(filename.lower())
    if found and found.group() not in extensions:
        raise Invalid(
            "file", f"Tên tệp ({found.group()}) không khớp nội dung ({extensions[0]}) / the name says {found.group()} but the content is {extensions[0]}", location="files"
        )
    declared = (declared or "").lower()
    if declared not in (sniffed, *aliases, *GENERIC):
        raise Invalid("file", f"Loại tệp khai báo ({declared}) không khớp nội dung ({sniffed}) / declared {declared}, but the content is {sniffed}", location="files")
    return sniffed, filename if found else f"{filename or default_name}{extensions[0]}"


def read_upload(file: Upload, default_name: str = "minh-chung") -> tuple[bytes, str, str]:
    """(bytes, content type, safe file name) of an upload, or 413 / 422 naming `file`."""
    data = file.stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise TooLarge(f"Mỗi tệp tối đa {MAX_BYTES // 2**20} MB / a file may be at most {MAX_BYTES // 2**20} MB")
    if not data:
        raise Invalid("file", "Tệp rỗng / the file is empty", location="files")
    content_type, filename = check_type(data, clean_filename(file.filename), file.mimetype, default_name)
    return data, content_type, filename
