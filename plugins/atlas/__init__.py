"""Atlas: raw table extracts in; compliant, quality-checked, AI-ready datasets out."""

__version__ = "0.1.0"
