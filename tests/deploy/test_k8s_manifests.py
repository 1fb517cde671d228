"""The Kubernetes manifests (deploy/k8s): every overlay rendered with kustomize and validated with
kubeconform against the Kubernetes schemas (strict, offline; deploy/k8s/check.py fetches and caches
the tools), then held to the deployment's policies: locked-down pods with requests and limits,
probes on the APIs, settings apart from secrets, one layout for the four services, and an
environment that each service's own settings code accepts.

The first run builds kustomize and kubeconform with Go and downloads the schemas (cached under
var/cache/); a tool that cannot be had fails these tests with the reason, it never skips them."""

from __future__ import annotations

import base64
import copy
import importlib.util
import os
import re
from pathlib import Path
from unittest import mock

import pytest
import yaml
from tdkt.services import installed_services
from tdkt.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(1800)  # the first run on a machine builds two Go tools

_spec = importlib.util.spec_from_file_location("tdkt_k8s_check", REPO / "deploy" / "k8s" / "check.py")
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)

SERVICES = {s.name: s for s in installed_services()}
ROLES = ("api", "consumer", "relay")
# The Secrets the pods use: rendered by the development overlay from EXAMPLE values, provided by
# the cluster's secret store in production (deploy/k8s/README.md lists them with their keys).
SECRETS = {"registry-secrets", "reports-secrets", "awards-secrets", "notify-secrets", "tdkt-jwt", "notify-service-key"}
MUST_BE_SECRET = {"MONGODB_URI", "SMTP_USERNAME", "SMTP_PASSWORD", "TDKT_AWARDS_PROVINCE_SECRET"}
SECRET_LOOKING_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE|CREDENTIAL|(^|_)KEY$")
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    """`kustomize build` of each overlay (check.ToolError, with the reason, if a tool is missing)."""
    return {overlay: check.render(overlay) for overlay in check.OVERLAYS}


@pytest.fixture(scope="module")
def objects(rendered) -> dict[str, list[dict]]:
    return {overlay: [doc for doc in yaml.safe_load_all(text) if doc] for overlay, text in rendered.items()}


def find(docs: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs: list[dict], kind: str, name: str) -> dict:
    found = find(docs, kind, name)
    assert len(found) == 1, f"{kind} {name}: {len(found)} rendered"
    return found[0]


def config_map(docs: list[dict], name: str) -> dict:
    """A generated ConfigMap by its name without the content hash kustomize appends."""
    found = [d for d in find(docs, "ConfigMap") if re.fullmatch(rf"{re.escape(name)}(-[a-z0-9]{{10}})?", d["metadata"]["name"])]
    assert len(found) == 1, f"ConfigMap {name}: {len(found)} rendered"
    return found[0]


def pods(docs: list[dict]):
    """(workload, pod spec) of every Deployment and Job."""
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            yield doc, doc["spec"]["template"]["spec"]


