"""Bad and hostile input through the real DAG, one case per logical date after one good day.

Each case lands one file for its own date of a probe table (typed columns, PII policies) and runs
the table's whole DAG (all seven stages) with ``dag.test()``. Every case asserts:

- the outcome: either the run fails at the named stage with a clear message naming the file (and
  the line and column where there is one), or it succeeds with the bad rows quarantined under
  their physical line number with rule and reason;
- counts that reconcile: the file's data lines = bronze rows + rows quarantined at bronze, and
  bronze = silver + quarantined at silver + removed duplicates;
- no raw SQLSTATE, driver name or traceback in the message, no value from the file in it, and
  no hang (a deadline per run);
- and, once all cases ran, that the good day's bronze, silver and quarantine are untouched.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import ParamValidationError

from atlas import settings
from atlas.config import TableSpec
from atlas.factory import STAGES, TASK_IDS
from tests.dag_probe import isolate_airflow_plugins, probe_dag, run

pytestmark = pytest.mark.slow

TABLE = "bad_inputs"
GOOD_DAY = date(2032, 1, 1)
ROWS = 40
RUN_DEADLINE_SECONDS = 240
COLUMNS = ("customer_id", "customer_name", "email_address", "amount", "visits", "points", "birth_date",
           "created_at", "is_active", "notes")
FORBIDDEN_IN_MESSAGES = re.compile(r"SQLSTATE|psycopg2|Traceback|\n\s+File \"|Error\(\d", re.IGNORECASE)


def table_spec() -> TableSpec:
    return TableSpec.model_validate({
        "table": TABLE, "owner": "data-platform", "retries": 2, "retry_delay_seconds": 1,
        "max_retry_delay_seconds": 2,
        "source": {"path": f"{TABLE}/{{{{ ds }}}}/*.csv", "format": "csv", "poke_interval_seconds": 1,
                   "timeout_seconds": 60},
        "schema": {"primary_key": ["customer_id"], "columns": [
            {"name": "customer_id", "required": True, "pattern": r"^C\d{6}$"},
            {"name": "customer_name"},
            {"name": "email_address", "format": "email"},
            {"name": "amount", "type": "numeric", "precision": 12, "scale": 2},
            {"name": "visits", "type": "integer"},
            {"name": "points", "type": "bigint"},
            {"name": "birth_date", "type": "date"},
            {"name": "created_at", "type": "timestamp", "required": True},
            {"name": "is_active", "type": "boolean"},
            {"name": "notes"},
        ]},
        "pii": {"columns": {
            "customer_id": {"strategy": "pseudonymize"},
            "customer_name": {"strategy": "pseudonymize", "entity": "PERSON"},
            "email_address": {"strategy": "pseudonymize", "entity": "EMAIL_ADDRESS"},
            "birth_date": {"strategy": "generalize", "generalize_to": "year"},
            "notes": {"strategy": "keep"},
        }},
    })


# ----------------------------------------------------------------------------- building files


def record(case: int, i: int, **override: str) -> list[str]:
    """Row ``i`` of a case: unique keys and raw values per case (never printed, never in messages)."""
    values = {
        "customer_id": f"C{case:02d}{i:04d}", "customer_name": f"Rawname{case:02d}x{i:04d} Testesen",
        "email_address": f"raw.{case}.{i}@example.com", "amount": f"{i}.50", "visits": str(i),
        "points": str(i * 1000), "birth_date": "1980-05-17", "created_at": "2031-12-31 10:00:00",
        "is_active": "true" if i % 2 else "false", "notes": f"note number {i}",
    }
    values.update(override)
    return [values[c] for c in COLUMNS]


def csv_text(rows: list[list[str]], header: tuple[str, ...] = COLUMNS, delimiter: str = ",",
             terminator: str = "\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=terminator)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def good_file(case: int, rows: int = ROWS, **changes: dict[str, str]) -> bytes:
    """``rows`` good rows; ``changes`` maps 'row_<i>' to column overrides for that row."""
    lines = [record(case, i, **changes.get(f"row_{i}", {})) for i in range(1, rows + 1)]
    return csv_text(lines).encode("utf-8")


def replace_line(body: bytes, line: int, new: bytes) -> bytes:
    """Replace physical line ``line`` (1 = header) of ``body``."""
    lines = body.split(b"\n")
    lines[line - 1] = new
    return b"\n".join(lines)


def raw_line(case: int, i: int, **override: str) -> bytes:
    return csv_text([record(case, i, **override)]).split("\n", 1)[1].rstrip("\n").encode("utf-8")


# ----------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One bad input. ``fails_at``: the stage that fails with a message containing every ``message`` part;
    otherwise the run succeeds and ``quarantined`` maps physical line -> rule (at bronze or silver)."""

    name: str
    body: Callable[[int], bytes]
    fails_at: str | None = None
    message: tuple[str, ...] = ()
    quarantined: dict[int, str] = field(default_factory=dict)
    duplicates: int = 0
    header_lines: int = 1
    check: Callable[[Any, str], None] | None = None  # extra look at the loaded data: (connection, ds)
    all_stages: bool = False  # run all seven stages (else up to the stage that decides the case)
    conf: dict[str, Any] | None = None  # the run's params ("{outside}" / "{marker}": paths made by the suite)
    symlink_out: bool = False  # land a symlink to a file outside the landing root instead of the body

    @property
    def last_stage(self) -> str:
        """The last stage to run: the failing one, build_silver for rows, or publish_ai_ready."""
        if self.all_stages:
            return STAGES[-1]
        if self.fails_at == "trigger":  # refused before the run exists
            return "ingest_bronze"
        return self.fails_at or "build_silver"


