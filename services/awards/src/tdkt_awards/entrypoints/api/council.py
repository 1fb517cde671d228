"""/api/v1/councils and /api/v1/council-sessions — the council (Hội đồng TĐKT), its sessions and
the secret ballot. See `tdkt_awards.service_layer.council` for how a ballot stays unlinkable.

Officers (`tdkt_officer`, `admin`) manage councils and sessions; the council's secretary (or an
officer) records attendance and absent members' written votes; members holding a
`council_member`/`council_chair` token cast their own ballot; the chair breaks a tie. State
changes of a council or a session need `If-Match`; a ballot does not (it changes neither, so the
session's ETag never moves per vote) and answers only `{"recorded": true}`.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from tdkt.web.auth import authorize, current_principal
from tdkt.web.commands import command_route
from tdkt.web.problems import PROBLEM_JSON, ProblemSchema

from tdkt_awards.adapters.council_documents import Council, CouncilSession
from tdkt_awards.entrypoints.api.council_schemas import (
    AttendanceSchema,
    BallotSchema,
    CastingVoteSchema,
    CouncilCreateSchema,
    CouncilNoBodySchema,
    CouncilSchema,
    MembersSchema,
    MinutesSchema,
    RecordedSchema,
    SessionCreateSchema,
    SessionSchema,
    WrittenVoteSchema,
)
from tdkt_awards.service_layer import council as use_cases

councils = Blueprint("councils", __name__, url_prefix="/councils", description="Hội đồng Thi đua – Khen thưởng / Councils and members")
sessions = Blueprint(
    "council_sessions", __name__, url_prefix="/council-sessions", description="Phiên họp Hội đồng, bỏ phiếu kín, biên bản / Council sessions, secret ballot, minutes"
)
blueprints = [councils, sessions]


def _etag(doc) -> dict:
    return {"id": doc.id, "version": doc.version}


def _conflicts(blp):
    return blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM_JSON, description="Not allowed in the current state (no quorum, already voted, session not open…)")


@sessions.before_request
def forget_idempotency_record():
    """The shared Idempotency-Key middleware stores a hash of the request body (the choice is
    recoverable from 3 possible bodies) beside a caller-derived key: never for a ballot."""
    if request.method == "POST" and request.path.rstrip("/").endswith(("/ballots", "/written-votes")):
        record = g.pop("idempotency_record", None)
        if record is not None:
            current_app.extensions["tdkt"].db["idempotency_keys"].delete_one({"_id": record})


# --- councils -----------------------------------------------------------------------------


def _council_view(doc: Council) -> dict:
    return {k: getattr(doc, k) for k in ("id", "name", "issuer_id", "members", "version")}


@councils.route("")
class Councils(MethodView):
    @authorize(councils, *use_cases.OFFICERS)
    @councils.arguments(CouncilCreateSchema)
    @councils.response(201, CouncilSchema)
    def post(self, body):
        """Thành lập Hội đồng / create a council with its members"""
        doc = use_cases.create_council(body)
        return _council_view(doc)


@councils.route("/<council_id>")
class CouncilById(MethodView):
    @authorize(councils, *use_cases.READERS)
    @councils.etag
    @councils.response(200, CouncilSchema)
    def get(self, council_id):
        """Một Hội đồng và thành viên / a council and its members"""
        doc = use_cases.find_council(council_id)
        councils.set_etag(_etag(doc))
        return _council_view(doc)


@councils.route("/<council_id>/members")
class CouncilMembers(MethodView):
    @authorize(councils, *use_cases.OFFICERS)
    @councils.etag
    @councils.arguments(MembersSchema)
    @councils.response(200, CouncilSchema)
    def put(self, body, council_id):
        """Cập nhật thành viên / replace the members (sessions already open keep their snapshot)"""
        doc = use_cases.replace_members(council_id, body["members"], lambda d: councils.check_etag(_etag(d)))
        councils.set_etag(_etag(doc))
        return _council_view(doc)


# --- sessions -----------------------------------------------------------------------------


def _session_view(doc: CouncilSession) -> dict:
    view = {k: getattr(doc, k) for k in ("id", "council_id", "council_name", "date", "quorum", "state", "agenda", "quota_groups", "present", "integrity_warnings", "version")}
    view["total_members"] = len(doc.members) if doc.state != "scheduled" else len(use_cases.find_council(doc.council_id).members)
    if doc.state == "open":
        view["ballots"] = use_cases.ballots_so_far(doc)
    view["result"] = dict(doc.result) if doc.state == "closed" else None
    return view


@sessions.route("")
class Sessions(MethodView):
    @authorize(sessions, *use_cases.OFFICERS)
    @sessions.arguments(SessionCreateSchema)
    @sessions.response(201, SessionSchema)
    def post(self, body):
        """Lên lịch phiên họp với chương trình / schedule a session with its agenda"""
        doc = use_cases.create_session(body)
        return _session_view(doc)


@sessions.route("/<session_id>")
class SessionById(MethodView):
    @authorize(sessions, *use_cases.READERS)
    @sessions.etag
    @sessions.response(200, SessionSchema)
    def get(self, session_id):
        """Phiên họp: chương trình, trạng thái; số phiếu từng mục khi đang họp, kết quả sau khi kết thúc / a session"""
        doc = use_cases.find_session(session_id)
        sessions.set_etag(_etag(doc))
        return _session_view(doc)


def _command(path: str, schema, roles: tuple[str, ...], action, summary: str):
    return command_route(
        sessions,
        f"/<session_id>/{path}",
        endpoint=f"council_session_{path.replace('-', '_')}",
        schema=schema,
        roles=roles,
        response=SessionSchema,
        view=_session_view,
        etag=_etag,
        action=action,
        summary=summary,
        conflict="Not allowed in the current state (no quorum, already voted, session not open…)",
    )


_command(
    "attendance",
    AttendanceSchema,
    use_cases.SECRETARY_OR_OFFICER,
    lambda sid, body, check: use_cases.record_attendance(sid, body["present"], current_principal(), check),
    "Điểm danh / record who is present (the secretary or an officer)",
)
_command("open", CouncilNoBodySchema, use_cases.OFFICERS, lambda sid, body, check: use_cases.open_session(sid, check), "Khai mạc / open the session (needs the quorum)")
_command("close", CouncilNoBodySchema, use_cases.OFFICERS, lambda sid, body, check: use_cases.close_session(sid, check), "Kết thúc và kiểm phiếu / close the session and tally")
_command(
    "casting-vote",
    CastingVoteSchema,
    ("council_chair",),
    lambda sid, body, check: use_cases.casting_vote(sid, body["quota_group"], body["item_ids"], current_principal(), check),
    "Phiếu quyết định của Chủ tịch / the chair decides a tie on a quota group's cut line",
)


@sessions.route("/<session_id>/ballots")
class Ballots(MethodView):
    @authorize(sessions, *use_cases.VOTERS)
    @sessions.arguments(BallotSchema)
    @sessions.response(201, RecordedSchema)
    @_conflicts(sessions)
    def post(self, body, session_id):
        """Bỏ phiếu kín / cast your secret ballot on one agenda item (once; never echoed back)"""
        use_cases.cast_ballot(session_id, body["item_id"], body["choice"], current_principal())
        return {"recorded": True}


@sessions.route("/<session_id>/written-votes")
class WrittenVotes(MethodView):
    @authorize(sessions, *use_cases.SECRETARY_OR_OFFICER)
    @sessions.arguments(WrittenVoteSchema)
    @sessions.response(201, RecordedSchema)
    @_conflicts(sessions)
    def post(self, body, session_id):
        """Phiếu bằng văn bản của thành viên vắng mặt / enter an absent member's written ballot (the secretary)"""
        use_cases.record_written_vote(session_id, body["member_id"], body["item_id"], body["choice"], current_principal())
        return {"recorded": True}


@sessions.route("/<session_id>/minutes")
class Minutes(MethodView):
    @authorize(sessions, *use_cases.READERS)
    @sessions.response(200, MinutesSchema)
    @_conflicts(sessions)
    def get(self, session_id):
        """Biên bản họp / the minutes: attendance, per item the counts and the outcome"""
        return use_cases.minutes(session_id)
