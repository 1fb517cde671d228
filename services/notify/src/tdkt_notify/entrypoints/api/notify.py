"""notify's API: the in-app inbox (`/inbox`), subscriptions and webhooks (`/subscriptions`), the
delivery log and re-sending (`/deliveries`), the routing rules (`/routes`) and templates
(`/templates`), and the public announcements (`/announcements`, no token)."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from tdkt.errors import NotFound
from tdkt.web.auth import authorize, current_principal
from tdkt.web.pagination import PageArgs, page_of, paginate_list

from tdkt_notify.domain import routing, samples, templates
from tdkt_notify.entrypoints.api.schemas import (
    AnnouncementSchema,
    CountSchema,
    DeliveryQuery,
    DeliverySchema,
    InboxPageSchema,
    InboxQuery,
    MarkedSchema,
    MessageSchema,
    NoBodySchema,
    RouteSchema,
    SubscriptionInputSchema,
    SubscriptionSchema,
    TemplateSchema,
)
from tdkt_notify.service_layer import config, inbox, subscriptions
from tdkt_notify.service_layer.dispatch import resend
from tdkt_notify.service_layer.intake import ANNOUNCEMENTS, DELIVERIES

OPERATORS = ("tdkt_officer", "communications", "admin")
mail = Blueprint("inbox", __name__, url_prefix="/inbox", description="Hộp thư trong ứng dụng / In-app inbox")
subs = Blueprint("subscriptions", __name__, url_prefix="/subscriptions", description="Đăng ký nhận thông báo, webhook / Subscriptions, preferences, webhooks")
log = Blueprint("deliveries", __name__, url_prefix="/deliveries", description="Nhật ký gửi / Delivery log")
rules = Blueprint("routes", __name__, url_prefix="/routes", description="Quy tắc định tuyến / Routing rules")
texts = Blueprint("templates", __name__, url_prefix="/templates", description="Mẫu thông báo / Message templates")
public = Blueprint("announcements", __name__, url_prefix="/announcements", description="Thông báo công khai (không cần đăng nhập) / Public announcements")
blueprints = [mail, subs, log, rules, texts, public]


def _db():
    return current_app.extensions["tdkt"].db


# --- inbox ------------------------------------------------------------------------------------


@mail.route("")
class Inbox(MethodView):
    @authorize(mail)
    @mail.arguments(InboxQuery, location="query")
    @mail.response(200, InboxPageSchema)
    def get(self, args):
        """Hộp thư / my messages and my unit's and roles', newest first"""
        return inbox.listing(_db(), current_principal(), args["page"], args["per_page"], args["unread"])


@mail.route("/unread-count")
class Unread(MethodView):
    @authorize(mail)
    @mail.response(200, CountSchema)
    def get(self):
        """Số thông báo chưa đọc / unread count"""
        return {"unread": inbox.unread_count(_db(), current_principal())}


@mail.route("/<path:message_id>/read")
class Read(MethodView):
    @authorize(mail)
    @mail.arguments(NoBodySchema)
    @mail.response(200, MessageSchema)
    def post(self, body, message_id):
        """Đánh dấu đã đọc / mark one message read (idempotent)"""
        return inbox.mark_read(_db(), current_principal(), message_id)


@mail.route("/read-all")
class ReadAll(MethodView):
    @authorize(mail)
    @mail.arguments(NoBodySchema)
    @mail.response(200, MarkedSchema)
    def post(self, body):
        """Đánh dấu tất cả đã đọc / mark everything read"""
        return {"marked": inbox.mark_all_read(_db(), current_principal())}


# --- subscriptions and webhooks -----------------------------------------------------------------


@subs.route("")
class Subscriptions(MethodView):
    @authorize(subs)
    @subs.arguments(PageArgs, location="query")
    @subs.response(200, page_of(SubscriptionSchema))
    def get(self, args):
        """Đăng ký / the subscriptions you may manage (webhook secrets are never shown again)"""
        page = paginate_list(subscriptions.listing(_db(), current_principal()), args)
        page["items"] = [subscriptions.view(s) for s in page["items"]]
        return page

    @authorize(subs)
    @subs.arguments(SubscriptionInputSchema)
    @subs.response(201, SubscriptionSchema)
    def post(self, body):
        """Đăng ký / subscribe a unit or yourself: email (immediate, digest, off; quiet hours) or a signed webhook (the secret is in this answer only)"""
        created = subscriptions.create(_db(), body, current_principal())
        return subscriptions.view(created, with_secret=created["channel"] == "webhook"), 201


@subs.route("/<subscription_id>")
class SubscriptionById(MethodView):
    @authorize(subs)
    @subs.response(204)
    def delete(self, subscription_id):
        """Hủy đăng ký / remove a subscription"""
        subscriptions.remove(_db(), subscription_id, current_principal())


# --- the delivery log -----------------------------------------------------------------------------


def _delivery(doc: dict) -> dict:
    return {**{k: v for k, v in doc.items() if k not in ("_id", "content", "body")}, "id": doc["_id"], "title": (doc.get("content") or {}).get("subject")}


@log.route("")
class Deliveries(MethodView):
    @authorize(log, *OPERATORS)
    @log.arguments(DeliveryQuery, location="query")
    @log.response(200, page_of(DeliverySchema))
    def get(self, args):
        """Nhật ký gửi / every delivery with its attempts, by event, recipient, channel and state"""
        query = {k: args[k] for k in ("event_id", "recipient", "channel", "state") if args.get(k)}
        found = sorted(_db()[DELIVERIES].find(query, {"content.html": 0, "body": 0}), key=lambda d: d["created_at"], reverse=True)
        page = paginate_list(found, args)
        page["items"] = [_delivery(d) for d in page["items"]]
        return page


@log.route("/<path:delivery_id>")
class DeliveryById(MethodView):
    @authorize(log, *OPERATORS)
    @log.response(200, DeliverySchema)
    def get(self, delivery_id):
        """Một lần gửi / one delivery"""
        found = _db()[DELIVERIES].find_one({"_id": delivery_id}, {"body": 0})
        if found is None:
            raise NotFound("Không có lần gửi này / no such delivery")
        return _delivery(found)


@log.route("/<path:delivery_id>/resend")
class Resend(MethodView):
    @authorize(log, *OPERATORS)
    @log.arguments(NoBodySchema)
    @log.response(200, DeliverySchema)
    def post(self, body, delivery_id):
        """Gửi lại / send again (an email or webhook, whatever its state: a deliberate second send)"""
        found = resend(_db(), delivery_id, current_principal().subject)
        if found is None:
            raise NotFound("Không có thư hoặc webhook này / no such email or webhook delivery")
        return _delivery(found)


# --- routing rules and templates --------------------------------------------------------------------


@rules.route("")
class Routes(MethodView):
    @authorize(rules, *OPERATORS)
    @rules.response(200, RouteSchema(many=True))
    def get(self):
        """Quy tắc định tuyến / the routing rules, one per event type"""
        return [{"event_type": k, **v} for k, v in sorted(config.CONFIG.fresh(_db()).routes.items())]


@rules.route("/<event_type>")
class RouteByType(MethodView):
    @authorize(rules, *OPERATORS)
    @rules.arguments(RouteSchema)
    @rules.response(200, RouteSchema)
    def put(self, body, event_type):
        """Sửa quy tắc / set the rule of an event type (audiences, channels, template)"""
        from tdkt_notify.adapters.events import ROUTABLE

        if event_type not in ROUTABLE:
            raise NotFound(f"Không có loại sự kiện {event_type} / unknown event type")
        audiences = [{("from" if k == "from_" else k): v for k, v in a.items()} for a in body["audiences"]]
        rule = {**body, "audiences": audiences}
        routing.check_rule(rule, templates.shipped_names() | set(config.CONFIG.fresh(_db()).overrides))
        _db()[config.ROUTES].replace_one({"_id": event_type}, rule, upsert=True)
        config.bump(_db())
        return {"event_type": event_type, **rule}


def _template(name: str) -> dict:
    current = config.CONFIG.fresh(_db())
    if name not in templates.shipped_names() and name not in current.overrides:
        raise NotFound(f"Không có mẫu {name} / no template {name}")
    sources = current.template(name)
    return {"name": name, **{k: sources[k] for k in templates.PARTS}, "overridden": name in current.overrides, "preview": templates.render(sources, samples.context(name))}


@texts.route("")
class Templates(MethodView):
    @authorize(texts, *OPERATORS)
    @texts.response(200, TemplateSchema(many=True))
    def get(self):
        """Mẫu thông báo / every template, with a preview"""
        return [_template(n) for n in sorted(templates.shipped_names() | set(config.CONFIG.fresh(_db()).overrides))]


@texts.route("/<name>")
class TemplateByName(MethodView):
    @authorize(texts, *OPERATORS)
    @texts.response(200, TemplateSchema)
    def get(self, name):
        """Một mẫu / one template with a preview"""
        return _template(name)

    @authorize(texts, *OPERATORS)
    @texts.arguments(TemplateSchema)
    @texts.response(200, TemplateSchema)
    def put(self, body, name):
        """Sửa mẫu / override a template: saved only if it renders with a sample event (422 naming the part otherwise)"""
        if name not in templates.shipped_names():
            raise NotFound(f"Không có mẫu {name} / no template {name}")
        templates.check(body, samples.context(name))
        _db()[config.TEMPLATES].replace_one({"_id": name}, {k: body[k] for k in templates.PARTS}, upsert=True)
        config.bump(_db())
        return _template(name)

    @authorize(texts, *OPERATORS)
    @texts.response(200, TemplateSchema)
    def delete(self, name):
        """Bỏ bản sửa / back to the shipped template"""
        _db()[config.TEMPLATES].delete_one({"_id": name})
        config.bump(_db())
        return _template(name)


# --- public announcements ------------------------------------------------------------------------------


@public.route("")
class Announcements(MethodView):
    @public.arguments(PageArgs, location="query")
    @public.response(200, page_of(AnnouncementSchema))
    def get(self, args):
        """Thông báo công khai / public announcements (decisions, disclosure lists), newest first; no token"""
        found = sorted(_db()[ANNOUNCEMENTS].find({}), key=lambda a: a["published_at"], reverse=True)
        page = paginate_list(found, args)
        page["items"] = [{**{k: v for k, v in a.items() if k != "_id"}, "id": a["_id"]} for a in page["items"]]
        return page
