"""Page-numbered lists with the total, the same shape on every list endpoint:

    {"items": [...], "page": 2, "per_page": 20, "total": 57, "pages": 3}

Query arguments `page` (from 1) and `per_page` (1–200, default 20) are validated like any
other input: `per_page=0` or `page=abc` is a 422 naming the argument.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import marshmallow as ma
from marshmallow.validate import Range

MAX_PER_PAGE = 200


class PageArgs(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=Range(min=1, max=100000), metadata={"description": "Trang, từ 1 / page number, from 1"})
    per_page = ma.fields.Integer(load_default=20, validate=Range(min=1, max=MAX_PER_PAGE), metadata={"description": f"Số mục mỗi trang (1–{MAX_PER_PAGE}) / items per page"})


@cache
def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The response schema of a page of `item_schema` (one class per item schema)."""
    return type(
        f"{item_schema.__name__.removesuffix('Schema')}PageSchema",
        (ma.Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "page": ma.fields.Integer(required=True),
            "per_page": ma.fields.Integer(required=True),
            "total": ma.fields.Integer(required=True),
            "pages": ma.fields.Integer(required=True),
        },
    )


def paginate(queryset, args: dict[str, Any]) -> dict[str, Any]:
    """Slice a mongoengine QuerySet (already filtered, scoped and ordered) into a page."""
    page, per_page = args["page"], args["per_page"]
    total = queryset.count()
    items = list(queryset.skip((page - 1) * per_page).limit(per_page))
    return {"items": items, "page": page, "per_page": per_page, "total": total, "pages": (total + per_page - 1) // per_page}


def paginate_list(items: list, args: dict[str, Any]) -> dict[str, Any]:
    """The same page shape over a list already filtered and ordered in memory."""
    page, per_page = args["page"], args["per_page"]
    total = len(items)
    start = (page - 1) * per_page
    return {"items": items[start : start + per_page], "page": page, "per_page": per_page, "total": total, "pages": (total + per_page - 1) // per_page}
