"""Build the SodaCL for a table and layer: generated defaults merged with hand-written files.

Layout: ``include/soda/<layer>/<file>.yml`` where ``<file>`` is ``quality.checks`` (default
``<table>.yml``) for bronze and silver, and ``<model>.yml`` for each gold model. Every check
carries ``attributes: {dimension, severity}`` (plus optional ``threshold``/``column``); a
hand-written check with the name of a generated one replaces it. Bronze and silver checks run
on the logical date's rows (Soda filter ``[atlas_slice]``); schema checks and sections written
as ``checks for <table>`` see the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from atlas import settings
from atlas.config import TableSpec
from atlas.errors import AtlasConfigError
from atlas.quality.checks import DEFAULT_KINDS, SLICE, CheckContext, SodaCheck
from atlas.quality.model import DIMENSIONS, LAYERS, SEVERITIES

SLICE_COLUMN = "_atlas_logical_date"
CHECKS_PREFIX = "checks for "


@dataclass(frozen=True)
class CheckMeta:
    """Atlas's attributes of a check (dimension, severity; optional threshold and column text).
    What the check measures and its threshold as Soda parsed it come with Soda's results."""

    dataset: str
    name: str
    dimension: str
    severity: str
    threshold: str | None
    column: str | None


def soda_dir() -> Path:
    return settings.include_dir() / "soda"


def datasets(spec: TableSpec, layer: str) -> tuple[str, ...]:
    """Tables checked in ``layer``: the table itself, or in gold the models it feeds."""
    _check_layer(layer)
    return tuple(spec.gold.models) if layer == "gold" else (spec.table,)


def build_checks(spec: TableSpec, layer: str, checks_dir: Path | None = None) -> str:
    """The complete SodaCL document for ``spec`` in ``layer`` (one scan, all datasets)."""
    return yaml.safe_dump(build_document(spec, layer, checks_dir), sort_keys=False, allow_unicode=True, width=10_000)


def build_document(spec: TableSpec, layer: str, checks_dir: Path | None = None) -> dict[str, Any]:
    _check_layer(layer)
    root = (checks_dir or soda_dir()) / layer
    doc: dict[str, Any] = {}
    for dataset in datasets(spec, layer):
        sliced = layer != "gold"
        name = f"{dataset}.yml" if layer == "gold" else (spec.quality.checks or f"{spec.table}.yml")
        written = _read_handwritten(root / name, spec) if (root / name).exists() else {}
        replaced = {_meta_of(dataset, item).name for header, section in written.items()
                    if header.startswith(CHECKS_PREFIX) for item in section}
        if sliced:
            doc[f"filter {dataset} [{SLICE}]"] = {"where": f"{SLICE_COLUMN} = '${{logical_date}}'"}
        for check in _generated(spec, layer):
            if check.name not in replaced:
                header = f"{CHECKS_PREFIX}{dataset}" + ("" if check.whole_table or not sliced else f" [{SLICE}]")
                doc.setdefault(header, []).append(_override(spec, check).to_sodacl())
        for header, section in written.items():
            if header.startswith(CHECKS_PREFIX):
                doc.setdefault(header, []).extend(section)
            else:
                doc[header] = section
    _validate(spec, doc)
    return doc


def catalog(sodacl: str | dict[str, Any]) -> dict[tuple[str, str], CheckMeta]:
    """Every check of a document with the attributes Atlas gave it, by (dataset, name)."""
    doc = yaml.safe_load(sodacl) if isinstance(sodacl, str) else sodacl
    found: dict[tuple[str, str], CheckMeta] = {}
    for header, section in (doc or {}).items():
        if header.startswith(CHECKS_PREFIX) and isinstance(section, list):
            dataset = header[len(CHECKS_PREFIX):].split("[")[0].strip()
            for item in section:
                meta = _meta_of(dataset, item)
                found[(dataset, meta.name)] = meta
    return found


# ---------------------------------------------------------------------------- generated


def _generated(spec: TableSpec, layer: str) -> list[SodaCheck]:
    ctx = CheckContext(spec, layer)
    return [check for kind in DEFAULT_KINDS[layer] for check in kind.checks(ctx)]


def _override(spec: TableSpec, check: SodaCheck) -> SodaCheck:
    severity = spec.quality.severity.get(check.name)
    if severity is None or severity == check.severity:
        return check
    from dataclasses import replace

    return replace(check, severity=severity)


# ---------------------------------------------------------------------------- hand-written


def _read_handwritten(path: Path, spec: TableSpec) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise AtlasConfigError(str(path), "<root>", f"not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise AtlasConfigError(str(path), "<root>", "expected a mapping of SodaCL sections")
    out: dict[str, Any] = {}
    for header, section in raw.items():
        if not str(header).startswith(CHECKS_PREFIX):
            out[header] = section
            continue
        if not isinstance(section, list):
            raise AtlasConfigError(str(path), header, "expected a list of checks")
        out[header] = [_normalize(path, f"{header}[{i}]", item, spec) for i, item in enumerate(section)]
    return out


def _normalize(path: Path, where: str, item: Any, spec: TableSpec) -> dict[str, Any]:
    """``{line: config}`` with a name and validated dimension/severity attributes."""
    if isinstance(item, str):
        line, cfg = item, {}
    elif isinstance(item, dict) and len(item) == 1:
        line, cfg = next(iter(item.items()))
        cfg = dict(cfg or {})
    else:
        raise AtlasConfigError(str(path), where, "a check is a string or a one-key mapping")
    attrs = dict(cfg.get("attributes") or {})
    if attrs.get("dimension") not in DIMENSIONS:
        raise AtlasConfigError(str(path), where, f"attributes.dimension must be one of {list(DIMENSIONS)}")
    name = str(cfg.get("name") or line)
    default = "warn" if "warn" in cfg and "fail" not in cfg else "fail"
    attrs["severity"] = spec.quality.severity.get(name, attrs.get("severity", default))
    if attrs["severity"] not in SEVERITIES:
        raise AtlasConfigError(str(path), where, f"attributes.severity must be one of {list(SEVERITIES)}")
    return {line: {**cfg, "name": name, "attributes": attrs}}


def _meta_of(dataset: str, item: dict[str, Any]) -> CheckMeta:
    line, cfg = next(iter(item.items()))
    attrs = cfg.get("attributes", {})
    return CheckMeta(dataset, cfg.get("name") or line, attrs["dimension"], attrs["severity"],
                     attrs.get("threshold"), attrs.get("column"))


# ---------------------------------------------------------------------------- validation


def _check_layer(layer: str) -> None:
    if layer not in LAYERS:
        raise ValueError(f"unknown layer '{layer}', expected one of {LAYERS}")


def _validate(spec: TableSpec, doc: dict[str, Any]) -> None:
    seen: set[tuple[str, str]] = set()
    for header, section in doc.items():
        if not (header.startswith(CHECKS_PREFIX) and isinstance(section, list)):
            continue
        dataset = header[len(CHECKS_PREFIX):].split("[")[0].strip()
        for item in section:
            key = (dataset, _meta_of(dataset, item).name)
            if key in seen:
                raise AtlasConfigError(f"{spec.table}.yml", "quality", f"duplicate check name {key[1]!r} on {dataset}")
            seen.add(key)
    unknown = set(spec.quality.severity) - {name for _, name in seen}
    if unknown:
        raise AtlasConfigError(f"{spec.table}.yml", "quality.severity", f"unknown check names: {sorted(unknown)}")

