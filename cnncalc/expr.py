"""The tiny expression language of block arguments: `$width`, `$(width * 4)`.

Only arithmetic, comparisons, `and`/`or`/`not`, `a if c else b` and min/max/int over numbers
and block arguments; evaluated on Python's AST with a whitelist, never with eval().
"""

from __future__ import annotations

import ast
import difflib
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

# `$name` or `$(expression)`; an expression may not contain parentheses-free `)`
REFERENCE = re.compile(r"\$(?:([A-Za-z_]\w*)|\(((?:[^()]|\([^()]*\))*)\))")


def evaluate(text: str, names: Mapping[str, Any]) -> Any:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise LayerError(
            f"cannot read the expression $({text}): {exc.msg}{where}", _ALLOWED
        ) from None
    except (ValueError, RecursionError, MemoryError):
        raise LayerError(f"cannot read the expression $({text})", _ALLOWED) from None
    try:
        return _eval(tree.body, names)
    except ZeroDivisionError:
        raise LayerError(
            f"cannot evaluate $({text}): division by zero", "check the divisor's arguments"
        ) from None
    except (ArithmeticError, TypeError, ValueError, RecursionError) as exc:
        raise LayerError(f"cannot evaluate $({text}): {exc}") from None


def _eval(node: ast.AST, names: Mapping[str, Any]) -> Any:
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
        return names[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, names), _eval(node.right, names)
        _check_size(node.op, left, right)
        result = _BINARY[type(node.op)](left, right)
        if isinstance(result, int) and result.bit_length() > MAX_BITS:
            raise LayerError("a number in an expression is too large")
        if isinstance(result, str | list) and len(result) > MAX_TEXT:
            raise LayerError("text built by an expression is too long")
        return result
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
        value = _eval(node.operand, names)
        if isinstance(node.op, ast.Not):
            return not value
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, names) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _eval(node.left, names)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, names)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, names) else node.orelse, names)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.id](*(_eval(a, names) for a in node.args))
    raise LayerError(f"unsupported expression {ast.unparse(node)!r}", _ALLOWED)


def _check_size(op: ast.operator, left: Any, right: Any) -> None:
    """Refuse, before computing it, a power or a repeated text that would be huge."""
    if isinstance(op, ast.Pow) and isinstance(right, int | float) and abs(right) > 64:
        raise LayerError("exponent too large in an expression (at most 64)")
    whole = isinstance(left, int) and isinstance(right, int)
    if isinstance(op, ast.Pow) and whole and right > 0 and left.bit_length() * right > MAX_BITS:
        raise LayerError("a number in an expression is too large")
    for text, count in ((left, right), (right, left)):
        repeated = isinstance(text, str | list) and isinstance(count, int)
        if isinstance(op, ast.Mult) and repeated and len(text) * count > MAX_TEXT:
            raise LayerError("text built by an expression is too long")


def substitute(value: Any, names: Mapping[str, Any]) -> Any:
    """Replace `$name` / `$(expr)` in a YAML value; a whole-string reference keeps its type."""
    if isinstance(value, list):
        return [substitute(v, names) for v in value]
    if not isinstance(value, str) or "$" not in value:
        return value
    whole = REFERENCE.fullmatch(value.strip())
    if whole:
        return _lookup(whole, names)
    return REFERENCE.sub(lambda m: str(_lookup(m, names)), value)


def _lookup(match: re.Match[str], names: Mapping[str, Any]) -> Any:
    if match.group(1) is not None:
        return evaluate(match.group(1), names)
    return evaluate(match.group(2), names)
