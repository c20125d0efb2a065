"""The tiny expression language of block arguments: `$width`, `$(width * 4)`.

Only arithmetic, comparisons, `and`/`or`/`not`, `a if c else b` and min/max/int over numbers
and block arguments; evaluated on Python's AST with a whitelist, never with eval().
"""

from __future__ import annotations

import ast
import difflib
import itertools
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from cnncalc.errors import LayerError

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {"min": min, "max": max, "int": int}

_ALLOWED = (
    "expressions allow numbers, arguments, + - * / // % **, comparisons, and/or/not, "
    "`a if c else b`, min, max, int"
)
MAX_TEXT = 10_000  # longest text an expression may build
MAX_BITS = 4_096  # largest integer an expression may build (about 1,200 digits)
MAX_EXPRESSION = 1_000  # characters inside one `$(...)`
# work all the expressions of one spec may do, in steps of about 0.3 µs: AST nodes evaluated,
# characters parsed, built or scanned for `$`; repeats and aliases multiply one expression
MAX_WORK = 2_000_000
SCANNED_FREE = 4_096  # a text this long or longer costs work to scan for `$`

# `$name` or `$(expression)`; an expression may not contain parentheses-free `)`
REFERENCE = re.compile(r"\$(?:([A-Za-z_]\w*)|\(((?:[^()]|\([^()]*\))*)\))")


class Budget:
    """The work the expressions of one spec may still do, and what they already computed: a
    text is parsed once, and an expression whose arguments repeat is evaluated once."""

    def __init__(self) -> None:
        self.left = MAX_WORK
        self._parsed: dict[str, tuple[ast.expr, int, tuple[str, ...]]] = {}
        self._values: dict[tuple[object, ...], Any] = {}
        self._templates: dict[str, tuple[bool, tuple[str, ...]]] = {}

    def spend(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise LayerError(
                f"the expressions of this spec take too much work to evaluate (over "
                f"{MAX_WORK:,} steps)",
                "repeats and aliases multiply every expression inside them: simplify the "
                "expressions or repeat less",
            )

    def evaluate(self, text: str, names: Mapping[str, Any]) -> Any:
        body, size, used = self._parse(text)
        values = tuple(names.get(n, _MISSING) for n in used)
        if not all(type(v) in _MEMO_TYPES for v in values):
            return self._run(text, body, size, names)
        key = (text, *((type(v), v) for v in values))
        if key not in self._values:
            self._values[key] = self._run(text, body, size, names)
        return self._values[key]

    def template(self, value: str) -> tuple[bool, tuple[str, ...]]:
        """(whole, pieces) of a text with `$` references: whole, the one expression that is
        the entire text (its value keeps its type); else literal text and expressions
        alternating, starting and ending with text."""
        if value not in self._templates:
            self.spend(len(value) // 16)
            match = REFERENCE.fullmatch(value.strip())
            if match:
                self._templates[value] = (True, (match[1] or match[2],))
            else:
                pieces, last = [], 0
                for match in REFERENCE.finditer(value):
                    pieces += [value[last : match.start()], match[1] or match[2]]
                    last = match.end()
                self._templates[value] = (False, (*pieces, value[last:]))
        return self._templates[value]

    def _parse(self, text: str) -> tuple[ast.expr, int, tuple[str, ...]]:
        if text not in self._parsed:
            if len(text) > MAX_EXPRESSION:
                raise LayerError(
                    f"an expression is {len(text):,} characters long (at most {MAX_EXPRESSION:,})",
                    "compute long values outside the spec, or split them into block arguments",
                )
            self.spend(len(text))
            tree = _parse(text)
            nodes = list(ast.walk(tree))
            called = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
            used = sorted({n.id for n in nodes if isinstance(n, ast.Name) and id(n) not in called})
            self._parsed[text] = (tree.body, len(nodes), tuple(used))
        return self._parsed[text]

    def _run(self, text: str, body: ast.expr, size: int, names: Mapping[str, Any]) -> Any:
        self.spend(size)
        try:
            return _eval(body, names, self)
        except ZeroDivisionError:
            raise LayerError(
                f"cannot evaluate $({text}): division by zero", "check the divisor's arguments"
            ) from None
        except (ArithmeticError, TypeError, ValueError, RecursionError) as exc:
            raise LayerError(f"cannot evaluate $({text}): {exc}") from None

    def spend_on(self, value: Any) -> Any:
        """Charge for a text or list an expression reads or builds (its operations scan it)."""
        if isinstance(value, str | list):
            self.spend(len(value) // 16)
        return value


_MEMO_TYPES = (int, bool, str, type(None))  # hashable, and equal only when interchangeable
_MISSING = object()


def _parse(text: str) -> ast.Expression:
    try:
        return ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise LayerError(
            f"cannot read the expression $({text}): {exc.msg}{where}", _ALLOWED
        ) from None
    except (ValueError, RecursionError, MemoryError):
        raise LayerError(f"cannot read the expression $({text})", _ALLOWED) from None


def _eval(node: ast.AST, names: Mapping[str, Any], budget: Budget) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in names:
            known = sorted(names)
            close = difflib.get_close_matches(node.id, known, n=1, cutoff=0.6)
            listing = "arguments here: " + (", ".join(known) or "none")
            raise LayerError(
                f"unknown name {node.id!r} in an expression",
                f"did you mean `{close[0]}`? ({listing})" if close else listing,
            )
        return budget.spend_on(names[node.id])
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, names, budget), _eval(node.right, names, budget)
        _check_size(node.op, left, right)
        result = _BINARY[type(node.op)](left, right)
        if isinstance(result, int) and result.bit_length() > MAX_BITS:
            raise LayerError("a number in an expression is too large")
        if isinstance(result, str | list) and len(result) > MAX_TEXT:
            raise LayerError("text built by an expression is too long")
        return budget.spend_on(result)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
        value = _eval(node.operand, names, budget)
        if isinstance(node.op, ast.Not):
            return not value
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, names, budget) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _eval(node.left, names, budget)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, names, budget)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        branch = node.body if _eval(node.test, names, budget) else node.orelse
        return _eval(branch, names, budget)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.id](*(_eval(a, names, budget) for a in node.args))
    raise LayerError(f"unsupported expression {ast.unparse(node)!r}", _ALLOWED)


