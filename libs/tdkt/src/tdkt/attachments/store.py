"""Where the bytes of report attachments live: in the service's own database, beside the reports.

Two layouts, chosen once per store by a probe (`backend`):

- `gridfs`: GridFS in `attachments.files` / `attachments.chunks`, when the store round-trips a
  file AND answers GridFS's chunk lookup (`files_id`) from an index, as MongoDB does.
- `chunks`: otherwise. FerretDB v1 (SQLite) does run GridFS, but only `_id` is indexed there, so
  every GridFS read scans the whole chunks collection, i.e. every attachment ever stored (measured:
  ~1.4 s per MB with 60 MB stored, growing with the store, against ~40 ms per MB by `_id`). So
  chunks are documents with `_id = "<attachment>:<n>"` in `attachment_chunks`, read by `_id`, and
  the metadata is one document `_id = <attachment>` in `attachment_files`, written last so that
  its presence means the bytes are complete.

Each attachment keeps its sha256, checked on every read.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import gridfs
from bson import Binary
from pymongo.database import Database
from pymongo.errors import PyMongoError

from tdkt.errors import NotFound
from tdkt.logs import get_logger

CHUNK = 255 * 1024  # GridFS's own default: a chunk stays far below the 16 MB document limit
BUCKET, FILES, CHUNKS = "attachments", "attachment_files", "attachment_chunks"
GONE = "Không có tệp đính kèm này / no such attachment"
log = get_logger(__name__)


class AttachmentStore:
    def __init__(self, db: Database, backend: str | None = None):
        self.db = db
        self._backend = backend  # None: probe on first use; tests force one to cover both
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        with self._lock:
            if self._backend is None:
                self._backend = _probe(self.db)
                log.info("attachment store chosen", backend=self._backend, database=self.db.name)
        return self._backend

    def put(self, data: bytes, **meta: Any) -> str:
        """Store the bytes with their metadata; returns the new attachment's id."""
        attachment_id = uuid.uuid4().hex
        info = {**meta, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "stored_at": datetime.now(UTC).isoformat(timespec="seconds")}
        if self.backend == "gridfs":
            gridfs.GridFS(self.db, BUCKET).put(data, _id=attachment_id, chunkSize=CHUNK, info=info)
            return attachment_id
        count = max(1, -(-len(data) // CHUNK))
        try:
            for n in range(count):  # one insert each: a batch of ~40 chunks of 255 KB is a 10 MB message
                self.db[CHUNKS].insert_one({"_id": f"{attachment_id}:{n}", "data": Binary(data[n * CHUNK : (n + 1) * CHUNK])})
            self.db[FILES].insert_one({"_id": attachment_id, "chunks": count, "info": info})
        except PyMongoError:
            self._delete_chunks(attachment_id, count)
            raise
        return attachment_id

    def info(self, attachment_id: str) -> dict[str, Any]:
        """The metadata stored with the bytes (size, sha256 and what `put` was given); 404 if absent."""
        if self.backend == "gridfs":
            found = self.db[f"{BUCKET}.files"].find_one({"_id": attachment_id}, {"info": 1})
        else:
            found = self.db[FILES].find_one({"_id": attachment_id}, {"info": 1})
        if found is None:
            raise NotFound(GONE)
        return found["info"]

    def get(self, attachment_id: str) -> bytes:
        info = self.info(attachment_id)
        if self.backend == "gridfs":
            data = gridfs.GridFS(self.db, BUCKET).get(attachment_id).read()
        else:
            count = self.db[FILES].find_one({"_id": attachment_id}, {"chunks": 1})["chunks"]
            parts = [self.db[CHUNKS].find_one({"_id": f"{attachment_id}:{n}"}) for n in range(count)]
            if any(p is None for p in parts):
                raise RuntimeError(f"attachment {attachment_id} lost a chunk")
            data = b"".join(p["data"] for p in parts)
        if hashlib.sha256(data).hexdigest() != info["sha256"]:  # never serve corrupted evidence as if it were the original
            raise RuntimeError(f"attachment {attachment_id} does not match its sha256")
        return data

    def delete(self, attachment_id: str) -> None:
        """Remove the bytes; nothing happens if they are gone already."""
        if self.backend == "gridfs":
            gridfs.GridFS(self.db, BUCKET).delete(attachment_id)
            return
        found = self.db[FILES].find_one_and_delete({"_id": attachment_id})  # metadata first: a half-deleted file reads as absent
        if found is not None:
            self._delete_chunks(attachment_id, found["chunks"])

    def _delete_chunks(self, attachment_id: str, count: int) -> None:
        for n in range(count):  # by `_id`, one by one: the only lookup FerretDB indexes
            self.db[CHUNKS].delete_one({"_id": f"{attachment_id}:{n}"})


def _probe(db: Database) -> str:
    """`gridfs` if a tiny file round-trips through GridFS and its chunk lookup uses an index."""
    fs, probe_id = gridfs.GridFS(db, BUCKET), f"probe-{uuid.uuid4().hex}"
    try:
        fs.put(b"probe", _id=probe_id)  # creates GridFS's indexes on first use
        works = fs.get(probe_id).read() == b"probe"
        fs.delete(probe_id)
        plan = str(db.command("explain", {"find": f"{BUCKET}.chunks", "filter": {"files_id": probe_id}}))
    except PyMongoError as exc:
        log.info("GridFS unavailable; attachments stored as chunk documents", error=str(exc))
        return "chunks"
    # MongoDB names an index scan IXSCAN; FerretDB shows SQLite's plan ("SEARCH … USING INDEX").
    return "gridfs" if works and ("IXSCAN" in plan or "USING INDEX" in plan) else "chunks"
