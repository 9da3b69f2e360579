"""Protection strategies, one class per file, looked up by the name used in table configs."""

from __future__ import annotations

from atlas.pii.strategies.base import Strategy, StrategyContext
from atlas.pii.strategies.encrypt import Encrypt
from atlas.pii.strategies.generalize import Generalize
from atlas.pii.strategies.keep import Keep
from atlas.pii.strategies.mask import Mask
from atlas.pii.strategies.pseudonymize import Pseudonymize
from atlas.pii.strategies.redact import Redact
from atlas.pii.strategies.replace import Replace

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (Pseudonymize, Mask, Redact, Replace, Encrypt, Generalize, Keep)
}

__all__ = ["STRATEGIES", "Strategy", "StrategyContext"]
