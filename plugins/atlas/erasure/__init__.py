"""Erasure requests (GDPR Art. 17): remove one data subject from every layer, leave an audit record.

``validate_request`` checks (table, key column, key value); ``erase`` carries it out (see
``atlas.erasure.run`` for the order of the steps); ``check`` finds what is left. Entry points:
the ``atlas_erasure`` DAG and ``python -m atlas.erase``. The key value is only compared and
pseudonymized: the audit record, logs and results hold its pseudonym.
"""

from atlas.erasure.request import ErasureRequest, key_columns, targets, validate_request
from atlas.erasure.run import ErasureReport, check, erase

__all__ = ["ErasureReport", "ErasureRequest", "check", "erase", "key_columns", "targets", "validate_request"]
