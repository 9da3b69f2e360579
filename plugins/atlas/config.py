"""Table specs: typed, frozen models loaded from ``include/tables/*.yml``.

Each ``<table>.yml`` is merged over ``defaults.yml`` and validated into a :class:`TableSpec`.
Errors become :class:`~atlas.errors.AtlasConfigError` naming the file and the field.
``python -m atlas.config --write-schema PATH`` writes the JSON schema editors use.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from atlas.errors import AtlasConfigError
from atlas.pii.recognizers.catalog import RECOGNIZER_NAMES

IDENTIFIER = r"^[a-z_][a-z0-9_]*$"
ColumnType = Literal["text", "integer", "bigint", "numeric", "boolean", "date", "timestamp"]
ValueFormat = Literal["email", "phone", "cpr", "uuid", "postal_code"]
# The recognizer catalog's names (a cheap import: no Presidio at DAG parse).
RecognizerName = Literal[RECOGNIZER_NAMES]  # type: ignore[valid-type]
StrategyName = Literal["pseudonymize", "mask", "redact", "replace", "encrypt", "generalize", "keep"]
Identifier = Annotated[str, Field(pattern=IDENTIFIER, max_length=63)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ColumnSpec(_Model):
    """One column of the landed file and its silver type and rules."""

    name: Identifier
    type: ColumnType = "text"
    description: str = ""
    required: bool = False
    allowed_values: tuple[str, ...] | None = None
    format: ValueFormat | None = None
    pattern: str | None = Field(default=None, description="regular expression every value must match")
    min: float | None = None
    max: float | None = None
    default_region: str = Field(default="DK", pattern=r"^[A-Z]{2}$",
                                description="phone: region for numbers written without a country code")
    region_column: Identifier | None = Field(
        default=None, description="phone: column with each row's country (name or ISO code) used as region hint")
    precision: int | None = Field(default=None, ge=1, le=1000,
                                  description="numeric: total digits (silver type numeric(precision, scale))")
    scale: int | None = Field(default=None, ge=0, le=1000, description="numeric: digits after the decimal point")

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            re.compile(value)
        return value

    @model_validator(mode="after")
    def _precision_fits_type(self) -> ColumnSpec:
        if (self.precision is not None or self.scale is not None) and self.type != "numeric":
            raise ValueError("precision and scale apply to numeric columns only")
        if self.scale is not None and (self.precision is None or self.scale > self.precision):
            raise ValueError("scale needs a precision at least as large")
        return self


class SchemaSpec(_Model):
    columns: tuple[ColumnSpec, ...] = Field(min_length=1)
    primary_key: tuple[Identifier, ...] = Field(min_length=1)
    freshness_column: Identifier | None = None

    @model_validator(mode="after")
    def _keys_are_columns(self) -> SchemaSpec:
        names = [c.name for c in self.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate column names: {duplicates}")
        hints = [c.region_column for c in self.columns if c.region_column]
        for key in (*self.primary_key, *filter(None, [self.freshness_column]), *hints):
            if key not in names:
                raise ValueError(f"'{key}' is not a declared column")
        return self

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


class RowRule(_Model):
    """A row-level expectation (SQL boolean over silver columns) and what to do with violations."""

    name: Identifier
    expect: str = Field(min_length=1, description="SQL boolean expression over the table's silver columns")
    action: Literal["keep", "drop", "fail"] = "drop"
    reason: str = Field(default="", description="why a violating row is quarantined (no values)")

    @field_validator("expect")
    @classmethod
    def _single_expression(cls, value: str) -> str:
        if ";" in value or "--" in value:
            raise ValueError("must be one SQL expression (no ';' or comments)")
        return value


class SourceSpec(_Model):
    """Where files land and how to read them."""

    path: str = Field(description="glob under the landing root, rendered with Airflow's templating "
                                  "(every macro: {{ ds }}, {{ ds_nodash }}, {{ macros.ds_add(ds, -1) }}, ...)")
    format: Literal["csv", "json", "parquet"] = "csv"
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="reader options: delimiter, quotechar, encoding (default utf-8), ignore_extra_columns")
    multiline: bool = Field(
        default=False,
        description="CSV: quoted fields may contain line breaks; when false, a record spanning lines is quarantined")
    max_malformed_ratio: float = Field(
        default=0.1, ge=0, le=1,
        description="share of a file's records that may be malformed (quarantined at bronze) before the whole "
                    "file fails; 0 = fail on the first, 1 = never fail")
    max_field_size: int = Field(
        default=1_000_000, ge=1, description="longest field in characters; a row with a longer one is quarantined")
    poke_interval_seconds: int = Field(default=60, ge=1)
    timeout_seconds: int = Field(default=6 * 3600, ge=1)
    allowed_roots: tuple[str, ...] = Field(
        default=(), description="extra file:// or s3:// roots a run's source_file may name besides the landing "
                                "root (an explicit allow-list; empty = the landing root only)")

    @field_validator("allowed_roots")
    @classmethod
    def _roots_are_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from atlas.sources import parse_root

        for url in value:
            if "://" not in url:
                raise ValueError(f"{url!r} is not a file:// or s3:// URL")
            parse_root(url)
        return value


class ColumnPolicy(_Model):
    """How one PII column is protected in silver and beyond."""

    strategy: StrategyName
    entity: str | None = Field(default=None, description="expected entity type, e.g. EMAIL_ADDRESS")
    keep_last: int = Field(default=4, ge=0, description="mask: characters left visible")
    generalize_to: Literal["year", "age_band", "prefix"] = "year"
    prefix_length: int = Field(default=2, ge=1)
    free_text: bool = Field(default=False, description="scan every value and replace only PII spans")


class PiiSpec(_Model):
    default_strategy: StrategyName = "pseudonymize"
    sample_size: int = Field(default=500, ge=10)
    min_hit_rate: float = Field(default=0.3, gt=0, le=1)
    score_threshold: float = Field(default=0.5, ge=0, le=1)
    free_text_min_hit_rate: float = Field(
        default=0.05, gt=0, le=1, description="share of sampled prose values with PII spans that makes it free text"
    )
    languages: tuple[Literal["en", "da"], ...] = Field(
        default=("en", "da"), min_length=1,
        description="languages whose context words the recognizers use; texts are analysed under the first",
    )
    strict: bool = Field(default=False, description="fail when a PII column has no policy")
    recognizers: tuple[RecognizerName, ...] = RECOGNIZER_NAMES
    columns: dict[Identifier, ColumnPolicy] = Field(default_factory=dict)


class QualitySpec(_Model):
    """Quality checks: defaults generated from the schema, merged with hand-written SodaCL."""

    checks: str | None = Field(
        default=None,
        description="hand-written SodaCL file name, read from include/soda/<layer>/ (default <table>.yml)",
    )
    min_row_count: int = Field(default=1, ge=0, description="rows expected per logical date (bronze, silver)")
    freshness_max_age: str = Field(
        default="1d", pattern=r"^\d+[dhm]$", description="freshness column age limit at the end of the day"
    )
    freshness_severity: Literal["warn", "fail"] = "warn"
    severity: dict[str, Literal["warn", "fail"]] = Field(
        default_factory=dict, description="severity override per check name"
    )


class SilverSpec(_Model):
    """How the silver build splits a day's bronze slice across workers."""

    partition_rows: int = Field(
        default=1_000_000, ge=1,
        description="bronze rows per partition of the silver build: each partition is validated and protected "
                    "by its own mapped task (a worker each under the CeleryExecutor), then one task publishes "
                    "them all in one transaction; a slice up to this size is one partition. Each mapped task "
                    "costs about 10 s to start, so partitions of 1M rows keep that near 1% on one machine; "
                    "lower it when several Celery workers with their own cores share the work")
    max_partitions: int = Field(
        default=32, ge=1, le=1024,
        description="upper bound on partitions per day (larger partitions beyond it); Airflow's max_map_length "
                    "caps mapped tasks at 1024")


