"""The batch scanner: same spans in one process or in forked workers, duplicates scanned once."""

from __future__ import annotations

from atlas.pii.scanner import MIN_TEXTS_PER_PROCESS, ScanOptions, Span, TextScanner, resolve_overlaps
from tests.pii.conftest import ALL_RECOGNIZERS


def _texts(n: int) -> list[str]:
    people = ["Anders Jensen", "Mette Hansen", "Ruth Baker", "Lars Nielsen"]
    return [f"Customer {people[i % 4]} called from +45 20 30 {i % 90 + 10} {i % 80 + 10} about order O{i:08d}."
            for i in range(n)]


def test_worker_processes_find_the_same_spans_in_the_same_order():
    texts = _texts(2 * MIN_TEXTS_PER_PROCESS)
    serial = TextScanner(ScanOptions(recognizers=ALL_RECOGNIZERS, n_process=1)).scan(texts)
    forked = TextScanner(ScanOptions(recognizers=ALL_RECOGNIZERS, n_process=2)).scan(texts)
    assert forked == serial
    assert all({s.entity for s in spans} == {"PERSON", "PHONE_NUMBER"} for spans in serial)


def test_duplicates_and_order_are_kept(scanner):
    texts = ["Ring 20 30 40 50", "nothing here", "Ring 20 30 40 50"]
    spans = scanner.scan(texts)
    assert spans[0] == spans[2] and spans[1] == [] and len(spans) == 3


def test_overlapping_spans_merge_under_the_strongest_label():
    merged = resolve_overlaps([Span(0, 5, "PERSON", 0.6, "person"), Span(3, 9, "LOCATION", 0.85, "location"),
                               Span(12, 14, "EMAIL_ADDRESS", 1.0, "email")])
    assert [(s.start, s.end, s.entity) for s in merged] == [(0, 9, "LOCATION"), (12, 14, "EMAIL_ADDRESS")]
