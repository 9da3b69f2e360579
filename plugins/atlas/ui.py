"""``make ui``: the Airflow UI (api-server, scheduler, dag-processor, triggerer) on the local warehouse."""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

from atlas import runtime_env, settings

USER = "admin"


def admin_password(airflow_home: Path) -> str:
    """The admin password for Airflow's simple auth manager, created once per ATLAS_HOME."""
    path = airflow_home / "simple_auth_manager_passwords.json.generated"
    if path.exists():
        return json.loads(path.read_text())[USER]
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    path.write_text(json.dumps({USER: password}))
    path.chmod(0o600)
    return password


def standalone_env(port: int = 8080, airflow_home: Path | None = None) -> dict[str, str]:
    """Environment for ``airflow standalone`` on the local warehouse and lake.

    ``airflow_home`` gives the server its own metadata DB and login (default: ``AIRFLOW_HOME``).
    """
    runtime_env.configure()
    home = airflow_home or Path(os.environ["AIRFLOW_HOME"])
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "simple_auth_manager_passwords.json.generated"),
        "AIRFLOW__API__HOST": env.get("AIRFLOW__API__HOST", "127.0.0.1"),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        "AIRFLOW__CORE__PARALLELISM": env.get("AIRFLOW__CORE__PARALLELISM", "4"),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
    })
    admin_password(home)
    return env


def banner(port: int, password: str) -> str:
    """What ``make ui`` prints: where the UI and Atlas's page are, and the login."""
    base = f"http://localhost:{port}"
    return "\n".join([
        f"Airflow UI: {base}   login: {USER} / {password}",
        f"Atlas page: {base}/plugin/atlas   (Atlas in the UI's navigation; the page alone: {base}/atlas/, "
        f"its JSON API: {base}/atlas/api/v1/tables)",
        "DAGs start paused: unpause atlas_customers / atlas_orders in the UI, or trigger them.",
    ])


def main() -> None:
    port = int(os.environ.get("ATLAS_UI_PORT", "8080"))
    env = standalone_env(port)
    from atlas.warehouse import connect, embedded, ensure_warehouse

    dsn = embedded.ensure_running(settings.embedded_warehouse_dir()) if "AIRFLOW_CONN_ATLAS_WAREHOUSE" not in env \
        else env["AIRFLOW_CONN_ATLAS_WAREHOUSE"]
    with connect(dsn) as conn:
        ensure_warehouse(conn)
    print(banner(port, admin_password(Path(env["AIRFLOW_HOME"]))))
    os.execvpe("airflow", ["airflow", "standalone"], env)  # noqa: S606 - replaces this process


if __name__ == "__main__":
    main()