def containers(spec: dict) -> list[dict]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def environment(docs: list[dict], secrets: list[dict], container: dict) -> dict[str, str]:
    """What the container's process sees: envFrom in order (later wins), then env."""
    env: dict[str, str] = {}
    by_name = {d["metadata"]["name"]: d for d in [*find(docs, "ConfigMap"), *secrets]}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef") or source.get("secretRef")
        env |= by_name[ref["name"]].get("data") or by_name[ref["name"]].get("stringData") or {}
    env |= {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    return env


def example_secrets(objects) -> list[dict]:
    """The development overlay's EXAMPLE Secrets, decoded; production's come from the secret store
    with the same names and keys."""
    decoded = []
    for doc in find(objects["development"], "Secret"):
        decoded.append({"kind": "Secret", "metadata": doc["metadata"], "data": {k: base64.b64decode(v).decode() for k, v in (doc.get("data") or {}).items()}})
    return decoded


# -- the schemas -------------------------------------------------------------------------------


def test_overlays() -> None:
    assert {"production", "development"} <= set(check.OVERLAYS)


@pytest.mark.parametrize("version", check.KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", check.OVERLAYS)
def test_every_object_matches_the_kubernetes_schema(rendered, objects, overlay: str, version: str) -> None:
    done = check.validate(rendered[overlay], version)
    report = (done.stdout + done.stderr).strip()
    assert done.returncode == 0, report
    assert f"Valid: {len(objects[overlay])}, Invalid: 0, Errors: 0, Skipped: 0" in report, report


def test_the_schema_check_rejects_unknown_fields_and_kinds(objects) -> None:
    """The check above proves something: strict (a misspelt field fails) and no kind skipped."""
    deployment = copy.deepcopy(find(objects["production"], "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/readyz", "port": "http"}}
    done = check.validate(yaml.safe_dump(deployment), check.KUBERNETES_VERSIONS[0])
    assert done.returncode != 0 and "readinesProbe" in done.stdout, done.stdout + done.stderr

    unknown = {"apiVersion": "apps/v1", "kind": "Deploymnet", "metadata": {"name": "x"}}
    done = check.validate(yaml.safe_dump(unknown), check.KUBERNETES_VERSIONS[0])
    assert done.returncode != 0 and "could not find schema" in done.stdout, done.stdout + done.stderr


# -- the policies ------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", check.OVERLAYS)
def test_every_pod_is_locked_down_and_sized(objects, overlay: str) -> None:
    problems = []
    for workload, spec in pods(objects[overlay]):
        where = f"{workload['kind']} {workload['metadata']['name']}"
        pod = spec.get("securityContext", {})
        if not (pod.get("runAsNonRoot") is True and pod.get("runAsUser") == 10001 and pod.get("seccompProfile") == {"type": "RuntimeDefault"}):
            problems.append(f"{where}: pod securityContext {pod}")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: mounts a service account token it does not use")
        tmp_volumes = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
        for c in containers(spec):
            sc = c.get("securityContext", {})
            if not (sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True and sc.get("capabilities") == {"drop": ["ALL"]}):
                problems.append(f"{where} {c['name']}: container securityContext {sc}")
            if sc.get("privileged") or sc.get("runAsUser", 10001) == 0:
                problems.append(f"{where} {c['name']}: runs privileged or as root")
            resources = c.get("resources", {})
            for part in ("requests", "limits"):
                if set(resources.get(part, {})) != {"cpu", "memory"}:
                    problems.append(f"{where} {c['name']}: resources.{part} {resources.get(part)}")
            if not any(m["mountPath"] == "/tmp" and m["name"] in tmp_volumes for m in c.get("volumeMounts", [])):
                problems.append(f"{where} {c['name']}: no emptyDir at /tmp (the root filesystem is read-only)")
            if not re.fullmatch(r"tdkt/[a-z]+:\d+\.\d+\.\d+", c["image"]):
                problems.append(f"{where} {c['name']}: image {c['image']} is not tdkt/<service>:<release>")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", check.OVERLAYS)
def test_probes(objects, overlay: str) -> None:
    """APIs: alive = /healthz (startup, liveness), ready = /readyz. Consumers and relays serve no
    HTTP and write no local heartbeat, so they have no probe at all (deploy/k8s/README.md#probes)."""
    problems = []
    for workload, spec in pods(objects[overlay]):
        role = workload["metadata"]["labels"]["app.kubernetes.io/component"]
        for c in spec["containers"]:
            probes = {p: c[p]["httpGet"]["path"] for p in ("startupProbe", "livenessProbe", "readinessProbe") if p in c and "httpGet" in c[p]}
            if role == "api":
                if probes != {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}:
                    problems.append(f"{workload['metadata']['name']}: probes {probes}")
                ports = {p.get("name") for p in c.get("ports", [])}
                if any(c[p]["httpGet"]["port"] not in ports for p in probes):
                    problems.append(f"{workload['metadata']['name']}: a probe names a port the container does not declare")
            elif any(p in c for p in ("startupProbe", "livenessProbe", "readinessProbe")):
                problems.append(f"{workload['metadata']['name']}: a {role} has a probe, but serves nothing to probe")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", check.OVERLAYS)
def test_settings_and_secrets_are_kept_apart(objects, overlay: str) -> None:
    problems = []
    plain = [(f"ConfigMap {d['metadata']['name']}", d.get("data", {})) for d in find(objects[overlay], "ConfigMap")]
    for workload, spec in pods(objects[overlay]):
        for c in containers(spec):
            plain.append((f"{workload['metadata']['name']} {c['name']} env", {e["name"]: e.get("value", "") for e in c.get("env", [])}))
    for where, data in plain:
        for key, value in data.items():
            if key in MUST_BE_SECRET or SECRET_LOOKING_NAME.search(key):
                problems.append(f"{where}: {key} belongs in a Secret")
            if key.endswith("_FILE") and not value.startswith("/"):
                problems.append(f"{where}: {key} should be the path of a mounted Secret, not its contents")
            if CREDENTIALS_IN_URL.search(value) or "-----BEGIN" in value:
                problems.append(f"{where}: {key} holds credentials or a key")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", check.OVERLAYS)
def test_every_reference_resolves(objects, overlay: str) -> None:
    """ConfigMaps are rendered with the pods that use them. Secrets only by the development overlay
    (EXAMPLE values); production renders none, so applying it never overwrites the real ones."""
    docs = objects[overlay]
    config_maps = {d["metadata"]["name"] for d in find(docs, "ConfigMap")}
    secrets = {d["metadata"]["name"] for d in find(docs, "Secret")}
    used_maps, used_secrets = set(), set()
    for _, spec in pods(docs):
        for c in containers(spec):
            for source in c.get("envFrom", []):
                (used_maps if "configMapRef" in source else used_secrets).add((source.get("configMapRef") or source.get("secretRef"))["name"])
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                used_secrets.add(volume["secret"]["secretName"])
            if "configMap" in volume:
                used_maps.add(volume["configMap"]["name"])
    assert used_maps <= config_maps, used_maps - config_maps
    assert used_secrets == SECRETS
    assert secrets == (SECRETS if overlay == "development" else set())
    readme = (REPO / "deploy" / "k8s" / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in SECRETS), "deploy/k8s/README.md lists every Secret production must provide"


@pytest.mark.parametrize("overlay", check.OVERLAYS)
def test_each_process_gets_settings_its_service_accepts(objects, overlay: str, tmp_path: Path) -> None:
    """The environment the manifests give each container passes the service's own settings code,
    with the key files where the mounts put them (their contents from the example Secrets)."""
    from tdkt_awards.service_layer.province import load_province_settings
    from tdkt_notify.adapters.mailer import load_smtp_settings
    from tdkt_notify.settings import load as load_notify_settings
    from tdkt_reports.service_layer.deadlines import load_deadline_settings

    docs, secrets = objects[overlay], example_secrets(objects)
    extra_checks = {"notify": [load_notify_settings, load_smtp_settings], "awards": [load_province_settings], "reports": [load_deadline_settings]}
    for workload, spec in pods(docs):
        mounted = {}
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                mounted[volume["name"]] = next(s for s in secrets if s["metadata"]["name"] == volume["secret"]["secretName"])
        for c in containers(spec):
            env = environment(docs, secrets, c)
            service = workload["metadata"]["labels"]["app.kubernetes.io/name"]
            for mount in c.get("volumeMounts", []):
                for key, content in mounted.get(mount["name"], {}).get("data", {}).items():
                    path = f"{mount['mountPath']}/{key}"
                    local = tmp_path / path.lstrip("/")
                    local.parent.mkdir(parents=True, exist_ok=True)
                    local.write_text(content)
                    env = {k: str(local) if v == path else v for k, v in env.items()}
            if c["command"][:3] == ["python", "-m", f"tdkt_{service}"]:  # api, consumer, relay, topics
                with mock.patch.dict(os.environ, env, clear=True):
                    settings = load_settings(service)
                assert settings.mongo.database == f"tdkt_{service}"
                assert settings.environment == ("development" if overlay == "development" else "production")
                for load in extra_checks.get(service, []):
                    load(env)
            else:  # the setup commands: `tdkt <service> …`, which need the store only
                assert c["command"] == ["python", "-m", "tdkt.cli"] and "MONGODB_URI" in env, c["name"]
            if c["name"] == "api":
                port = c["ports"][0]["containerPort"]
                assert env["HOST"] == "0.0.0.0" and env["PORT"] == str(port) == str(SERVICES[service].default_port)


def test_the_four_services_are_laid_out_alike(objects) -> None:
    docs = objects["production"]
    assert set(SERVICES) == {"registry", "reports", "awards", "notify"}
    for doc in docs:
        labels = doc["metadata"].get("labels", {})
        assert labels.get("app.kubernetes.io/part-of") == "tdkt", f"{doc['kind']} {doc['metadata']['name']}: no part-of label"
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == "tdkt", f"{doc['kind']} {doc['metadata']['name']}"
    for name, service in SERVICES.items():
        for role in ROLES:
            deployment = one(docs, "Deployment", f"{name}-{role}")
            assert deployment["metadata"]["labels"]["app.kubernetes.io/name"] == name
            (c,) = deployment["spec"]["template"]["spec"]["containers"]
            assert (c["command"], c["args"]) == (["python", "-m", f"tdkt_{name}"], [role])
            assert c["image"].startswith(f"tdkt/{name}:")
        api_service = one(docs, "Service", f"{name}-api")
        assert api_service["spec"]["type"] == "ClusterIP"
        assert api_service["spec"]["ports"] == [{"name": "http", "port": service.default_port, "targetPort": "http"}]
        one(docs, "PodDisruptionBudget", f"{name}-api")
        topics = one(docs, "Job", f"{name}-topics")["spec"]["template"]["spec"]
        assert [(c["command"], c["args"]) for c in containers(topics)] == [(["python", "-m", f"tdkt_{name}"], ["topics"])]
        setup = find(docs, "Job", f"{name}-setup")
        ran = [(c["command"], c["args"]) for job in setup for c in containers(job["spec"]["template"]["spec"])]
        assert ran == [(["python", "-m", "tdkt.cli"], [name, *command]) for command in service.setup_commands], f"{name}-setup runs bootstrap.py's setup_commands, in order"
        assert config_map(docs, f"{name}-config")["data"]["PORT"] == str(service.default_port)


def test_selectors_pick_only_their_own_pods(objects) -> None:
    docs = objects["production"]
    templates = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in find(docs, "Deployment")}

    def picks(selector: dict) -> set[str]:
        return {name for name, labels in templates.items() if selector.items() <= labels.items()}

    for deployment in find(docs, "Deployment"):
        assert picks(deployment["spec"]["selector"]["matchLabels"]) == {deployment["metadata"]["name"]}
    for kind, selector in [("Service", lambda d: d["spec"]["selector"]), ("PodDisruptionBudget", lambda d: d["spec"]["selector"]["matchLabels"])]:
        for doc in find(docs, kind):
            assert picks(selector(doc)) == {doc["metadata"]["name"]}, f"{kind} {doc['metadata']['name']}"


def test_production_replicas_and_consumer_autoscaling(objects) -> None:
    """Consumers scale up to the partition count (members beyond it would sit idle); the APIs and
    relays run two each (the second relay is a standby behind the outbox lease)."""
    docs = objects["production"]
    partitions = int(config_map(docs, "tdkt-config")["data"]["KAFKA_TOPIC_PARTITIONS"])
    for name in SERVICES:
        hpa = one(docs, "HorizontalPodAutoscaler", f"{name}-consumer")["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{name}-consumer"}
        assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"] == partitions
        assert "replicas" not in one(docs, "Deployment", f"{name}-consumer")["spec"], "the autoscaler owns the consumer's replicas"
        assert one(docs, "Deployment", f"{name}-api")["spec"]["replicas"] == 2
        assert one(docs, "Deployment", f"{name}-relay")["spec"]["replicas"] == 2
    assert config_map(docs, "tdkt-config")["data"]["TDKT_ENV"] == "production"
    assert config_map(docs, "tdkt-config")["data"]["LOG_FORMAT"] == "json"
