"""Row rules from the table config (``rules:``): a SQL expectation per rule and an action.

Evaluated on the staged silver rows (typed, PII already protected) before deduplication:

- ``keep``: violations are counted (``atlas_meta.run_metrics``) and the rows stay;
- ``drop``: violating rows move to ``quarantine.<table>`` with the rule's name and reason;
- ``fail``: any violation stops the run (fail fast), nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from atlas.config import RowRule, TableSpec
from atlas.errors import AtlasRowRuleError
from atlas.warehouse.bulk_copy import quote_ident

if TYPE_CHECKING:
    from psycopg2.extensions import cursor as PgCursor


@dataclass(frozen=True)
class RuleOutcome:
    name: str
    action: str
    violations: int


def _violations(cur: PgCursor, stage: str, rule: RowRule) -> int:
    cur.execute(f"SELECT count(*) FROM {stage} WHERE NOT coalesce(({rule.expect}), false)")
    return int(cur.fetchone()[0])


def _quarantine(cur: PgCursor, spec: TableSpec, stage: str, rule: RowRule) -> int:
    """Move the stage rows breaking ``rule`` into quarantine (values as text, already protected)."""
    columns = spec.table_schema.column_names
    listed = ", ".join(quote_ident(c) for c in columns)
    as_text = ", ".join(f"{quote_ident(c)}::text" for c in columns)
    cur.execute(
        f"WITH moved AS (DELETE FROM {stage} WHERE NOT coalesce(({rule.expect}), false) RETURNING *) "
        f"INSERT INTO quarantine.{spec.table} ({listed}, _atlas_stage, _atlas_rule, _atlas_reason, _atlas_run_id, "
        "_atlas_logical_date, _atlas_source_file, _atlas_row_number) "
        f"SELECT {as_text}, 'silver', %s, %s, _atlas_run_id, _atlas_logical_date, _atlas_source_file, "
        "_atlas_row_number FROM moved",
        (f"rule.{rule.name}", rule.reason or f"breaks rule {rule.name}: {rule.expect}"),
    )
    return cur.rowcount


def apply_row_rules(cur: PgCursor, spec: TableSpec, stage: str) -> tuple[list[RuleOutcome], dict[str, int]]:
    """Apply every configured rule to the stage; returns outcomes and quarantine counts by reason."""
    outcomes: list[RuleOutcome] = []
    dropped: dict[str, int] = {}
    failed = []
    for rule in spec.rules:
        count = _violations(cur, stage, rule)
        if rule.action == "fail" and count:
            failed.append(f"{rule.name}: {count} row(s) break {rule.expect}")
        if rule.action == "drop" and count:
            moved = _quarantine(cur, spec, stage, rule)
            reason = rule.reason or f"breaks rule {rule.name}: {rule.expect}"
            dropped[reason] = dropped.get(reason, 0) + moved
        outcomes.append(RuleOutcome(rule.name, rule.action, count))
    if failed:
        raise AtlasRowRuleError(f"{spec.table}: row rule(s) with action fail were broken: " + "; ".join(failed))
    return outcomes, dropped
