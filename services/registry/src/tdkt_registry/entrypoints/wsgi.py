"""WSGI entrypoint: `gunicorn -c python:tdkt.gunicorn_conf 'tdkt_registry.entrypoints.wsgi:create_app()'`."""

from flask import Flask
from tdkt.web.app import create_app as create_service_app

from tdkt_registry.bootstrap import SERVICE


def create_app() -> Flask:
    return create_service_app(SERVICE)
