"""The sample-data generator: layout, determinism, the deliberate problems and their counts.

Assertions report row numbers and counts, never the generated names, emails, phones or CPRs.
"""

from __future__ import annotations

import csv
import re
import time
from datetime import date, datetime
from pathlib import Path

import phonenumbers
import pytest
import yaml

from atlas import sample_data
from atlas.sample_data import SampleSummary, generate

DS = "2026-11-21"
TABLES = Path(__file__).resolve().parents[1] / "include" / "tables"
EMAIL = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$")
EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
CPR = re.compile(r"^(\d{2})(\d{2})(\d{2})-(\d)(\d{3})$")
CPR_IN_TEXT = re.compile(r"\b\d{6}-\d{4}\b")
PHONE_IN_TEXT = re.compile(r"\+?\d[\d .()-]{6,}\d")
REGION = {"Denmark": "DK", "United States": "US", "United Kingdom": "GB"}


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _cpr_birth_date(cpr: str) -> date:
    """Birth date encoded in a CPR number (day, month, two-digit year + century digit)."""
    day, month, yy, century, _ = CPR.match(cpr).groups()  # type: ignore[union-attr]
    yy_int, digit = int(yy), int(century)
    if digit <= 3:
        year = 1900 + yy_int
    elif digit in (4, 9):
        year = (2000 if yy_int <= 36 else 1900) + yy_int
    else:
        year = (2000 if yy_int <= 57 else 1800) + yy_int
    return date(year, int(month), int(day))


def _phone_valid(value: str, country: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(value, REGION[country]))
    except phonenumbers.NumberParseException:
        return False


