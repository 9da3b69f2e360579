"""An ASGI app that builds the dashboard app on its first request.

Airflow imports every plugin file in every process (scheduler, task runners, DAG processor);
only the api-server serves requests. Deferring the FastAPI app (and Airflow's API security
modules, plotly, Jinja) to the first request keeps the plugin import cheap everywhere else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class LazyASGIApp:
    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._app: Any = None
        self._lock = threading.Lock()

    @property
    def app(self) -> Any:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = self._factory()
        return self._app

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        await self.app(scope, receive, send)


def _create() -> Any:
    from atlas.dashboard.app import create_app

    return create_app()


dashboard_app = LazyASGIApp(_create)
