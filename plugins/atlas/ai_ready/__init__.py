"""AI-ready datasets: pseudonymized, encoded, split feature tables as versioned Parquet + manifest."""

from atlas.ai_ready.manifest import Manifest, read_manifest
from atlas.ai_ready.publish import publish_ai_ready

__all__ = ["Manifest", "publish_ai_ready", "read_manifest"]