def _silver_values(conn: Any, ds: str, column: str) -> list[Any]:
    with conn.cursor() as cur:
        cur.execute(f'SELECT "{column}" FROM silver.{TABLE} WHERE _atlas_logical_date = %s '
                    "ORDER BY _atlas_row_number", (ds,))
        return [v for (v,) in cur.fetchall()]


def _notes_stay_short(conn: Any, ds: str) -> None:
    assert max(len(v) for v in _silver_values(conn, ds, "notes")) < 40, "no row swallowed the next lines"


def _notes_equal(expected: str, line: int) -> Callable[[Any, str], None]:
    def check(conn: Any, ds: str) -> None:
        with conn.cursor() as cur:
            cur.execute(f"SELECT notes FROM silver.{TABLE} WHERE _atlas_logical_date = %s AND _atlas_row_number = %s",
                        (ds, line))
            assert cur.fetchone() == (expected,), "loaded exactly as written, inert"
    return check


def _amounts_rounded(conn: Any, ds: str) -> None:
    from decimal import Decimal

    assert _silver_values(conn, ds, "amount")[:2] == [Decimal("1.50"), Decimal("12.35")]


SQL_TEXT = "x'); DROP TABLE silver.bad_inputs; SELECT pg_sleep(30); --"
JINJA_TEXT = "{{ 7 * 7 }} {% for x in range(3) %}{{ cycler.__init__.__globals__ }}{% endfor %}"
PATH_TEXT = "C:\\temp\\new\tfolder \\N \\."
BIG = "Z" * (5 * 1024 * 1024)
NUL_TEXT = "Rawnul before the zero byte"

