"""GET /reports?movement_id=… served from the movement's kept order (`service_layer.listing`):
the same pages, totals and order as the query over every report, and never stale after period
generation moves (a newcomer, a due date moved, a re-delivered launch)."""

from __future__ import annotations

from datetime import timedelta

from tdkt_reports.service_layer import listing

from .conftest import TODAY


def pages(client, officer, query: str, per_page: int = 4) -> tuple[list[str], list[tuple[str, int, int]]]:
    """Every id over every page, and (page, total, pages) as each page answered."""
    ids, shapes, page = [], [], 1
    while True:
        body = client.get(f"/api/v1/reports?{query}&per_page={per_page}&page={page}", headers=officer).get_json()
        ids += [item["id"] for item in body["items"]]
        shapes.append((body["page"], body["total"], body["pages"]))
        if page >= body["pages"]:
            return ids, shapes
        page += 1


def by_query(client, officer, query: str, db, movement_id: str):
    """The same listing with the mark set aside, so the view queries every report as before."""
    mark = db[listing.MARKS].find_one_and_delete({"_id": movement_id})
    try:
        return pages(client, officer, query)
    finally:
        db[listing.MARKS].insert_one(mark)


def test_a_movements_list_matches_the_query_and_follows_each_generation(client, officer, registry, db):
    units = [registry.unit(f"Xã Thử {i}") for i in range(3)]
    movement = registry.movement(units)
    query = f"movement_id={movement['id']}"
    kept = pages(client, officer, query)
    assert db[listing.MARKS].find_one({"_id": movement["id"]})["busy"] is False
    assert len(kept[0]) == 9 and kept[1][0][1:] == (9, 3)
    assert kept == by_query(client, officer, query, db, movement["id"])

    # a newcomer and the first period's due date moved: its open reports follow, so the order changes
    newcomer = registry.unit("Xã Khun Há")
    schedule = [dict(d) for d in movement["due_dates"]]
    schedule[0]["due"] = (TODAY + timedelta(days=60)).isoformat()
    registry.movement([*units, newcomer], event="amended", movement_id=movement["id"], due_dates=schedule)
    after = pages(client, officer, query)
    assert len(after[0]) == 12 and after != kept
    assert after == by_query(client, officer, query, db, movement["id"])
    assert after[0][-4:] == sorted(i for i in after[0] if i.endswith("." + schedule[2]["period"]))  # final period (due last) at the end, by id

    # the launch re-delivered (same sequence): a no-op, the kept order still answers the same
    registry.sequences[movement["id"]] -= 1
    registry.movement([*units, newcomer], event="amended", movement_id=movement["id"], due_dates=schedule)
    assert pages(client, officer, query) == after

    # a period filter over the kept order, and the filters it cannot answer, against the query
    period = schedule[1]["period"]
    for extra in (f"&period={period}", "&state=open", f"&unit_id={newcomer}", "&late=false"):
        assert pages(client, officer, query + extra) == by_query(client, officer, query + extra, db, movement["id"])
    assert len(pages(client, officer, query + f"&period={period}")[0]) == 4


def test_a_generation_left_half_done_falls_back_to_the_query(client, officer, registry, db):
    units = [registry.unit(f"Xã Thử {i}") for i in range(2)]
    movement = registry.movement(units)
    query = f"movement_id={movement['id']}"
    before = pages(client, officer, query)  # kept now
    db[listing.MARKS].update_one({"_id": movement["id"]}, {"$set": {"busy": True}})  # as if it crashed mid-way
    newcomer = registry.unit("Xã Khun Há")
    db.reports.insert_one(  # what the half-done generation wrote
        dict(db.reports.find_one({"_id": before[0][0]}), _id=f"{movement['id']}.{newcomer}.final", unit_id=newcomer, original_unit_id=newcomer, period="final")
    )
    assert listing.ordered(db, movement["id"]) is None
    assert len(pages(client, officer, query)[0]) == 7
    registry.movement([*units, newcomer], event="amended", movement_id=movement["id"])  # the next generation ends it
    assert len(pages(client, officer, query)[0]) == 9
    assert db[listing.MARKS].find_one({"_id": movement["id"]})["busy"] is False
