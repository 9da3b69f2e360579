"""A local stand-in for Marquez's lineage endpoint that validates every OpenLineage event.

``POST /api/v1/lineage`` bodies are checked against ``tests/openlineage_schema/`` (the core
``OpenLineage.json`` plus each facet schema, resolved through a ``referencing`` registry keyed
by ``$id``: nothing is fetched) and recorded as valid or invalid; the answer is 201 like Marquez.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "openlineage_schema"
ENDPOINT = "api/v1/lineage"
# where each kind of facet sits in an event: (container key, facet-dict key)
FACET_PLACES = {
    "RunFacet": [("run", "facets")],
    "JobFacet": [("job", "facets")],
    "DatasetFacet": [("inputs", "facets"), ("outputs", "facets")],
    "InputDatasetFacet": [("inputs", "inputFacets")],
    "OutputDatasetFacet": [("outputs", "outputFacets")],
}


@dataclass(frozen=True)
class FacetSchema:
    """One facet schema file: the facet names it defines and where they belong."""

    kind: str  # RunFacet, JobFacet, DatasetFacet, InputDatasetFacet, OutputDatasetFacet
    names: frozenset[str]
    validator: Any


class EventValidator:
    """Validates OpenLineage events against the core schema and every facet schema it has."""

    def __init__(self, schema_dir: Path = SCHEMA_DIR) -> None:
        from jsonschema import Draft202012Validator, FormatChecker
        from referencing import Registry, Resource

        schemas = [json.loads(p.read_text()) for p in sorted(schema_dir.rglob("*.json"))]
        registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
        core = next(s for s in schemas if s["$id"].endswith("/OpenLineage.json"))
        checker = FormatChecker()
        self.core = Draft202012Validator(core, registry=registry, format_checker=checker)
        self.facets = [FacetSchema(_facet_kind(s), frozenset(s["properties"]),
                                   Draft202012Validator(s, registry=registry, format_checker=checker))
                       for s in schemas if s is not core]

    def errors(self, event: dict[str, Any]) -> list[str]:
        """Every schema violation in ``event`` (empty when valid)."""
        found = [f"event: {e.message[:300]}" for e in self.core.iter_errors(event)]
        for kind, places in FACET_PLACES.items():
            for container, key in places:
                for where, facets in _facet_dicts(event, container, key):
                    found += self._facet_errors(kind, f"{where}.{key}", facets)
        return found

    def _facet_errors(self, kind: str, where: str, facets: dict[str, Any]) -> list[str]:
        found = []
        for name in facets:
            schemas = [f for f in self.facets if name in f.names]
            if not schemas:
                continue  # a facet without a local schema (e.g. the provider's airflow facets): core checks only
            matching = [f for f in schemas if f.kind == kind]
            if not matching:
                found.append(f"{where}.{name}: a {schemas[0].kind}, not a {kind}")
            for facet in matching:
                errors = facet.validator.iter_errors({name: facets[name]})
                found += [f"{where}.{name}: {e.message[:300]}" for e in errors]
        return found

    def known_facets(self) -> set[str]:
        return {name for f in self.facets for name in f.names}


def _facet_kind(schema: dict[str, Any]) -> str:
    """RunFacet/JobFacet/... from the facet definition's ``allOf`` reference into OpenLineage.json."""
    for definition in schema["$defs"].values():
        for part in definition.get("allOf", []):
            if "$ref" in part and "OpenLineage.json#/$defs/" in part["$ref"]:
                return part["$ref"].rsplit("/", 1)[-1]
    raise ValueError(f"{schema['$id']}: no OpenLineage base facet")


def _facet_dicts(event: dict[str, Any], container: str, key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    value = event.get(container)
    items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    for index, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get(key), dict):
            yield (f"{container}[{index}]" if isinstance(value, list) else container), item[key]


@dataclass
class LineageReceiver:
    """Events received so far; ``invalid`` holds (event, errors) pairs."""

    url: str
    valid: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[tuple[dict[str, Any], list[str]]] = field(default_factory=list)
    rejected_requests: int = 0

    def transport(self) -> str:
        """``AIRFLOW__OPENLINEAGE__TRANSPORT`` pointing the HTTP transport here, as for Marquez."""
        return json.dumps({"type": "http", "url": self.url, "endpoint": ENDPOINT})


def _handler(receiver: LineageReceiver, validator: EventValidator, lock: threading.Lock) -> type:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path.strip("/") != ENDPOINT:
                with lock:
                    receiver.rejected_requests += 1
                self.send_response(404)
                self.end_headers()
                return
            try:
                event = json.loads(body)
                errors = validator.errors(event)
            except ValueError as exc:
                event, errors = {}, [f"not JSON: {exc}"]
            with lock:
                if errors:
                    receiver.invalid.append((event, errors))
                else:
                    receiver.valid.append(event)
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: no request lines in the test output."""

    return Handler


@contextmanager
def lineage_receiver() -> Iterator[LineageReceiver]:
    """A receiver on a free 127.0.0.1 port, served from a thread until the block ends."""
    lock = threading.Lock()
    receiver = LineageReceiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver, EventValidator(), lock))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="lineage-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
