"""docker-compose.yaml, Dockerfile and .env.example checked without a Docker engine.

The compose file is parsed and interpolated the way Docker Compose does it (``${VAR}``,
``${VAR:-default}``, ``${VAR:?error}``, ``$$`` escapes), then its wiring is checked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
AIRFLOW_COMMANDS = {"api-server", "scheduler", "dag-processor", "triggerer", "celery worker"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|HMAC|JWT")
OPTIONAL = {"AIRFLOW_CONN_SLACK_ATLAS"}


class MissingVariableError(Exception):
    """A ${VAR:?message} variable is unset or empty."""


def _interpolate(value: Any, env: dict[str, str]) -> Any:
    """Docker Compose interpolation applied to every string of a parsed document."""
    if isinstance(value, dict):
        return {key: _interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.group(1) or match.group(4), match.group(2), match.group(3)
        current = env.get(name)
        unset = current is None or (operator is not None and operator.startswith(":") and current == "")
        if operator in ("-", ":-"):
            return argument if unset else current
        if operator in ("?", ":?"):
            if unset:
                raise MissingVariableError(f"{name}: {argument}")
            return current
        return current or ""

    return VARIABLE.sub(replace, value)


def _env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def _referenced() -> dict[str, set[str]]:
    """Variables the compose file reads (comments aside), by operator ('' for a plain ${VAR})."""
    found: dict[str, set[str]] = {}
    for text in _strings(yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))):
        for match in VARIABLE.finditer(text):
            name = match.group(1) or match.group(4)
            if name:
                found.setdefault(name, set()).add(match.group(2) or "")
    return found


def _sample_env() -> dict[str, str]:
    """The .env.example with every empty secret filled by a URL-safe dummy value."""
    return {key: value or ("" if key in OPTIONAL else f"{key.lower().replace('_', '')}0123456789abcdef")
            for key, value in _env_example().items()}


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def stack(raw) -> dict[str, Any]:
    return _interpolate(raw, _sample_env())


@pytest.fixture(scope="module")
def airflow_services(stack) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in stack["services"].items() if str(svc.get("command")) in AIRFLOW_COMMANDS}


def _host_ports(service: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(host ip, host port, container port) of each published port."""
    out = []
    for port in service.get("ports", []):
        parts = str(port).split(":")
        assert len(parts) == 3, f"publish with an explicit host IP: {port}"
        out.append((parts[0], parts[1], parts[2]))
    return out


def test_the_stack_has_every_component(stack):
    expected = {
        "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
        "airflow-worker", "airflow-db", "redis", "warehouse-db", "minio", "minio-init", "marquez",
        "marquez-web", "marquez-db", "mailpit",
    }
    assert expected <= set(stack["services"])


def test_every_service_has_a_pinned_image_or_a_build_whose_dockerfile_exists(stack):
    for name, svc in stack["services"].items():
        assert "image" in svc or "build" in svc, name
        if "build" in svc:
            build = svc["build"]
            dockerfile = ROOT / build["context"] / build.get("dockerfile", "Dockerfile")
            assert dockerfile.is_file(), name
        else:
            image = svc["image"]
            assert ":" in image and not image.endswith(":latest"), f"{name} pins no tag"


def test_dockerfile_extends_airflow_3_3_2_with_the_lock():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG AIRFLOW_IMAGE=apache/airflow:3\.3\.2-python3\.11$", text, re.M)
    assert re.search(r"^FROM \$\{AIRFLOW_IMAGE\}$", text, re.M)
    assert "pip install --no-cache-dir -r /opt/atlas/requirements.lock" in text
    assert (ROOT / "requirements.lock").is_file()
    assert "apache-airflow==3.3.2" in (ROOT / "requirements.lock").read_text(encoding="utf-8")


