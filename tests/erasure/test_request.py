"""Erasure requests are validated strictly and never repeat the key value."""

from __future__ import annotations

import pytest

from atlas import settings
from atlas.config import load_valid_specs
from atlas.erasure import key_columns, targets, validate_request
from atlas.errors import AtlasErasureError

SECRET = "C000123"


@pytest.fixture(scope="module")
def specs():
    return load_valid_specs(settings.tables_dir())


def test_key_columns_are_the_ones_silver_can_match(specs):
    assert "customer_id" in key_columns(specs["customers"])
    assert "email_address" in key_columns(specs["customers"]), "pseudonymized: matched by its pseudonym"
    assert "city" in key_columns(specs["customers"]), "kept as is"
    for masked in ("cpr_number", "phone_number", "address", "notes", "date_of_birth"):
        assert masked not in key_columns(specs["customers"]), masked


def test_a_customer_request_reaches_their_orders(specs):
    request = validate_request(specs, "customers", "customer_id", SECRET)
    assert [(t.table, t.column) for t in targets(specs, request)] == [("customers", "customer_id"),
                                                                     ("orders", "customer_id")]
    only_orders = validate_request(specs, "orders", "customer_id", SECRET)
    assert [(t.table, t.column) for t in targets(specs, only_orders)] == [("orders", "customer_id")]


def test_the_request_never_shows_its_key(specs):
    request = validate_request(specs, "customers", "customer_id", SECRET)
    assert SECRET not in repr(request)
    assert request.pseudonym(b"k" * 32).startswith("ps_") and SECRET not in request.pseudonym(b"k" * 32)


@pytest.mark.parametrize(("table", "column", "value", "message"), [
    ("payroll", "customer_id", SECRET, "unknown table 'payroll'; known tables: customers, orders"),
    ("customers", "cpr_number", SECRET, "'cpr_number' is not a key column of customers"),
    ("orders", "order_idx", SECRET, "'order_idx' is not a key column of orders"),
    ("customers", "customer_id", "", "1 to 256 characters"),
    ("customers", "customer_id", SECRET + "\u200b", "control or invisible format characters"),
    ("customers", "customer_id", " " + SECRET, "leading or trailing whitespace"),
    ("customers", "customer_id", 123, "must be a string"),
    ("customers", "customer_id", "{{ 7 * 7 }}" + "x" * 300, "1 to 256 characters"),
])
def test_bad_requests_name_the_problem_not_the_value(specs, table, column, value, message):
    with pytest.raises(AtlasErasureError) as raised:
        validate_request(specs, table, column, value)
    assert message in str(raised.value)
    assert SECRET not in str(raised.value) and "7 * 7" not in str(raised.value)


def test_a_template_looking_key_is_just_data(specs):
    request = validate_request(specs, "customers", "customer_id", "{{ dag_run.conf }}")
    assert request.key_value == "{{ dag_run.conf }}"
