"""The FastAPI app the api-server mounts at ``/atlas``: the page, its JSON API, plotly.js.

Routes (relative to the mount):

- ``GET /`` — the page (``?table=&ds=&days=``; defaults: first table, latest date with data, 14 days of trend);
- ``GET /api/v1/tables`` — the tables the user may read, with their dates;
- ``GET /api/v1/tables/{table}/{ds}`` — the page's whole document as JSON (``ds`` may be ``latest``);
- ``GET /api/v1/tables/{table}/{ds}/{section}`` — one section of it;
- ``GET /static/...`` — plotly.js from the plotly package, the page's script and style (no data).

Data routes need a logged-in Airflow user (the UI's ``_token`` cookie or an
``Authorization: Bearer`` JWT, checked by Airflow's own dependency) who may read the table's DAG
runs: 401 without a user, 403 for an invalid token or a DAG the user may not read, 400 with a
message for an unknown table, a malformed date or an unknown section.
"""

# No ``from __future__ import annotations`` here: the routes are defined inside create_app with
# locally imported types (Airflow's auth and session dependencies), which FastAPI must see as
# objects, not as strings it would resolve against this module's globals.
import gzip
import hashlib
import json
import logging
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas.dashboard.params import SECTIONS, BadRequest, parse_days, parse_ds, parse_section, parse_table

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATIC = HERE / "static"
MOUNT = "/atlas"
NO_STORE = {"Cache-Control": "no-store"}
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'; "
                               "base-uri 'none'; form-action 'self'",
}


@cache
def plotly_js() -> tuple[str, bytes, bytes]:
    """plotly.js bundled in the plotly package: (version, source, gzip-compressed source)."""
    from plotly.offline import get_plotlyjs, get_plotlyjs_version

    source = get_plotlyjs().encode("utf-8")
    return get_plotlyjs_version(), source, gzip.compress(source, compresslevel=6, mtime=0)


@cache
def static_file(name: str) -> tuple[bytes, str]:
    """The page's own script or style and a short content hash for cache-busting URLs."""
    data = (STATIC / name).read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:12]


