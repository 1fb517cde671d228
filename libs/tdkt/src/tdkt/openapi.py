"""Export each service's OpenAPI document, so portal teams can diff the API in the repository.

    python -m tdkt.openapi services          write services/<name>/openapi.json
    python -m tdkt.openapi services --check  fail if any exported file is out of date

Building the app does not touch the store or the broker, so no server is needed.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from tdkt.auth.tokens import generate_key_pair
from tdkt.services import installed_services
from tdkt.settings import AuthSettings, ConsumerSettings, KafkaSettings, MongoSettings, RelaySettings, Settings
from tdkt.web.app import create_app


def spec_of(service) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        public = Path(tmp) / "public.pem"
        generate_key_pair(Path(tmp) / "private.pem", public)
        settings = Settings(
            service=service.name,
            environment="development",
            log_level="WARNING",
            log_format="json",
            kafka=KafkaSettings(["127.0.0.1:9"], "openapi", 1),
            mongo=MongoSettings("mongodb://127.0.0.1:9/", f"tdkt_{service.name}", 100),
            auth=AuthSettings("tdkt", "tdkt", "RS256", public, None, 0),
            relay=RelaySettings(50, 500, 30, 15),
            consumer=ConsumerSettings(f"tdkt-{service.name}", 200, 300000, 5, 200),
        )
        app = create_app(service, settings)
        return app.extensions["tdkt"].api.spec.to_dict()


def render(spec: dict) -> str:
    return json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "services":
        print(__doc__, file=sys.stderr)
        return 2
    check = "--check" in argv
    root = Path.cwd() / "services"
    stale = []
    for service in installed_services():
        target = root / service.name / "openapi.json"
        text = render(spec_of(service))
        if check:
            if not target.exists() or target.read_text() != text:
                stale.append(str(target))
        else:
            target.write_text(text)
            print(f"wrote {target}")
    if stale:
        print("out of date (run `make openapi`): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
