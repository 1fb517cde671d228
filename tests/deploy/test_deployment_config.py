"""The container deployment's configuration, checked without a container engine.

- docker-compose.yml (alone, as on a server, and with the development override merged, as
  `docker compose` does by default) is what `docker compose config` accepts;
- every container that runs a service's code gets every variable that code requires, with values
  its settings loaders accept; the variables are found by calling the loaders with an empty
  environment, not from a list kept here;
- the start order `make up` follows (topics, then reference data, then the services) holds;
- each service's Dockerfile is multi-stage, pinned, non-root, health-checked, and the four differ
  only by the service's name;
- deploy/README.md documents every variable the code reads.

No image is built and no container runs here: that needs an engine (see deploy/README.md).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path
from unittest import mock

import pytest
from tdkt.settings import SettingsError, load_settings

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("registry", "reports", "awards", "notify")
PROCESSES = ("api", "consumer", "relay")
NON_ROOT_UID = "10001"

# Each service's own settings loaders (beside the platform's `tdkt.settings.load_settings`), as
# "module:function"; each reads the process environment when called without arguments.
# test_every_loader_is_listed fails when a new one appears in the code and not here.
SERVICE_LOADERS = {
    "registry": [],
    "reports": ["tdkt_reports.service_layer.deadlines:load_deadline_settings"],
    "awards": ["tdkt_awards.service_layer.province:load_province_settings"],
    "notify": ["tdkt_notify.settings:load", "tdkt_notify.adapters.mailer:load_smtp_settings"],
}


# -- docker compose ---------------------------------------------------------------------------


def _compose_command() -> list[str]:
    """`docker compose`, or the standalone compose CLI that deploy/compose/build-cli.sh builds (and
    `make test` runs) when there is no docker client or it came without its compose plugin, as on
    this project's machines. `config` needs no engine, so the check runs everywhere."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    cache = Path(os.environ["TDKT_CACHE"]) if os.environ.get("TDKT_CACHE") else REPO / "var" / "cache"
    built = cache / "docker-compose"
    if built.is_file():
        return [str(built)]
    pytest.fail(
        "no `docker compose` on this machine (no docker client, or no compose plugin); "
        "`bash deploy/compose/build-cli.sh` (run by `make test`) builds the compose CLI from the Go module proxy (cached under var/cache)"
    )


