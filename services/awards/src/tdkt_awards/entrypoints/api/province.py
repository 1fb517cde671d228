"""/api/v1/province-proposals — nominations for forms the province confers, sent as one proposal,
and its export (JSON, and a zip with the dossier documents); /api/v1/province/callbacks — the
province's decision, authenticated by an HMAC signature instead of a bearer token.

See `tdkt_awards.service_layer.province` for the signature, the replay window and the delivery
records. The callback's idempotency is its own (by `X-TDKT-Delivery`): the shared
Idempotency-Key middleware runs before any blueprint hook, so its record is dropped here and the
delivery record is the only one kept.
"""

from __future__ import annotations

import tempfile

import marshmallow as ma
from flask import Response, current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate as v
from tdkt.attachments.web import BINARY, attachment_store
from tdkt.web.auth import authorize, current_principal
from tdkt.web.pagination import PageArgs, page_of, paginate_list
from tdkt.web.problems import PROBLEM_JSON, ProblemSchema, problem
from werkzeug.wsgi import wrap_file

from tdkt_awards.service_layer import province as use_cases
from tdkt_awards.service_layer.province import ProvinceSettings

ID = v.Length(min=1, max=100)
SETTINGS = "province_settings"
TIMESTAMP_HEADER, DELIVERY_HEADER, SIGNATURE_HEADER = "X-TDKT-Timestamp", "X-TDKT-Delivery", "X-TDKT-Signature"
NOT_CONFIGURED = f"Chưa cấu hình khóa trao đổi với tỉnh ({use_cases.SECRET_VARIABLE}) / the province exchange is not configured: set {use_cases.SECRET_VARIABLE}"
SPOOL_BYTES = 16 * 2**20  # a zip up to this size stays in memory; a larger one goes to a temporary file

proposals = Blueprint("province_proposals", __name__, url_prefix="/province-proposals", description="Trình cấp tỉnh / Proposals to the province for the forms it confers")
callbacks = Blueprint(
    "province_callbacks", __name__, url_prefix="/province", description="Kết quả xét của tỉnh (ký HMAC, không dùng token) / The province's answers, HMAC-signed, no token"
)
blueprints = [proposals, callbacks]


@proposals.record_once
def _read_settings_at_start(state) -> None:
    # a malformed variable stops the process at start, naming it, rather than failing requests later
    state.app.extensions["tdkt"].components[SETTINGS] = use_cases.load_province_settings()


def province_settings() -> ProvinceSettings:
    components = current_app.extensions["tdkt"].components
    if SETTINGS not in components:
        components[SETTINGS] = use_cases.load_province_settings()
    return components[SETTINGS]


# --- schemas ---------------------------------------------------------------------------------


class ProposalInputSchema(ma.Schema):
    nomination_ids = ma.fields.List(
        ma.fields.String(validate=ID),
        required=True,
        validate=v.Length(min=1, max=use_cases.MAX_NOMINATIONS),
        metadata={"description": "approved or in-disclosure nominations for forms the province confers"},
    )


class ProposalSchema(ma.Schema):
    id = ma.fields.String()
    state = ma.fields.String(metadata={"description": "sent | answered (every nomination has the province's answer)"})
    nomination_ids = ma.fields.List(ma.fields.String())
    answers = ma.fields.List(ma.fields.Dict(), metadata={"description": "{nomination_id, outcome, decision | reason, delivery_id, answered_at}"})
    created_by = ma.fields.String(allow_none=True)
    created_at = ma.fields.String(allow_none=True)
    answered_at = ma.fields.String(allow_none=True)
    export = ma.fields.Dict(metadata={"description": "what was sent (`proposal.json` of the zip); not in lists"})
    version = ma.fields.Integer()


class ProposalQuery(PageArgs):
    state = ma.fields.String(validate=v.OneOf(["sent", "answered"]))


