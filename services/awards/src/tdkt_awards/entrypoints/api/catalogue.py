"""/api/v1/catalogue — the rule catalogue as data: versions per issuer, what is in force on a
date, bonus quotes; and the working-day calendar deadlines are counted with.

Officers (`tdkt_officer`, `admin`) draft, edit and activate versions; every authenticated caller
reads. Every change is audited in the version (hash-chained) and needs `If-Match`.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from tdkt.web.auth import authorize, current_principal
from tdkt.web.etags import require_if_match
from tdkt.web.pagination import page_of, paginate

from tdkt_awards.adapters.documents import CatalogueVersion
from tdkt_awards.domain.calendar import add_working_days
from tdkt_awards.entrypoints.api.catalogue_schemas import (
    ContentSchema,
    InForceQuery,
    NoBodySchema,
    QuoteQuery,
    QuoteSchema,
    VersionCreateSchema,
    VersionQuery,
    VersionSchema,
    WorkingDaysQuery,
    WorkingDaysSchema,
)
from tdkt_awards.service_layer import catalogue as use_cases

blp = Blueprint("catalogue", __name__, url_prefix="", description="Danh mục danh hiệu, hình thức, tiêu chí, hệ số / The rule catalogue")
WRITERS = ("tdkt_officer", "admin")


def _etag(doc: CatalogueVersion) -> dict:
    return {"id": doc.id, "version": doc.version}


@blp.route("/catalogue/versions")
class Versions(MethodView):
    @authorize(blp)
    @blp.arguments(VersionQuery, location="query")
    @blp.response(200, page_of(VersionSchema))
    def get(self, args):
        """Các phiên bản danh mục / catalogue versions"""
        query = CatalogueVersion.objects.exclude("outbox", "audit")
        for name in ("issuer", "status"):
            if args.get(name):
                query = query.filter(**{name: args[name]})
        page = paginate(query.order_by("issuer", "-effective_from"), args)
        page["items"] = [use_cases.view(d, with_audit=False) for d in page["items"]]
        return page

    @authorize(blp, *WRITERS)
    @blp.arguments(VersionCreateSchema)
    @blp.response(201, VersionSchema)
    def post(self, body):
        """Soạn phiên bản mới / draft a version (from the defaults, a copy, or given content)"""
        doc = use_cases.create_version(body, current_principal().subject)
        return use_cases.view(doc), 201, {"Location": f"/api/v1/catalogue/versions/{doc.id}"}


@blp.route("/catalogue/versions/<version_id>")
class VersionById(MethodView):
    @authorize(blp)
    @blp.etag
    @blp.response(200, VersionSchema)
    def get(self, version_id):
        """Một phiên bản với nhật ký thay đổi / one version with its audit trail"""
        doc = use_cases.load(version_id)
        blp.set_etag(_etag(doc))
        return use_cases.view(doc)


@blp.route("/catalogue/versions/<version_id>/content")
class Content(MethodView):
    @authorize(blp, *WRITERS)
    @blp.etag
    @blp.arguments(ContentSchema)
    @blp.response(200, VersionSchema)
    def put(self, body, version_id):
        """Sửa nội dung (bản nháp) / replace a draft's content (audited, If-Match)"""
        doc = use_cases.edit_content(version_id, body["content"], current_principal().subject, lambda d: blp.check_etag(_etag(d)))
        blp.set_etag(_etag(doc))
        return use_cases.view(doc)


@blp.route("/catalogue/versions/<version_id>/activate")
class Activate(MethodView):
    @authorize(blp, *WRITERS)
    @blp.etag
    @blp.arguments(NoBodySchema)
    @blp.response(200, VersionSchema)
    def post(self, body, version_id):
        """Kích hoạt / activate a draft (If-Match)"""
        doc = use_cases.activate(version_id, current_principal().subject, lambda d: require_if_match(blp, _etag(d)))
        blp.set_etag(_etag(doc))
        return use_cases.view(doc)


@blp.route("/catalogue/in-force")
class InForce(MethodView):
    @authorize(blp)
    @blp.arguments(InForceQuery, location="query")
    @blp.response(200, VersionSchema)
    def get(self, args):
        """Danh mục hiệu lực vào một ngày / the version in force for an issuer on a date"""
        doc, _ = use_cases.in_force(args["issuer"], args["date"])
        return use_cases.view(doc, with_audit=False)


@blp.route("/bonus/quote")
class Quote(MethodView):
    @authorize(blp)
    @blp.arguments(QuoteQuery, location="query")
    @blp.response(200, QuoteSchema)
    def get(self, args):
        """Tiền thưởng / the bonus a title pays on a decision date (hệ số × lương cơ sở, làm tròn lên 10.000 đ)"""
        return use_cases.quote(args["issuer"], args["title"], args["date"], args["household"])


@blp.route("/calendar/working-days")
class WorkingDays(MethodView):
    @authorize(blp)
    @blp.arguments(WorkingDaysQuery, location="query")
    @blp.response(200, WorkingDaysSchema)
    def get(self, args):
        """Ngày làm việc / the date N working days after another (weekends and Vietnamese holidays skipped)"""
        return {"start": args["start"].isoformat(), "days": args["days"], "due": add_working_days(args["start"], args["days"]).isoformat()}