class Run(dict):
    """The rows of one run; its repr stays short so a failing test never prints row values."""

    def __repr__(self) -> str:
        return f"<sample run: {len(self['customers'])} customers, {len(self['orders'])} orders>"


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One full-size run (10,000 customers, 50,000 orders) with its timing."""
    root = tmp_path_factory.mktemp("landing")
    started = time.perf_counter()
    summary = generate(root, DS)
    seconds = time.perf_counter() - started
    customer_header, customers = _rows(root / "customers" / DS / "customers.csv")
    order_header, orders = _rows(root / "orders" / DS / "orders.csv")
    return Run(summary=summary, seconds=seconds, customers=customers, orders=orders,
               customer_header=customer_header, order_header=order_header)


def _yaml_columns(table: str) -> list[str]:
    spec = yaml.safe_load((TABLES / f"{table}.yml").read_text(encoding="utf-8"))
    return [column["name"] for column in spec["schema"]["columns"]]


def test_headers_follow_the_table_yaml(full):
    assert full["customer_header"] == _yaml_columns("customers")
    assert full["order_header"] == _yaml_columns("orders")


def test_full_size_is_fast(full):
    assert full["seconds"] < 15, f"10K customers + 50K orders took {full['seconds']:.1f}s"


def test_row_counts_and_problem_counts_match_the_files(full):
    summary: SampleSummary = full["summary"]
    customers, orders = full["customers"], full["orders"]
    ids = [c["customer_id"] for c in customers]
    known = set(ids)
    tiers = {"bronze", "silver", "gold", "platinum"}
    assert summary.customer_rows == len(customers) == 10_000
    assert summary.order_rows == len(orders) == 50_000
    assert summary.missing_emails == sum(not c["email_address"] for c in customers)
    assert summary.invalid_phones == sum(not _phone_valid(c["phone_number"], c["country"]) for c in customers)
    assert summary.duplicate_customer_ids == len(ids) - len(known)
    assert summary.invalid_tiers == sum(c["customer_tier"] not in tiers for c in customers)
    assert summary.negative_amounts == sum(float(o["order_amount"]) < 0 for o in orders)
    assert summary.missing_customer_ids == sum(not o["customer_id"] for o in orders)
    assert summary.orphan_orders == sum(bool(o["customer_id"]) and o["customer_id"] not in known for o in orders)
    assert set(summary.as_dict().values()) and all(isinstance(v, int) for v in summary.as_dict().values())


def test_problem_ratios_are_near_their_targets(full):
    s: SampleSummary = full["summary"]
    ratios = {
        "missing_emails": (s.missing_emails / s.customer_rows, 0.04, 0.06),
        "invalid_phones": (s.invalid_phones / s.customer_rows, 0.015, 0.025),
        "duplicate_customer_ids": (s.duplicate_customer_ids / s.customer_rows, 0.008, 0.012),
        "invalid_tiers": (s.invalid_tiers / s.customer_rows, 0.002, 0.01),
        "notes_with_pii": (s.notes_with_pii / s.customer_rows, 0.12, 0.25),
        "negative_amounts": (s.negative_amounts / s.order_rows, 0.015, 0.025),
        "orphan_orders": (s.orphan_orders / s.order_rows, 0.025, 0.035),
        "missing_customer_ids": (s.missing_customer_ids / s.order_rows, 0.008, 0.012),
    }
    off = {name: round(r, 4) for name, (r, low, high) in ratios.items() if not low <= r <= high}
    assert not off


def test_duplicates_repeat_an_earlier_row_unchanged(full):
    first_seen: dict[str, dict[str, str]] = {}
    changed = []
    for number, row in enumerate(full["customers"]):
        earlier = first_seen.setdefault(row["customer_id"], row)
        if earlier is not row and earlier != row:
            changed.append(number)
    assert not changed
    assert full["customers"][0]["customer_id"] == "C000001"


def test_cpr_numbers_are_valid_and_match_the_birth_date(full):
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
    danish = [c for c in full["customers"] if c["country"] == "Denmark"]
    bad_format = [i for i, c in enumerate(danish) if not CPR.match(c["cpr_number"])]
    assert not bad_format
    wrong_date = [i for i, c in enumerate(danish)
                  if _cpr_birth_date(c["cpr_number"]) != date.fromisoformat(c["date_of_birth"])]
    assert not wrong_date
    bad_checksum = [i for i, c in enumerate(danish)
                    if sum(int(d) * w for d, w in zip(c["cpr_number"].replace("-", ""), weights, strict=True)) % 11]
    assert not bad_checksum
    assert all(not c["cpr_number"] for c in full["customers"] if c["country"] != "Denmark")
    assert len(danish) / len(full["customers"]) > 0.75


def test_contact_fields_are_well_formed(full):
    customers = full["customers"]
    bad_email = [i for i, c in enumerate(customers) if c["email_address"] and not EMAIL.match(c["email_address"])]
    assert not bad_email
    id_pattern = re.compile(r"^C\d{6}$")
    assert all(id_pattern.match(c["customer_id"]) for c in customers)
    formats = {re.sub(r"\d", "9", c["phone_number"]) for c in customers if c["country"] == "Denmark"}
    assert {"+99 99 99 99 99", "99999999", "9999 99999999"} <= formats
    us_formats = {re.sub(r"\d", "9", c["phone_number"]) for c in customers if c["country"] == "United States"}
    assert "(999) 999-9999" in us_formats


def test_ages_and_timestamps_are_plausible(full):
    day_end = datetime.fromisoformat(f"{DS}T23:59:59")
    ages = [(date.fromisoformat(DS) - date.fromisoformat(c["date_of_birth"])).days / 365.25
            for c in full["customers"]]
    assert 18 <= min(ages) and max(ages) <= 90.5
    created = {c["customer_id"]: datetime.fromisoformat(c["created_at"]) for c in full["customers"]}
    assert max(created.values()) <= day_end
    too_early = [i for i, o in enumerate(full["orders"])
                 if o["customer_id"] in created and datetime.fromisoformat(o["order_date"]) < created[o["customer_id"]]]
    assert not too_early
    assert max(datetime.fromisoformat(o["order_date"]) for o in full["orders"]) <= day_end
    on_the_day = sum(o["order_date"].startswith(DS) for o in full["orders"])
    assert on_the_day > 0.05 * len(full["orders"])


def test_order_values_follow_the_schema(full):
    orders = full["orders"]
    assert all(re.match(r"^O\d{8}$", o["order_id"]) for o in orders)
    assert len({o["order_id"] for o in orders}) == len(orders)
    assert {o["currency"] for o in orders} == {"DKK", "EUR", "SEK", "NOK"}
    assert sum(o["currency"] == "DKK" for o in orders) / len(orders) > 0.75
    assert {o["status"] for o in orders} == {"pending", "completed", "cancelled", "refunded"}
    assert {o["payment_method"] for o in orders} <= {"credit_card", "invoice", "mobile_pay", ""}
    assert {c["is_active"] for c in full["customers"]} == {"true", "false"}


def test_orphan_orders_reference_well_formed_ids_that_do_not_exist(full):
    known = {c["customer_id"] for c in full["customers"]}
    orphans = [o["customer_id"] for o in full["orders"] if o["customer_id"] and o["customer_id"] not in known]
    assert len(orphans) == full["summary"].orphan_orders
    assert all(re.match(r"^C\d{6}$", cid) for cid in orphans)
    linked = sum(o["customer_id"] in known for o in full["orders"])
    assert linked == 50_000 - full["summary"].orphan_orders - full["summary"].missing_customer_ids


def test_notes_carry_pii_only_where_counted(full):
    notes = [c["notes"] for c in full["customers"] if c["notes"]]
    plain = [n for n in notes if n in sample_data.PLAIN_NOTES]
    with_pii = [n for n in notes if n not in sample_data.PLAIN_NOTES]
    assert len(with_pii) == full["summary"].notes_with_pii
    assert not [n for n in plain if EMAIL_IN_TEXT.search(n) or CPR_IN_TEXT.search(n) or PHONE_IN_TEXT.search(n)]
    kinds = {
        "email": sum(bool(EMAIL_IN_TEXT.search(n)) for n in with_pii),
        "cpr": sum(bool(CPR_IN_TEXT.search(n)) for n in with_pii),
        "phone": sum(bool(PHONE_IN_TEXT.search(n)) for n in with_pii),
    }
    assert all(count > 0.05 * len(with_pii) for count in kinds.values()), kinds
    assert 0.4 < len(notes) / len(full["customers"]) < 0.8


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path):
    runs = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        summary = generate(tmp_path / name, DS, customers=1_500, orders=4_000, seed=seed)
        files = [(tmp_path / name / t / DS / f"{t}.csv").read_bytes() for t in ("customers", "orders")]
        runs[name] = (summary, files)
    assert runs["a"] == runs["b"]
    assert runs["a"][1][0] != runs["c"][1][0] and runs["a"][1][1] != runs["c"][1][1]


def test_small_runs_still_carry_every_problem(tmp_path):
    summary = generate(tmp_path, DS, customers=100, orders=100, seed=1)
    assert summary.customer_rows == 100 and summary.order_rows == 100
    assert min(summary.as_dict().values()) >= 1
    assert not list(tmp_path.rglob(".*.partial"))


def test_file_url_and_object_storage_path_roots(tmp_path, monkeypatch):
    from airflow import settings as airflow_settings
    from airflow.sdk import ObjectStoragePath

    # ObjectStoragePath I/O loads Airflow plugins (hook lineage); keep the loader off the atlas
    # package, as docker-compose.yaml does, since it would exec every module there.
    monkeypatch.setattr(airflow_settings, "PLUGINS_FOLDER", str(tmp_path / "airflow-plugins"))

    generate(f"file://{tmp_path / 'url'}", DS, customers=50, orders=20)
    generate(ObjectStoragePath(f"file://{tmp_path / 'osp'}"), DS, customers=50, orders=20)
    for root in ("url", "osp"):
        assert len(_rows(tmp_path / root / "orders" / DS / "orders.csv")[1]) == 20
    assert (tmp_path / "url" / "customers" / DS / "customers.csv").read_bytes() == (
        tmp_path / "osp" / "customers" / DS / "customers.csv"
    ).read_bytes()


def test_bad_sizes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="customers"):
        generate(tmp_path, DS, customers=0)
    with pytest.raises(ValueError, match="orders"):
        generate(tmp_path, DS, customers=10, orders=-1)


def test_command_line_prints_the_summary(tmp_path, capsys):
    argv = ["--landing", str(tmp_path), "--ds", DS, "--customers", "200", "--orders", "300", "--seed", "3"]
    assert sample_data.main(argv) == 0
    out = capsys.readouterr().out
    assert "customer_rows" in out and "orphan_orders" in out and "300" in out
    assert "@" not in out
    assert (tmp_path / "orders" / DS / "orders.csv").exists()
