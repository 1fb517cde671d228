"""Removing what has served its purpose, run periodically by each service's relay process:

- event claims (`processed_events`) older than 14 days: Kafka keeps records 7 days, so no
  redelivery can be older than that, and a claim cannot be needed any more;
- `Idempotency-Key` records past their expiry (24 h after the response).

Both filters scan on FerretDB (only `_id` is indexed there), which is why this runs hourly in a
background process and never on a request path.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pymongo.database import Database

from tdkt.events.consumer import CLAIMS
from tdkt.logs import get_logger
from tdkt.web.idempotency import COLLECTION as IDEMPOTENCY_KEYS

CLAIM_RETENTION = timedelta(days=14)
log = get_logger(__name__)


def sweep_expired(db: Database, now: datetime | None = None) -> dict[str, int]:
    now = now or datetime.now(UTC)
    removed = {
        "claims": db[CLAIMS].delete_many({"at": {"$lt": now - CLAIM_RETENTION}}).deleted_count,
        "idempotency_keys": db[IDEMPOTENCY_KEYS].delete_many({"expires_at": {"$lt": now}}).deleted_count,
    }
    if any(removed.values()):
        log.info("housekeeping removed expired records", **removed)
    return removed