def json_for_script(value: Any) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` or HTML entities)."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class TableSpecs:
    """The configured table specs, reloaded when a file in the tables folder changes."""

    def __init__(self) -> None:
        self._stamp: tuple[Any, ...] | None = None
        self._specs: dict[str, Any] = {}

    def get(self) -> dict[str, Any]:
        from atlas import settings
        from atlas.config import load_valid_specs

        folder = settings.tables_dir()
        stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.yml")))
        if stamp != self._stamp:
            self._specs, self._stamp = load_valid_specs(folder), stamp
        return self._specs


def create_app() -> "FastAPI":
    """Build the app (inside the api-server, where Airflow's auth manager is initialised)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
    from airflow.api_fastapi.common.db.common import SessionDep
    from airflow.api_fastapi.core_api.security import GetUserDep
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from atlas.dashboard import charts
    from atlas.dashboard.report import day_report
    from atlas.dashboard.runs import ui_root
    from atlas.dashboard.warehouse import SnapshotPool, WarehouseUnavailable

    app = FastAPI(title="Atlas", docs_url=None, redoc_url=None, openapi_url=None)
    pool, specs = SnapshotPool(), TableSpecs()
    templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                            trim_blocks=True, lstrip_blocks=True)
    charts.warm_up()

    def authorized(user: Any, dag_ids: set[str]) -> set[str]:
        return get_auth_manager().filter_authorized_dag_ids(dag_ids=dag_ids, user=user, method="GET")

    def may_read(user: Any, spec: Any) -> None:
        allowed = get_auth_manager().is_authorized_dag(method="GET", access_entity=DagAccessEntity.RUN,
                                                       details=DagDetails(id=spec.dag_id), user=user)
        if not allowed:
            raise HTTPException(403, f"not allowed to read the runs of {spec.dag_id}")

    def wants_html(request: Request) -> bool:
        return not request.url.path.startswith(f"{request.scope.get('root_path', '')}/api/")

    def error_page(request: Request, status: int, message: str) -> HTMLResponse:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")  # same site only
        login = get_auth_manager().get_url_login(next_url=back) if status == 401 else None
        html = templates.get_template("error.html").render(status=status, message=message, login=login,
                                                           css=static_url(request, "dashboard.css"))
        return HTMLResponse(html, status_code=status, headers={**NO_STORE, **SECURITY_HEADERS})

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest) -> Response:
        if wants_html(request):
            return error_page(request, 400, str(exc))
        return JSONResponse({"detail": str(exc)}, status_code=400, headers=NO_STORE)

    @app.exception_handler(WarehouseUnavailable)
    async def unavailable(request: Request, exc: WarehouseUnavailable) -> Response:
        if wants_html(request):
            return error_page(request, 503, str(exc))
        return JSONResponse({"detail": str(exc)}, status_code=503, headers=NO_STORE)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_html(request) and exc.status_code in (401, 403, 404):
            return error_page(request, exc.status_code, str(exc.detail))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers={**NO_STORE, **(exc.headers or {})})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"detail": "invalid request parameters"}, status_code=400, headers=NO_STORE)

    def static_url(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '')}/static/{name}?v={static_file(name)[1]}"

    def read(user: Any, session: Any, table: str | None, ds: str | None, days: str | None,
             sections: tuple[str, ...] = SECTIONS) -> dict[str, Any]:
        spec = parse_table(table, specs.get())
        day, window = parse_ds(ds), parse_days(days)
        may_read(user, spec)
        with pool.snapshot() as conn:
            return day_report(conn, session, spec, day, window, sections)

    @app.get("/", response_class=HTMLResponse)
    def page(request: Request, user: GetUserDep, session: SessionDep, table: str | None = None,
             ds: str | None = None, days: str | None = None) -> Response:
        started = time.perf_counter()
        doc = read(user, session, table, ds, days)
        known = specs.get()
        readable = authorized(user, {s.dag_id for s in known.values()})
        root = request.scope.get("root_path", "")
        api_url = f"{root}/api/v1/tables/{doc['table']}/{doc['logical_date']}"
        html = templates.get_template("page.html").render(
            doc=doc, figures=json_for_script(charts.figures(doc)),
            tables=[t for t, s in sorted(known.items()) if s.dag_id in readable],
            days=parse_days(days), page_url=f"{root}/", api_url=api_url,
            plotly_url=f"{root}/static/plotly-{plotly_js()[0]}.min.js", script_url=static_url(request, "dashboard.js"),
            css_url=static_url(request, "dashboard.css"), airflow_root=ui_root(),
            rendered_ms=round((time.perf_counter() - started) * 1000, 1))
        return HTMLResponse(html, headers={**NO_STORE, **SECURITY_HEADERS})

    @app.get("/api/v1/tables")
    def tables(user: GetUserDep) -> JSONResponse:
        known = specs.get()
        readable = authorized(user, {s.dag_id for s in known.values()})
        from atlas.dashboard.queries import dates_with_data

        with pool.snapshot() as conn:
            body = [{"table": t, "dag_id": s.dag_id, "description": s.description.strip(), "owner": s.owner,
                     "dates": dates_with_data(conn, t)}
                    for t, s in sorted(known.items()) if s.dag_id in readable]
        return JSONResponse({"tables": body}, headers=NO_STORE)

    @app.get("/api/v1/tables/{table}/{ds}")
    def day(user: GetUserDep, session: SessionDep, table: str, ds: str, days: str | None = None) -> JSONResponse:
        return JSONResponse(read(user, session, table, ds, days), headers=NO_STORE)

    @app.get("/api/v1/tables/{table}/{ds}/{section}")
    def section(user: GetUserDep, session: SessionDep, table: str, ds: str, section: str,
                days: str | None = None) -> JSONResponse:
        name = parse_section(section)
        doc = read(user, session, table, ds, days, (name,))
        return JSONResponse({k: doc[k] for k in ("table", "dag_id", "logical_date", name)}, headers=NO_STORE)

    @app.get("/api")
    def api_root(request: Request) -> RedirectResponse:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/api/v1/tables")

    @app.get("/static/plotly-{version}.min.js")
    def plotly(request: Request, version: str) -> Response:
        current, source, compressed = plotly_js()
        if version != current:
            raise HTTPException(404, f"plotly.js {current} is served, not {version}")
        headers = {**IMMUTABLE, "X-Content-Type-Options": "nosniff", "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(compressed, media_type="text/javascript", headers={**headers, "Content-Encoding": "gzip"})
        return Response(source, media_type="text/javascript", headers=headers)

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        types = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
        if name not in types:
            raise HTTPException(404, "no such file")
        return Response(static_file(name)[0], media_type=types[name],
                        headers={**IMMUTABLE, "X-Content-Type-Options": "nosniff"})

    app.state.pool = pool
    return app
