"""Registry tests run the real app (Flask's client speaks WSGI) against the real store and
Kafka from the shared pytest plugin; each test has its own database."""

from __future__ import annotations

from dataclasses import dataclass

import mongoengine
import pytest
from tdkt.web.app import create_app
from tdkt_registry.adapters.unit_store import UnitStore
from tdkt_registry.bootstrap import SERVICE
from tdkt_registry.service_layer import units as unit_cases


@pytest.fixture
def app(service_env):
    app = create_app(SERVICE)
    yield app
    mongoengine.disconnect()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def store(app) -> UnitStore:
    return UnitStore(app.extensions["tdkt"].db)


@dataclass
class SmallTree:
    """Tỉnh Lai Châu (12) → Huyện Tam Đường (106, until 2025-06-30) → three communes."""

    province: str
    district: str
    communes: dict[str, str]  # code → id


@pytest.fixture
def small_tree(store) -> SmallTree:
    def make(**data) -> str:
        _, stored = unit_cases.establish_unit(store, data, "test")
        return stored[0].id

    province = make(code="12", name="Tỉnh Lai Châu", kind="province", valid_from="2004-01-01")
    district = make(code="106", name="Huyện Tam Đường", kind="district", parent_id=province, valid_from="2004-01-01")
    communes = {
        code: make(code=code, name=name, kind=kind, parent_id=district, valid_from="2004-01-01")
        for code, name, kind in (("03390", "Thị trấn Tam Đường", "town"), ("03412", "Xã Bình Lư", "commune"), ("03413", "Xã Sơn Bình", "commune"))
    }
    return SmallTree(province, district, communes)
