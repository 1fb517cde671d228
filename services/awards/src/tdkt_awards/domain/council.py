"""The emulation and commendation council (Hội đồng Thi đua – Khen thưởng): pure rules.

Decree 98/2023 Art 30.7: a secret ballot for CSTĐCS and above and for the Cờ thi đua; approval
is counted on the council's TOTAL membership (absent members vote in writing), with a threshold
the agenda item carries (≥ 90% for Anh hùng, CSTĐ toàn quốc/tỉnh; ≥ 80% for CSTĐCS and Cờ thi
đua; default 0.8). An award session opens only with a quorum (default ≥ 80% present). When more
candidates of a quota group pass than its quota allows they are ranked by yes votes, and the
chair's casting vote settles a tie on the cut line.

Nothing here touches the store; shares are compared as exact fractions (7/10 is not ≥ 0.8).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from tdkt.errors import Conflict, Invalid

MEMBER_ROLES = ("chair", "vice_chair", "standing_member", "member", "secretary")
CHOICES = ("yes", "no", "abstain")
STATES = ("scheduled", "open", "closed")
DEFAULT_QUORUM = 0.8
DEFAULT_THRESHOLD = 0.8

ROLE_LABELS = {"chair": "Chủ tịch Hội đồng", "vice_chair": "Phó Chủ tịch", "standing_member": "Ủy viên thường trực", "member": "Ủy viên", "secretary": "Thư ký"}
OUTCOME_LABELS = {
    "passed": "Đạt",
    "not_passed": "Không đạt (chưa đủ tỷ lệ)",
    "over_quota": "Đạt tỷ lệ nhưng ngoài chỉ tiêu",
    "tied": "Bằng phiếu tại ngưỡng chỉ tiêu, chờ Chủ tịch Hội đồng quyết định",
}


def _share(value: float) -> Fraction:
    return Fraction(str(value))


def check_members(members: list[dict[str, Any]]) -> None:
    ids = [m["member_id"] for m in members]
    if len(set(ids)) != len(ids):
        raise Invalid("members", "Một thành viên xuất hiện hai lần / a member is listed twice")
    if sum(1 for m in members if m["role"] == "chair") > 1:
        raise Invalid("members", "Hội đồng chỉ có một Chủ tịch / a council has one chair")


def check_agenda(agenda: list[dict[str, Any]], quota_groups: list[dict[str, Any]]) -> None:
    ids = [i["item_id"] for i in agenda]
    if len(set(ids)) != len(ids):
        raise Invalid("agenda", "Mã mục trong chương trình bị trùng / item ids must be unique")
    codes = [g["code"] for g in quota_groups]
    if len(set(codes)) != len(codes):
        raise Invalid("quota_groups", "Mã nhóm chỉ tiêu bị trùng / quota group codes must be unique")
    for item in agenda:
        if item.get("quota_group") and item["quota_group"] not in codes:
            raise Invalid("agenda", f"Nhóm chỉ tiêu {item['quota_group']} chưa khai báo / quota group {item['quota_group']} is not declared")


def check_quorum(total: int, present: int, quorum: float) -> None:
    """409 naming the shortfall when fewer than `quorum` of the members are present."""
    if total == 0:
        raise Conflict("Hội đồng chưa có thành viên / the council has no members")
    needed = -(-_share(quorum) * total // 1)  # ceil, exactly
    if present < needed:
        raise Conflict(
            f"Không đủ số thành viên có mặt: {present}/{total}, cần ít nhất {needed} ({float(quorum):.0%}), thiếu {needed - present} / "
            f"no quorum: {present} of {total} present, at least {needed} needed ({float(quorum):.0%}), {needed - present} short",
            present=present,
            total=total,
            needed=int(needed),
            shortfall=int(needed - present),
        )


def passes(yes: int, total: int, threshold: float) -> bool:
    return total > 0 and Fraction(yes, total) >= _share(threshold)


def tally(agenda: list[dict], counts: dict[str, dict[str, int]], total: int, quota_groups: list[dict], casting: list[dict]) -> dict[str, Any]:
    """Per item its counts and outcome; per quota group its ranking and any tie on the cut line.

    `counts[item_id]` = {yes, no, abstain}; `casting` = the chair's decisions [{quota_group, item_ids}].
    """
    items = []
    for item in agenda:
        c = counts.get(item["item_id"], {})
        yes, no, abstain = (int(c.get(k, 0)) for k in CHOICES)
        threshold = item.get("threshold", DEFAULT_THRESHOLD)
        ok = passes(yes, total, threshold)
        items.append(
            {
                "item_id": item["item_id"],
                "nomination_id": item.get("nomination_id"),
                "candidate": item.get("candidate"),
                "title_code": item.get("title_code"),
                "quota_group": item.get("quota_group"),
                "threshold": threshold,
                "yes": yes,
                "no": no,
                "abstain": abstain,
                "ballots": yes + no + abstain,
                "share": round(yes / total, 4) if total else 0.0,
                "reached_threshold": ok,
                "outcome": "passed" if ok else "not_passed",
                "rank": None,
                "by_casting_vote": False,
            }
        )
    decided = {c["quota_group"]: set(c["item_ids"]) for c in casting}
    groups = []
    for group in quota_groups:
        code, quota = group["code"], group["quota"]
        passing = sorted((i for i in items if i["quota_group"] == code and i["reached_threshold"]), key=lambda i: -i["yes"])
        for rank, item in enumerate(passing, start=1):
            item["rank"] = rank
        tie: list[str] = []
        slots = 0
        if len(passing) > quota:
            cut = passing[quota - 1]["yes"] if quota > 0 else None
            above = [i for i in passing if cut is not None and i["yes"] > cut]
            at_cut = [i for i in passing if cut is not None and i["yes"] == cut]
            slots = quota - len(above)
            for i in passing:
                i["outcome"] = "over_quota"
            for i in above:
                i["outcome"] = "passed"
            if len(at_cut) <= slots:
                for i in at_cut:
                    i["outcome"] = "passed"
            elif code in decided:
                for i in at_cut:
                    chosen = i["item_id"] in decided[code]
                    i["outcome"], i["by_casting_vote"] = ("passed" if chosen else "over_quota"), True
            else:
                tie = [i["item_id"] for i in at_cut]
                for i in at_cut:
                    i["outcome"] = "tied"
        groups.append({"code": code, "quota": quota, "reached_threshold": len(passing), "tied_item_ids": tie, "open_slots": slots if tie else 0, "casting_vote": code in decided})
    return {"total_members": total, "items": items, "groups": groups}


def check_casting_vote(result: dict[str, Any], quota_group: str, item_ids: list[str]) -> None:
    group = next((g for g in result["groups"] if g["code"] == quota_group), None)
    if group is None:
        raise Invalid("quota_group", "Không có nhóm chỉ tiêu này / no such quota group")
    if not group["tied_item_ids"]:
        raise Conflict("Nhóm này không có trường hợp bằng phiếu cần quyết định / there is no tie to break in this group")
    if not set(item_ids) <= set(group["tied_item_ids"]) or len(set(item_ids)) != len(item_ids):
        raise Invalid("item_ids", f"Chỉ chọn trong các mục bằng phiếu: {', '.join(group['tied_item_ids'])} / choose among the tied items")
    if len(item_ids) != group["open_slots"]:
        raise Invalid("item_ids", f"Cần chọn đúng {group['open_slots']} mục / choose exactly {group['open_slots']} item(s)")


def minutes_text(minutes: dict[str, Any]) -> str:
    """Biên bản họp Hội đồng, plain text in Vietnamese: date, attendance, per item counts and outcome."""
    lines = [
        "BIÊN BẢN HỌP HỘI ĐỒNG THI ĐUA – KHEN THƯỞNG",
        f"Hội đồng: {minutes['council_name']}",
        f"Ngày họp: {minutes['date']}",
        f"Tổng số thành viên: {minutes['total_members']}; có mặt: {minutes['present']}; vắng mặt: {minutes['absent']}"
        f" (tỷ lệ có mặt {minutes['present_share']:.0%}, yêu cầu tối thiểu {minutes['quorum']:.0%}).",
        "Hình thức biểu quyết: bỏ phiếu kín; tỷ lệ tính trên tổng số thành viên Hội đồng (thành viên vắng mặt gửi phiếu bằng văn bản).",
        "",
        "KẾT QUẢ BỎ PHIẾU",
    ]
    for n, item in enumerate(minutes["items"], start=1):
        group = f"; nhóm chỉ tiêu {item['quota_group']}, xếp thứ {item['rank']}" if item.get("quota_group") and item.get("rank") else ""
        casting = " (theo quyết định của Chủ tịch Hội đồng khi bằng phiếu)" if item.get("by_casting_vote") else ""
        lines.append(
            f"{n}. {item.get('candidate') or item['item_id']} – {item.get('title_code') or ''}: "
            f"đồng ý {item['yes']}, không đồng ý {item['no']}, không biểu quyết {item['abstain']} "
            f"(tổng {item['ballots']} phiếu; đồng ý {item['share']:.0%}/{minutes['total_members']} thành viên, ngưỡng {item['threshold']:.0%}{group}). "
            f"Kết quả: {OUTCOME_LABELS[item['outcome']]}{casting}."
        )
    for group in minutes["groups"]:
        lines.append(f"Nhóm chỉ tiêu {group['code']}: chỉ tiêu {group['quota']}, số đạt tỷ lệ {group['reached_threshold']}.")
    if minutes.get("integrity_warnings"):
        lines += ["", "GHI CHÚ KIỂM PHIẾU"] + [f"- {w}" for w in minutes["integrity_warnings"]]
    lines += ["", "THƯ KÝ HỘI ĐỒNG                CHỦ TỊCH HỘI ĐỒNG"]
    return "\n".join(lines)
