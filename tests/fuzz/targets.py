"""What the API fuzzer runs against: each service's committed `openapi.json` loaded by
schemathesis with bounded, seeded settings, and a little reference data per service.

Knobs (environment):
- TDKT_FUZZ_EXAMPLES  generated cases per operation and phase (default 8: the always-on run
                      stays within minutes; `make faults` may ask for hundreds)
- TDKT_FUZZ_SEED      the seed (default fixed, so a failure seen once is seen again); printed
                      in the report header and with every failure
"""

from __future__ import annotations

import os
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import schemathesis
from schemathesis.config import SchemathesisConfig
from tdkt.clock import local_today
from tdkt.events.consumer import HandlerContext
from tdkt.events.envelope import Event, EventType

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("registry", "reports", "awards", "notify")
EXAMPLES = int(os.environ.get("TDKT_FUZZ_EXAMPLES", "8"))
SEED = int(os.environ.get("TDKT_FUZZ_SEED", "20250917"))


# (service, pass, "METHOD /path") → status codes seen: the terminal summary shows how deep the
# fuzzer got (an operation that never answered 2xx was only ever refused)
SEEN: dict[tuple[str, str, str], Counter] = defaultdict(Counter)


@dataclass
class Seeded:
    """Ids of the reference data a service was given, for tokens and for the fuzzer's examples."""

    unit_id: str


def fuzz_config(*, mode: str, examples: int) -> SchemathesisConfig:
    """Bounded, reproducible generation: a fixed seed, no example database (a file under the
    working tree would replay yesterday's cases), no shrinking (a failure is reported as found,
    which is what the seed reproduces), the coverage phase off (it enumerates every boundary of
    every field: thousands of cases per service)."""
    # security parameters off: the token is ours to send (or not), never a generated or negated one
    generation = {"mode": mode, "max-examples": examples, "database": "none", "no-shrink": True, "with-security-parameters": False}
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "base-url": "http://localhost",
            "generation": generation,
            "phases": {"examples": {"enabled": True}, "coverage": {"enabled": False}, "fuzzing": {"enabled": True}},
        }
    )


def load_schema(service: str, config: SchemathesisConfig):
    """The committed document (what portal teams read), not the one the app would serve now:
    the contract test keeps the two equal, and fuzzing the committed one tests the promise.
    The app is given per call (`case.call(app=…)`): it needs this session's store and keys."""
    return schemathesis.openapi.from_path(ROOT / "services" / service / "openapi.json", config=config)


# --- seeding, per service: enough that handlers past the lookups are reached ------------------


def _feed(handler, db, type_: str, topic: str, subject: str, data: dict) -> None:
    event = Event.new(EventType(type_, topic), source="/fuzz", subject=subject, data=data, sequence=1)
    handler(event, HandlerContext(db, data, 1))


def _seed_registry(app) -> Seeded:
    from tdkt_registry.adapters.unit_store import UnitStore
    from tdkt_registry.service_layer import units

    store = UnitStore(app.extensions["tdkt"].db)

    def make(**data) -> str:
        return units.establish_unit(store, data, "fuzz")[1][0].id

    province = make(code="12", name="Tỉnh Lai Châu", kind="province", valid_from="2004-01-01")
    district = make(code="106", name="Huyện Tam Đường", kind="district", parent_id=province, valid_from="2004-01-01")
    commune = make(code="03412", name="Xã Bình Lư", kind="commune", parent_id=district, valid_from="2004-01-01")
    return Seeded(commune)


def _seed_reports(app) -> Seeded:
    from tdkt_reports.service_layer import projections

    db, today, unit_id, movement_id = app.extensions["tdkt"].db, local_today(), uuid.uuid4().hex, uuid.uuid4().hex
    unit = {"id": unit_id, "name": "Xã Bình Lư", "kind": "commune", "code": "03412", "parent_id": None, "valid_from": None, "valid_to": None}
    _feed(projections.on_unit, db, "vn.tdkt.registry.unit.established.v1", "registry.units.v1", unit_id, {"unit": unit, "act": {}})
    movement = {
        "id": movement_id,
        "title": "Thi đua hoàn thành chỉ tiêu năm",
        "state": "launched",
        "organiser_id": "org",
        "period_start": (today - timedelta(days=40)).isoformat(),
        "period_end": (today + timedelta(days=80)).isoformat(),
        "content_areas": [{"key": "kinh-te", "title": "Kinh tế"}],
        "criteria": [
            {
                "key": "giai-ngan",
                "area": "kinh-te",
                "name": "Giải ngân đầu tư công",
                "unit_of_measure": "%",
                "target": 95,
                "direction": "higher_is_better",
                "value_type": "percent",
                "weight": 1,
                "evidence_required": False,
            }
        ],
        "due_dates": [{"kind": "final", "period": "final", "due": (today + timedelta(days=80)).isoformat()}],
        "participant_ids": [unit_id],
    }
    _feed(projections.on_movement, db, "vn.tdkt.registry.movement.launched.v1", "registry.movements.v1", movement_id, {"movement": movement})
    return Seeded(unit_id)


def _seed_awards(app) -> Seeded:
    from tdkt_awards.service_layer.catalogue import seed_default

    with app.app_context():
        seed_default("fuzz")
    return Seeded("u-binh-lu")


def _seed_notify(app) -> Seeded:
    from tdkt_notify.service_layer.config import seed_routes

    seed_routes(app.extensions["tdkt"].db)
    return Seeded("u-binh-lu")


SEEDERS = {"registry": _seed_registry, "reports": _seed_reports, "awards": _seed_awards, "notify": _seed_notify}
