"""The baseline for HTTP figures: a bare Flask JSON endpoint, served by the same gunicorn
configuration as the services (`gunicorn -c python:tdkt.gunicorn_conf bench.bare_app:app`)."""

from flask import Flask, jsonify

app = Flask("bare")
ITEMS = [{"id": f"{i:032x}", "code": f"{i:05d}", "name": f"Xã Thử Nghiệm {i}", "kind": "commune"} for i in range(20)]


@app.get("/bare")
def bare():
    return jsonify({"items": ITEMS, "page": 1, "per_page": 20, "total": 20, "pages": 1})