class GoldSpec(_Model):
    models: tuple[Identifier, ...] = ()


class AiReadySpec(_Model):
    name: Identifier
    source: str = Field(pattern=r"^(silver|gold)\.[a-z_][a-z0-9_]*$")
    key: Identifier = Field(description="row key: pseudonymized in the output, used for the split")
    numeric: tuple[Identifier, ...] = ()
    categorical: tuple[Identifier, ...] = ()
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)

    @field_validator("split")
    @classmethod
    def _split_sums_to_one(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if abs(sum(value) - 1.0) > 1e-9 or min(value) < 0:
            raise ValueError("train/validation/test fractions must be >= 0 and sum to 1")
        return value


RetentionDays = Annotated[int | None, Field(ge=0)]


class RetentionSpec(_Model):
    """Days each layer is kept, counted back from the maintenance run's date by logical date.

    ``0`` or ``null`` keeps the layer forever. ``atlas_maintenance`` deletes what is older.
    """

    bronze: RetentionDays = Field(
        default=90, description="bronze rows (by logical date) and the lake's raw archive (ingest_date folders)")
    quarantine: RetentionDays = Field(default=90, description="quarantined rows (by logical date)")
    silver: RetentionDays = Field(
        default=365, description="silver rows whose last load (logical date) is older than this")
    gold: RetentionDays = Field(
        default=730, description="gold tables of this table's models whose latest build (as_of_date) is older "
                                 "are dropped; rebuilt models hold only what silver still holds")
    ai_ready: RetentionDays = Field(
        default=365, description="AI-ready versions (lake folder, version row) older than this")

    def days(self, layer: str) -> int | None:
        """The period of ``layer`` in days, or None when the layer is kept forever."""
        return getattr(self, layer) or None


class ErasureSpec(_Model):
    """How erasure requests for a data subject reach this table."""

    keys: tuple[Identifier, ...] | None = Field(
        default=None,
        description="columns an erasure request may name, each identifying one data subject (an id, an "
                    "email); pseudonymized or unprotected in silver. Default: the primary key if it is one column",
    )
    references: dict[Identifier, Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")]] = Field(
        default_factory=dict,
        description="column -> '<table>.<column>' of the data subject it refers to (same raw value, same "
                    "pseudonym); erasing that subject erases this table's rows that refer to it",
    )


class AlertSpec(_Model):
    email: tuple[str, ...] = ()
    email_conn_id: str = "smtp_default"
    slack_conn_id: str | None = "slack_atlas"


class TableSpec(_Model):
    """Everything Atlas knows about one table."""

    table: Identifier
    description: str = ""
    owner: str = "data-platform"
    tags: tuple[str, ...] = ()
    schedule: str | None = "@daily"
    start_date: str = "2026-01-01"
    catchup: bool = False
    expected_rows: int = Field(default=1_000_000, ge=1,
                               description="rows per logical date the table is sized for; scales each task's "
                                           "execution_timeout so a hang fails the try and Airflow retries it")
    retries: int = Field(default=2, ge=2)
    retry_delay_seconds: int = Field(default=30, ge=1)
    max_retry_delay_seconds: int = Field(default=600, ge=1)
    source: SourceSpec
    table_schema: SchemaSpec = Field(alias="schema")
    pii: PiiSpec = PiiSpec()
    quality: QualitySpec = QualitySpec()
    rules: tuple[RowRule, ...] = ()
    silver: SilverSpec = SilverSpec()
    gold: GoldSpec = GoldSpec()
    ai_ready: AiReadySpec | None = None
    alerts: AlertSpec = AlertSpec()
    retention: RetentionSpec = Field(
        default=RetentionSpec(), description="days to keep per layer (by logical date); 0 or null = keep forever")
    erasure: ErasureSpec = ErasureSpec()
    links: dict[str, str] = Field(default_factory=dict)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _policies_name_columns(self) -> TableSpec:
        names = set(self.table_schema.column_names)
        unknown = sorted(set(self.pii.columns) - names)
        if unknown:
            raise ValueError(f"pii.columns names undeclared columns: {unknown}")
        unknown = sorted((set(self.erasure.references) | set(self.erasure.keys or ())) - names)
        if unknown:
            raise ValueError(f"erasure names undeclared columns: {unknown}")
        for key in self.erasure.keys or ():
            policy = self.pii.columns.get(key)
            if policy is not None and policy.strategy not in ("pseudonymize", "keep"):
                raise ValueError(f"erasure.keys: '{key}' has strategy {policy.strategy} in silver; an erasure "
                                 "can match only pseudonymized or kept columns")
        return self

    @property
    def dag_id(self) -> str:
        return f"atlas_{self.table}"


# ---------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class LoadResult:
    """A table file's outcome: a spec, or the error that broke it."""

    file: Path
    spec: TableSpec | None = None
    error: AtlasConfigError | None = None


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "yaml"
        raise AtlasConfigError(str(path), where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise AtlasConfigError(str(path), "<root>", "expected a mapping at the top level")
    return data


def _first_error(path: Path, exc: ValidationError) -> AtlasConfigError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "<root>"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return AtlasConfigError(str(path), field, f"{err['msg']}{more}")


def load_table_spec(path: Path, defaults: dict[str, Any] | None = None) -> TableSpec:
    """Validate one table file merged over ``defaults``; raise AtlasConfigError on error."""
    raw = _read_yaml(path)
    expected = path.stem
    try:
        spec = TableSpec.model_validate(_deep_merge(defaults or {}, raw))
    except ValidationError as exc:
        raise _first_error(path, exc) from None
    if spec.table != expected:
        raise AtlasConfigError(str(path), "table", f"'{spec.table}' must match the file name '{expected}'")
    return spec


def load_table_specs(tables_dir: Path) -> list[LoadResult]:
    """Load every ``*.yml`` in ``tables_dir`` except ``defaults.yml``; never raises for one file."""
    defaults_file = tables_dir / "defaults.yml"
    defaults = _read_yaml(defaults_file) if defaults_file.exists() else {}
    results = []
    for path in sorted(tables_dir.glob("*.yml")):
        if path.name == "defaults.yml":
            continue
        try:
            results.append(LoadResult(path, spec=load_table_spec(path, defaults)))
        except AtlasConfigError as exc:
            results.append(LoadResult(path, error=exc))
    return results


def load_valid_specs(tables_dir: Path) -> dict[str, TableSpec]:
    """Every valid spec by table name (used at run time, e.g. by gold models)."""
    return {r.spec.table: r.spec for r in load_table_specs(tables_dir) if r.spec}


def json_schema() -> dict[str, Any]:
    schema = TableSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Atlas table config"
    return schema


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Atlas table config tools")
    parser.add_argument("--write-schema", type=Path, help="write the JSON schema for editors")
    parser.add_argument("--check", type=Path, help="validate a tables directory")
    args = parser.parse_args(argv)
    if args.write_schema:
        args.write_schema.write_text(json.dumps(json_schema(), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.write_schema}")
    if args.check:
        failed = [r for r in load_table_specs(args.check) if r.error]
        for r in failed:
            print(f"ERROR {r.error}")
        raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
