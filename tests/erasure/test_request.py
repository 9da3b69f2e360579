"""Erasure requests are validated strictly and never repeat the key value."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from atlas import settings
from atlas.config import TableSpec, load_valid_specs
from atlas.erasure import key_columns, targets, validate_request
from atlas.errors import AtlasErasureError

SECRET = "C000123"


@pytest.fixture(scope="module")
def specs():
    return load_valid_specs(settings.tables_dir())


def test_key_columns_default_to_the_primary_key(specs):
    assert key_columns(specs["customers"]) == ("customer_id",)
    assert key_columns(specs["orders"]) == ("order_id",), "never status or currency: not one subject"


def test_more_keys_can_be_declared_if_silver_can_match_them(specs):
    customers = specs["customers"].model_dump(by_alias=True)
    with_email = TableSpec.model_validate({**customers, "erasure": {"keys": ["customer_id", "email_address"]}})
    assert key_columns(with_email) == ("customer_id", "email_address")
    with pytest.raises(ValidationError, match="'cpr_number' has strategy redact in silver"):
        TableSpec.model_validate({**customers, "erasure": {"keys": ["cpr_number"]}})
    with pytest.raises(ValidationError, match="undeclared columns"):
        TableSpec.model_validate({**customers, "erasure": {"keys": ["no_such_column"]}})


def test_a_customer_request_reaches_their_orders(specs):
    request = validate_request(specs, "customers", "customer_id", SECRET)
    assert [(t.table, t.column) for t in targets(specs, request)] == [("customers", "customer_id"),
                                                                     ("orders", "customer_id")]
    one_order = validate_request(specs, "orders", "order_id", "O00000001")
    assert [(t.table, t.column) for t in targets(specs, one_order)] == [("orders", "order_id")]


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
