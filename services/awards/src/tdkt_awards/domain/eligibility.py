"""The eligibility pre-check (kiểm tra điều kiện): every rule the platform can check by itself,
each with its reason, so the appraiser starts from facts and judges only what is left.

A check is `ok` True (met), False (not met: the reason says why) or None (the platform cannot
tell: a text criterion, a movement the unit's reports are not known for yet — the appraiser
decides). The verdict is False if any check fails, None if some need judgement, True otherwise.

Inputs are data, so the same function recomputes the verdict whenever one of them changes:
the title's criteria from the catalogue in force, the unit's progress in the movement (from the
reports service's events), holds (discipline, inspection, complaint — Decree 152 Art 4), the
other nominations of the same nominee, and the quotas when the catalogue switches them on.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from tdkt_awards.domain.catalogue import RATINGS, Catalogue, Title

HOLD_KINDS = {"discipline": "đang xem xét kỷ luật", "inspection": "đang bị thanh tra, kiểm tra", "complaint": "đang có khiếu nại, tố cáo chưa giải quyết"}


@dataclass(frozen=True)
class Inputs:
    catalogue: Catalogue
    title: Title
    nomination: dict[str, Any]  # subject, kind, year, movement_id, nominee, attachments
    progress: dict[str, Any] | None  # MovementProgressUpdated payload of the nominee's unit, if known
    holds: tuple[dict[str, Any], ...] = ()  # active holds on the nominee
    rivals: tuple[dict[str, Any], ...] = ()  # other live nominations of the same nominee for the same achievement
    quota_counts: dict[str, int] | None = None  # live nominations per title in the nominating unit and period


def _check(rule: str, ok: bool | None, message: str) -> dict[str, Any]:
    return {"rule": rule, "ok": ok, "message": message}


def _merit_titles(inputs: Inputs, code: str) -> tuple[list[int], list[int]]:
    """Years the nominee held `code` that count toward merit, and those that do not (awards for
    sudden achievements and thematic movements never count, Decree 152 Art 4)."""
    counting, ignored = [], []
    for prior in inputs.nomination["nominee"].get("prior_titles") or ():
        if prior["title_code"] != code:
            continue
        try:
            title = inputs.catalogue.title(prior["title_code"])
            counts = title.counts_toward_merit and title.award_type not in ("sudden", "movement")
        except Exception:  # a title of an older catalogue: trust the nominee's own flag
            counts = True
        counts = counts and prior.get("counts_toward_merit", True)
        (counting if counts else ignored).append(int(prior["year"]))
    return sorted(set(counting)), sorted(set(ignored))


def _consecutive(years: list[int], ending: int) -> int:
    run, year = 0, ending
    while year in years:
        run, year = run + 1, year - 1
    return run


def _criterion(inputs: Inputs, rule: dict[str, Any]) -> dict[str, Any]:
    kind, nominee, year = rule["kind"], inputs.nomination["nominee"], int(inputs.nomination["year"])
    if kind == "performance_at_least":
        got = nominee.get("performance")
        if got is None:
            return _check(kind, None, "Chưa khai mức hoàn thành nhiệm vụ / the performance rating is not stated")
        ok = RATINGS.index(got) >= RATINGS.index(rule["rating"])
        return _check(kind, ok, f"Mức hoàn thành nhiệm vụ: {got}, cần từ {rule['rating']} / rated {got}, needs {rule['rating']} or better")
    if kind == "holds_title":
        counting, ignored = _merit_titles(inputs, rule["title"])
        ok = year in counting
        note = " (danh hiệu theo đợt/đột xuất không được tính / thematic and sudden awards do not count)" if year in ignored else ""
        return _check(kind, ok, f"Danh hiệu {rule['title']} năm {year}: {'có' if ok else 'không có'}{note} / {rule['title']} in {year}: {'yes' if ok else 'no'}")
    if kind == "consecutive_titles":
        counting, ignored = _merit_titles(inputs, rule["title"])
        run = max(_consecutive(counting, year), _consecutive(counting, year - 1))
        ok = run >= int(rule["years"])
        note = f"; không tính {ignored} (đợt/đột xuất)" if ignored else ""
        return _check(kind, ok, f"{run} năm liên tục {rule['title']}, cần {rule['years']}{note} / {run} consecutive years of {rule['title']}, needs {rule['years']}")
    if kind == "initiative_recognised":
        proof = any(a["type"] == "sang_kien" for a in inputs.nomination.get("attachments") or ())
        ok = bool(nominee.get("initiative_recognised")) and proof
        return _check(
            kind,
            ok,
            "Sáng kiến được công nhận, có minh chứng / a recognised initiative with proof"
            if ok
            else "Chưa có sáng kiến được công nhận kèm minh chứng / no recognised initiative with its proof",
        )
    if kind in ("share_of_members_with_title", "all_members_complete_tasks", "at_least_one_member_with_title", "no_member_disciplined"):
        return _collective(kind, rule, nominee)
    if kind == "unit_reports_accepted":
        return _reports(inputs)
    return _check(kind, None, f"Hội đồng/cán bộ thẩm định đánh giá: {rule.get('text', kind)} / for the appraiser to judge")


def _collective(kind: str, rule: dict[str, Any], nominee: dict[str, Any]) -> dict[str, Any]:
    total = nominee.get("members_total") or 0
    with_titles = nominee.get("members_with_titles") or {}
    if total <= 0:
        return _check(kind, False, "Chưa khai số thành viên / the number of members is not stated")
    if kind == "share_of_members_with_title":
        held, share = with_titles.get(rule["title"], 0), Fraction(str(rule["share"]))
        ok = Fraction(held, total) >= share
        return _check(
            kind,
            ok,
            f"{held}/{total} thành viên đạt {rule['title']} ({float(Fraction(held, total)):.0%}), cần ≥ {float(share):.0%} / {held} of {total} members hold {rule['title']}",
        )
    if kind == "all_members_complete_tasks":
        done = nominee.get("members_completed_tasks") or 0
        return _check(kind, done >= total, f"{done}/{total} thành viên hoàn thành nhiệm vụ / {done} of {total} members completed their tasks")
    if kind == "at_least_one_member_with_title":
        held = with_titles.get(rule["title"], 0)
        return _check(kind, held >= 1, f"{held} thành viên đạt {rule['title']} / {held} members hold {rule['title']}")
    disciplined = nominee.get("members_disciplined") or 0
    return _check(kind, disciplined == 0, f"{disciplined} thành viên bị kỷ luật từ khiển trách trở lên / {disciplined} members disciplined (reprimand or worse)")


def _reports(inputs: Inputs) -> dict[str, Any]:
    rule, movement = "unit_reports_accepted", inputs.nomination.get("movement_id")
    if not movement:
        return _check(rule, None, "Không gắn với phong trào: cán bộ thẩm định xác nhận / not tied to a movement: the appraiser confirms")
    progress = inputs.progress
    if progress is None:
        return _check(rule, False, "Đơn vị chưa có báo cáo nào trong phong trào / the unit has no report in the movement yet")
    total, accepted = progress.get("periods_total") or 0, progress.get("accepted") or 0
    if total and accepted >= total and progress.get("final_accepted"):
        late = progress.get("late") or 0
        return _check(rule, True, f"Đã báo cáo đủ {accepted}/{total} kỳ, được chấp nhận{f' ({late} kỳ nộp muộn)' if late else ''} / all {total} reports accepted")
    return _check(
        rule,
        False,
        f"Báo cáo được chấp nhận {accepted}/{total} kỳ, báo cáo tổng kết {'đã' if progress.get('final_accepted') else 'chưa'} được chấp nhận / {accepted} of {total} reports accepted, final {'accepted' if progress.get('final_accepted') else 'not accepted'}",
    )


def _holds(inputs: Inputs) -> list[dict[str, Any]]:
    return [_check("hold", False, f"Tạm dừng xét: {HOLD_KINDS[h['kind']]} ({h.get('reference') or h['id']}) / on hold: {h['kind']}") for h in inputs.holds]


def _one_form(inputs: Inputs) -> dict[str, Any]:
    if not inputs.rivals:
        return _check("one_achievement_one_form", True, "Thành tích chưa được đề nghị hình thức khác / no other form proposed for this achievement")
    others = ", ".join(f"{r['title_code']} ({r['state']})" for r in inputs.rivals)
    return _check("one_achievement_one_form", False, f"Một thành tích chỉ được một hình thức; đã có: {others} / one achievement, one form: already proposed {others}")


def _quotas(inputs: Inputs) -> list[dict[str, Any]]:
    quotas = inputs.catalogue.quotas or {}
    if not quotas.get("enabled") or inputs.quota_counts is None:
        return []
    checks = []
    for rule in quotas.get("rules") or ():
        if rule["title"] != inputs.title.code:
            continue
        base = inputs.quota_counts.get(rule["max_share_of"], 0)
        mine = inputs.quota_counts.get(rule["title"], 0)
        limit = int(Fraction(str(rule["share"])) * base)
        checks.append(
            _check(
                "quota",
                mine <= limit,
                f"{mine} đề nghị {rule['title']}, chỉ tiêu tối đa {limit} ({rule['share']} × {base} {rule['max_share_of']}) / {mine} nominated, quota {limit}",
            )
        )
    return checks


def evaluate(inputs: Inputs) -> dict[str, Any]:
    checks = [_criterion(inputs, rule) for rule in inputs.title.criteria]
    checks += _holds(inputs) + [_one_form(inputs)] + _quotas(inputs)
    if any(c["ok"] is False for c in checks):
        eligible = False
    elif any(c["ok"] is None for c in checks):
        eligible = None
    else:
        eligible = True
    return {"eligible": eligible, "on_hold": bool(inputs.holds), "checks": checks}
