"""Retention: delete what is older than each layer's period (``retention`` in the table config).

Periods count back from the maintenance run's logical date; a slice's age is its logical date
(bronze, quarantine, silver rows; the lake's ``ingest_date=`` archive folders), a version's date
(AI-ready), or a build's as-of date (gold). Every layer is purged idempotently in its own
transaction and recorded in ``atlas_meta.retention_purges`` (counts and dates, never values).
"""

from atlas.retention.purge import LAYERS, Purge, cutoff_date, purge_table

__all__ = ["LAYERS", "Purge", "cutoff_date", "purge_table"]
