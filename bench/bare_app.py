"""The baselines for HTTP figures, served by the same gunicorn configuration as the services
(`gunicorn -c python:tdkt.gunicorn_conf bench.bare_app:app`): a bare Flask JSON list for reads,
and for writes a POST that parses and validates a small JSON body with marshmallow (unknown
fields rejected, as the services do) and answers 201 without storing anything."""

import uuid

from flask import Flask, jsonify, request
from marshmallow import RAISE, Schema, ValidationError, fields, validate

app = Flask("bare")
ITEMS = [{"id": f"{i:032x}", "code": f"{i:05d}", "name": f"Xã Thử Nghiệm {i}", "kind": "commune"} for i in range(20)]


class UnitInput(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(["agency", "school", "commune", "ward"]))
    parent_id = fields.String(validate=validate.Length(equal=32))
    valid_from = fields.Date()
    note = fields.String(validate=validate.Length(max=1000))


SCHEMA = UnitInput()


@app.get("/bare")
def bare():
    return jsonify({"items": ITEMS, "page": 1, "per_page": 20, "total": 20, "pages": 1})


@app.post("/bare")
def bare_create():
    try:
        data = SCHEMA.load(request.get_json(silent=True) or {})
    except ValidationError as error:
        return jsonify({"status": 422, "errors": {"json": error.messages}}), 422
    return jsonify({"id": uuid.uuid4().hex, **SCHEMA.dump(data)}), 201
