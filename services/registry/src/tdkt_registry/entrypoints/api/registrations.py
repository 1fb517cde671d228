"""/api/v1/movements/{id}/registrations — units' commitments to a movement.

A unit's head or reporter registers their own unit (targets per criterion, titles aimed for)
and amends it until the deadline (`If-Match` required); officers read every registration and
list the participants who have not registered yet.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from tdkt.clock import local_today
from tdkt.web.auth import authorize, current_principal
from tdkt.web.pagination import PageArgs, page_of, paginate, paginate_list
from tdkt.web.problems import PROBLEM_JSON, ProblemSchema

from tdkt_registry.adapters.documents import MovementDocument, RegistrationDocument
from tdkt_registry.entrypoints.api.movement_schemas import MissingSchema, RegistrationAmendSchema, RegistrationInputSchema, RegistrationSchema
from tdkt_registry.entrypoints.api.movements import WRITERS, visible
from tdkt_registry.entrypoints.api.unit_views import unit_store
from tdkt_registry.service_layer import registrations as use_cases

blp = Blueprint("registrations", __name__, url_prefix="/movements", description="Đăng ký thi đua / Registrations to a movement")


def _view(doc: RegistrationDocument) -> dict:
    unit = unit_store().directory().get(doc.unit_id)
    return {**use_cases.view(doc), "unit_name": unit.current.name if unit else None, "version": doc.version}


def _etag(doc: RegistrationDocument) -> dict:
    return {"id": doc.id, "version": doc.version}


def _conflicts(view):
    return blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_JSON, description="Not a participant, registration closed, or already registered")(view)


@blp.route("/<movement_id>/registrations")
class Registrations(MethodView):
    @authorize(blp)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(RegistrationSchema))
    def get(self, args, movement_id):
        """Đăng ký của phong trào / a movement's registrations (a unit sees its own)"""
        visible(MovementDocument.objects(id=movement_id).only("id", "state").first())
        query = RegistrationDocument.objects(movement_id=movement_id, **current_principal().unit_filter()).exclude("outbox")
        page = paginate(query.order_by("id"), args)
        page["items"] = [_view(d) for d in page["items"]]
        return page

    @authorize(blp, *use_cases.REGISTRANT_ROLES)
    @blp.arguments(RegistrationInputSchema)
    @blp.response(201, RegistrationSchema)
    @_conflicts
    def post(self, body, movement_id):
        """Đăng ký thi đua / register the caller's unit (a target for every criterion)"""
        doc = use_cases.submit(movement_id, body, current_principal())
        return _view(doc), 201, {"Location": f"/api/v1/movements/{movement_id}/registrations/{doc.unit_id}"}


@blp.route("/<movement_id>/registrations/<unit_id>")
class RegistrationByUnit(MethodView):
    @authorize(blp)
    @blp.etag
    @blp.response(200, RegistrationSchema)
    def get(self, movement_id, unit_id):
        """Đăng ký của một đơn vị / one unit's registration"""
        doc = use_cases.find(movement_id, unit_id, current_principal())
        blp.set_etag(_etag(doc))
        return _view(doc)

    @authorize(blp, *use_cases.REGISTRANT_ROLES)
    @blp.etag
    @blp.arguments(RegistrationAmendSchema)
    @blp.response(200, RegistrationSchema)
    @_conflicts
    def put(self, body, movement_id, unit_id):
        """Điều chỉnh đăng ký đến hạn / amend until the registration deadline (If-Match required)"""
        doc = use_cases.amend(movement_id, unit_id, body, current_principal(), lambda d: blp.check_etag(_etag(d)))
        blp.set_etag(_etag(doc))
        return _view(doc)


@blp.route("/<movement_id>/unregistered")
class Unregistered(MethodView):
    @authorize(blp, *WRITERS)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(MissingSchema))
    def get(self, args, movement_id):
        """Đơn vị chưa đăng ký / participants that have not registered yet"""
        movement = visible(MovementDocument.objects(id=movement_id).exclude("outbox", "history").first())
        registered = {d.unit_id for d in RegistrationDocument.objects(movement_id=movement_id).only("unit_id")}
        directory = unit_store().directory()
        day = local_today()
        missing = []
        for unit_id in movement.participant_ids:
            if unit_id not in registered and (unit := directory.get(unit_id)):
                segment = unit.at(day) or unit.current
                missing.append({"unit_id": unit_id, "code": segment.code, "name": segment.name})
        return paginate_list(missing, args)
