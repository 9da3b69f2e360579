"""A real Airflow for tests: api-server, scheduler (LocalExecutor) and dag-processor.

``extra_components`` adds more (e.g. ``"celery worker"``, with the CeleryExecutor set in ``extra_env``).

The server gets a free port on 127.0.0.1 and its own AIRFLOW_HOME (SQLite metadata DB, login,
task logs) while sharing the session's warehouse, lake and landing area; the environment is
``atlas.ui.standalone_env`` (what ``make ui`` runs). Each component runs in its own session
(``setsid``), so stopping ends every process it started, including task runners that move to
their own process groups. No triggerer: Atlas's sensor reschedules instead of deferring. Tests
talk to the server over HTTP only (:class:`ApiClient`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

TERMINAL_RUN_STATES = {"success", "failed"}


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ApiClient:
    """Airflow REST API v2 over HTTP, optionally with a bearer token."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, **kwargs)

    def json(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        """The JSON body of a call that must answer ``expect``."""
        response = self.request(method, path, **kwargs)
        if response.status_code != expect:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    def close(self) -> None:
        self.http.close()


COMPONENTS = ("api-server", "scheduler", "dag-processor")


@dataclass
class AirflowServer:
    """A running Airflow; see :func:`airflow_server`."""

    base_url: str
    airflow_home: Path
    processes: dict[str, subprocess.Popen[bytes]]
    startup_seconds: float = 0.0
    username: str = "admin"

    def password(self) -> str:
        from atlas.ui import admin_password

        return admin_password(self.airflow_home)

    def token(self) -> str:
        """A JWT from the simple auth manager (``POST /auth/token``)."""
        anonymous = ApiClient(self.base_url)
        try:
            body = anonymous.json("POST", "/auth/token", expect=201,
                                  json={"username": self.username, "password": self.password()})
        finally:
            anonymous.close()
        return body["access_token"]

    def client(self, authenticated: bool = True) -> ApiClient:
        return ApiClient(self.base_url, self.token() if authenticated else None)

    def log_tail(self, component: str, lines: int = 40) -> str:
        """The end of a component's output (component logs; task logs are under ``logs/``)."""
        path = self.airflow_home / f"{component.replace(' ', '-')}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        """Fail fast, with the component's log, if a component exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"airflow {name} exited with {process.returncode}:\n{self.log_tail(name)}")

    def session_processes(self) -> list[int]:
        """Every live process the server started (components, their workers, task runners)."""
        return [pid for process in self.processes.values() for pid in session_processes(process.pid)]


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 1.0,
               check: Callable[[], None] | None = None) -> Any:
    """Poll ``condition`` until it returns something truthy; TimeoutError naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        if check:
            check()
        try:
            result = condition()
        except httpx.TransportError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _healthy(base_url: str) -> bool:
    """The API answers and the scheduler and DAG processor heartbeat."""
    response = httpx.get(f"{base_url}/api/v2/monitor/health", timeout=5)
    if response.status_code != 200:
        return False
    health = response.json()
    return all(health.get(part, {}).get("status") == "healthy"
               for part in ("metadatabase", "scheduler", "dag_processor"))


def server_env(airflow_home: Path, port: int, parallelism: int, extra: dict[str, str] | None) -> dict[str, str]:
    """``atlas.ui.standalone_env`` for a test server: own home, free ports on 127.0.0.1, few task slots."""
    from atlas.ui import standalone_env

    base_url = f"http://127.0.0.1:{port}"
    env = standalone_env(port, airflow_home=airflow_home)
    env.update({
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        **(extra or {}),
    })
    return env


def _start(component: str, env: dict[str, str], airflow_home: Path) -> subprocess.Popen[bytes]:
    """One component in its own session (so it and everything it forks can be found and stopped)."""
    with (airflow_home / f"{component.replace(' ', '-')}.log").open("wb") as log:
        return subprocess.Popen(["airflow", *component.split()], env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=airflow_home)


@contextmanager
def airflow_server(airflow_home: Path, *, parallelism: int = 2, startup_timeout: float = 240,
                   extra_env: dict[str, str] | None = None,
                   extra_components: tuple[str, ...] = ()) -> Iterator[AirflowServer]:
    """Migrate a metadata DB, start api-server, scheduler, dag-processor and ``extra_components``
    (``airflow <component>``, e.g. ``"celery worker"``), wait until healthy; on exit stop every
    process they started."""
    airflow_home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = server_env(airflow_home, port, parallelism, extra_env)
    started = time.monotonic()
    subprocess.run(["airflow", "db", "migrate"], env=env, check=True, capture_output=True, timeout=startup_timeout)
    server = AirflowServer(f"http://127.0.0.1:{port}", airflow_home, {})
    try:
        for component in (*COMPONENTS, *extra_components):
            server.processes[component] = _start(component, env, airflow_home)
        wait_until(lambda: _healthy(server.base_url), startup_timeout, "the Airflow API to be healthy",
                   check=server.check_alive)
        server.startup_seconds = time.monotonic() - started
        yield server
    finally:
        stop_all(list(server.processes.values()))


def session_processes(sid: int) -> list[int]:
    """Every live process in session ``sid``."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getsid(int(entry)) == sid:
                pids.append(int(entry))
        except (ProcessLookupError, PermissionError):
            continue
    return pids


def _signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def stop_all(processes: list[subprocess.Popen[bytes]], timeout: float = 30) -> None:
    """SIGTERM every process of the components' sessions; SIGKILL what is left after ``timeout``."""
    def alive() -> list[int]:
        for process in processes:
            process.poll()  # reap exited leaders
        return [pid for process in processes for pid in session_processes(process.pid)]

    _signal_all(alive(), signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while (left := alive()) and time.monotonic() < deadline:
        time.sleep(0.5)
    _signal_all(left, signal.SIGKILL)
    for process in processes:
        process.wait(timeout=10)
    wait_until(lambda: not alive(), 10, "the server's processes to end", interval=0.2)


def wait_for_dag(client: ApiClient, dag_id: str, timeout: float = 120) -> dict[str, Any]:
    """The DAG as the API lists it, once the DAG processor has parsed and serialized it."""
    def found() -> dict[str, Any] | None:
        response = client.request("GET", f"/api/v2/dags/{dag_id}")
        return response.json() if response.status_code == 200 else None

    return wait_until(found, timeout, f"DAG {dag_id} to be parsed", interval=2)


def wait_for_run(client: ApiClient, dag_id: str, run_id: str, timeout: float = 300,
                 check: Callable[[], None] | None = None) -> dict[str, Any]:
    """Poll ``GET dagRuns/{run_id}`` until the run succeeds or fails; returns the run."""
    def finished() -> dict[str, Any] | None:
        run = client.json("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        return run if run["state"] in TERMINAL_RUN_STATES else None

    return wait_until(finished, timeout, f"run {run_id} of {dag_id} to finish", interval=3, check=check)
