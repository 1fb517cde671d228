"""Evidence attached to a progress report (minh chứng): add, remove, download.

The type of a file is read from its bytes, never from what the client says: the sniffed type
must be one we accept, and a name or declared content type that says otherwise is refused (an
HTML page called `.pdf` is not a PDF). The bytes go to the attachment store first, then the
metadata into `Report.attachments` in one versioned write; if that write fails the bytes are
deleted. Submitting freezes the ids into the version, so bytes a version refers to are never
deleted and stay downloadable after the draft lets go of them.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import date
from typing import Any, BinaryIO, Protocol

from pymongo.errors import PyMongoError
from tdkt.auth import Principal
from tdkt.clock import local_today
from tdkt.errors import Conflict, DomainError, Invalid, NotFound
from tdkt.logs import get_logger

from tdkt_reports.adapters.attachment_store import AttachmentStore
from tdkt_reports.adapters.documents import Report
from tdkt_reports.domain import reports as rules
from tdkt_reports.service_layer.reports import _now, _own, _save, criteria_of, find

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 20
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
log = get_logger(__name__)


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


def _check_type(data: bytes, filename: str, declared: str | None) -> tuple[str, str]:
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
    return sniffed, filename if found else f"{filename or 'minh-chung'}{extensions[0]}"


def _editable_own(report_id: str, principal: Principal, check_version: Callable[[Report], None], today: date | None) -> Report:
    doc = find(report_id, principal)
    _own(doc, principal)
    check_version(doc)
    rules.check_editable(doc.state, date.fromisoformat(doc.opens), today or local_today())
    return doc


def add(
    report_id: str, file: Upload, criterion: str | None, principal: Principal, check_version: Callable[[Report], None], *, store: AttachmentStore, today: date | None = None
) -> Report:
    doc = _editable_own(report_id, principal, check_version, today)
    criterion = criterion or None  # an HTML form sends "" for "no criterion"
    if criterion is not None and criterion not in {c["key"] for c in criteria_of(doc)}:
        raise Invalid("criterion", f"Phong trào không có tiêu chí {criterion!r} / the movement has no criterion {criterion!r}", location="form")
    if len(doc.attachments) >= MAX_FILES:
        raise Conflict(f"Mỗi báo cáo tối đa {MAX_FILES} tệp / a report holds at most {MAX_FILES} files: remove one first")
    data = file.stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise TooLarge(f"Mỗi tệp tối đa {MAX_BYTES // 2**20} MB / a file may be at most {MAX_BYTES // 2**20} MB")
    if not data:
        raise Invalid("file", "Tệp rỗng / the file is empty", location="files")
    content_type, filename = _check_type(data, clean_filename(file.filename), file.mimetype)
    meta = {"report_id": doc.id, "criterion": criterion, "filename": filename, "content_type": content_type}
    attachment_id = store.put(data, **meta, uploaded_by=principal.subject)
    try:
        info = store.info(attachment_id)
        entry = {"id": attachment_id, **meta, "size": info["size"], "sha256": info["sha256"], "uploaded_at": _now(), "uploaded_by": principal.subject}
        del entry["report_id"]
        doc.attachments = [*doc.attachments, entry]
        doc.history = [*doc.history, {"action": "attachment_added", "attachment": attachment_id, "filename": filename, "by": principal.subject, "at": entry["uploaded_at"]}]
        return _save(doc, None)
    except BaseException:  # the report does not know the bytes: do not keep them
        store.delete(attachment_id)
        raise


def _frozen(doc: Report) -> set[str]:
    return {a for v in doc.versions for a in v.get("attachments") or ()}


def remove(report_id: str, attachment_id: str, principal: Principal, check_version: Callable[[Report], None], *, store: AttachmentStore, today: date | None = None) -> Report:
    doc = _editable_own(report_id, principal, check_version, today)
    entry = next((a for a in doc.attachments if a["id"] == attachment_id), None)
    if entry is None:
        raise NotFound("Báo cáo không có tệp đính kèm này / the report has no such attachment")
    doc.attachments = [a for a in doc.attachments if a["id"] != attachment_id]
    doc.history = [*doc.history, {"action": "attachment_removed", "attachment": attachment_id, "filename": entry.get("filename"), "by": principal.subject, "at": _now()}]
    _save(doc, None)
    if attachment_id not in _frozen(doc):  # a submitted version is evidence as it was: its files stay
        try:
            store.delete(attachment_id)
        except PyMongoError as exc:  # the report no longer refers to them: orphaned bytes harm nobody
            log.warning("attachment bytes not deleted", attachment=attachment_id, error=str(exc))
    return doc


def download(report_id: str, attachment_id: str, principal: Principal, *, store: AttachmentStore) -> tuple[dict[str, Any], bytes]:
    """(metadata, bytes) of an attachment of the draft or of any submitted version, for whoever may
    see the report; 404 otherwise, as if absent."""
    doc = find(report_id, principal)
    if attachment_id not in {a["id"] for a in doc.attachments} | _frozen(doc):
        raise NotFound("Báo cáo không có tệp đính kèm này / the report has no such attachment")
    info = store.info(attachment_id)
    if info.get("report_id") != doc.id:  # ids are per report; never serve another report's file
        raise NotFound("Báo cáo không có tệp đính kèm này / the report has no such attachment")
    return info, store.get(attachment_id)
