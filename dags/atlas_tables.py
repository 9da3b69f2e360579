"""One Airflow DAG per table config in include/tables/ (see plugins/atlas/factory.py)."""

from atlas.factory import build_dags

globals().update(build_dags())