def _check_size(op: ast.operator, left: Any, right: Any) -> None:
    """Refuse, before computing it, a power or a repeated text that would be huge."""
    if isinstance(op, ast.Mod) and isinstance(left, str):
        raise LayerError(
            "`%` formats text in Python, which expressions do not support",
            "`%` is the remainder of two numbers; build text with `+`",
        )
    if isinstance(op, ast.Pow) and isinstance(right, int | float) and abs(right) > 64:
        raise LayerError("exponent too large in an expression (at most 64)")
    whole = isinstance(left, int) and isinstance(right, int)
    if isinstance(op, ast.Pow) and whole and right > 0 and left.bit_length() * right > MAX_BITS:
        raise LayerError("a number in an expression is too large")
    for text, count in ((left, right), (right, left)):
        repeated = isinstance(text, str | list) and isinstance(count, int)
        if isinstance(op, ast.Mult) and repeated and len(text) * count > MAX_TEXT:
            raise LayerError("text built by an expression is too long")


def substitute(value: Any, names: Mapping[str, Any], budget: Budget) -> Any:
    """Replace `$name` / `$(expr)` in a YAML value; a whole-string reference keeps its type."""
    if isinstance(value, list):
        budget.spend(len(value))
        return [substitute(v, names, budget) for v in value]
    if not isinstance(value, str):
        return value
    if len(value) >= SCANNED_FREE:  # the scan for `$` (an alias may reuse a long text)
        budget.spend(len(value) // SCANNED_FREE)
    if "$" not in value:
        return value
    whole, pieces = budget.template(value)
    if whole:
        return budget.evaluate(pieces[0], names)
    return "".join(
        str(budget.evaluate(piece, names)) if odd else piece
        for odd, piece in zip(itertools.cycle((False, True)), pieces)
    )
