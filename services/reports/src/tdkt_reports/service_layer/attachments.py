"""Evidence attached to a progress report (minh chứng): add, remove, download.

What is accepted is decided once for every service (`tdkt.attachments.uploads`: the type is read
from the bytes, never from what the client says). The bytes go to the attachment store first, then the
metadata into `Report.attachments` in one versioned write; if that write fails the bytes are
deleted. Submitting freezes the ids into the version, so bytes a version refers to are never
deleted and stay downloadable after the draft lets go of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pymongo.errors import PyMongoError
from tdkt.attachments.store import AttachmentStore
from tdkt.attachments.uploads import ACCEPTED, MAX_BYTES, Upload, clean_filename, read_upload, sniff  # noqa: F401 (re-exported for the API and tests)
from tdkt.auth import Principal
from tdkt.clock import local_today
from tdkt.errors import Conflict, Invalid, NotFound
from tdkt.logs import get_logger

from tdkt_reports.adapters.documents import Report
from tdkt_reports.domain import reports as rules
from tdkt_reports.service_layer.reports import _now, _own, _save, criteria_of, find

MAX_FILES = 20
log = get_logger(__name__)


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
    data, content_type, filename = read_upload(file)
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
