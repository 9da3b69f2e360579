"""Atlas's page in the Airflow UI, registered through Airflow's plugin manager.

The api-server mounts the page's FastAPI app at ``/atlas`` (``fastapi_apps``); the external view
adds "Atlas" to the UI's navigation and shows the page inside the UI (``/plugin/atlas``). The
app itself lives in ``atlas.dashboard`` and is built on the first request.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin

from atlas.dashboard.asgi import dashboard_app

URL_PREFIX = "/atlas"
# the UI's path from [api] base_url ("/" unless Airflow is served under a path prefix)
UI_ROOT = urlsplit(conf.get("api", "base_url", fallback="") or "/").path.rstrip("/")


class AtlasDashboardPlugin(AirflowPlugin):
    name = "atlas_dashboard"
    fastapi_apps = [{"app": dashboard_app, "url_prefix": URL_PREFIX, "name": "Atlas"}]
    external_views = [{
        "name": "Atlas",
        "href": f"{UI_ROOT}{URL_PREFIX}/",
        "url_route": "atlas",
        "destination": "nav",
        "category": None,
    }]
