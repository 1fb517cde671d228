"""/api/v1/clusters — emulation clusters (cụm) and blocks (khối), their members and yearly terms.

Officers (`tdkt_officer`, `admin`) create and change them; every authenticated caller reads.
Every change needs `If-Match` with the ETag last read.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from tdkt.clock import local_today
from tdkt.store import contains
from tdkt.text import fold
from tdkt.web.auth import authorize
from tdkt.web.pagination import page_of, paginate
from tdkt.web.problems import PROBLEM_JSON, ProblemSchema

from tdkt_registry.adapters.documents import ClusterDocument
from tdkt_registry.domain.directory import Directory
from tdkt_registry.entrypoints.api.cluster_schemas import ClusterInputSchema, ClusterQuery, ClusterSchema, NewClusterSchema, TermInputSchema
from tdkt_registry.entrypoints.api.unit_views import unit_store
from tdkt_registry.service_layer import clusters as use_cases

blp = Blueprint("clusters", __name__, url_prefix="/clusters", description="Cụm, khối thi đua / Emulation clusters and blocks")
WRITERS = ("tdkt_officer", "admin")


def cluster_view(doc: ClusterDocument, directory: Directory) -> dict:
    today = local_today()
    members = []
    for unit_id in doc.member_ids:
        unit = directory.get(unit_id)
        segment = (unit.at(today) or unit.current) if unit else None  # a merged member keeps its last name
        members.append({"id": unit_id, "code": segment.code if segment else None, "name": segment.name if segment else unit_id})
    return {**use_cases.to_cluster(doc).to_dict(), "members": members, "version": doc.version}


def _etag(doc: ClusterDocument) -> dict:
    return {"id": doc.id, "version": doc.version}


def _conflicts(view):
    return blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_JSON, description="A term's leader or deputy would leave, or a concurrent change")(view)


@blp.route("")
class Clusters(MethodView):
    @authorize(blp)
    @blp.arguments(ClusterQuery, location="query")
    @blp.response(200, page_of(ClusterSchema))
    def get(self, args):
        """Danh sách cụm, khối / clusters and blocks"""
        query = ClusterDocument.objects.exclude("outbox")
        if args.get("kind"):
            query = query.filter(kind=args["kind"])
        if args.get("member_id"):
            query = query.filter(member_ids=args["member_id"])
        if args.get("year"):
            query = query.filter(__raw__={"terms.year": args["year"]})
        if args.get("q"):
            query = query.filter(__raw__=contains("name_folded", fold(args["q"])))
        page = paginate(query.order_by("name_folded", "id"), args)
        directory = unit_store().directory()
        page["items"] = [cluster_view(d, directory) for d in page["items"]]
        return page

    @authorize(blp, *WRITERS)
    @blp.arguments(NewClusterSchema)
    @blp.response(201, ClusterSchema)
    def post(self, body):
        """Lập cụm/khối / create a cluster or block, optionally with its terms"""
        store = unit_store()
        doc = use_cases.create_cluster(store, body)
        return cluster_view(doc, store.directory()), 201, {"Location": f"/api/v1/clusters/{doc.id}", "ETag": None}


@blp.route("/<cluster_id>")
class ClusterById(MethodView):
    @authorize(blp)
    @blp.etag
    @blp.response(200, ClusterSchema)
    def get(self, cluster_id):
        """Một cụm/khối / one cluster, with its members' current names"""
        doc, _ = use_cases.load(cluster_id)
        blp.set_etag(_etag(doc))
        return cluster_view(doc, unit_store().directory())

    @authorize(blp, *WRITERS)
    @blp.etag
    @blp.arguments(ClusterInputSchema)
    @blp.response(200, ClusterSchema)
    @_conflicts
    def put(self, body, cluster_id):
        """Sửa tên, mô tả, thành viên / replace the name, description and members"""
        store = unit_store()
        doc = use_cases.replace_cluster(store, cluster_id, body, lambda d: blp.check_etag(_etag(d)))
        blp.set_etag(_etag(doc))
        return cluster_view(doc, store.directory())


@blp.route("/<cluster_id>/terms/<int:year>")
class ClusterTerm(MethodView):
    @authorize(blp, *WRITERS)
    @blp.etag
    @blp.arguments(TermInputSchema)
    @blp.response(200, ClusterSchema)
    @_conflicts
    def put(self, body, cluster_id, year):
        """Đặt nhiệm kỳ của năm: cụm/khối trưởng, phó, giao ước / set a year's leader, deputy and covenant"""
        store = unit_store()
        doc = use_cases.set_term(store, cluster_id, year, body, lambda d: blp.check_etag(_etag(d)))
        blp.set_etag(_etag(doc))
        return cluster_view(doc, store.directory())
