"""build_silver: validate, normalize, protect PII, dedupe and swap in silver.<table>."""

from __future__ import annotations

from typing import Any

from atlas.operators.base import AtlasOperator


class BuildSilverOperator(AtlasOperator):
    def run(self, context: Any) -> dict[str, Any]:
        from atlas.context import logical_ds
        from atlas.lineage import bronze_columns, column_lineage, silver_columns
        from atlas.pii import build_protector, load_keys
        from atlas.silver.build import build_silver
        from atlas.warehouse.pii_findings import load_findings

        ds = logical_ds(context)
        conn = self.warehouse.get_conn()
        try:
            findings = load_findings(conn, self.spec.table, ds)
            protector = build_protector(self.spec.pii, findings, load_keys())
            result = build_silver(conn, self.spec, protector.protect, context["run_id"], ds)
            guard_leaks(conn, self.spec.table, structured_pii_columns(findings),
                        [f"silver.{self.spec.table}", f"quarantine.{self.spec.table}"], ds)
        finally:
            conn.close()
        self.log.info("bronze %d = silver %d + quarantined %d + duplicates %d + superseded %d",
                      result.bronze_rows, result.silver_rows, result.quarantined_rows,
                      result.duplicates_removed, result.superseded_rows)
        for reason, count in result.reasons.items():
            self.log.info("quarantined %6d  %s", count, reason)
        bronze = f"bronze.{self.spec.table}"
        self.lineage_inputs.append(self.table_dataset(bronze, bronze_columns(self.spec)))
        lineage = column_lineage(self.warehouse.lineage_namespace(), self.warehouse.lineage_name(bronze),
                                 self.spec.table_schema.column_names, protector.strategies)
        self.lineage_outputs.append(self.table_dataset(
            f"silver.{self.spec.table}", silver_columns(self.spec), output=True,
            facets={"columnLineage": lineage}, rows=result.silver_rows))
        return {**result.summary(), "protected": protector.strategies}


# Kept (audited) or generalized (deliberately coarse: a birth year, a postal prefix) columns
# may legitimately share values with other data; they are not direct identifiers.
NOT_GUARDED = frozenset({"keep", "generalize"})


def structured_pii_columns(findings: list[Any]) -> list[str]:
    """Direct-identifier columns whose whole value is PII (free text keeps its non-PII words)."""
    return [f.column for f in findings if f.kind != "free_text" and f.strategy not in NOT_GUARDED
            and (f.kind != "none" or f.policy_source == "config")]


def guard_leaks(conn: Any, table: str, columns: list[str], targets: list[str], ds: str) -> None:
    """Fail the run if any raw bronze value of ``columns`` appears in ``targets`` (counts only)."""
    from atlas.errors import AtlasPiiLeakError
    from atlas.pii import find_leaks

    if not columns:
        return
    leaks = find_leaks(conn, f"bronze.{table}", columns, targets, logical_date=ds)
    if leaks:
        listed = "; ".join(f"{leak.target}.{leak.column} has {leak.matches} raw value(s) of "
                           f"bronze {leak.source_column}" for leak in leaks)
        raise AtlasPiiLeakError(f"raw PII reached downstream tables: {listed}")


def guard_detectors(conn: Any, spec: Any, targets: list[str]) -> None:
    """Fail the run if the PII detectors fire on a column of ``targets`` that should be PII-free
    (every column except those the table's policy explicitly keeps)."""
    from atlas.errors import AtlasPiiLeakError
    from atlas.pii import find_detector_hits

    keep = [c for c, p in spec.pii.columns.items() if p.strategy == "keep"]
    hits = [hit for target in targets for hit in find_detector_hits(conn, target, spec.pii, exclude=keep)]
    if hits:
        listed = "; ".join(f"{h.target}.{h.column}: {','.join(h.entity_types)} in {h.hit_rate:.0%} of "
                           f"{h.rows_scanned} sampled values" for h in hits)
        raise AtlasPiiLeakError(f"PII detectors fired on columns that should be PII-free: {listed}")
