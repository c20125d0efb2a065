"""`check`: expectations and budgets on architecture specs, evaluated against a `Report`.

Expectations are written in a spec's `expect:` block or in a budget file (`--budget FILE`);
both use the same mapping (see the README, "Expectations and budgets"). Parsing keeps the
position of every expected value, so a failed check points at the line that states it.

The functions here compute and return results; they never print or exit (the CLI and
`cnncalc.render.check` do). Invalid specs and invalid expectations raise or carry a
`SpecError`; a check that does not hold is a `CheckResult` with `passed=False`.

One module a stage: `values` (reading numbers with units), `expectations` (parsing),
`evaluate` (against a report), `budget` (budget files), `targets` (what to check) and
`schema` (their JSON Schema).
"""

from cnncalc.check.budget import Budget, load_budget
from cnncalc.check.evaluate import CheckResult, evaluate
from cnncalc.check.expectations import Expectation, Expectations, parse_expectations
from cnncalc.check.schema import budget_schema, expect_schema
from cnncalc.check.targets import CheckRun, FileResult, Target, check, check_target, expand_targets
from cnncalc.check.values import parse_bytes, parse_count, parse_rf, parse_shape

__all__ = [
    "Budget",
    "CheckResult",
    "CheckRun",
    "Expectation",
    "Expectations",
    "FileResult",
    "Target",
    "budget_schema",
    "check",
    "check_target",
    "evaluate",
    "expand_targets",
    "expect_schema",
    "load_budget",
    "parse_bytes",
    "parse_count",
    "parse_expectations",
    "parse_rf",
    "parse_shape",
]
