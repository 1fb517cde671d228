"""`contracts/asyncapi.yaml` is a valid AsyncAPI 3.0.0 document by the OFFICIAL JSON Schema of the
specification, not only by this project's own checks (`test_asyncapi.py`).

The schema is vendored, byte for byte, in `contracts/schemas/asyncapi-3.0.0.json`: the file
`package/schemas/3.0.0.json` of the npm package `@asyncapi/specs`, whose version, tarball integrity
and the file's sha256 are pinned in `contracts/schemas/asyncapi-3.0.0.source.json`;
`contracts/update-asyncapi-schema.py` refetches it (`--check` compares). Validation is offline: the
schema (draft-07) refers to its parts by their `$id`s (`http://asyncapi.com/definitions/3.0.0/…`,
`http://asyncapi.com/bindings/…`), each defined inside the file, so a registry built from the file's
own definitions resolves every one and nothing is fetched.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from jsonschema_specifications import REGISTRY as SPECIFICATIONS
from referencing import Registry
from referencing.jsonschema import DRAFT7
from tdkt_localstack.contract import CONTRACT, DOC

SCHEMAS = Path(__file__).resolve().parents[2] / "contracts" / "schemas"
SCHEMA_FILE = SCHEMAS / "asyncapi-3.0.0.json"
SOURCE: dict[str, str] = json.loads((SCHEMAS / "asyncapi-3.0.0.source.json").read_text(encoding="utf-8"))
SCHEMA: dict[str, Any] = json.loads(SCHEMA_FILE.read_bytes())

# Every definition of the file is a resource under its own `$id`; nothing else is known (no
# `retrieve`), so a reference outside the file fails instead of going to the network. The draft-07
# meta-schema some definitions refer to is jsonschema's own copy (SPECIFICATIONS).
OFFICIAL = (
    Registry()
    .with_resources((d["$id"], DRAFT7.create_resource(d)) for d in SCHEMA["definitions"].values() if "$id" in d)
    .with_resource(SCHEMA["$id"], DRAFT7.create_resource(SCHEMA))
)
VALIDATOR = Draft7Validator(SCHEMA, registry=OFFICIAL, format_checker=Draft7Validator.FORMAT_CHECKER)


def leaves(error: ValidationError) -> list[ValidationError]:
    """The errors that say what is wrong: under a failed `oneOf`/`anyOf`, those of the branch that
    got deepest into the instance (the one the document meant) — at equal depth, one that failed
    on more than a missing property (e.g. not the Reference Object's `$ref`) — recursively."""
    if not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = defaultdict(list)
    for sub in error.context:
        branches[sub.relative_schema_path[0]].append(sub)
    found = [[leaf for sub in subs for leaf in leaves(sub)] for subs in branches.values()]
    return max(found, key=lambda branch: (max(len(leaf.absolute_path) for leaf in branch), any(leaf.validator != "required" for leaf in branch), -len(branch)))


def problems(document: dict) -> list[str]:
    return sorted(
        {f"{'/'.join(map(str, leaf.absolute_path)) or '(root)'}: {leaf.message[:300]}" for error in VALIDATOR.iter_errors(document) for leaf in leaves(error)},
    )


def string_refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        return {v for k, v in node.items() if k == "$ref" and isinstance(v, str)} | {r for k, v in node.items() if k != "$ref" or not isinstance(v, str) for r in string_refs(v)}
    if isinstance(node, list):
        return {r for v in node for r in string_refs(v)}
    return set()


def test_the_vendored_schema_is_the_pinned_file_of_the_official_package():
    """Where it came from: `@asyncapi/specs` (npm), `package/schemas/3.0.0.json`, at the pinned
    version, unchanged (its sha256 is the pinned one)."""
    assert SOURCE["package"] == "@asyncapi/specs" and SOURCE["member"] == "package/schemas/3.0.0.json", SOURCE
    assert SOURCE["version"] and SOURCE["integrity"].startswith("sha512-"), SOURCE
    assert hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest() == SOURCE["sha256"], (
        f"{SCHEMA_FILE.name} is not the file of {SOURCE['package']}@{SOURCE['version']}: refetch it with contracts/update-asyncapi-schema.py"
    )
    assert SCHEMA["$id"] == "http://asyncapi.com/definitions/3.0.0/asyncapi.json"
    assert SCHEMA["$schema"].startswith("http://json-schema.org/draft-07/schema")
    assert SCHEMA["properties"]["asyncapi"] == {"type": "string", "const": "3.0.0", "description": "The AsyncAPI specification version of this document."}


def test_the_schema_is_draft_07_and_every_reference_of_it_resolves_offline():
    Draft7Validator.check_schema(SCHEMA)
    resolver = SPECIFICATIONS.combine(OFFICIAL).resolver()
    absolute = sorted(r for r in string_refs(SCHEMA) if r.startswith("http"))  # the rest are examples' refs, or local to a definition with its own $id
    assert len(absolute) > 100
    unresolved = []
    for ref in absolute:
        try:
            resolver.lookup(ref)
        except Exception as error:  # referencing.exceptions.Unresolvable and its kinds
            unresolved.append(f"{ref}: {error!r}")
    assert not unresolved, "\n".join(unresolved)


def test_the_contract_is_a_valid_asyncapi_3_0_0_document():
    found = problems(DOC)
    assert not found, f"{CONTRACT.name} is not valid by the official AsyncAPI 3.0.0 schema:\n" + "\n".join(found)


def _break(document: dict, where: str, change) -> dict:
    broken = copy.deepcopy(document)
    node = broken
    for part in where.split("/"):
        node = node[part]
    change(node)
    return broken


@pytest.mark.parametrize(
    ("where", "change", "expected"),
    [
        ("channels/registryUnits", lambda c: c.update(publish={}), "'publish' does not match any of the regexes"),
        ("operations", lambda ops: next(iter(ops.values())).update(action="publish"), "'publish' is not one of ['send', 'receive']"),
        ("info", lambda info: info.pop("version"), "'version' is a required property"),
        ("channels/registryUnits/bindings/kafka", lambda k: k.update(partitions="three"), "'three' is not of type 'integer'"),
        ("components/messages/UnitEstablished/payload", lambda p: p.update(type="record"), "'record' is not one of ['array', 'boolean'"),
        ("components/messages/UnitEstablished", lambda m: m.update(contentType=7), "7 is not of type 'string'"),
    ],
    ids=["unknown-channel-field", "asyncapi-2-action", "no-info-version", "kafka-binding-type", "payload-not-a-schema", "content-type-not-a-string"],
)
def test_the_official_schema_refuses_what_it_should(where, change, expected):
    """The check has teeth: each of these breaks the document, and is named where it is."""
    found = problems(_break(DOC, where, change))
    assert any(expected in line and line.startswith(where.split("/")[0]) for line in found), found
