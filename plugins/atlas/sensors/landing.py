"""wait_for_source: wait until the table's file(s) for the logical date have landed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from atlas.config import TableSpec
from atlas.context import RunDateTemplating

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath


def find_sources(spec: TableSpec, source_path: str, source_file: str) -> list[ObjectStoragePath]:
    """The files a run ingests: its ``source_file`` param used literally when given (and then
    they must exist now), else the rendered configured path. Both stay under the landing root."""
    from atlas import storage
    from atlas.errors import AtlasSourceError
    from atlas.sources import shown

    if not source_file:
        return storage.resolve_source(source_path, spec.source.allowed_roots)
    files = storage.resolve_source(source_file, spec.source.allowed_roots, param="source_file")
    if not files:
        raise AtlasSourceError(f"param source_file: no file matches {shown(source_file)} under the landing root "
                               f"{storage.landing_root_url()}; a file named in the run's conf must exist when "
                               "the run starts")
    return files


class LandedFileSensor(RunDateTemplating, BaseSensorOperator):
    """Waits until a table's file(s) for the run have landed and pushes their URLs to XCom;
    ``ingest_bronze`` ingests exactly those files.

    The configured path waits (reschedule mode, ``poke_interval`` and ``timeout`` from the
    table's ``source``); a file named in the run's ``source_file`` param must exist at once.
    Paths outside the landing root and permanent storage errors fail without retries.

    :param spec: the table's spec.
    :param source_path: glob under the landing root for the run (templated; default: the spec's
        ``source.path``, e.g. ``customers/{{ ds }}/*.csv``).
    :param source_file: a file URL or glob that replaces ``source_path`` for this run (templated,
        normally ``{{ params.source_file }}``). Its value is data: used literally, never rendered.
    """

    template_fields = ("source_path", "source_file")
    ui_color = "#fef3c7"

    def __init__(self, *, spec: TableSpec, source_path: str | None = None, source_file: str = "",
                 **kwargs: Any) -> None:
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("poke_interval", spec.source.poke_interval_seconds)
        kwargs.setdefault("timeout", spec.source.timeout_seconds)
        super().__init__(**kwargs)
        self.spec = spec
        self.source_path = spec.source.path if source_path is None else source_path
        self.source_file = source_file
        self.found: list[ObjectStoragePath] = []  # files of the last poke

    def poke(self, context: Context) -> PokeReturnValue:
        from atlas.storage import url_of

        files = find_sources(self.spec, self.source_path, (self.source_file or "").strip())
        self.log.info("looking for %s: %d file(s) found", self.source_file or self.source_path, len(files))
        self.found = files
        return PokeReturnValue(is_done=bool(files), xcom_value=[url_of(f) for f in files])

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The landed files this run will ingest, as input datasets."""
        from airflow.providers.openlineage.extractors import OperatorLineage

        from atlas import storage
        from atlas.lineage import dataset

        return OperatorLineage(inputs=[dataset(*storage.lineage_namespace(f)) for f in self.found])
