"""/api/v1/decisions — award decisions: drafted by officers, issued (numbered, signed) by the
chairman, immutable afterwards, revoked only by a new act; the .docx document.

Every change needs `If-Match`. Issuing takes the next number of the issuer's year, gapless and
unique under concurrency (see `adapters/decision_numbers.py`).
"""

from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from tdkt.attachments.web import disposition
from tdkt.web.auth import authorize, current_principal
from tdkt.web.etags import require_if_match
from tdkt.web.pagination import page_of, paginate

from tdkt_awards.adapters.documents import Decision
from tdkt_awards.entrypoints.api.catalogue_schemas import NoBodySchema
from tdkt_awards.entrypoints.api.decision_schemas import DecisionInputSchema, DecisionQuery, DecisionSchema, RevocationInputSchema
from tdkt_awards.service_layer import decisions as use_cases

blp = Blueprint("decisions", __name__, url_prefix="/decisions", description="Quyết định khen thưởng / Award decisions")
DRAFTERS = ("tdkt_officer", "admin")
SIGNERS = ("chairman",)
READERS = ("tdkt_officer", "admin", "chairman", "council_chair", "council_member", "finance_officer", "communications", "integration")


def _etag(doc: Decision) -> dict:
    return {"id": doc.id, "version": doc.version}


@blp.route("")
class Decisions(MethodView):
    @authorize(blp, *READERS)
    @blp.arguments(DecisionQuery, location="query")
    @blp.response(200, page_of(DecisionSchema))
    def get(self, args):
        """Quyết định khen thưởng / decisions"""
        query = Decision.objects.exclude("outbox")
        for name in ("issuer", "state"):
            if args.get(name):
                query = query.filter(**{name: args[name]})
        page = paginate(query.order_by("-number", "id"), args)
        page["items"] = [use_cases.view(d) for d in page["items"]]
        return page

    @authorize(blp, *DRAFTERS)
    @blp.arguments(DecisionInputSchema)
    @blp.response(201, DecisionSchema)
    def post(self, body):
        """Dự thảo quyết định / draft a decision: awardees priced from the catalogue in force on its date"""
        doc = use_cases.draft(body, current_principal().subject)
        return use_cases.view(doc), 201, {"Location": f"/api/v1/decisions/{doc.id}"}


@blp.route("/<decision_id>")
class DecisionById(MethodView):
    @authorize(blp, *READERS)
    @blp.etag
    @blp.response(200, DecisionSchema)
    def get(self, decision_id):
        """Một quyết định / one decision"""
        doc = use_cases.load(decision_id)
        blp.set_etag(_etag(doc))
        return use_cases.view(doc)

    @authorize(blp, *DRAFTERS)
    @blp.etag
    @blp.arguments(DecisionInputSchema)
    @blp.response(200, DecisionSchema)
    def put(self, body, decision_id):
        """Sửa dự thảo / edit a draft (an issued decision is immutable: 409)"""
        doc = use_cases.edit(decision_id, body, lambda d: blp.check_etag(_etag(d)))
        blp.set_etag(_etag(doc))
        return use_cases.view(doc)


@blp.route("/<decision_id>/issue")
class Issue(MethodView):
    @authorize(blp, *SIGNERS)
    @blp.etag
    @blp.arguments(NoBodySchema)
    @blp.response(200, DecisionSchema)
    def post(self, body, decision_id):
        """Ký ban hành / issue: the next gapless number of the issuer's year; immutable from now on"""
        db = current_app.extensions["tdkt"].db
        doc = use_cases.issue(db, decision_id, current_principal(), lambda d: require_if_match(blp, _etag(d)))
        blp.set_etag(_etag(doc))
        return use_cases.view(doc)


@blp.route("/<decision_id>/document.docx")
class Document(MethodView):
    @authorize(blp, *READERS)
    @blp.response(200, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    def get(self, decision_id):
        """Văn bản quyết định (.docx) / the decision document in the Vietnamese administrative layout"""
        name, data = use_cases.document(decision_id)
        return Response(
            data,
            mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            headers={"Content-Disposition": disposition(name, fallback="quyet-dinh.docx"), "X-Content-Type-Options": "nosniff"},  # "QĐ" is not Latin-1: RFC 6266 filename*
        )


@blp.route("/<decision_id>/revocations")
class Revocations(MethodView):
    @authorize(blp, *SIGNERS)
    @blp.etag
    @blp.arguments(RevocationInputSchema)
    @blp.response(201, DecisionSchema)
    def post(self, body, decision_id):
        """Thu hồi khen thưởng / revoke awards of an issued decision (records the money to recover)"""
        doc = use_cases.revoke(decision_id, body, current_principal(), lambda d: require_if_match(blp, _etag(d)))
        blp.set_etag(_etag(doc))
        return use_cases.view(doc), 201


@blp.route("/<decision_id>/certificates.pdf")
class Certificates(MethodView):
    @authorize(blp, *READERS)
    @blp.response(200, content_type="application/pdf")
    def get(self, decision_id):
        """Giấy khen, giấy chứng nhận (.pdf) / the certificates of an issued decision, a page per awardee whose award stands (a draft: 409)"""
        name, data = use_cases.certificates(decision_id)
        response = Response(data, mimetype="application/pdf")
        # filename* carries the Vietnamese symbol ("QĐ"); a bare non-Latin-1 header cannot be sent.
        response.headers["Content-Disposition"] = disposition(name, fallback="giay-khen.pdf")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "private, no-store"  # names and positions of people: no shared caches
        return response