CASES = [
    # --- files that are not a readable CSV of this table: the run fails at bronze, naming the file
    Case("empty_file", lambda c: b"", "ingest_bronze", ("file is empty",), all_stages=True),
    Case("blank_lines_only", lambda c: b"\n\r\n\n", "ingest_bronze", ("file is empty",)),
    Case("binary_file", lambda c: bytes(range(256)) * 64, "ingest_bronze", ("line 1 (the header)", "NUL bytes")),
    Case("utf16_with_bom", lambda c: good_file(c, 5).decode().encode("utf-16"), "ingest_bronze",
         ("UTF-16 encoded", "source.options.encoding")),
    Case("utf16_without_bom", lambda c: good_file(c, 5).decode().encode("utf-16-le"), "ingest_bronze",
         ("line 1 (the header)", "UTF-16")),
    Case("xlsx_workbook", lambda c: b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), "ingest_bronze",
         ("ZIP archive", "xlsx")),
    Case("gzip_file", lambda c: gzip.compress(good_file(c, 5)), "ingest_bronze", ("gzip-compressed",)),
    Case("semicolon_delimiter", lambda c: csv_text([record(c, i) for i in range(1, 6)], delimiter=";").encode(),
         "ingest_bronze", ("line 1", "1 column", "with ';' it has all 10", "source.options.delimiter")),
    Case("tab_delimiter", lambda c: csv_text([record(c, i) for i in range(1, 6)], delimiter="\t").encode(),
         "ingest_bronze", ("line 1", "(tab)")),
    Case("duplicate_header_names",
         lambda c: csv_text([record(c, 1)], header=(*COLUMNS[:9], "email_address")).encode(),
         "ingest_bronze", ("line 1", "'email_address' twice", "columns 3 and 10")),
    Case("missing_column", lambda c: csv_text([record(c, 1)[:9]], header=COLUMNS[:9]).encode(),
         "ingest_bronze", ("line 1", "missing configured column(s) ['notes']")),
    Case("unknown_column", lambda c: csv_text([[*record(c, 1), "x"]], header=(*COLUMNS, "loyalty_tier")).encode(),
         "ingest_bronze", ("line 1", "not in the table schema ['loyalty_tier']")),
    Case("trailing_delimiter", lambda c: b"\n".join(line + b"," for line in good_file(c, 5).split(b"\n")[:-1]),
         "ingest_bronze", ("line 1", "column(s) [11] have no name")),
    Case("classic_mac_line_endings", lambda c: good_file(c, 5).replace(b"\n", b"\r"), "ingest_bronze",
         ("line 1 (the header)", "old Mac line endings")),
    Case("mostly_malformed", lambda c: b"\n".join(
        line if i % 3 or i == 0 else line.rsplit(b",", 2)[0] for i, line in enumerate(good_file(c).split(b"\n"))),
        "ingest_bronze", ("13 of 40 records (32.5%) are malformed", "max_malformed_ratio",
                          "malformed_row (first at line 4: expected 10 fields, found 8)")),
    Case("header_only", lambda c: csv_text([]).encode(), "check_quality", ("row_count",)),

    # --- everyday shapes that load
    Case("excel_csv_utf8_bom_crlf", lambda c: codecs.BOM_UTF8 + good_file(c).replace(b"\n", b"\r\n"),
         all_stages=True),
    Case("excel_sep_line", lambda c: b"sep=;\n" + csv_text([record(c, i) for i in range(1, ROWS + 1)],
                                                           delimiter=";").encode(), header_lines=2),
    Case("mixed_line_endings", lambda c: good_file(c).replace(b"\n", b"\r\n", 15)),
    Case("blank_lines_between", lambda c: good_file(c).replace(b"\n", b"\n\n", 5)),
    Case("header_whitespace_and_quotes",
         lambda c: replace_line(good_file(c), 1, b'"customer_id", customer_name ,' + ",".join(COLUMNS[2:]).encode())),
    Case("reordered_columns", lambda c: csv_text([list(reversed(record(c, i))) for i in range(1, ROWS + 1)],
                                                 header=tuple(reversed(COLUMNS))).encode()),
    Case("sql_text_is_inert", lambda c: good_file(c, row_3={"notes": SQL_TEXT}), check=_notes_equal(SQL_TEXT, 4)),
    Case("jinja_text_is_inert", lambda c: good_file(c, row_3={"notes": JINJA_TEXT}),
         check=_notes_equal(JINJA_TEXT, 4)),
    Case("backslashes_and_tabs", lambda c: good_file(c, row_3={"notes": PATH_TEXT}), check=_notes_equal(PATH_TEXT, 4)),
    Case("zero_width_and_bidi_characters",
         lambda c: good_file(c, row_3={"notes": "Zo\u00eb\u200dKr\u00fcger \u202eNESNEH\u202c ok"}),
         check=_notes_equal("Zo\u00eb\u200dKr\u00fcger \u202eNESNEH\u202c ok", 4)),
    Case("amount_rounded_to_scale", lambda c: good_file(c, row_1={"amount": "1.499"}, row_2={"amount": "12.345"}),
         check=_amounts_rounded),

    # --- rows that cannot load: quarantined under their physical line, the rest loads
    Case("nul_byte_in_field", lambda c: replace_line(good_file(c), 8, raw_line(c, 7, notes=f"{NUL_TEXT}\x00tail")),
         quarantined={8: "notes.nul_byte"}, all_stages=True),
    Case("latin1_byte_on_line_137", lambda c: replace_line(
        good_file(c, 150), 137, raw_line(c, 136).replace(b"Testesen", b"J\xf8rgensen")),
        quarantined={137: "encoding"}),
    Case("field_of_5_mb", lambda c: good_file(c, row_3={"notes": BIG}), quarantined={4: "notes.field_too_long"}),
    Case("line_of_12_mb", lambda c: replace_line(good_file(c), 6, b"C" * (12 * 1024 * 1024)),
         quarantined={6: "line_too_long"}),
    Case("unclosed_quote_mid_file", lambda c: replace_line(
        good_file(c, 100), 51, raw_line(c, 50).rsplit(b",", 1)[0] + b',"a quote never closed'),
        quarantined={51: "unclosed_quote"}, check=_notes_stay_short, all_stages=True),
    Case("quoted_line_break", lambda c: good_file(c, row_5={"notes": "first line\nsecond line"}),
         quarantined={6: "multiline_record", 7: "malformed_row"}),
    Case("repeated_header", lambda c: good_file(c, 20) + good_file(c, 40).split(b"\n", 21)[0] + b"\n"
         + b"\n".join(good_file(c, 40).split(b"\n")[21:]), quarantined={22: "repeated_header"}),
    Case("concatenated_excel_exports", lambda c: codecs.BOM_UTF8 + good_file(c, 20) + codecs.BOM_UTF8
         + b"\n".join([good_file(c, 40).split(b"\n")[0], *good_file(c, 40).split(b"\n")[21:]]),
         quarantined={22: "repeated_header"}),
    Case("too_few_fields", lambda c: replace_line(good_file(c), 6, raw_line(c, 5).rsplit(b",", 3)[0]),
         quarantined={6: "malformed_row"}),
    Case("too_many_fields", lambda c: replace_line(good_file(c), 6, raw_line(c, 5) + b",extra,more"),
         quarantined={6: "malformed_row"}),
    Case("amount_beyond_precision", lambda c: good_file(c, row_4={"amount": "12345678901234.00"}),
         quarantined={5: "amount.limits"}),
    Case("amount_beyond_numeric_format", lambda c: good_file(c, row_4={"amount": "1E+200000"}),
         quarantined={5: "amount.limits"}, all_stages=True),
    Case("integer_beyond_int32", lambda c: good_file(c, row_4={"visits": "2147483648"}),
         quarantined={5: "visits.limits"}),
    Case("bigint_beyond_int64", lambda c: good_file(c, row_4={"points": "-9223372036854775809"}),
         quarantined={5: "points.limits"}),
    Case("huge_exponent_integer", lambda c: good_file(c, row_4={"visits": "1e999999999"}),
         quarantined={5: "visits.limits"}),
    Case("impossible_date", lambda c: good_file(c, row_4={"birth_date": "2026-02-30"}),
         quarantined={5: "birth_date.type"}),
    Case("date_beyond_postgresql", lambda c: good_file(c, row_4={"birth_date": "5874898-01-01"}),
         quarantined={5: "birth_date.type"}),
    Case("timestamp_beyond_postgresql", lambda c: good_file(c, row_4={"created_at": "294277-01-01 00:00:00"}),
         quarantined={5: "created_at.type"}),
    Case("danish_decimal_comma", lambda c: good_file(c, row_4={"amount": "1.234,50"}),
         quarantined={5: "amount.type"}),
    Case("danish_boolean", lambda c: good_file(c, row_4={"is_active": "ja"}), quarantined={5: "is_active.type"}),
    Case("invalid_email", lambda c: good_file(c, row_4={"email_address": "raw.at.example.com"}),
         quarantined={5: "email_address.format"}),
    Case("missing_required_value", lambda c: good_file(c, row_4={"created_at": ""}),
         quarantined={5: "created_at.required"}),
    Case("key_breaks_pattern", lambda c: good_file(c, row_4={"customer_id": "X-12"}),
         quarantined={5: "customer_id.pattern"}),
    Case("key_too_long_to_index", lambda c: good_file(c, row_4={"customer_id": "C" * 3000}),
         quarantined={5: "customer_id.key_length"}),
    Case("duplicate_keys", lambda c: good_file(c) + raw_line(c, 7) + b"\n" + raw_line(c, 8) + b"\n", duplicates=2,
         all_stages=True),
]


