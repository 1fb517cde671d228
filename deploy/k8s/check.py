#!/usr/bin/env python3
"""Render the Kubernetes overlays with kustomize and validate every object with kubeconform against
the Kubernetes JSON schemas (strict: an unknown field is an error), entirely offline.

    python3 deploy/k8s/check.py                  # every overlay, against every checked version
    python3 deploy/k8s/check.py production       # one overlay

tests/deploy/test_k8s_manifests.py runs the same check (and the deployment policies) in `make test`.
What it needs is fetched once from package registries and cached under var/cache/ (ignored by git):

- kustomize and kubeconform, built by `go install` from the Go module proxy into var/cache/tools/bin;
- the Kubernetes JSON schemas, from the `kubernetes-validate` wheel on PyPI, which bundles them per
  Kubernetes minor version (kubeconform's own default, a GitHub repository, is not reachable from
  CI). Its "-local-strict" schemas name their shared definitions by absolute `$id`s
  (`/api/_definitions.json#/...`); they are extracted into var/cache/k8s-schemas/ with those
  references made relative (`_definitions.json#/...`), which kubeconform's file loader resolves.

Only the standard library is used, so `python3` alone runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CACHE = REPO / "var" / "cache"
TOOLS_BIN = CACHE / "tools" / "bin"
SCHEMA_CACHE = CACHE / "k8s-schemas"

# Versions whose go.mod asks for Go 1.24 (Debian's), so they build without a toolchain download.
KUSTOMIZE = ("sigs.k8s.io/kustomize/kustomize/v5", "v5.8.1", "kustomize")
KUBECONFORM = ("github.com/yannh/kubeconform/cmd/kubeconform", "v0.7.0", "kubeconform")
SCHEMAS = ("kubernetes-validate", "1.37.0", "sha256:85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9")
# The oldest and the newest Kubernetes minor the manifests are checked against.
KUBERNETES_VERSIONS = ("1.31.0", "1.37.0")
OVERLAYS = tuple(sorted(p.name for p in (HERE / "overlays").iterdir() if (p / "kustomization.yaml").is_file()))
INSTALL_TIMEOUT_S = 1200


class ToolError(RuntimeError):
    """A tool or the schemas could not be obtained or run; the message says what failed and how."""


def _run(argv: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, **kwargs)
    except FileNotFoundError as exc:
        raise ToolError(f"{what}: {argv[0]} not found ({exc})") from None
    except subprocess.TimeoutExpired:
        raise ToolError(f"{what}: `{' '.join(argv)}` still running after {INSTALL_TIMEOUT_S} s") from None
    if done.returncode != 0:
        raise ToolError(f"{what}: `{' '.join(argv)}` exited {done.returncode}:\n{done.stderr.strip() or done.stdout.strip()}")
    return done


def _built_version(binary: Path) -> str | None:
    """The module version a Go binary was built from (`go version -m`), None if unknown."""
    if shutil.which("go") is None:
        return None
    done = subprocess.run(["go", "version", "-m", str(binary)], capture_output=True, text=True)
    for line in done.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] == "mod":
            return fields[2]
    return None


def go_tool(package: str, version: str, name: str) -> Path:
    """var/cache/tools/bin/<name> built from `package@version`; built once, rebuilt on a version change."""
    binary = TOOLS_BIN / name
    have_go = shutil.which("go") is not None
    if binary.is_file() and (not have_go or _built_version(binary) == version):
        return binary  # without Go the version cannot be read, and the binary is all there is
    if not have_go:
        raise ToolError(f"{name} {version}: Go is not installed, and {name} is built with `go install {package}@{version}` (.ci/run installs golang-go)")
    TOOLS_BIN.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"GOBIN": str(TOOLS_BIN), "GOFLAGS": "-mod=mod"}
    _run(["go", "install", f"{package}@{version}"], f"building {name} {version}", env=env, cwd=REPO)
    if _built_version(binary) != version:
        raise ToolError(f"{name}: `go install {package}@{version}` left no {binary} of that version")
    return binary


def kustomize() -> Path:
    return go_tool(*KUSTOMIZE)


def kubeconform() -> Path:
    return go_tool(*KUBECONFORM)


def _pip() -> list[str]:
    tools_pip = TOOLS_BIN / "pip"  # the Makefile's tools venv (the one that holds uv)
    return [str(tools_pip)] if tools_pip.is_file() else [sys.executable, "-m", "pip"]


def _relative_refs(node):
    if isinstance(node, dict):
        return {k: v.replace("/api/_definitions.json#", "_definitions.json#") if k == "$ref" and isinstance(v, str) else _relative_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_relative_refs(v) for v in node]
    return node


def schema_root() -> Path:
    """The folder kubeconform's -schema-location points into, with every checked version's strict
    schemas in it: <root>/v<version>-local-strict/<kind>-<group>-<version>.json."""
    package, version, digest = SCHEMAS
    root = SCHEMA_CACHE / f"{package}-{version}"
    wanted = [f"v{k}-local-strict" for k in KUBERNETES_VERSIONS]
    if all((root / d / "_definitions.json").is_file() for d in wanted):
        return root
    wheels = SCHEMA_CACHE / "wheels"
    wheel = next(iter(sorted(wheels.glob(f"{package.replace('-', '_')}-{version}-*.whl"))), None)
    if wheel is None:
        wheels.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
            req.write(f"{package}=={version} --hash={digest}\n")
        what = f"downloading {package} {version} from PyPI" + ("" if (TOOLS_BIN / "pip").is_file() else " (no var/cache/tools/bin/pip: `make test` creates it)")
        try:
            _run(
                [*_pip(), "download", "--quiet", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:", "--require-hashes", "-r", req.name, "-d", str(wheels)],
                what,
            )
        finally:
            os.unlink(req.name)
        wheel = next(iter(sorted(wheels.glob(f"{package.replace('-', '_')}-{version}-*.whl"))), None)
        if wheel is None:
            raise ToolError(f"{package} {version}: pip download left no wheel in {wheels}")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        for folder in wanted:
            if (root / folder / "_definitions.json").is_file():
                continue
            prefix = f"kubernetes_validate/kubernetes-json-schema/{folder}/"
            members = [n for n in names if n.startswith(prefix) and n.endswith(".json")]
            if not members:
                raise ToolError(f"{package} {version} has no {folder} schemas: pick KUBERNETES_VERSIONS it ships")
            root.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=f".{folder}-", dir=root))
            for member in members:
                schema = json.loads(archive.read(member))
                schema.pop("$id", None)  # resolve relative to the file itself, not kubernetes.io
                (work / member[len(prefix) :]).write_text(json.dumps(_relative_refs(schema)), encoding="utf-8")
            work.chmod(0o755)  # mkdtemp made it private
            os.replace(work, root / folder)  # whole or not at all
    return root


def render(overlay: str) -> str:
    """`kustomize build` of deploy/k8s/overlays/<overlay>."""
    return _run([str(kustomize()), "build", str(HERE / "overlays" / overlay)], f"kustomize build overlays/{overlay}").stdout


def validate(manifests: str, kubernetes_version: str) -> subprocess.CompletedProcess:
    """kubeconform, strict, against the cached schemas only (no network); a kind without a schema
    is an error, not a skip. The caller reads returncode and stdout."""
    location = str(schema_root()) + "/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    argv = [str(kubeconform()), "-strict", "-summary", "-kubernetes-version", kubernetes_version, "-schema-location", location, "-"]
    return subprocess.run(argv, input=manifests, capture_output=True, text=True, timeout=300)


def main(argv: list[str]) -> int:
    overlays = argv or list(OVERLAYS)
    failed = False
    try:
        for overlay in overlays:
            manifests = render(overlay)
            for version in KUBERNETES_VERSIONS:
                done = validate(manifests, version)
                print(f"overlays/{overlay} against Kubernetes {version}:\n{(done.stdout + done.stderr).strip()}")
                failed |= done.returncode != 0
    except ToolError as exc:
        print(f"check.py: {exc}", file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
