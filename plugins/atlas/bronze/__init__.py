"""Bronze: raw files archived unchanged and loaded as received (every column text)."""
