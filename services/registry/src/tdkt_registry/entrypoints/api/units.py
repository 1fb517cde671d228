"""/api/v1/units — the unit directory, its hierarchy and history, as of any date.

Reads are open to every authenticated caller (contacts excepted); changes are for the TĐKT
standing body (`tdkt_officer`) and `admin`. Structural changes are acts with a legal basis:
`POST /units/{id}/renames`, `/moves`, `/splits`, `/dissolutions` and `POST /unit-merges`.
"""

from __future__ import annotations

from datetime import date

from flask.views import MethodView
from flask_smorest import Blueprint
from tdkt.clock import local_today
from tdkt.web.auth import authorize, current_principal
from tdkt.web.pagination import page_of, paginate_list
from tdkt.web.problems import PROBLEM_JSON, ProblemSchema

from tdkt_registry.domain.units import KINDS
from tdkt_registry.entrypoints.api.unit_schemas import (
    ActQuery,
    ActRecordSchema,
    ActResultSchema,
    AsOfArgs,
    DissolveSchema,
    KindSchema,
    LineageSchema,
    MergeSchema,
    MoveSchema,
    RenameSchema,
    SplitSchema,
    SubtreeQuery,
    UnitCreateSchema,
    UnitPatchSchema,
    UnitQuery,
    UnitSchema,
)
from tdkt_registry.entrypoints.api.unit_views import unit_store, unit_view
from tdkt_registry.service_layer import units as use_cases

blp = Blueprint("units", __name__, url_prefix="", description="Đơn vị và lịch sử sắp xếp / Units and their history (as of any date)")
WRITERS = ("tdkt_officer", "admin")


def _conflict_doc(view):
    return blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_JSON, description="The change conflicts with the directory (duplicate code, cycle, ended unit)")(view)


def _day(args) -> date:
    return args.get("as_of") or local_today()


def _act_result(changes, stored):
    directory = unit_store().directory()
    act = unit_store().act(changes.act.id) or {}
    day = changes.act.effective_date or local_today()
    return {"act": {**act, "id": changes.act.id}, "units": [unit_view(directory, u, day, current_principal()) for u in stored]}


@blp.route("/units")
class Units(MethodView):
    @authorize(blp)
    @blp.arguments(UnitQuery, location="query")
    @blp.response(200, page_of(UnitSchema))
    def get(self, args):
        """Đơn vị theo ngày / units as of a date, filtered and searched (diacritic-insensitive)"""
        directory, day = unit_store().directory(), _day(args)
        found = use_cases.units_as_of(directory, day, args.get("q"), args.get("kind"), args.get("parent_id"), args["status"])
        page = paginate_list(found, args)
        page["items"] = [unit_view(directory, u, day, current_principal()) for u in page["items"]]
        return page

    @authorize(blp, *WRITERS)
    @blp.arguments(UnitCreateSchema)
    @blp.response(201, ActResultSchema)
    @_conflict_doc
    def post(self, body):
        """Thành lập / establish a unit (an official code is unique over overlapping periods)"""
        changes, stored = use_cases.establish_unit(unit_store(), body, current_principal().subject)
        return _act_result(changes, stored), 201, {"Location": f"/api/v1/units/{stored[0].id}"}


@blp.route("/units/<unit_id>")
class UnitById(MethodView):
    @authorize(blp)
    @blp.etag
    @blp.arguments(AsOfArgs, location="query")
    @blp.response(200, UnitSchema)
    def get(self, args, unit_id):
        """Một đơn vị, với toàn bộ lịch sử / one unit, with its whole history"""
        directory = unit_store().directory()
        unit = use_cases.get_unit(directory, unit_id)
        blp.set_etag({"id": unit.id, "version": unit.version})
        return unit_view(directory, unit, _day(args), current_principal(), history=True)

    @authorize(blp, *WRITERS)
    @blp.etag
    @blp.arguments(UnitPatchSchema)
    @blp.response(200, UnitSchema)
    def patch(self, body, unit_id):
        """Sửa liên hệ, thủ trưởng, ghi chú / update contacts, head, short name, note (If-Match required)"""

        def check(unit):
            blp.check_etag({"id": unit.id, "version": unit.version})

        _, stored = use_cases.update_unit(unit_store(), unit_id, body, current_principal().subject, expected_version=check)
        unit = stored[0]
        blp.set_etag({"id": unit.id, "version": unit.version})
        return unit_view(unit_store().directory(), unit, local_today(), current_principal(), history=True)


@blp.route("/units/<unit_id>/children")
class Children(MethodView):
    @authorize(blp)
    @blp.arguments(AsOfArgs, location="query")
    @blp.response(200, UnitSchema(many=True))
    def get(self, args, unit_id):
        """Đơn vị trực thuộc / direct children on a date"""
        directory, day = unit_store().directory(), _day(args)
        use_cases.get_unit(directory, unit_id)
        return [unit_view(directory, u, day, current_principal()) for u in directory.children(unit_id, day)]


