"""Which DAG builds each gold model and publishes each AI-ready dataset, from the configs and the SQL.

- A **per-table model** reads only its own table's silver (``order_facts``: ``silver.orders``).
  The table lists it under ``gold.models`` and its DAG's ``build_gold`` builds it.
- A **cross-table model** reads the silver of more than one table (``customer_360``:
  ``silver.customers`` and ``silver.orders``). It gets its own DAG ``atlas_gold_<model>``,
  scheduled on the Asset condition "every input's silver for the same date", listed under
  ``gold.models`` by any of its input tables (conventionally all of them).
- An **AI-ready dataset** is published by the DAG that builds its source: a silver source or a
  per-table model in the table's own DAG, a cross-table model in that model's DAG
  (``customer_features`` from ``gold.customer_360`` in ``atlas_gold_customer_360``).

What a model reads comes from its SQL (:func:`atlas.gold.model_tables`), so the asset
condition, the lineage and the PII guards all follow the same inputs. A broken model or
reference breaks only the DAG that would run it (the error names the table config).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from atlas.config import GoldSpec, TableSpec
from atlas.errors import AtlasConfigError, AtlasError
from atlas.gold import ModelTables, model_tables

CROSS_TABLE_PREFIX = "atlas_gold_"


@dataclass(frozen=True)
class CrossTableModel:
    """A gold model over several tables, built (and its AI-ready datasets published) in its own DAG."""

    tables: ModelTables
    specs: tuple[TableSpec, ...]  # every input table, in input order
    publishers: tuple[TableSpec, ...] = ()  # tables whose ai_ready dataset is built from this model

    @property
    def name(self) -> str:
        return self.tables.model

    @property
    def dag_id(self) -> str:
        return f"{CROSS_TABLE_PREFIX}{self.name}"

    @property
    def lead(self) -> TableSpec:
        """The table whose settings (owner, retries, alerts' runbook) the DAG takes: the one that
        publishes from the model, else the first input."""
        return (self.publishers or self.specs)[0]

    def model_spec(self) -> TableSpec:
        """The lead spec with this model as its only gold model (what the gold checks scan)."""
        return self.lead.model_copy(update={"gold": GoldSpec(models=(self.name,))})


@dataclass(frozen=True)
class TablePlan:
    """What a table's own DAG builds in ``build_gold`` and ``publish_ai_ready``."""

    models: tuple[ModelTables, ...] = ()
    ai_ready_dag: str | None = None  # the DAG that publishes this table's dataset, if another one
    feeds: tuple[str, ...] = ()  # cross-table DAGs this table's silver feeds


@dataclass(frozen=True)
class GoldPlan:
    tables: dict[str, TablePlan] = field(default_factory=dict)
    cross_table: dict[str, CrossTableModel] = field(default_factory=dict)
    errors: dict[str, AtlasConfigError] = field(default_factory=dict)  # by DAG id


def plan_gold(specs: Mapping[str, TableSpec], broken: Mapping[str, AtlasConfigError] | None = None) -> GoldPlan:
    """The plan for every valid table spec; ``broken`` are tables whose config failed to load."""
    broken = dict(broken or {})
    plan = GoldPlan()
    parsed: dict[str, ModelTables | AtlasError] = {}
    for spec in specs.values():
        for model in spec.gold.models:
            if model not in parsed:
                try:
                    parsed[model] = model_tables(model)
                except AtlasError as exc:
                    parsed[model] = exc
    cross = {m: t for m, t in parsed.items() if isinstance(t, ModelTables) and len(set(t.inputs)) > 1}
    for model, tables in sorted(cross.items()):
        dag_id = f"{CROSS_TABLE_PREFIX}{model}"
        try:
            plan.cross_table[model] = _cross_table(tables, specs, broken)
        except AtlasConfigError as exc:
            plan.errors[dag_id] = exc
    for table, spec in specs.items():
        try:
            plan.tables[table] = _table_plan(spec, parsed, cross)
        except AtlasConfigError as exc:
            plan.errors[spec.dag_id] = exc
    return plan


def _error(spec: TableSpec, where: str, message: str) -> AtlasConfigError:
    return AtlasConfigError(f"{spec.table}.yml", where, message)


def _cross_table(tables: ModelTables, specs: Mapping[str, TableSpec],
                 broken: Mapping[str, AtlasConfigError]) -> CrossTableModel:
    where = f"gold model {tables.model} (include/sql/gold/{tables.model}.sql)"
    not_silver = [t for t in tables.inputs if not t.startswith("silver.")]
    if not_silver:
        raise AtlasConfigError(where, "inputs", f"a cross-table model reads silver tables only, not {not_silver}")
    for table in tables.silver_tables:
        if table in broken:
            raise AtlasConfigError(where, "inputs", f"input table '{table}' has a broken config: {broken[table]}")
        if table not in specs:
            raise AtlasConfigError(where, "inputs", f"input table '{table}' has no config in include/tables/")
    input_specs = tuple(specs[t] for t in tables.silver_tables)
    publishers = tuple(s for s in specs.values() if s.ai_ready and s.ai_ready.source == tables.output)
    return CrossTableModel(tables, input_specs, publishers)


def _table_plan(spec: TableSpec, parsed: Mapping[str, ModelTables | AtlasError],
                cross: Mapping[str, ModelTables]) -> TablePlan:
    """``cross``: every cross-table model (its DAG may be a broken placeholder; this table's is not)."""
    own = f"silver.{spec.table}"
    models: list[ModelTables] = []
    feeds: list[str] = []
    for name in spec.gold.models:
        tables = parsed[name]
        if isinstance(tables, AtlasError):
            raise _error(spec, "gold.models", str(tables))
        if name in cross:
            if own not in tables.inputs:
                raise _error(spec, "gold.models", f"cross-table model '{name}' does not read {own}")
            feeds.append(f"{CROSS_TABLE_PREFIX}{name}")
        elif tables.inputs != (own,):
            raise _error(spec, "gold.models", f"model '{name}' reads {', '.join(tables.inputs)}, not {own}: "
                                              "list it in the config of the table it reads")
        else:
            models.append(tables)
    if spec.ai_ready is None:
        return TablePlan(tuple(models), feeds=tuple(feeds))
    source = spec.ai_ready.source
    if source == own or source in {m.output for m in models}:
        return TablePlan(tuple(models), feeds=tuple(feeds))
    source_model = next((t for t in cross.values() if t.output == source), None)
    if source_model is None:
        raise _error(spec, "ai_ready.source", f"{source} is neither silver.{spec.table}, a model this table builds, "
                                              "nor a cross-table model listed under gold.models")
    return TablePlan(tuple(models), ai_ready_dag=f"{CROSS_TABLE_PREFIX}{source_model.model}", feeds=tuple(feeds))

