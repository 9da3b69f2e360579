"""Atlas's own DAGs: atlas_maintenance (retention) and atlas_erasure (see plugins/atlas/maintenance/)."""

from atlas.maintenance.dags import build_dags

globals().update(build_dags())