def test_named_volumes_are_declared_and_bind_mounts_exist(stack):
    declared = set(stack.get("volumes") or {})
    used = set()
    for name, svc in stack["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: bind mount {source} is missing"
            else:
                used.add(source)
    assert used <= declared, used - declared
    assert declared <= used, f"declared but unused: {declared - used}"


def test_every_variable_is_listed_in_env_example_and_nothing_else_is():
    listed, referenced = set(_env_example()), set(_referenced())
    assert referenced <= listed, f"missing from .env.example: {sorted(referenced - listed)}"
    assert listed <= referenced, f"unused in docker-compose.yaml: {sorted(listed - referenced)}"


def test_secrets_are_required_and_never_committed():
    referenced, example = _referenced(), _env_example()
    secrets = {name for name in referenced if SECRET_NAME.search(name)}
    assert secrets >= {"AIRFLOW_DB_PASSWORD", "AIRFLOW_FERNET_KEY", "ATLAS_PII_HMAC_KEY", "MINIO_ROOT_PASSWORD"}
    assert all(referenced[name] <= {":?"} for name in secrets), "secrets must be ${VAR:?...}, no defaults"
    assert all(example[name] == "" for name in secrets), "a secret has a value in .env.example"
    assert example["ATLAS_S3_SECRET_KEY"] == "" and example["AIRFLOW_CONN_SLACK_ATLAS"] == ""


def test_a_missing_secret_stops_compose(raw):
    env = _sample_env()
    del env["WAREHOUSE_DB_PASSWORD"]
    with pytest.raises(MissingVariableError, match="WAREHOUSE_DB_PASSWORD"):
        _interpolate(raw, env)


def test_airflow_services_share_one_core_environment(stack, airflow_services):
    assert set(airflow_services) == {
        "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker",
    }
    envs = {name: svc["environment"] for name, svc in airflow_services.items()}
    core = envs["airflow-scheduler"]
    for name, env in envs.items():
        extra = set(env) - set(core)
        assert extra <= {"DUMB_INIT_SETSID"}, name
        assert {k: env[k] for k in core} == core, name
    assert stack["services"]["airflow-init"]["environment"].items() >= core.items()
    images = {svc["image"] for svc in airflow_services.values()} | {stack["services"]["airflow-init"]["image"]}
    assert len(images) == 1


def test_core_settings_point_at_the_stack(stack, airflow_services):
    env = airflow_services["airflow-worker"]["environment"]
    services = stack["services"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis" and broker.hostname in services and broker.password
    assert urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"]).hostname == "airflow-db"
    assert urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).hostname == "airflow-db"
    assert urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]).hostname == "airflow-apiserver"
    assert env["ATLAS_LAKE_URL"] == "s3://atlas-lake" and env["ATLAS_LANDING_URL"] == "s3://atlas-landing"
    assert env["ATLAS_STORAGE_CONN_ID"] == "aws_default"
    assert "/opt/airflow/plugins" in env["PYTHONPATH"].split(":")
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] != "/opt/airflow/plugins"  # atlas is no Airflow plugin
    for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
        assert env[key], key


def test_the_api_server_loads_atlas_page_and_links_marquez(stack, airflow_services):
    """The plugins folder holds only Atlas's UI plugin; the page links Marquez's web UI on its host port."""
    api = airflow_services["airflow-apiserver"]
    folder = api["environment"]["AIRFLOW__CORE__PLUGINS_FOLDER"]
    assert f"./plugins/atlas_dashboard_plugin.py:{folder}/atlas_dashboard_plugin.py:ro" in api["volumes"]
    web_port = next(host for _, host, container in _host_ports(stack["services"]["marquez-web"])
                    if container == "3000")
    assert api["environment"]["ATLAS_MARQUEZ_URL"] == f"http://localhost:{web_port}"


def test_openlineage_goes_to_marquez_over_http(stack, airflow_services):
    env = airflow_services["airflow-worker"]["environment"]
    transport = json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    assert transport["type"] == "http"
    url = urlsplit(transport["url"])
    assert (url.scheme, url.hostname, url.port) == ("http", "marquez", 5000)
    assert "marquez" in stack["services"]
    marquez_config = yaml.safe_load(stack["configs"]["marquez-config"]["content"])
    assert marquez_config["server"]["applicationConnectors"][0]["port"] == 5000
    assert urlsplit(marquez_config["db"]["url"].removeprefix("jdbc:")).hostname == "marquez-db"
    assert env["AIRFLOW__OPENLINEAGE__NAMESPACE"] == "atlas"


def _parse_connection(env: dict[str, str], conn_id: str) -> Any:
    """The connection Airflow builds from AIRFLOW_CONN_<ID> (JSON or URI)."""
    from airflow.sdk.definitions.connection import Connection

    value = env["AIRFLOW_CONN_" + conn_id.upper()]
    if value.startswith("{"):
        return Connection.from_json(value, conn_id=conn_id)
    return Connection.from_uri(value, conn_id=conn_id)


