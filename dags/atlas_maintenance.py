"""Atlas's own Airflow DAGs: atlas_maintenance (retention) and atlas_erasure (plugins/atlas/maintenance/)."""

from atlas.maintenance.dags import build_dags

globals().update(build_dags())
