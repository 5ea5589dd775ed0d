"""The budget gate: the rule table, the budget file, and the verdicts (data; render/ words them).

``table`` is the one list of rules; ``config`` finds, reads and validates a budget; ``rules``
measures an image against it. Both ``config`` and ``rules`` read ``table``; nothing reads back.
"""

from pyimgsize.check.config import Budget, BudgetError, BudgetFile, load_budget
from pyimgsize.check.rules import evaluate
from pyimgsize.check.table import RULES, Rule

__all__ = ["RULES", "Budget", "BudgetError", "BudgetFile", "Rule", "evaluate", "load_budget"]