# --- DAG params are data: a good file is landed for the date, the run's source_file points elsewhere; the run
# fails at the sensor, on its first try, before anything is opened or archived
PARAM_CASES = [
    Case("param_jinja_payload", lambda c: good_file(c, 5), "trigger", ("Invalid input for param source_file",),
         conf={"source_file": "{{cycler.__init__.__globals__.os.popen('touch {marker}').read()}}x/{{ds}}/*.csv"}),
    Case("param_path_traversal", lambda c: good_file(c, 5), "trigger", ("Invalid input for param source_file",),
         conf={"source_file": "../../../../../../../../etc/passwd"}),
    Case("param_absolute_path", lambda c: good_file(c, 5), "trigger", ("Invalid input for param source_file",),
         conf={"source_file": "/etc/passwd"}),
    Case("param_file_url_outside", lambda c: good_file(c, 5), "wait_for_source",
         ("param source_file", "outside the landing root"), conf={"source_file": "file://{outside}"}),
    Case("param_other_bucket", lambda c: good_file(c, 5), "wait_for_source", ("param source_file",),
         conf={"source_file": "s3://someone-elses-bucket/exports/customers.csv"}),
    Case("param_missing_named_file", lambda c: good_file(c, 5), "wait_for_source",
         ("param source_file", "no file matches"), conf={"source_file": f"{TABLE}/2031-01-01/missing.csv"}),
    Case("symlink_out_of_landing_root", lambda c: b"", "wait_for_source", ("outside the landing root",),
         symlink_out=True),
]
CASES += PARAM_CASES


