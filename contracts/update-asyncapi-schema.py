"""Refetch the official AsyncAPI 3.0.0 JSON Schema vendored in `contracts/schemas/`.

The schema comes from the npm package `@asyncapi/specs` (file `package/schemas/3.0.0.json` of its
tarball), fetched with npm itself (`npm pack`, so the registry configured for npm is used) into
`var/cache/asyncapi/` (or $TDKT_CACHE/asyncapi/) and checked against a sha512 integrity before
anything is extracted:

    python contracts/update-asyncapi-schema.py                   # the version pinned in the .source.json, re-extracted
    python contracts/update-asyncapi-schema.py --check           # the vendored file is exactly the package's (exit 1 if not)
    python contracts/update-asyncapi-schema.py --version 6.12.0  # move to another release of the package

The pin lives in `contracts/schemas/asyncapi-3.0.0.source.json` (package, version, the tarball's
integrity, the member extracted, the file's sha256): for the pinned version the tarball must match
the pinned integrity; for a new version the integrity is the registry's (`npm view … dist.integrity`)
and is written to the pin. `tests/contract/test_asyncapi_official_schema.py` checks the vendored
file against the pin's sha256 and validates `contracts/asyncapi.yaml` with it, offline.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "@asyncapi/specs"
MEMBER = "package/schemas/3.0.0.json"
SCHEMA = REPO / "contracts" / "schemas" / "asyncapi-3.0.0.json"
SOURCE = SCHEMA.with_name("asyncapi-3.0.0.source.json")
SCHEMA_ID = "http://asyncapi.com/definitions/3.0.0/asyncapi.json"


def cache_dir() -> Path:
    base = Path(os.environ["TDKT_CACHE"]) if os.environ.get("TDKT_CACHE") else Path(os.environ.get("TDKT_VAR", REPO / "var")) / "cache"
    path = base.resolve() / "asyncapi"
    path.mkdir(parents=True, exist_ok=True)
    return path


def npm(*args: str) -> str:
    done = subprocess.run(["npm", *args], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"npm {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def sri_sha512(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def tarball(version: str, integrity: str) -> bytes:
    """The package's tarball, from the cache when it is there and matches `integrity`."""
    cached = cache_dir() / f"asyncapi-specs-{version}.tgz"
    if not (cached.exists() and sri_sha512(cached.read_bytes()) == integrity):
        packed = json.loads(npm("pack", f"{PACKAGE}@{version}", "--json", "--pack-destination", str(cached.parent)))
        fetched = cached.parent / packed[0]["filename"]
        if fetched != cached:
            fetched.replace(cached)
    data = cached.read_bytes()
    if sri_sha512(data) != integrity:
        cached.unlink()
        sys.exit(f"{PACKAGE}@{version}: the tarball's integrity is {sri_sha512(data)}, expected {integrity}")
    return data


def extract(data: bytes) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        member = archive.extractfile(MEMBER)
        if member is None:
            sys.exit(f"{MEMBER} is not a file in the package")
        schema = member.read()
    parsed = json.loads(schema)
    if parsed.get("$id") != SCHEMA_ID or "draft-07" not in parsed.get("$schema", ""):
        sys.exit(f"{MEMBER} is not the AsyncAPI 3.0.0 draft-07 schema: $id {parsed.get('$id')!r}, $schema {parsed.get('$schema')!r}")
    return schema


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", help=f"the {PACKAGE} release to vendor (default: the pinned one)")
    parser.add_argument("--check", action="store_true", help="only check that the vendored file is the pinned package's, byte for byte")
    args = parser.parse_args()

    pin = json.loads(SOURCE.read_text(encoding="utf-8")) if SOURCE.exists() else {}
    version = args.version or pin.get("version")
    if not version:
        sys.exit(f"no pin in {SOURCE.relative_to(REPO)}: give --version")
    if args.check and version != pin.get("version"):
        sys.exit("--check compares with the pinned version only")
    integrity = pin["integrity"] if version == pin.get("version") else json.loads(npm("view", f"{PACKAGE}@{version}", "dist.integrity", "--json"))
    schema = extract(tarball(version, integrity))
    sha256 = hashlib.sha256(schema).hexdigest()

    if args.check:
        vendored = SCHEMA.read_bytes() if SCHEMA.exists() else b""
        same = vendored == schema and pin.get("sha256") == sha256
        print(f"{SCHEMA.relative_to(REPO)}: {'the same as' if same else 'DIFFERS from'} {PACKAGE}@{version} {MEMBER} (sha256 {sha256})")
        return 0 if same else 1

    SCHEMA.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA.write_bytes(schema)  # byte for byte, so its sha256 is the package file's
    source = {"package": PACKAGE, "version": version, "integrity": integrity, "member": MEMBER, "sha256": sha256}
    SOURCE.write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
    print(f"{SCHEMA.relative_to(REPO)} ← {PACKAGE}@{version} {MEMBER}\n  tarball {integrity}\n  sha256 {sha256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
