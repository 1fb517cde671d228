"""The installed services, found through the `tdkt.services` entry point each one declares,
so operator tools and the local supervisor know them without importing them by name."""

from __future__ import annotations

from importlib.metadata import entry_points

from tdkt.service import ServiceDefinition

ORDER = ("registry", "reports", "awards", "notify")


def installed_services() -> list[ServiceDefinition]:
    found = {ep.name: ep.load() for ep in entry_points(group="tdkt.services")}
    return [found[name] for name in sorted(found, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))]


def service_named(name: str) -> ServiceDefinition:
    for service in installed_services():
        if service.name == name:
            return service
    raise KeyError(name)
