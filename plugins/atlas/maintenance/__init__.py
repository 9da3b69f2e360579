"""Atlas's own DAGs beside the table DAGs: ``atlas_maintenance`` (retention, daily) and
``atlas_erasure`` (erasure requests, triggered). Registered by ``dags/atlas_maintenance.py``."""
