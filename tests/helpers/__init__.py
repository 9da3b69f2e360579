"""Reusable test helpers: a real Airflow server, an OpenLineage receiver."""
