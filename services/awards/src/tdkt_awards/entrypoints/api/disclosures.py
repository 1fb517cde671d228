"""/api/v1/disclosures — the public list before a decision, and the objections it drew;
/api/v1/public/disclosures — the same list for anyone, without a token: names, units, titles or
forms and achievements only (no contact data, no votes, no documents)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from tdkt.clock import local_today
from tdkt.web.auth import authorize, current_principal
from tdkt.web.commands import command_route
from tdkt.web.etags import require_if_match
from tdkt.web.pagination import page_of, paginate_list

from tdkt_awards.adapters.documents import Disclosure
from tdkt_awards.entrypoints.api.nomination_schemas import (
    DisclosureInputSchema,
    DisclosureQuery,
    DisclosureSchema,
    ObjectionInputSchema,
    PublicDisclosureSchema,
    ResolutionSchema,
)
from tdkt_awards.service_layer import disclosures as use_cases

OFFICERS = ("tdkt_officer", "admin")
blp = Blueprint("disclosures", __name__, url_prefix="/disclosures", description="Công khai trước khi khen thưởng, ý kiến phản ánh / Disclosure and objections")
public = Blueprint("public_disclosures", __name__, url_prefix="/public/disclosures", description="Danh sách công khai (không cần đăng nhập) / The public lists, no token")
blueprints = [blp, public]


def _etag(doc: Disclosure) -> dict:
    return {"id": doc.id, "version": doc.version}


def _listed(args) -> list[Disclosure]:
    found = sorted(Disclosure.objects.exclude("outbox"), key=lambda d: (d.opens, d.id), reverse=True)
    if args.get("current"):
        today = local_today().isoformat()
        found = [d for d in found if d.opens <= today <= d.closes]
    return found


@blp.route("")
class Disclosures(MethodView):
    @authorize(blp, *OFFICERS, "chairman", "council_chair", "council_member", "communications")
    @blp.arguments(DisclosureQuery, location="query")
    @blp.response(200, page_of(DisclosureSchema))
    def get(self, args):
        """Các đợt công khai / disclosures with their objections"""
        page = paginate_list(_listed(args), args)
        page["items"] = [use_cases.view(d) for d in page["items"]]
        return page

    @authorize(blp, *OFFICERS)
    @blp.etag
    @blp.arguments(DisclosureInputSchema)
    @blp.response(201, DisclosureSchema)
    def post(self, body):
        """Công khai danh sách / publish approved nominations for a window of working days before the decision"""
        doc = use_cases.open_disclosure(body, current_principal())
        blp.set_etag(_etag(doc))
        return use_cases.view(doc), 201, {"Location": f"/api/v1/disclosures/{doc.id}"}


@blp.route("/<disclosure_id>")
class DisclosureById(MethodView):
    @authorize(blp, *OFFICERS, "chairman", "council_chair", "council_member", "communications")
    @blp.etag
    @blp.response(200, DisclosureSchema)
    def get(self, disclosure_id):
        """Một đợt công khai / one disclosure"""
        doc = use_cases.load(disclosure_id)
        blp.set_etag(_etag(doc))
        return use_cases.view(doc)


command_route(
    blp,
    "/<disclosure_id>/objections",
    endpoint="disclosure_objections",
    schema=ObjectionInputSchema,
    roles=OFFICERS,
    response=DisclosureSchema,
    view=use_cases.view,
    etag=_etag,
    action=lambda did, body, check: use_cases.record_objection(did, body, current_principal(), check),
    summary="Ghi nhận ý kiến phản ánh / record an objection received (late ones are marked late)",
)


@blp.route("/<disclosure_id>/objections/<objection_id>/resolution")
class Resolution(MethodView):
    @authorize(blp, *OFFICERS)
    @blp.etag
    @blp.arguments(ResolutionSchema)
    @blp.response(200, DisclosureSchema)
    def post(self, body, disclosure_id, objection_id):
        """Xử lý ý kiến phản ánh / resolve an objection: upheld rejects the nomination, dismissed lets it go on"""
        doc = use_cases.resolve_objection(disclosure_id, objection_id, body, current_principal(), lambda d: require_if_match(blp, _etag(d)))
        blp.set_etag(_etag(doc))
        return use_cases.view(doc)


@public.route("")
class PublicDisclosures(MethodView):
    @public.arguments(DisclosureQuery, location="query")
    @public.response(200, page_of(PublicDisclosureSchema))
    def get(self, args):
        """Danh sách công khai / the public lists (no token needed)"""
        page = paginate_list(_listed(args), args)
        page["items"] = [use_cases.public_view(d) for d in page["items"]]
        return page


@public.route("/<disclosure_id>")
class PublicDisclosureById(MethodView):
    @public.response(200, PublicDisclosureSchema)
    def get(self, disclosure_id):
        """Một danh sách công khai / one public list (no token needed)"""
        return use_cases.public_view(use_cases.load(disclosure_id))