class ProvinceDecisionSchema(ma.Schema):
    number = ma.fields.String(required=True, validate=v.Length(min=1, max=50), metadata={"example": "1234"})
    symbol = ma.fields.String(required=True, validate=v.Length(min=1, max=50), metadata={"example": "QĐ-UBND"})
    date = ma.fields.Date(required=True)
    issuer = ma.fields.String(required=True, validate=v.Length(min=1, max=300), metadata={"example": "Ủy ban nhân dân tỉnh Lai Châu"})
    signed_by = ma.fields.String(required=True, validate=v.Length(min=1, max=200), metadata={"example": "Lê Văn Lương"})

    @ma.post_load
    def iso(self, data, **kwargs):
        data["date"] = data["date"].isoformat()
        return data


class ProvinceAnswerSchema(ma.Schema):
    nomination_id = ma.fields.String(required=True, validate=ID)
    outcome = ma.fields.String(required=True, validate=v.OneOf(["approved", "rejected"]))
    decision = ma.fields.Nested(ProvinceDecisionSchema, metadata={"description": "the province's decision: required when approved"})
    reason = ma.fields.String(validate=v.Length(min=1, max=2000), metadata={"description": "why not: required when rejected"})

    @ma.validates_schema
    def outcome_says_what_comes(self, data, **kwargs):
        if data.get("outcome") == "approved" and ("decision" not in data or "reason" in data):
            raise ma.ValidationError("Được khen thưởng: cần decision, không kèm reason / approved takes a decision and no reason", "decision")
        if data.get("outcome") == "rejected" and ("reason" not in data or "decision" in data):
            raise ma.ValidationError("Không được khen thưởng: cần reason, không kèm decision / rejected takes a reason and no decision", "reason")


class CallbackSchema(ma.Schema):
    proposal_id = ma.fields.String(required=True, validate=ID)
    decisions = ma.fields.List(ma.fields.Nested(ProvinceAnswerSchema), required=True, validate=v.Length(min=1, max=use_cases.MAX_NOMINATIONS))


class CallbackAnswerSchema(ma.Schema):
    proposal_id = ma.fields.String()
    delivery_id = ma.fields.String()
    state = ma.fields.String(metadata={"description": "the proposal's state after this answer"})
    nominations = ma.fields.List(ma.fields.Dict(), metadata={"description": "{nomination_id, outcome, state}"})


# --- proposals -------------------------------------------------------------------------------


@proposals.route("")
class Proposals(MethodView):
    @authorize(proposals, *use_cases.READERS)
    @proposals.arguments(ProposalQuery, location="query")
    @proposals.response(200, page_of(ProposalSchema))
    def get(self, args):
        """Các tờ trình cấp tỉnh / proposals sent to the province, newest first"""
        page = paginate_list(use_cases.search(args), args)
        page["items"] = [use_cases.view(d, full=False) for d in page["items"]]
        return page

    @authorize(proposals, *use_cases.PROPOSERS)
    @proposals.arguments(ProposalInputSchema)
    @proposals.response(201, ProposalSchema)
    @proposals.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_JSON, description="A nomination is not approved, or already in a proposal")
    def post(self, body):
        """Trình tỉnh / send approved nominations for forms the province confers (a locally conferred form is a 422 naming it); they become proposed"""
        doc = use_cases.propose(body["nomination_ids"], current_principal(), province_settings())
        return use_cases.view(doc), 201, {"Location": f"/api/v1/province-proposals/{doc.id}"}


@proposals.route("/<proposal_id>")
class ProposalById(MethodView):
    @authorize(proposals, *use_cases.READERS)
    @proposals.response(200, ProposalSchema)
    def get(self, proposal_id):
        """Một tờ trình / one proposal, with what was sent and the answers so far"""
        return use_cases.view(use_cases.load(proposal_id))


