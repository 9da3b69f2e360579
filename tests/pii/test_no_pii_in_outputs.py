"""No PII in logs, exception messages, findings (XCom / audit rows) or lineage-bound summaries."""

from __future__ import annotations

import json
import logging
import socket

import pandas as pd
import pytest

from atlas.config import ColumnPolicy, PiiSpec
from atlas.errors import AtlasConfigError
from atlas.pii import build_protector, classify_columns

RAW = {
    "customer_name": ["Anders Jensen", "Mette Hansen", "Lars Kristensen", "Birgitte Mortensen"] * 5,
    "email_address": ["anders.jensen@example.dk", "mette.h@example.dk", "lars.k@example.dk", "bm@example.dk"] * 5,
    "phone_number": ["+45 20 30 40 50", "+45 31 41 51 61", "+45 42 52 62 72", "+45 53 63 73 83"] * 5,
    "cpr_number": ["010190-1234", "150585-2678", "220375-1012", "311299-3456"] * 5,
    "notes": ["Customer Anders Jensen called from +45 20 30 40 50 about CPR 010190-1234."] * 20,
}
VALUES = sorted({v for column in RAW.values() for v in column} | {"Anders", "Jensen", "20 30 40 50"})


def _leaked(text: str) -> list[int]:
    """Indexes (not values) of raw values found in ``text``."""
    return [i for i, v in enumerate(VALUES) if v in text]


@pytest.fixture
def every_log_line(caplog):
    caplog.set_level(logging.DEBUG)
    yield caplog
    caplog.clear()


def _text_of(records: list[logging.LogRecord]) -> str:
    return "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records)


def test_detect_and_protect_log_no_values(every_log_line, keys):
    findings = classify_columns("customers", RAW, PiiSpec(sample_size=10))
    protector = build_protector(PiiSpec(), findings, keys)
    protector.protect(pd.DataFrame(RAW))
    assert every_log_line.records, "the warnings for unconfigured PII columns are expected"
    assert _leaked(_text_of(every_log_line.records)) == []


def test_findings_records_and_strategies_carry_no_values(keys):
    findings = classify_columns("customers", RAW, PiiSpec(sample_size=10))
    payload = json.dumps({"findings": [f.as_record() for f in findings],
                          "strategies": build_protector(PiiSpec(), findings, keys).strategies})
    assert _leaked(payload) == []
    assert {f.column for f in findings if f.kind != "none"} == set(RAW)


def test_strict_error_and_key_errors_carry_no_values():
    with pytest.raises(AtlasConfigError) as err:
        classify_columns("customers", RAW, PiiSpec(sample_size=10, strict=True))
    assert _leaked(str(err.value)) == [] and _leaked(repr(err.value)) == []


def test_protected_output_holds_no_raw_structured_value(keys):
    spec = PiiSpec(columns={c: ColumnPolicy(strategy="pseudonymize") for c in RAW if c != "notes"}
                   | {"notes": ColumnPolicy(strategy="replace", free_text=True)})
    findings = classify_columns("customers", RAW, spec)
    out = build_protector(spec, findings, keys).protect(pd.DataFrame(RAW))
    assert _leaked(out.to_csv()) == []


def test_no_network_attempt_while_detecting(monkeypatch, keys):
    attempts: list[str] = []

    def refuse(self, address):
        attempts.append("connect")
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: refuse(None, None))
    findings = classify_columns("customers", RAW, PiiSpec(sample_size=10))
    build_protector(PiiSpec(), findings, keys).protect(pd.DataFrame(RAW))
    assert attempts == []
    import tldextract

    assert tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls == ()


def test_known_values_and_scan_workers_log_and_report_no_values(every_log_line, keys):
    from atlas.pii.known_values import KnownValues, dictionary_columns
    from atlas.pii.scanner import PARALLEL_BATCH

    findings = classify_columns("customers", RAW, PiiSpec(sample_size=10))
    frame = pd.DataFrame({c: v * (3 * PARALLEL_BATCH // 20) for c, v in RAW.items()})
    frame["notes"] = [f"Ticket {i}: {name} rang from {phone}." for i, (name, phone)
                      in enumerate(zip(frame["customer_name"], frame["phone_number"], strict=True))]
    known = KnownValues.from_columns((entity, RAW[column]) for column, entity in dictionary_columns(findings))
    with build_protector(PiiSpec(), findings, keys, known_values=known, n_process=2) as protector:
        out = protector.protect(frame)
        summary = protector.summary()
    assert summary["parallel_batches"] >= 3 and summary["known_value_spans"] >= len(frame)
    assert _leaked(_text_of(every_log_line.records)) == []
    assert _leaked(json.dumps(summary) + repr(known) + json.dumps(known.summary())) == []
    assert _leaked(out.to_csv()) == []