def _compose_config(*files: str) -> dict:
    # A fixed environment: the developer's shell must not change what is checked. HOME and
    # DOCKER_CONFIG locate the CLI plugin; TDKT_CACHE the built CLI.
    env = {k: os.environ[k] for k in ("PATH", "HOME", "DOCKER_CONFIG", "TDKT_CACHE") if k in os.environ}
    argv = [*_compose_command(), "--project-directory", str(REPO)]
    for name in files:
        argv += ["-f", str(REPO / name)]
    done = subprocess.run([*argv, "config", "--format", "json"], capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert done.returncode == 0, f"`docker compose {' '.join('-f ' + f for f in files)} config` refused the file:\n{done.stderr}"
    return json.loads(done.stdout)


@pytest.fixture(scope="module", params=["server", "development"])
def compose(request) -> dict:
    """The compose model as the engine would get it: the base file alone (`server`), or with the
    override merged (`development`, what a plain `docker compose up` uses)."""
    files = ["docker-compose.yml"] if request.param == "server" else ["docker-compose.yml", "docker-compose.override.yml"]
    return _compose_config(*files)


def _service_of(container: dict) -> str | None:
    """Which service's code a compose service runs: the one whose Dockerfile builds its image."""
    dockerfile = (container.get("build") or {}).get("dockerfile", "")
    match = re.fullmatch(r"services/([a-z]+)/Dockerfile", dockerfile)
    return match.group(1) if match else None


def _containers(compose: dict, service: str) -> dict[str, dict]:
    return {name: c for name, c in compose["services"].items() if _service_of(c) == service}


def _runs(container: dict) -> list[str]:
    """The argv after the image's ENTRYPOINT (`python -m tdkt_<svc>`) when not replaced."""
    return [*(container.get("entrypoint") or []), *(container.get("command") or [])]


def test_compose_has_every_process_of_every_service(compose):
    for service in SERVICES:
        commands = sorted(tuple(_runs(c)) for c in _containers(compose, service).values() if not c.get("entrypoint"))
        for process in PROCESSES:
            assert (process,) in commands, f"no compose service runs `python -m tdkt_{service} {process}`"
    assert {"kafka", "mongo", "mailpit"} <= set(compose["services"])


# -- required variables -----------------------------------------------------------------------


# Tried in turn for a variable a loader names: the first satisfies a string, a list and a path
# that must exist; the second a URI that must be mongodb:// (a loader rejects what it cannot use,
# and then names the same variable again).
def _placeholders(tmp: Path) -> list[str]:
    existing = tmp / "placeholder.pem"
    existing.write_text("placeholder")
    return [str(existing), "mongodb://placeholder.invalid:27017/", "placeholder"]


_NAMED = re.compile(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?: or [A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)*): ")


def _required_by(loader, tmp: Path) -> list[tuple[str, ...]]:
    """Call `loader` with an empty environment; each variable its SettingsError names as missing
    is required. Give each one a placeholder and call again, until the loader is satisfied (the
    platform's loader names the JWT key only once the others are there). "A or B" in a message is
    one requirement either variable meets."""
    placeholders = _placeholders(tmp)
    env: dict[str, str] = {}
    attempts: dict[str, int] = {}
    required: list[tuple[str, ...]] = []
    for _ in range(30):
        with mock.patch.dict(os.environ, env, clear=True):
            try:
                loader()
                return required
            except SettingsError as exc:
                message = str(exc)
        named = [tuple(group.split(" or ")) for group in _NAMED.findall(message)]
        assert named, f"{loader.__qualname__} raised SettingsError naming no variable: {message}"
        for names in named:
            if not any(n in env for n in names):
                required.append(names)
            name = names[0]
            attempts[name] = attempts.get(name, 0) + 1
            assert attempts[name] <= len(placeholders), f"{loader.__qualname__} accepts no placeholder for {name}: {message}"
            env[name] = placeholders[attempts[name] - 1]
    raise AssertionError(f"{loader.__qualname__} kept asking for more variables: {required}")


def _loaders(service: str) -> list:
    loaders = [lambda: load_settings(service)]
    for spec in SERVICE_LOADERS[service]:
        module, name = spec.split(":")
        loaders.append(getattr(importlib.import_module(module), name))
    return loaders


@pytest.fixture(scope="module")
def required(tmp_path_factory) -> dict[str, list[tuple[str, ...]]]:
    tmp = tmp_path_factory.mktemp("settings")
    return {service: [names for loader in _loaders(service) for names in _required_by(loader, tmp)] for service in SERVICES}


def test_required_variables_are_found(required):
    # The discovery itself: if the platform's loader stopped naming these, it would find nothing
    # and the coverage test below would pass vacuously.
    for service in SERVICES:
        found = {n for names in required[service] for n in names}
        assert {"MONGODB_URI", "KAFKA_BOOTSTRAP_SERVERS", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_PUBLIC_KEY_FILE", "JWT_JWKS_URL"} <= found, required[service]


def test_every_container_sets_what_its_code_requires(compose, required):
    for service in SERVICES:
        containers = _containers(compose, service)
        assert containers, f"no compose service builds services/{service}/Dockerfile"
        for name, container in containers.items():
            env = container.get("environment") or {}
            for names in required[service]:
                assert any(env.get(n) for n in names), f"{name}: {' or '.join(names)} is required by tdkt_{service} and not set"


def test_every_loader_accepts_each_containers_environment(compose, tmp_path):
    """The values, not only the names: each loader reads the container's environment as is,
    except that a file the container gets mounted is a local stand-in here."""
    stand_in = tmp_path / "mounted.pem"
    stand_in.write_text("stand-in")
    for service in SERVICES:
        for name, container in _containers(compose, service).items():
            env = dict(container.get("environment") or {})
            mounted = {s.get("target") or f"/run/secrets/{s['source']}" for s in container.get("secrets") or []}
            mounted |= {v["target"] for v in container.get("volumes") or []}
            for variable in ("JWT_PUBLIC_KEY_FILE", "SMTP_CA_FILE", "NOTIFY_SERVICE_KEY_FILE"):
                if env.get(variable):
                    assert env[variable] in mounted, f"{name}: {variable}={env[variable]} is not a file mounted into the container"
                    env[variable] = str(stand_in)
            with mock.patch.dict(os.environ, env, clear=True):
                for loader in _loaders(service):
                    try:
                        loader()
                    except SettingsError as exc:
                        pytest.fail(f"{name}: {exc}")


def test_servers_named_in_the_environment_are_compose_services(compose):
    names = set(compose["services"])
    for service in SERVICES:
        for name, container in _containers(compose, service).items():
            env = container.get("environment") or {}
            for server in env["KAFKA_BOOTSTRAP_SERVERS"].split(","):
                assert server.rsplit(":", 1)[0] in names, f"{name}: KAFKA_BOOTSTRAP_SERVERS names {server}, no compose service"
            assert urllib.parse.urlsplit(env["MONGODB_URI"]).hostname in names, f"{name}: MONGODB_URI names no compose service"
            if service == "notify":
                assert env.get("SMTP_HOST") in names, f"{name}: SMTP_HOST should be the mail catcher's service name"


def test_every_loader_is_listed():
    """A settings loader added to a service must join SERVICE_LOADERS, or its variables would go
    unchecked. Loaders take the environment as their `environ` argument by convention."""
    found = set()
    for path in REPO.glob("services/*/src/*/**/*.py"):
        for name in re.findall(r"^def (load\w*)\(environ\b", path.read_text(encoding="utf-8"), re.MULTILINE):
            parts = path.relative_to(REPO).with_suffix("").parts
            found.add(f"{'.'.join(parts[parts.index('src') + 1 :])}:{name}")
    listed = {spec for specs in SERVICE_LOADERS.values() for spec in specs}
    assert found == listed, f"not listed: {sorted(found - listed)}; listed but gone: {sorted(listed - found)}"


# -- start order and container hardening ------------------------------------------------------


def test_topics_and_reference_data_come_before_the_services(compose):
    """As `make up`: every service's topics are created (consumers subscribe to other services'
    topics, and the broker creates none on demand), and each service's `setup_commands` ran in
    order, before its api, consumer and relay start."""
    from tdkt.services import service_named

    services = compose["services"]
    topics = {}
    for service in SERVICES:
        found = [name for name, c in _containers(compose, service).items() if _runs(c) == ["topics"]]
        assert len(found) == 1, f"one one-shot container should run `python -m tdkt_{service} topics`, found {found}"
        topics[service] = found[0]
    for service in SERVICES:
        setup = []
        for command in service_named(service).setup_commands:
            found = [name for name, c in _containers(compose, service).items() if _runs(c) == ["tdkt", service, *command]]
            assert len(found) == 1, f"one one-shot container should run `tdkt {service} {' '.join(command)}`, found {found}"
            setup.append(found[0])
        for earlier, later in zip(setup, setup[1:], strict=False):
            assert services[later]["depends_on"][earlier]["condition"] == "service_completed_successfully", f"{later} must wait for {earlier}"
        for name, container in _containers(compose, service).items():
            if _runs(container) not in ([p] for p in PROCESSES):
                continue
            depends = container.get("depends_on") or {}
            for needed in [*topics.values(), *setup[-1:]]:
                assert depends.get(needed, {}).get("condition") == "service_completed_successfully", f"{name} must wait for {needed}"
            for server in ("kafka", "mongo"):
                assert depends.get(server, {}).get("condition") == "service_healthy", f"{name} must wait for {server} to be healthy"
    for name, container in services.items():
        if container.get("restart") != "no" and _service_of(container):
            assert _runs(container) in ([p] for p in PROCESSES), f"{name} restarts but is not an api, consumer or relay"


def test_service_containers_run_as_non_root_on_a_read_only_root(compose):
    for service in SERVICES:
        for name, container in _containers(compose, service).items():
            assert container.get("user", "").split(":")[0] == NON_ROOT_UID, f"{name}: user should be {NON_ROOT_UID}"
            assert container.get("read_only") is True, f"{name}: read_only should be true"
            assert any(t.split(":")[0] == "/tmp" for t in container.get("tmpfs") or []), f"{name}: needs a tmpfs at /tmp (TMPDIR)"
            is_api = _runs(container) == ["api"]
            disabled = (container.get("healthcheck") or {}).get("disable", False)
            assert disabled != is_api, f"{name}: the image's /healthz check is for the api only"


# -- Dockerfiles ------------------------------------------------------------------------------


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, pending = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, rest = pending.strip().partition(" ")
        out.append((keyword.upper(), rest.strip()))
        pending = ""
    return out


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile(service):
    path = REPO / "services" / service / "Dockerfile"
    steps = _instructions(path)
    froms = [args for kw, args in steps if kw == "FROM"]
    assert len(froms) >= 2, "multi-stage: a builder stage and a runtime stage"
    for image in froms:
        ref = image.split()[0]
        name, _, digest = ref.partition("@")
        tag = name.partition(":")[2]
        assert re.fullmatch(r"\d+\.\d+\.\d+[\w.-]*", tag), f"FROM {ref}: pin a full version tag (not {tag or 'none'})"
        assert "latest" not in tag
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), f"FROM {ref}: pin the digest too"
    runtime = steps[max(i for i, (kw, _) in enumerate(steps) if kw == "FROM") :]
    assert any(kw == "COPY" and args.startswith("--from=") for kw, args in runtime), "the runtime stage copies the builder's result"
    users = [args for kw, args in runtime if kw == "USER"]
    assert users and users[-1].split(":")[0] == NON_ROOT_UID, f"USER {users[-1] if users else '(none)'}: should be {NON_ROOT_UID}"
    healthchecks = [args for kw, args in runtime if kw == "HEALTHCHECK"]
    assert healthchecks and "/healthz" in healthchecks[-1]
    env = " ".join(args for kw, args in runtime if kw == "ENV")
    for setting in ("PYTHONDONTWRITEBYTECODE=1", "TMPDIR=/tmp"):
        assert setting in env, f"ENV {setting} missing in the runtime stage"
    assert any(kw == "ENV" and "UV_COMPILE_BYTECODE=1" in args for kw, args in steps), "compile bytecode at build time"
    entrypoint = [json.loads(args) for kw, args in runtime if kw == "ENTRYPOINT"][-1]
    assert entrypoint == ["python", "-m", f"tdkt_{service}"]
    assert [json.loads(args) for kw, args in runtime if kw == "CMD"][-1] == ["api"]


def test_dockerfiles_differ_only_by_the_service_name():
    """One file per service (so `docker build -f services/<svc>/Dockerfile .` needs no argument),
    kept as one design: a change made to one and not the others fails here."""
    reference = (REPO / "services" / "registry" / "Dockerfile").read_text(encoding="utf-8").splitlines()
    for service in SERVICES[1:]:
        lines = (REPO / "services" / service / "Dockerfile").read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(reference), f"services/{service}/Dockerfile has {len(lines)} lines, registry's {len(reference)}"
        for number, (ours, theirs) in enumerate(zip(reference, lines, strict=True), start=1):
            assert theirs in (ours, ours.replace("registry", service)), f"services/{service}/Dockerfile:{number} differs from registry's beyond the name"


def test_dockerignore_keeps_local_state_out():
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    assert patterns and (patterns[0] == "*" or {"var", ".venv", ".git"} <= {p.strip("/") for p in patterns})


# -- the operations guide ---------------------------------------------------------------------

_ENV_LITERAL = re.compile(r"[\"']([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)[\"']")
_ENV_READ = re.compile(r"environ(?:\.get)?[(\[]\s*[\"']([A-Z][A-Z0-9_]*)[\"']")
_ENV_FSTRING = re.compile(r"f[\"']([A-Z][A-Z0-9_]*)\{(\w+)[^}]*\}([A-Z0-9_]*)[\"']")


def _variables_read_by_the_code() -> set[str]:
    """Every upper-case name quoted in a module that reads the environment (in these modules that
    is exactly the variables), plus names read directly (HOST, PORT), and `f"NOTIFY_{service}_URL"`
    as NOTIFY_<SERVICE>_URL."""
    names = set()
    for path in [*REPO.glob("libs/tdkt/src/**/*.py"), *REPO.glob("services/*/src/**/*.py")]:
        text = path.read_text(encoding="utf-8")
        if not re.search(r"\benviron\b|\bEnv\(", text):
            continue
        names |= set(_ENV_LITERAL.findall(text)) | set(_ENV_READ.findall(text))
        names |= {f"{head}<{word.upper()}>{tail}" for head, word, tail in _ENV_FSTRING.findall(text)}
    return names


def test_the_guide_documents_every_variable():
    guide = (REPO / "deploy" / "README.md").read_text(encoding="utf-8")
    variables = _variables_read_by_the_code()
    assert {"MONGODB_URI", "HOST", "PORT", "SMTP_HOST", "NOTIFY_<SERVICE>_URL", "TDKT_AWARDS_CERTIFICATE_FONT_DIR"} <= variables, "the scan misses variables"
    missing = sorted(v for v in variables if f"`{v}`" not in guide)
    assert not missing, f"deploy/README.md does not document: {', '.join(missing)}"
