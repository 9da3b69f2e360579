"""Atlas's page in the Airflow UI: runs, rows per layer, quarantine, PII audit, quality, outputs.

A FastAPI app mounted by the api-server (``plugins/atlas_dashboard_plugin.py``) reads
``atlas_meta`` (set-based queries, :mod:`atlas.dashboard.queries`) and Airflow's own metadata
(:mod:`atlas.dashboard.runs`) for one table and logical date, and serves the same document as
an HTML page with plotly charts and as JSON (:mod:`atlas.dashboard.app`). Never row values.
"""
