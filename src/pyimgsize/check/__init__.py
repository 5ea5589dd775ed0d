"""The budget gate: the rule table, the budget file, and the verdicts (data; render/ words them).

``table`` is the one list of rules; ``config`` finds, reads and validates a budget; ``rules``
measures an image against it. Both ``config`` and ``rules`` read ``table``; nothing reads back.

The names below are imported on first use (PEP 562): the CLI reads ``table`` to build its
``--max-*`` flags for every command, and ``inspect`` should not pay for the budget file's
validation models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyimgsize.check.config import Budget, BudgetError, BudgetFile, load_budget
    from pyimgsize.check.rules import evaluate
    from pyimgsize.check.table import RULES, Rule

__all__ = ["RULES", "Budget", "BudgetError", "BudgetFile", "Rule", "evaluate", "load_budget"]

_HOME = {
    "Budget": "config",
    "BudgetError": "config",
    "BudgetFile": "config",
    "load_budget": "config",
    "evaluate": "rules",
    "RULES": "table",
    "Rule": "table",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
