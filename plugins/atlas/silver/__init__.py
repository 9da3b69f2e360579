"""Silver: typed, validated, deduplicated and PII-protected tables."""
