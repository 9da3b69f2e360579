"""Strategies as presidio-anonymizer operators: the engine path and the direct path agree, and
pseudonyms stay byte-identical to ``atlas.pii.pseudonym`` (joins and stored data survive)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from presidio_anonymizer.entities import OperatorConfig

from atlas.config import ColumnPolicy, PiiSpec
from atlas.pii import ColumnFinding, build_protector, pseudonymize
from atlas.pii.anonymizer import CUSTOM_OPERATORS, KeyedPseudonym, anonymizer_engine
from atlas.pii.crypto import decrypt_value
from atlas.pii.keys import PiiKeys
from atlas.pii.strategies import STRATEGIES

FIXED_KEY = b"0123456789abcdef"


def test_pseudonyms_are_byte_identical_to_the_stored_ones():
    keys = PiiKeys(hmac_key=FIXED_KEY, encryption_key=b"Gz8Ih8rqqyWfIvPH0lQT3AlXEPrbI0dGnGaPJ5jGe9s=")
    # Known answers of atlas.pii.pseudonym before the strategies moved to Presidio operators.
    expected = {"anders@example.dk": "ps_7defa8a5f35ce0e2108fb981cd709541",
                "Zoë Krüger": "ps_4d15937786e9f9aeff3b75bd08ea57e2"}
    operator = KeyedPseudonym()
    for value, token in expected.items():
        assert pseudonymize(value, FIXED_KEY) == token
        assert operator.operate(value, {"keys": keys}) == token
    spec = PiiSpec(columns={"email": ColumnPolicy(strategy="pseudonymize")})
    finding = ColumnFinding("email", "structured", ("EMAIL_ADDRESS",), 0.9, 1.0, 2, (), "pseudonymize", "config")
    for mode in ("direct", "engine"):
        protector = build_protector(spec, [finding], keys, anonymizer=mode)
        out = protector.protect(pd.DataFrame({"email": list(expected)}))["email"].tolist()
        assert out == list(expected.values()), mode


def test_custom_operators_are_registered_in_the_engine():
    names = set(anonymizer_engine().get_anonymizers())
    assert {op().operator_name() for op in CUSTOM_OPERATORS} <= names
    assert {"mask", "redact", "replace", "keep"} <= names


def test_operator_configs_never_show_the_keys(keys):
    config = OperatorConfig(KeyedPseudonym.NAME, {"keys": keys})
    assert keys.hmac_key.hex() not in repr(config) and str(keys.hmac_key) not in repr(config)


POLICIES = {
    "pseudonymize": ColumnPolicy(strategy="pseudonymize"),
    "mask": ColumnPolicy(strategy="mask", keep_last=2),
    "redact": ColumnPolicy(strategy="redact"),
    "replace": ColumnPolicy(strategy="replace", entity="PHONE_NUMBER"),
    "encrypt": ColumnPolicy(strategy="encrypt"),
    "generalize": ColumnPolicy(strategy="generalize", generalize_to="age_band"),
    "keep": ColumnPolicy(strategy="keep"),
}


def test_every_strategy_has_a_policy_here():
    assert set(POLICIES) == set(STRATEGIES)


@pytest.mark.parametrize("strategy", sorted(POLICIES))
def test_engine_and_direct_paths_agree_on_structured_and_free_text(strategy, keys):
    values = ["+45 20 30 40 50", "1987-03-14", None, "", "+45 20 30 40 50", "Anders Jensen"]
    notes = ["Kunden Mette Hansen ringede fra +45 20 30 40 50 i går.", None, "Intet at bemærke.",
             "Customer Anders Jensen, anders@example.dk, CPR 010190-1234."]
    spec = PiiSpec(columns={"value": POLICIES[strategy],
                            "notes": POLICIES[strategy].model_copy(update={"free_text": True})})
    findings = [
        ColumnFinding("value", "structured", ("PHONE_NUMBER",), 0.9, 1.0, 6, (), strategy, "config"),
        ColumnFinding("notes", "free_text", ("PERSON",), 0.9, 1.0, 4, (), strategy, "config"),
    ]
    frame = pd.DataFrame({"value": values, "notes": [*notes, None, None]}, dtype=object)
    out = {}
    for mode in ("direct", "engine"):
        protector = build_protector(spec, findings, keys, anonymizer=mode, reference_date=date(2026, 11, 22))
        out[mode] = protector.protect(frame)
    direct, engine = out["direct"], out["engine"]
    assert [v is None for v in direct["value"]] == [v is None for v in engine["value"]]
    if strategy == "encrypt":  # a fresh token per call: compare what the tokens decrypt to
        for column in ("value", "notes"):
            for a, b in zip(direct[column], engine[column], strict=True):
                assert (a is None) == (b is None)
        assert [decrypt_value(v, keys) for v in engine["value"] if v] == [v for v in frame["value"] if v and v.strip()]
        assert "Mette" not in engine["notes"][0] and engine["notes"][0].startswith("Kunden ")
        return
    assert direct["value"].tolist() == engine["value"].tolist()
    assert direct["notes"].tolist() == engine["notes"].tolist()
    if strategy != "keep":
        assert "Mette Hansen" not in (engine["notes"][0] or "")