@proposals.route("/<proposal_id>/export.zip", endpoint="province_proposal_export")
class ProposalExport(MethodView):
    @authorize(proposals, *use_cases.READERS)
    @proposals.doc(
        responses={"200": {"description": "`proposal.json` and every dossier document as `<nomination_id>/<type>-<filename>`", "content": {"application/zip": {"schema": BINARY}}}}
    )
    def get(self, proposal_id):
        """Tải hồ sơ trình tỉnh / the proposal as a zip: proposal.json and the dossier documents (sha256 as listed)"""
        out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        try:
            use_cases.export_zip(proposal_id, attachment_store(), out)
        except BaseException:
            out.close()
            raise
        size = out.tell()
        out.seek(0)
        response = Response(wrap_file(request.environ, out), mimetype="application/zip", direct_passthrough=True)
        response.content_length = size
        response.headers["Content-Disposition"] = f'attachment; filename="trinh-tinh-{proposal_id}.zip"'
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "private, no-store"  # dossiers hold personal data: no shared or disk caches
        return response


# --- the province's callback -----------------------------------------------------------------


@callbacks.before_request
def _authenticate_the_province():
    """Instead of a bearer token: the signature, the replay window, then the delivery's claim —
    before the body is parsed and before anything is stored."""
    if request.method != "POST":
        return None
    record = g.pop("idempotency_record", None)
    if record is not None:  # the delivery id is this endpoint's idempotency key, and it checks the signature first
        current_app.extensions["tdkt"].db["idempotency_keys"].delete_one({"_id": record})
    secret = province_settings().secret
    if secret is None:
        return problem(503, NOT_CONFIGURED)
    body = request.get_data()
    headers = request.headers
    try:
        use_cases.verify(secret, headers.get(TIMESTAMP_HEADER), headers.get(DELIVERY_HEADER), headers.get(SIGNATURE_HEADER), body)
    except use_cases.SignatureRejected as exc:
        return problem(401, str(exc), headers={"WWW-Authenticate": 'TDKT-HMAC-SHA256 realm="tdkt-province"'})
    delivery = headers[DELIVERY_HEADER]
    earlier = use_cases.claim_delivery(delivery, use_cases.body_hash(body))
    if earlier is not None:
        replayed = Response(earlier["body"], status=earlier["status"], mimetype=earlier["content_type"])
        replayed.headers["Idempotent-Replayed"] = "true"
        return replayed
    g.province_delivery = delivery
    return None


@callbacks.after_request
def _remember_the_answer(response: Response) -> Response:
    delivery = g.pop("province_delivery", None)
    if delivery is None:
        return response
    if response.status_code >= 500:  # our failure, not the province's: its retry runs again
        use_cases.drop_delivery(delivery)
    else:
        use_cases.finish_delivery(delivery, response.status_code, response.get_data(as_text=True), response.mimetype)
    return response


SIGNED_HEADERS = [
    {"in": "header", "name": TIMESTAMP_HEADER, "required": True, "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"}, "description": "Unix seconds; ±300 s of our clock"},
    {
        "in": "header",
        "name": DELIVERY_HEADER,
        "required": True,
        "schema": {"type": "string", "maxLength": 200},
        "description": "unique per delivery: a retry sends the same id and body",
    },
    {
        "in": "header",
        "name": SIGNATURE_HEADER,
        "required": True,
        "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
        "description": 'sha256=<hex of HMAC-SHA256(secret, f"{timestamp}.{delivery}.".encode() + raw body)>',
    },
]


@callbacks.route("/callbacks")
class Callback(MethodView):
    @callbacks.doc(security=[], parameters=SIGNED_HEADERS)
    @callbacks.arguments(CallbackSchema)
    @callbacks.response(200, CallbackAnswerSchema)
    @callbacks.alt_response(401, schema=ProblemSchema, content_type=PROBLEM_JSON, description="Missing or bad signature headers, or a timestamp outside the replay window")
    @callbacks.alt_response(
        409, schema=ProblemSchema, content_type=PROBLEM_JSON, description="The delivery id came before with another body, or a nomination cannot take this answer"
    )
    @callbacks.alt_response(503, schema=ProblemSchema, content_type=PROBLEM_JSON, description="Not configured, or the same delivery is still being processed")
    def post(self, body):
        """Kết quả xét của tỉnh / the province's decision on a proposal: approved → decided (with the province's decision), rejected → rejected. The same delivery again gets the first answer."""
        return use_cases.answer(body, request.headers[DELIVERY_HEADER])
