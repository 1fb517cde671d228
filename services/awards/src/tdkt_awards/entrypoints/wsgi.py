"""WSGI entrypoint: `gunicorn -c python:tdkt.gunicorn_conf 'tdkt_awards.entrypoints.wsgi:create_app()'`."""

from flask import Flask
from tdkt.web.app import create_app as create_service_app

from tdkt_awards.bootstrap import SERVICE


def create_app() -> Flask:
    return create_service_app(SERVICE)
