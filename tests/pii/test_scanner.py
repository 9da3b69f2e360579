"""The batch scanner: same spans in one process or in worker processes, duplicates scanned once,
workers created once per scanner and joined when it closes."""

from __future__ import annotations

import multiprocessing

from atlas.pii.scanner import PARALLEL_BATCH, ScanOptions, Span, TextScanner, resolve_overlaps
from tests.pii.conftest import ALL_RECOGNIZERS


def _texts(n: int, start: int = 0) -> list[str]:
    people = ["Anders Jensen", "Mette Hansen", "Ruth Baker", "Lars Nielsen"]
    return [f"Customer {people[i % 4]} called from +45 20 30 {i % 90 + 10} {i % 80 + 10} about order O{i:08d}."
            for i in range(start, start + n)]


def test_worker_processes_find_the_same_spans_in_the_same_order():
    texts = _texts(3 * PARALLEL_BATCH)
    serial = TextScanner(ScanOptions(recognizers=ALL_RECOGNIZERS, n_process=1)).scan(texts)
    with TextScanner(ScanOptions(recognizers=ALL_RECOGNIZERS, n_process=2)) as forked:
        assert forked.scan(texts) == serial
        summary = forked.summary()
    assert summary["parallel_batches"] == 3 and summary["workers"] >= 1
    assert all({s.entity for s in spans} == {"PERSON", "PHONE_NUMBER"} for spans in serial)


def test_workers_are_created_once_and_joined_on_close():
    before = set(multiprocessing.active_children())
    scanner = TextScanner(ScanOptions(recognizers=ALL_RECOGNIZERS, n_process=2))
    with scanner:
        for chunk in range(4):  # four chunks, one pool
            scanner.scan(_texts(2 * PARALLEL_BATCH, start=chunk * 10_000))
        pool = scanner._pool
        assert pool is not None and pool.batches == 8
        workers = set(multiprocessing.active_children()) - before
        assert 1 <= len(workers) <= 2
    assert scanner._pool is None
    assert not any(p.is_alive() for p in workers)
    assert not (set(multiprocessing.active_children()) - before)


def test_outside_a_with_block_everything_stays_in_this_process():
    scanner = TextScanner(ScanOptions(recognizers=ALL_RECOGNIZERS, n_process=2))
    scanner.scan(_texts(2 * PARALLEL_BATCH))
    assert scanner._pool is None and scanner.summary()["parallel_batches"] == 0


def test_each_distinct_text_is_scanned_once_across_calls():
    scanner = TextScanner(ScanOptions(recognizers=ALL_RECOGNIZERS, n_process=1))
    texts = _texts(10)
    first = scanner.scan(texts + texts)
    again = scanner.scan(list(reversed(texts)))
    assert first[:10] == first[10:] and again == list(reversed(first[:10]))
    assert scanner.summary() == {"texts": 30, "scanned": 10, "cached": 10, "known_value_spans": 0,
                                 "parallel_batches": 0, "workers": 0}


def test_texts_answered_from_a_full_cache_keep_their_spans(monkeypatch):
    """A call mixing cached and new texts when the cache is full: the eviction that makes room
    for the new spans must not lose the cached ones this call returns (it raised KeyError, with
    the text in the message, at a million customers)."""
    from atlas.pii import scanner as scanner_module

    monkeypatch.setattr(scanner_module, "CACHE_LIMIT", 8)
    scanner = TextScanner(ScanOptions(recognizers=ALL_RECOGNIZERS, n_process=1))
    old, new = _texts(8), _texts(4, start=100)
    expected = scanner.scan(old)
    mixed = scanner.scan(old + new)
    assert mixed[:8] == expected
    assert mixed[8:] == TextScanner(ScanOptions(recognizers=ALL_RECOGNIZERS, n_process=1)).scan(new)


def test_duplicates_and_order_are_kept(scanner):
    texts = ["Ring 20 30 40 50", "nothing here", "Ring 20 30 40 50"]
    spans = scanner.scan(texts)
    assert spans[0] == spans[2] and spans[1] == [] and len(spans) == 3


def test_overlapping_spans_merge_under_the_strongest_label():
    merged = resolve_overlaps([Span(0, 5, "PERSON", 0.6, "person"), Span(3, 9, "LOCATION", 0.85, "location"),
                               Span(12, 14, "EMAIL_ADDRESS", 1.0, "email")])
    assert [(s.start, s.end, s.entity) for s in merged] == [(0, 9, "LOCATION"), (12, 14, "EMAIL_ADDRESS")]