# ----------------------------------------------------------------------------- running


@dataclass
class Outcome:
    ds: str
    state: str
    tasks: dict[str, str]
    errors: dict[str, str]  # task id -> message of its failure
    counts: dict[str, int]
    quarantined: dict[int, tuple[str, str]]  # physical line -> (rule, reason)
    seconds_over_deadline: bool = False
    seconds: dict[str, float] = field(default_factory=dict)  # task id -> duration
    tries: dict[str, int] = field(default_factory=dict)  # task id -> try number
    archived: bool = False  # anything copied into the lake's bronze archive for the date
    marker_written: bool = False  # the Jinja payload's command ran


class _Deadline(Exception):
    pass


@contextmanager
def deadline(seconds: int) -> Iterator[list[bool]]:
    """Interrupt a run that does not finish in time (a hang becomes a failed case, not a stuck suite)."""
    hit = [False]

    def expired(signum: int, frame: Any) -> None:
        hit[0] = True
        raise _Deadline(f"no final state after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield hit
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _count(conn: Any, sql: str, *params: Any) -> int:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0


METRIC = ("SELECT value FROM atlas_meta.run_metrics WHERE table_name = %s AND stage = 'silver' AND metric = %s "
          "AND logical_date = %s")


def _collect(conn: Any, ds: str) -> tuple[dict[str, int], dict[int, tuple[str, str]]]:
    counts = {
        "bronze": _count(conn, f"SELECT count(*) FROM bronze.{TABLE} WHERE _atlas_logical_date = %s", ds),
        "silver": _count(conn, f"SELECT count(*) FROM silver.{TABLE} WHERE _atlas_logical_date = %s", ds),
        "quarantined_bronze": _count(conn, f"SELECT count(*) FROM quarantine.{TABLE} WHERE _atlas_logical_date = %s "
                                           "AND _atlas_stage = 'bronze'", ds),
        "quarantined_silver": _count(conn, f"SELECT count(*) FROM quarantine.{TABLE} WHERE _atlas_logical_date = %s "
                                           "AND _atlas_stage = 'silver'", ds),
        "duplicates": _count(conn, METRIC, TABLE, "duplicates_removed", ds),
        "superseded": _count(conn, METRIC, TABLE, "superseded_rows", ds),
    }
    with conn.cursor() as cur:
        cur.execute(f"SELECT _atlas_row_number, _atlas_rule, _atlas_reason FROM quarantine.{TABLE} "
                    "WHERE _atlas_logical_date = %s", (ds,))
        quarantined = {int(line): (rule, reason) for line, rule, reason in cur.fetchall()}
    return counts, quarantined


def _snapshot(conn: Any, ds: str) -> dict[str, str]:
    """A digest of each layer's slice for ``ds`` (values stay in the database)."""
    digests = {}
    for layer in ("bronze", "silver", "quarantine"):
        with conn.cursor() as cur:
            cur.execute(f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                        f"FROM {layer}.{TABLE} t WHERE _atlas_logical_date = %s", (ds,))
            count, digest = cur.fetchone()
            digests[layer] = f"{count}:{digest}"
    return digests


def _land(ds: str, body: bytes, symlink_to: Path | None = None) -> Path:
    folder = Path(settings.landing_url().removeprefix("file://")) / TABLE / ds
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "extract.csv"
    if symlink_to is not None:
        path.symlink_to(symlink_to)
    else:
        path.write_bytes(body)
    return path


def _archived(ds: str) -> list[Path]:
    folder = Path(settings.lake_url().removeprefix("file://")) / "bronze" / TABLE / f"ingest_date={ds}"
    return sorted(folder.iterdir()) if folder.exists() else []


DEFAULT_CONF = {"source_file": "", "full_refresh": False}


def _conf(case: Case, paths: dict[str, Path]) -> dict[str, Any]:
    """Every param, every run: dag.test() runs in one process merge a run's conf into the DAG's params
    in place, so a param left out would keep the previous run's value."""
    given = {k: v.replace("{outside}", str(paths["outside"])).replace("{marker}", str(paths["marker"]))
             if isinstance(v, str) else v for k, v in (case.conf or {}).items()}
    return {**DEFAULT_CONF, **given}


@pytest.fixture(scope="module")
def suite(airflow_db, warehouse_dsn, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """The good day, then every case on its own date: one DAG run each, all in one Airflow home."""
    from atlas.warehouse import connect

    tmp = tmp_path_factory.mktemp("bad_inputs")
    errors: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}

    def capture(context: dict[str, Any]) -> None:
        exc = context.get("exception")
        errors.setdefault(current["ds"], {})[context["ti"].task_id] = "" if exc is None else str(exc)

    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate_airflow_plugins(monkeypatch, tmp)
        # lineage events are still emitted (and checked below), from a thread instead of a forked process
        monkeypatch.setenv("AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD", "true")
        full = probe_dag(table_spec(), tmp, tasks=None)
        for task in full.tasks:
            callbacks = task.on_failure_callback or []
            task.on_failure_callback = [*(callbacks if isinstance(callbacks, list) else [callbacks]), capture]
        # The factory's DAG, run up to the stage that decides each case (dag.test() waits a second per
        # task left unrunnable after a failure, and each task costs a second of its loop).
        dags = {last: full.partial_subset(task_ids=list(STAGES[:STAGES.index(last) + 1]), include_downstream=False)
                for last in STAGES}
        conn = connect(warehouse_dsn)
        conn.autocommit = True
        try:
            paths = {"outside": tmp / "outside" / "secret.csv", "marker": tmp / "executed"}
            paths["outside"].parent.mkdir()
            paths["outside"].write_bytes(good_file(99, 3))
            good_ds = GOOD_DAY.isoformat()
            current["ds"] = good_ds
            _land(good_ds, good_file(0))
            good_state, good_tasks = run(full, good_ds, conf=DEFAULT_CONF)
            before = _snapshot(conn, good_ds)
            outcomes: dict[str, Outcome] = {}
            bodies: dict[str, bytes] = {}
            for number, case in enumerate(CASES, start=1):
                ds = (GOOD_DAY + timedelta(days=number)).isoformat()
                current["ds"] = ds
                body = bodies[case.name] = case.body(number)
                _land(ds, body, symlink_to=paths["outside"] if case.symlink_out else None)
                with deadline(RUN_DEADLINE_SECONDS) as hit:
                    try:
                        state, tis = run(dags[case.last_stage], ds, conf=_conf(case, paths))
                    except _Deadline:
                        state, tis = "hung", {}
                    except ParamValidationError as exc:  # refused when the run is created (400 over REST)
                        state, tis = "refused", {}
                        errors.setdefault(ds, {})["trigger"] = str(exc)
                counts, quarantined = _collect(conn, ds)
                outcomes[case.name] = Outcome(ds, state, {t: str(ti.state) for t, ti in tis.items()},
                                              errors.get(ds, {}), counts, quarantined, hit[0],
                                              {t: float(ti.duration or 0) for t, ti in tis.items()},
                                              {t: int(ti.try_number or 0) for t, ti in tis.items()},
                                              bool(_archived(ds)), paths["marker"].exists())
            yield {"good": (good_state, good_tasks), "before": before, "after": _snapshot(conn, good_ds),
                   "outcomes": outcomes, "bodies": bodies}
        finally:
            conn.close()


# ----------------------------------------------------------------------------- assertions


def _data_lines(body: bytes, header_lines: int) -> int:
    """Physical lines that are neither header nor blank."""
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return sum(1 for line in lines[header_lines:] if line.strip(b"\r"))


def _raw_values(body: bytes) -> set[str]:
    """Distinctive raw values of a case's file (names, emails, long payloads) that no message may carry."""
    text = body.decode("utf-8", errors="ignore")
    found = set(re.findall(r"Rawname\d+x\d+|raw\.\d+\.\d+@example\.com|ZZZZZZZZ|NESNEH", text))
    return found | {v for v in (SQL_TEXT, JINJA_TEXT, PATH_TEXT, NUL_TEXT) if v in text}


def test_good_day_succeeds(suite):
    state, tasks = suite["good"]
    assert state == "success", {t: str(ti.state) for t, ti in tasks.items()}


def test_there_are_at_least_forty_cases():
    assert len(CASES) - len(PARAM_CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(suite, case, wh_conn):
    outcome: Outcome = suite["outcomes"][case.name]
    body = suite["bodies"][case.name]
    assert not outcome.seconds_over_deadline, f"{case.name}: no final state within {RUN_DEADLINE_SECONDS} s"
    messages = " | ".join(outcome.errors.values())
    for message in outcome.errors.values():
        assert not FORBIDDEN_IN_MESSAGES.search(message), f"{case.name}: driver error or traceback in a message"
        leaked = [v for v in _raw_values(body) if v in message]
        assert leaked == [], f"{case.name}: {len(leaked)} raw value(s) from the file in the message"

    if case.fails_at == "trigger":
        assert outcome.state == "refused" and not outcome.marker_written, "nothing rendered or executed"
        assert all(part in outcome.errors["trigger"] for part in case.message), outcome.errors
        assert not outcome.archived and outcome.counts["bronze"] == 0
        return
    if case.fails_at:
        assert outcome.state == "failed"
        assert outcome.tasks[case.fails_at] == "failed", outcome.tasks
        message = outcome.errors.get(case.fails_at, "")
        for part in case.message:
            assert part in message, f"{case.name}: expected {part!r} in: {message}"
        after = TASK_IDS[TASK_IDS.index(case.fails_at) + 1:TASK_IDS.index(case.last_stage) + 1]
        assert all(outcome.tasks[t] == "upstream_failed" for t in after), outcome.tasks
        assert outcome.tries[case.fails_at] == 1, "fails on its first try: waiting or retrying cannot help"
        if case.fails_at == "wait_for_source":
            assert not outcome.archived, "nothing was opened or copied into the lake"
            assert outcome.counts["bronze"] == outcome.counts["quarantined_bronze"] == 0
        if case.fails_at == "ingest_bronze":
            assert "extract.csv" in message, "the message names the file"
            assert outcome.counts["bronze"] == outcome.counts["quarantined_bronze"] == 0, "nothing half-loaded"
        return

    assert outcome.state == "success", f"{case.name}: {outcome.tasks} {messages}"
    assert set(outcome.tasks) == set(TASK_IDS[:TASK_IDS.index(case.last_stage) + 1])
    counts = outcome.counts
    assert {line: rule for line, (rule, _) in outcome.quarantined.items()} == case.quarantined
    for line, (rule, reason) in outcome.quarantined.items():
        assert reason and len(reason) < 300, f"{case.name}: line {line} quarantined without a short reason"
        column = rule.split(".")[0] if "." in rule else None
        if column:
            assert reason.startswith(f"{column}: "), f"{case.name}: the reason names the column"
    assert _data_lines(body, case.header_lines) == counts["bronze"] + counts["quarantined_bronze"], counts
    assert counts["bronze"] == (counts["silver"] + counts["quarantined_silver"] + counts["duplicates"]
                                + counts["superseded"]), counts
    assert counts["duplicates"] == case.duplicates
    assert counts["silver"] > 0
    if case.check is not None:
        case.check(wh_conn, outcome.ds)


def test_no_raw_value_in_lineage_events(suite):
    events = Path(settings.atlas_home(), "lineage", "openlineage.jsonl")
    lines = [line for line in events.read_text(encoding="utf-8").splitlines() if f"atlas_{TABLE}" in line]
    assert len(lines) > 2 * len(CASES), "every run emitted lineage events"
    text = "\n".join(lines)
    raw = set().union(*(_raw_values(body) for body in suite["bodies"].values()))
    leaked = [v for v in raw if v in text]
    assert leaked == [], f"{len(leaked)} raw value(s) from the files in lineage events"


def test_earlier_day_untouched(suite):
    assert suite["before"] == suite["after"]
    assert suite["before"]["silver"].startswith(f"{ROWS}:")