@blp.route("/units/<unit_id>/ancestors")
class Ancestors(MethodView):
    @authorize(blp)
    @blp.arguments(AsOfArgs, location="query")
    @blp.response(200, UnitSchema(many=True))
    def get(self, args, unit_id):
        """Các cấp trên, gần nhất trước / ancestors on a date, parent first"""
        directory, day = unit_store().directory(), _day(args)
        use_cases.get_unit(directory, unit_id)
        return [unit_view(directory, u, day, current_principal()) for u in directory.ancestors(unit_id, day)]


@blp.route("/units/<unit_id>/subtree")
class Subtree(MethodView):
    @authorize(blp)
    @blp.arguments(SubtreeQuery, location="query")
    @blp.response(200, page_of(UnitSchema))
    def get(self, args, unit_id):
        """Toàn bộ đơn vị bên dưới / the whole subtree on a date, breadth first"""
        directory, day = unit_store().directory(), _day(args)
        use_cases.get_unit(directory, unit_id)
        found = [
            (u, d) for u, d in directory.subtree(unit_id, day) if (not args.get("kind") or u.at(day).kind == args["kind"]) and (not args.get("max_depth") or d <= args["max_depth"])
        ]
        page = paginate_list(found, args)
        page["items"] = [unit_view(directory, u, day, current_principal(), depth=d) for u, d in page["items"]]
        return page


@blp.route("/units/<unit_id>/lineage")
class Lineage(MethodView):
    @authorize(blp)
    @blp.response(200, LineageSchema)
    def get(self, unit_id):
        """Đơn vị tiền thân và kế thừa / predecessors and successors, transitively"""
        directory = unit_store().directory()
        unit = use_cases.get_unit(directory, unit_id)
        found = use_cases.lineage(directory, unit_id)
        principal = current_principal()

        def shown(entry, before: bool):
            other = entry["unit"]
            day = (other.valid_to if before else other.valid_from) or local_today()
            return {**entry, "unit": unit_view(directory, other, day, principal)}

        return {
            "unit": unit_view(directory, unit, unit.valid_to or local_today(), principal),
            "predecessors": [shown(e, True) for e in found["predecessors"]],
            "successors": [shown(e, False) for e in found["successors"]],
        }


def _act_route(path: str, schema, use_case, summary: str):
    @blp.route(f"/units/<unit_id>/{path}", endpoint=f"unit_{path}")
    class ActOnUnit(MethodView):
        @authorize(blp, *WRITERS)
        @blp.arguments(schema)
        @blp.response(201, ActResultSchema)
        @_conflict_doc
        def post(self, body, unit_id):
            changes, stored = use_case(unit_store(), unit_id, body, current_principal().subject)
            return _act_result(changes, stored), 201

    ActOnUnit.post.__doc__ = summary
    return ActOnUnit


_act_route("renames", RenameSchema, use_cases.rename_unit, "Đổi tên, mã hoặc loại / rename, recode or reclassify from a date")
_act_route("moves", MoveSchema, use_cases.move_unit, "Chuyển cấp trên / move under another parent from a date (no cycles)")
_act_route("splits", SplitSchema, use_cases.split_unit, "Chia tách / split into existing or new units")
_act_route("dissolutions", DissolveSchema, use_cases.dissolve_unit, "Giải thể / dissolve (no active children left)")


@blp.route("/unit-merges")
class Merges(MethodView):
    @authorize(blp, *WRITERS)
    @blp.arguments(MergeSchema)
    @blp.response(201, ActResultSchema)
    @_conflict_doc
    def post(self, body):
        """Sáp nhập, hợp nhất / merge several units into an existing or a new one"""
        changes, stored = use_cases.merge_units(unit_store(), body, current_principal().subject)
        return _act_result(changes, stored), 201


@blp.route("/unit-acts")
class Acts(MethodView):
    @authorize(blp)
    @blp.arguments(ActQuery, location="query")
    @blp.response(200, page_of(ActRecordSchema))
    def get(self, args):
        """Lịch sử các quyết định về đơn vị, mới nhất trước / the acts on units, newest first (hash-chained)"""
        return paginate_list(unit_store().acts(args.get("unit_id"), args.get("kind")), args)


@blp.route("/unit-acts/<act_id>")
class ActById(MethodView):
    @authorize(blp)
    @blp.response(200, ActRecordSchema)
    def get(self, act_id):
        from tdkt.errors import NotFound

        act = unit_store().act(act_id)
        if act is None:
            raise NotFound(f"Không có quyết định {act_id} / no act {act_id}")
        return {**act, "id": act["_id"]}


@blp.route("/unit-kinds")
class Kinds(MethodView):
    @authorize(blp)
    @blp.response(200, KindSchema(many=True))
    def get(self):
        """Các loại đơn vị / unit kinds with their Vietnamese labels"""
        return [{"kind": k, "label": label, "level": tier} for k, (label, tier) in KINDS.items()]


from tdkt_registry.entrypoints.api import unit_imports  # noqa: E402, F401  (registers its routes on this blueprint)
