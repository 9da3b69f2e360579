"""The manifest of one AI-ready dataset version (``manifest.json`` next to its Parquet files)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from atlas.ai_ready.features import CategoricalFeature, NumericFeature

FORMAT_VERSION = 1


@dataclass(frozen=True)
class DataFile:
    split: str
    path: str  # relative to the version folder
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What was published, from what, and how to verify it. ``uri`` is where it was read/written."""

    dataset: str
    version: str
    logical_date: str
    run_id: str
    source_table: str
    source_run_id: str | None
    table: str
    key_column: str
    split_fractions: tuple[float, float, float]
    schema: tuple[tuple[str, str], ...]  # (column, Arrow type)
    numeric: tuple[NumericFeature, ...]
    categorical: tuple[CategoricalFeature, ...]
    files: tuple[DataFile, ...]
    content_hash: str  # sha256 over the data files' bytes in split order
    created_with: tuple[tuple[str, str], ...]
    erasures: tuple[tuple[str, int], ...] = ()  # (erasure request id, rows removed) after publishing
    uri: str = field(default="", compare=False)

    @property
    def row_counts(self) -> dict[str, int]:
        return {f.split: f.rows for f in self.files}

    @property
    def total_rows(self) -> int:
        return sum(f.rows for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "dataset": self.dataset,
            "version": self.version,
            "logical_date": self.logical_date,
            "run_id": self.run_id,
            "source": {"table": self.source_table, "run_id": self.source_run_id},
            "table": self.table,
            "key": {"source_column": self.key_column, "column": "row_key",
                    "method": "HMAC-SHA256 pseudonym of the key (atlas.pii.pseudonym)"},
            "split": {"method": "sha256('atlas-split:' + row_key), first 8 bytes / 2**64",
                      "fractions": dict(zip(("train", "validation", "test"), self.split_fractions, strict=True))},
            "schema": [{"name": name, "type": kind} for name, kind in self.schema],
            "row_counts": {**self.row_counts, "total": self.total_rows},
            "features": {
                "numeric": [{"name": f.name, "mean": f.mean, "std": f.std, "missing": f.missing,
                             "indicator": f.indicator, "transform": "zscore"} for f in self.numeric],
                "categorical": [{"name": c.name, "vocabulary": list(c.vocabulary), "columns": list(c.columns),
                                 "transform": "one_hot"} for c in self.categorical],
            },
            "files": [{"split": f.split, "path": f.path, "rows": f.rows, "bytes": f.bytes, "sha256": f.sha256}
                      for f in self.files],
            "content_hash": self.content_hash,
            "created_with": dict(self.created_with),
            **({"erasures": [{"request_id": r, "rows_removed": n} for r, n in self.erasures]}
               if self.erasures else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any], uri: str = "") -> Manifest:
        features = data["features"]
        fractions = data["split"]["fractions"]
        return cls(
            dataset=data["dataset"],
            version=data["version"],
            logical_date=data["logical_date"],
            run_id=data["run_id"],
            source_table=data["source"]["table"],
            source_run_id=data["source"]["run_id"],
            table=data["table"],
            key_column=data["key"]["source_column"],
            split_fractions=(fractions["train"], fractions["validation"], fractions["test"]),
            schema=tuple((c["name"], c["type"]) for c in data["schema"]),
            numeric=tuple(NumericFeature(f["name"], f["mean"], f["std"], f["missing"])
                          for f in features["numeric"]),
            categorical=tuple(CategoricalFeature(c["name"], tuple(c["vocabulary"]), tuple(c["columns"]))
                              for c in features["categorical"]),
            files=tuple(DataFile(f["split"], f["path"], f["rows"], f["bytes"], f["sha256"]) for f in data["files"]),
            content_hash=data["content_hash"],
            created_with=tuple(data["created_with"].items()),
            erasures=tuple((e["request_id"], e["rows_removed"]) for e in data.get("erasures", ())),
            uri=uri,
        )


def read_manifest(path: Any, conn_id: str | None = None) -> Manifest:
    """Read ``manifest.json`` (a version folder or the file itself; a local path or a lake URL)."""
    from airflow.sdk import ObjectStoragePath

    from atlas.ai_ready.lake import lake_path, url_of

    target = path if isinstance(path, ObjectStoragePath) else lake_path(str(path), conn_id)
    if not target.name.endswith(".json"):
        target = target / "manifest.json"
    with target.open("rb") as handle:
        data = json.loads(handle.read().decode("utf-8"))
    return Manifest.from_dict(data, uri=url_of(target))
