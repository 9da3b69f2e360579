"""PII keys from the atlas_pii_key connection: JSON and URI forms, fail-fast, no key in messages."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from cryptography.fernet import Fernet

from atlas.errors import AtlasConfigError
from atlas.pii.keys import ENV_VAR, PiiKeys, _from_airflow, connection_json, generate_keys, load_keys

HMAC = "a-long-hmac-secret/with:odd@chars"


@pytest.fixture
def fernet_key() -> str:
    return Fernet.generate_key().decode()


def test_json_form(monkeypatch, fernet_key):
    monkeypatch.setenv(ENV_VAR, json.dumps({"conn_type": "generic", "password": HMAC,
                                            "extra": {"encryption_key": fernet_key}}))
    keys = load_keys()
    assert keys.hmac_key == HMAC.encode() and keys.encryption_key == fernet_key.encode()
    assert keys.previous_encryption_keys == ()


def test_json_form_with_extra_as_string_and_previous_keys(monkeypatch, fernet_key):
    old = Fernet.generate_key().decode()
    extra = json.dumps({"encryption_key": fernet_key, "previous_encryption_keys": [old]})
    monkeypatch.setenv(ENV_VAR, json.dumps({"conn_type": "generic", "password": HMAC, "extra": extra}))
    assert load_keys().previous_encryption_keys == (old.encode(),)


def test_uri_form(monkeypatch, fernet_key):
    monkeypatch.setenv(ENV_VAR, f"generic://:{quote(HMAC, safe='')}@/?encryption_key={quote(fernet_key)}")
    keys = load_keys()
    assert keys.hmac_key == HMAC.encode() and keys.encryption_key == fernet_key.encode()


def test_uri_form_with_airflow_extra_blob(monkeypatch, fernet_key):
    blob = quote(json.dumps({"encryption_key": fernet_key}))
    monkeypatch.setenv(ENV_VAR, f"generic://:{quote(HMAC, safe='')}@/?__extra__={blob}")
    assert load_keys().encryption_key == fernet_key.encode()


def test_connection_json_round_trips(monkeypatch):
    keys = generate_keys()
    monkeypatch.setenv(ENV_VAR, connection_json(keys))
    assert load_keys() == keys


def test_airflow_resolves_the_same_connection(monkeypatch, fernet_key):
    monkeypatch.setenv(ENV_VAR, json.dumps({"conn_type": "generic", "password": HMAC,
                                            "extra": {"encryption_key": fernet_key}}))
    password, extra = _from_airflow()
    assert password == HMAC and extra["encryption_key"] == fernet_key


def test_absent_connection_fails_fast(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(AtlasConfigError, match="not configured"):
        load_keys()


@pytest.mark.parametrize(
    ("password", "extra", "field"),
    [
        ("", {"encryption_key": "x"}, "password"),
        (HMAC, {}, "extra.encryption_key"),
        ("short", {"encryption_key": Fernet.generate_key().decode()}, "password"),
        (HMAC, {"encryption_key": "not-a-fernet-key-but-secret-anyway"}, "extra.encryption_key"),
    ],
)
def test_bad_keys_fail_naming_the_field_never_the_key(monkeypatch, password, extra, field):
    monkeypatch.setenv(ENV_VAR, json.dumps({"conn_type": "generic", "password": password, "extra": extra}))
    with pytest.raises(AtlasConfigError) as err:
        load_keys()
    assert err.value.field == field
    for secret in [password, *extra.values()]:
        if secret:
            assert secret not in str(err.value)


def test_repr_hides_the_keys():
    keys = generate_keys()
    text = repr(keys)
    assert keys.hmac_key.decode() not in text and keys.encryption_key.decode() not in text
    assert isinstance(keys, PiiKeys)