def test_connections_parse_as_airflow_connections(raw, stack, airflow_services):
    env, sample, services = airflow_services["airflow-worker"]["environment"], _sample_env(), stack["services"]
    warehouse = _parse_connection(env, "atlas_warehouse")
    assert (warehouse.conn_type, warehouse.host, warehouse.port) == ("postgres", "warehouse-db", 5432)
    assert warehouse.password == sample["WAREHOUSE_DB_PASSWORD"] and warehouse.host in services
    aws = _parse_connection(env, "aws_default")
    endpoint = urlsplit(aws.extra_dejson["endpoint_url"])
    assert aws.conn_type == "aws" and (endpoint.hostname, endpoint.port) == ("minio", 9000)
    assert aws.login == sample["ATLAS_S3_ACCESS_KEY"] and aws.password == sample["ATLAS_S3_SECRET_KEY"]
    smtp = _parse_connection(env, "smtp_default")
    assert (smtp.conn_type, smtp.host, smtp.port) == ("smtp", "mailpit", 1025)
    assert smtp.extra_dejson["from_email"]
    pii = _parse_connection(env, "atlas_pii_key")
    assert pii.password == sample["ATLAS_PII_HMAC_KEY"]
    assert pii.extra_dejson["encryption_key"] == sample["ATLAS_PII_FERNET_KEY"]
    assert env["AIRFLOW_CONN_SLACK_ATLAS"] == ""  # optional: no connection, no Slack alerts


def test_slack_webhook_connection_passes_through_from_env(raw):
    webhook = '{"conn_type": "slackwebhook", "password": "https://hooks.example.invalid/T0/B0/X"}'
    rendered = _interpolate(raw, {**_sample_env(), "AIRFLOW_CONN_SLACK_ATLAS": webhook})
    slack = _parse_connection(rendered["services"]["airflow-worker"]["environment"], "slack_atlas")
    assert slack.conn_type == "slackwebhook" and slack.password.startswith("https://")


def test_published_ports_are_local_and_do_not_collide(stack):
    seen: dict[str, str] = {}
    for name, svc in stack["services"].items():
        for ip, host, _ in _host_ports(svc):
            assert ip == "127.0.0.1", name
            assert host not in seen, f"{name} and {seen.get(host)} both publish {host}"
            seen[host] = name
    assert {"8080", "5000", "3000", "9000", "9001", "8025"} <= set(seen)


def test_depends_on_names_exist_and_conditions_are_satisfiable(stack):
    services = stack["services"]
    for name, svc in services.items():
        for dep, rule in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep}, which has no healthcheck"
            elif condition == "service_completed_successfully":
                assert services[dep].get("restart") == "no", f"{dep} is not a one-shot job"
    _assert_acyclic({name: set(svc.get("depends_on") or {}) for name, svc in services.items()})


def _assert_acyclic(graph: dict[str, set[str]]) -> None:
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, f"dependency cycle: {' -> '.join((*path, node))}"
        if node not in done:
            for dep in graph[node]:
                visit(dep, (*path, node))
            done.add(node)

    for node in graph:
        visit(node, ())


def test_long_running_services_have_healthchecks(stack):
    for name, svc in stack["services"].items():
        if svc.get("restart") != "no" and not svc.get("profiles"):
            assert "healthcheck" in svc, name


def test_workers_scale_out(stack):
    assert not any("container_name" in svc for svc in stack["services"].values())
    worker = stack["services"]["airflow-worker"]
    assert not worker.get("ports")
    assert {"minio-init", "warehouse-db", "airflow-init"} <= set(worker["depends_on"])


def test_code_is_mounted_read_only_into_every_airflow_service(stack, airflow_services):
    for name, svc in airflow_services.items():
        mounts = set(svc["volumes"])
        for folder in ("dags", "plugins", "include"):
            assert f"./{folder}:/opt/airflow/{folder}:ro" in mounts, (name, folder)
        assert "airflow-logs:/opt/airflow/logs" in mounts, name


def test_minio_init_creates_the_buckets_the_urls_name(stack, airflow_services):
    env = airflow_services["airflow-worker"]["environment"]
    script = stack["services"]["minio-init"]["command"][0]
    for url in (env["ATLAS_LAKE_URL"], env["ATLAS_LANDING_URL"]):
        bucket = urlsplit(url).hostname
        assert f"local/{bucket}" in script
        assert f"arn:aws:s3:::{bucket}/*" in script
    assert "${ATLAS_S3_ACCESS_KEY}" in script  # expanded by the container's shell, not by compose


def test_admin_user_comes_from_env(stack):
    init = stack["services"]["airflow-init"]
    assert "airflow db migrate" in init["command"][-1]
    assert init["environment"]["AIRFLOW_ADMIN_PASSWORD"] == _sample_env()["AIRFLOW_ADMIN_PASSWORD"]
    passwords_file = init["environment"]["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    api_mounts = stack["services"]["airflow-apiserver"]["volumes"]
    assert any(passwords_file.startswith(m.split(":")[1]) for m in api_mounts if m.startswith("airflow-auth:"))
