"""Benchmark: erasing one customer from the raw archive, Atlas's way vs parsing every file.

    .venv/bin/python benchmarks/bench_erasure.py [--rows 50000] [--days 6] [--repeat 3]

Builds ``--days`` archived customer extracts of ``--rows`` rows each (sample data, CSV) in a
temporary local lake; the subject is in the newest one only (as when older days have aged out
or never had them). Atlas: a byte search skips files that cannot hold the key, the file that
does is rewritten and read back through the bronze reader. Naive: every file is parsed and
rewritten without the subject, then read back. Both leave identical files.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
os.environ.setdefault("OTEL_SDK_DISABLED", "true")

SUBJECT = "C000042"


def build_lake(base: Path, rows: int, days: int) -> list[Path]:
    """``days`` archive files; only the last holds the subject."""
    from atlas import sample_data

    sample_data.generate(base / "gen", "2026-11-20", customers=rows, orders=0, seed=3)
    source = base / "gen" / "customers" / "2026-11-20" / "customers.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        header, *records = list(csv.reader(handle))
    files = []
    for day in range(days):
        path = base / "lake" / "bronze" / "customers" / f"ingest_date=2026-11-{day + 1:02d}" / "abc__customers.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        keep = records if day == days - 1 else [r for r in records if r[0] != SUBJECT]
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows([header, *keep])
        files.append(path)
    return files


def atlas_way(paths: list, spec) -> int:
    from atlas.erasure.files import rewrite_without

    return sum(rewrite_without(p, spec, "customer_id", SUBJECT).removed for p in paths)


def naive_way(paths: list, spec) -> int:
    """Parse and rewrite every file, read every one back: no byte search."""
    from atlas.erasure.files import FILTERS, _read_back

    removed = 0
    for path in paths:
        work = path.parent / f".{path.name}.naive"
        with path.open("rb") as src, work.open("wb") as dst:
            removed += FILTERS["csv"](src, dst, spec, "customer_id", SUBJECT)[0]
        _read_back(path, spec, "customer_id", SUBJECT)
        _read_back(work, spec, "customer_id", SUBJECT)
        work.replace(path)
    return removed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from airflow.sdk import ObjectStoragePath

    from atlas import settings
    from atlas.config import load_table_spec

    spec = load_table_spec(settings.tables_dir() / "customers.yml")
    timings: dict[str, list[float]] = {"atlas": [], "naive": []}
    base = Path(tempfile.mkdtemp(prefix="atlas-bench-erasure-"))
    try:
        for _ in range(args.repeat):
            for name, way in (("atlas", atlas_way), ("naive", naive_way)):
                shutil.rmtree(base, ignore_errors=True)
                files = build_lake(base, args.rows, args.days)
                size = sum(f.stat().st_size for f in files)
                paths = [ObjectStoragePath(f"file://{f}") for f in files]
                started = time.perf_counter()
                removed = way(paths, spec)
                timings[name].append(time.perf_counter() - started)
                assert removed == 1, f"{name}: removed {removed} records"
    finally:
        shutil.rmtree(base, ignore_errors=True)
    total = args.rows * args.days
    print(f"archive: {args.days} files x {args.rows:,} rows = {total:,} rows, {size / 1e6:.1f} MB; "
          f"the subject in 1 file; median of {args.repeat}")
    for name, label in (("atlas", "Atlas (byte search, rewrite + read back where found)"),
                        ("naive", "naive (parse, rewrite and read back every file)")):
        median = statistics.median(timings[name])
        print(f"  {label:55s} {median:7.2f} s  {total / median:12,.0f} rows/s")
    print(f"  ratio naive / Atlas: {statistics.median(timings['naive']) / statistics.median(timings['atlas']):.1f}x")


if __name__ == "__main__":
    main()
