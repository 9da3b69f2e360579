"""Table config validation: good configs load; broken ones name the file and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from atlas import settings
from atlas.config import TableSpec, json_schema, load_table_spec, load_table_specs
from atlas.errors import AtlasConfigError

TABLES = settings.tables_dir()


def _defaults() -> dict:
    return yaml.safe_load((TABLES / "defaults.yml").read_text())


def test_shipped_configs_are_valid():
    results = load_table_specs(TABLES)
    assert {r.file.stem for r in results} == {"customers", "orders"}
    assert all(r.error is None for r in results)
    customers = next(r.spec for r in results if r.file.stem == "customers")
    assert customers.retries == 3  # from defaults.yml
    assert customers.table_schema.primary_key == ("customer_id",)
    assert customers.pii.columns["notes"].free_text is True


def test_specs_are_frozen():
    spec = load_table_spec(TABLES / "customers.yml", _defaults())
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError for frozen models
        spec.owner = "someone"  # type: ignore[misc]


def _write(tmp_path: Path, name: str, mutate) -> Path:
    data = yaml.safe_load((TABLES / "orders.yml").read_text())
    mutate(data)
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["source"].update(format="xml"), "source.format"),
        (lambda d: d["schema"].update(primary_key=["nope"]), "schema"),
        (lambda d: d["schema"]["columns"][0].update(type="varchar"), "schema.columns.0.type"),
        (lambda d: d["pii"]["columns"].update(ghost={"strategy": "redact"}), "<root>"),
        (lambda d: d["pii"]["columns"]["customer_id"].update(strategy="shred"), "pii.columns.customer_id.strategy"),
        (lambda d: d.update(retries=0), "retries"),
        (lambda d: d.update(unknown_key=1), "unknown_key"),
        (lambda d: d["ai_ready"].update(split=[0.5, 0.5, 0.5]), "ai_ready.split"),
    ],
)
def test_broken_config_names_file_and_field(tmp_path, mutate, field):
    path = _write(tmp_path, "orders", mutate)
    with pytest.raises(AtlasConfigError) as info:
        load_table_spec(path, _defaults())
    assert info.value.file == str(path)
    assert info.value.field == field or field in str(info.value)
    assert "orders.yml" in str(info.value)


def test_table_name_must_match_file(tmp_path):
    path = _write(tmp_path, "sales", lambda d: None)
    with pytest.raises(AtlasConfigError, match="must match the file name"):
        load_table_spec(path, _defaults())


def test_invalid_yaml_names_line(tmp_path):
    path = tmp_path / "orders.yml"
    path.write_text("table: orders\nsource: [unclosed\n")
    with pytest.raises(AtlasConfigError, match=r"orders.yml: line \d+"):
        load_table_spec(path)


def test_one_broken_file_does_not_hide_others(tmp_path):
    (tmp_path / "defaults.yml").write_text((TABLES / "defaults.yml").read_text())
    (tmp_path / "customers.yml").write_text((TABLES / "customers.yml").read_text())
    _write(tmp_path, "orders", lambda d: d.pop("source"))
    results = {r.file.stem: r for r in load_table_specs(tmp_path)}
    assert results["customers"].spec is not None
    assert results["orders"].error is not None and results["orders"].error.field == "source"


def test_committed_json_schema_is_current():
    committed = json.loads((TABLES / "table.schema.json").read_text())
    assert committed == json.loads(json.dumps(json_schema()))
    assert "source" in committed["properties"] and "schema" in committed["properties"]


def test_json_schema_accepts_shipped_configs():
    import jsonschema

    schema = json_schema()
    for name in ("customers", "orders"):
        data = yaml.safe_load((TABLES / f"{name}.yml").read_text())
        merged = {**_defaults(), **data}
        jsonschema.validate(merged, schema)
        assert TableSpec.model_validate(merged).table == name
