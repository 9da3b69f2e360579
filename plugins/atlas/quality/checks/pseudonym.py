"""Validity: pseudonymized columns hold only pseudonym tokens (no raw identifier slipped through)."""

from __future__ import annotations

from collections.abc import Iterator

from atlas.pii.pseudonym import TOKEN_HEX_CHARS, TOKEN_PREFIX
from atlas.quality.checks.base import CheckContext, SodaCheck

# '+' and a length rule instead of '{32}': same rule, 5x faster in PostgreSQL's regex engine.
TOKEN_RULE = {"valid regex": f"^{TOKEN_PREFIX}[0-9a-f]+$", "valid length": len(TOKEN_PREFIX) + TOKEN_HEX_CHARS}


class PseudonymTokens:
    def checks(self, ctx: CheckContext) -> Iterator[SodaCheck]:
        for col in ctx.columns:
            policy = ctx.spec.pii.columns.get(col.name)
            if policy and policy.strategy == "pseudonymize" and not policy.free_text:
                yield SodaCheck(
                    f"invalid_count({col.name}) = 0", f"{col.name}_is_pseudonym", "validity", "fail",
                    column=col.name, config=dict(TOKEN_RULE),
                )
