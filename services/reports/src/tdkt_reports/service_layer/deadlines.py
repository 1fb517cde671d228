"""Deadlines of progress reports: ReportDueSoon some days before a report is due, ReportOverdue
some days after, each at most once per report and threshold — however often the check runs, on
however many replicas, across restarts. Submitting late stays allowed (marked late, see
`reports.submit`); a report no longer editable (submitted, accepted, cancelled) is not reminded.

Once per report and threshold: the threshold's marker (`due_soon:3`, `overdue:7`) is appended to
the report's `reminders` in the same single-document write as the event, a write conditional on
the report's `version` (`save_aggregate`). A second run finds the marker; a replica racing this
one loses the compare-and-set, reloads, finds the marker and skips. So the marker and the event
exist together or not at all, and there is no window in which a crash sends twice or never.

Thresholds, in days (settings, read when the job is built, not at import):
- due soon N (`REPORTS_DUE_SOON_DAYS`, default "3"): from N days before the due date until the
  due date itself (due "by 25/10" means the end of 25/10, Vietnamese date);
- overdue N (`REPORTS_OVERDUE_DAYS`, default "0,7"): from N days after the due date (0: as soon
  as the due date has passed), for CATCH_UP_DAYS days — after an outage longer than that the
  reminder is stale and is not sent late, which also keeps the candidates few.
When a check finds several thresholds of a kind reached at once (it did not run for a while), it
announces only the most pressing one and marks the others as passed, instead of a burst.

Candidates without scanning `reports` (100k documents: ~30 s on FerretDB, where only `_id` is
indexed): the launched movements (a small collection) say which periods fall in a window today,
and each participant's report for such a period is read by its deterministic id. A report
inherited by a merger's successor keeps its id (the predecessor stays among the participants,
resolved as of the movement's start); its event names the successor in `report.unit_id`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pymongo.database import Database
from tdkt.clock import local_today
from tdkt.events.outbox import ConcurrentUpdate, save_aggregate
from tdkt.logs import get_logger
from tdkt.scheduler import PeriodicJob
from tdkt.settings import SettingsError
from tdkt.store import STORE_UNAVAILABLE

from tdkt_reports.adapters.documents import Report
from tdkt_reports.adapters.events import REPORT_EVENTS
from tdkt_reports.domain.reports import EDITABLE, periods_of
from tdkt_reports.service_layer.periods import report_id
from tdkt_reports.service_layer.reports import event_data

log = get_logger(__name__)

DUE_SOON, OVERDUE = "due_soon", "overdue"
CATCH_UP_DAYS = 14
MAX_ATTEMPTS = 5  # compare-and-set retries per report; each loser reloads and usually finds the marker
MAX_DAYS = 366
JOB_NAME = "reports-deadlines"


@dataclass(frozen=True)
class Reminder:
    """The reminder a report is owed today: `kind` and `days` name its threshold; `passes` the
    markers it settles (itself and the less pressing thresholds of its kind reached meanwhile)."""

    kind: str
    days: int
    due: date
    passes: tuple[str, ...]

    @property
    def marker(self) -> str:
        return marker(self.kind, self.days)


def marker(kind: str, days: int) -> str:
    return f"{kind}:{days}"


def reminder_for(due: date, today: date, due_soon_days: Iterable[int], overdue_days: Iterable[int]) -> Reminder | None:
    """Which threshold (if any) a report due on `due` has reached on `today`. Pure."""
    left = (due - today).days
    if left >= 0:
        reached = sorted(n for n in set(due_soon_days) if left <= n)
        chosen = reached[0] if reached else None  # the fewest days left is the most pressing
        kind = DUE_SOON
    else:
        late = -left
        reached = sorted(n for n in set(overdue_days) if max(n, 1) <= late < max(n, 1) + CATCH_UP_DAYS)
        chosen = reached[-1] if reached else None  # the longest overdue is the most pressing
        kind = OVERDUE
    if chosen is None:
        return None
    return Reminder(kind, chosen, due, tuple(marker(kind, n) for n in reached))


@dataclass
class CheckResult:
    """What one check did: `due_soon` / `overdue` events recorded, and why the other candidates
    were left alone (`already_reminded`, `not_editable`, `missing`, `rescheduled`, `failed`);
    `conflicts`: writes that lost a compare-and-set (another replica, or the unit) and were retried."""

    today: date
    counts: dict[str, int] = field(default_factory=dict)

    def sentence(self) -> str:
        c = self.counts
        return (
            f"Kiểm tra hạn báo cáo ngày {self.today:%d/%m/%Y} / deadline check for {self.today}: "
            f"{c.get(DUE_SOON, 0)} sắp đến hạn / due soon, {c.get(OVERDUE, 0)} quá hạn / overdue "
            f"({c.get('candidates', 0)} báo cáo xét / reports looked at in {c.get('movements', 0)} movements; "
            f"{c.get('already_reminded', 0)} already reminded, {c.get('not_editable', 0)} submitted or closed, "
            f"{c.get('missing', 0)} missing, {c.get('failed', 0)} failed)"
        )


def check_deadlines(db: Database, today: date, due_soon_days: Iterable[int] = (3,), overdue_days: Iterable[int] = (0, 7)) -> CheckResult:
    """Record the reminders owed on `today` (a Vietnamese date). Safe to run any number of
    times, concurrently. Reports are written through mongoengine's default connection, which
    must be the store `db` belongs to."""
    due_soon_days, overdue_days = tuple(due_soon_days), tuple(overdue_days)
    counts: Counter[str] = Counter()
    for movement in db.movement_views.find({"state": "launched"}, {"period_start": 1, "due_dates": 1, "participant_ids": 1}):
        counts["movements"] += 1
        try:
            periods = [p for p in periods_of(movement) if reminder_for(p.due, today, due_soon_days, overdue_days)]
        except (KeyError, TypeError, ValueError) as exc:  # a malformed copy must not stop the others' reminders
            log.warning("movement schedule unreadable; no reminders for it", movement=movement["_id"], error=str(exc))
            counts["failed"] += 1
            continue
        for period in periods:
            for unit_id in movement.get("participant_ids") or ():
                counts["candidates"] += 1
                rid = report_id(movement["_id"], unit_id, period.key)
                try:
                    counts[_remind(db, rid, today, due_soon_days, overdue_days, counts)] += 1
                except STORE_UNAVAILABLE:
                    raise  # the whole run stops; the next one resumes where the markers say
                except Exception as exc:  # one bad report must not hold back everyone's reminders
                    log.exception("reminder failed", report=rid, error=f"{exc.__class__.__name__}: {exc}")
                    counts["failed"] += 1
    return CheckResult(today, dict(counts))


def _remind(db: Database, rid: str, today: date, due_soon_days: tuple[int, ...], overdue_days: tuple[int, ...], counts: Counter[str]) -> str:
    """Record the reminder report `rid` is owed, if any; returns what happened (a count's name)."""
    # Most candidates were reminded by an earlier run: decide from a few fields before loading
    # the whole report.
    peek = db.reports.find_one({"_id": rid}, {"state": 1, "due": 1, "reminders": 1})
    outcome = _outcome(peek, today, due_soon_days, overdue_days)
    if outcome is not None:
        return outcome
    for _ in range(MAX_ATTEMPTS):
        doc = Report.objects(id=rid).exclude("outbox").first()
        outcome = _outcome({"state": doc.state, "due": doc.due, "reminders": doc.reminders} if doc else None, today, due_soon_days, overdue_days)
        if outcome is not None:
            return outcome
        reminder = reminder_for(date.fromisoformat(doc.due), today, due_soon_days, overdue_days)
        doc.reminders = [*doc.reminders, *(m for m in reminder.passes if m not in doc.reminders)]
        doc.record(REPORT_EVENTS[reminder.kind], event_data(doc) | {"reminder": {"kind": reminder.kind, "days": reminder.days, "due": doc.due}})
        try:
            save_aggregate(doc)
        except ConcurrentUpdate:
            counts["conflicts"] += 1
            continue  # a replica reminded it, or the unit saved its draft, meanwhile: look again
        return reminder.kind
    log.warning("report kept changing; its reminder waits for the next check", report=rid)
    return "failed"


def _outcome(doc: dict[str, Any] | None, today: date, due_soon_days: tuple[int, ...], overdue_days: tuple[int, ...]) -> str | None:
    """Why report `doc` needs no reminder now, or None when it needs one."""
    if doc is None:
        return "missing"  # generation has not reached it yet (or a participant joined late)
    if doc.get("state") not in EDITABLE:
        return "not_editable"
    reminder = reminder_for(date.fromisoformat(doc["due"]), today, due_soon_days, overdue_days)
    if reminder is None:
        return "rescheduled"  # its own due date moved away from the movement's window
    if reminder.marker in (doc.get("reminders") or ()):
        return "already_reminded"
    return None


# -- the periodic job ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineSettings:
    due_soon_days: tuple[int, ...]
    overdue_days: tuple[int, ...]
    interval_s: int


def load_deadline_settings(environ: dict[str, str] | None = None) -> DeadlineSettings:
    """REPORTS_DUE_SOON_DAYS ("3"), REPORTS_OVERDUE_DAYS ("0,7"): comma-separated days, empty for
    none; REPORTS_DEADLINE_CHECK_INTERVAL_S (600). SettingsError names every bad variable."""
    environ = os.environ if environ is None else environ
    errors: list[str] = []

    def days(name: str, default: str) -> tuple[int, ...]:
        raw = environ.get(name, default)
        try:
            values = tuple(sorted({int(part) for part in raw.split(",") if part.strip()}))
        except ValueError:
            values = (-1,)
        if any(not 0 <= v <= MAX_DAYS for v in values):
            errors.append(f"{name}: comma-separated whole numbers of days from 0 to {MAX_DAYS} expected, got {raw!r}")
        return values

    due_soon, overdue = days("REPORTS_DUE_SOON_DAYS", "3"), days("REPORTS_OVERDUE_DAYS", "0,7")
    raw_interval = environ.get("REPORTS_DEADLINE_CHECK_INTERVAL_S", "600")
    interval = int(raw_interval) if raw_interval.strip().isdigit() else 0
    if not 1 <= interval <= 86400:
        errors.append(f"REPORTS_DEADLINE_CHECK_INTERVAL_S: whole seconds from 1 to 86400 expected, got {raw_interval!r}")
    if errors:
        raise SettingsError("invalid environment: " + " | ".join(errors))
    return DeadlineSettings(due_soon, overdue, interval)


def deadline_job() -> PeriodicJob:
    """The check as the relay process runs it: today's Vietnamese date at every run."""
    settings = load_deadline_settings()
    return PeriodicJob(JOB_NAME, settings.interval_s, lambda db: check_deadlines(db, local_today(), settings.due_soon_days, settings.overdue_days))
