"""Indented JSON of many values of one structure (a report's layers), from a compiled template.

A 100,000-layer report is 100,000 dicts with the same keys, the same list lengths and the same
value types. Written value by value in Python that is ~3 million steps (~1 s); here the first
layer of each structure is turned into a function that checks a value has that structure and
fills a `%` template with its scalars in one C call (~0.3 s). A value of another structure gets
its own template; what cannot be templated (int subclasses, non-text keys) is not.

Layers share containers (a pointwise layer's receptive field is its input's; a long network
has few shapes), so a container directly inside the value is checked and written once while
the next value holds the same object: its text is kept with it. Like `json.dumps`, this reads
data that does not change while it is written.
"""

from __future__ import annotations

from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

Writer = Callable[[Any], str]
_KEEP = 8  # structures remembered: a report has a few (flat layers, merges of 2 or 3 inputs)
_MAX_COMPILED = 64  # then values of ever new structures go to the general writer
_MAX_VALUES = 256  # values in one structure: a long list is no template


class Mismatch(Exception):
    """The value does not have the structure a template was made for."""


class _Source:
    """The function being generated: its checks, and the template with its arguments."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.template: list[str] = []
        self.args: list[str] = []
        self.names = 0
        self.kept: list[str] = []  # per container kept (see `_kept`): its last object and text
        self.constants: dict[str, str] = {}  # the templates of the containers kept

    def local(self) -> str:
        self.names += 1
        if self.names > _MAX_VALUES:
            raise Mismatch
        return f"v{self.names}"

    def text(self, literal: str) -> None:
        self.template.append(literal.replace("%", "%%"))

    def check(self, condition: str) -> None:
        self.lines.append(f"    if {condition}: raise Mismatch")

    def visit(self, var: str, value: Any, indent: str) -> None:
        kind = type(value)
        if value is None:
            self.check(f"{var} is not None")
            self.text("null")
        elif kind is bool:
            self.check(f"type({var}) is not bool")
            self.template.append("%s")
            self.args.append(f"('true' if {var} else 'false')")
        elif kind is str:
            self.check(f"type({var}) is not str")
            self.template.append("%s")
            self.args.append(f"encode({var})")
        elif kind is int:
            self.check(f"type({var}) is not int")
            self.template.append("%d")
            self.args.append(var)
        elif kind is float:
            self.check(f"type({var}) is not float")
            self.template.append("%s")
            self.args.append(f"number({var})")
        elif kind is dict:
            self._dict(var, value, indent)
        elif kind is list or kind is tuple:
            self._list(var, value, indent, kind.__name__)
        else:
            raise Mismatch  # a subclass: json's own rules, in the general writer

    def _kept(self, var: str, value: Any, indent: str) -> None:
        """A container inside the value: its text made by its own template, and kept with the
        object, so the next value holding the same object takes the text unchecked."""
        outer = self.lines, self.template, self.args
        self.lines, self.template, self.args = [], [], []
        self.visit(var, value, indent)
        inner, template, args = self.lines, self.template, self.args
        self.lines, self.template, self.args = outer
        last, text, constant = f"last_{var}", f"text_{var}", f"TEMPLATE_{var}"
        self.kept += [last, text]
        self.constants[constant] = "".join(template)
        self.lines.append(f"    if {var} is not {last}:")
        self.lines += ["    " + line for line in inner]
        self.lines.append(f"        {text} = {constant} % ({''.join(f'{a}, ' for a in args)})")
        self.lines.append(f"        {last} = {var}")
        self.template.append("%s")
        self.args.append(text)

    def _dict(self, var: str, value: dict[Any, Any], indent: str) -> None:
        if any(type(key) is not str for key in value):
            raise Mismatch
        self.check(f"type({var}) is not dict or tuple({var}) != {tuple(value)!r}")
        if not value:
            self.text("{}")
            return
        inner = indent + "  "
        self.text("{\n" + inner)
        for index, (key, item) in enumerate(value.items()):
            self.text((",\n" + inner if index else "") + encode_basestring(key) + ": ")
            name = self.local()
            self.lines.append(f"    {name} = {var}[{key!r}]")
            if var == "v0" and type(item) in (dict, list, tuple):
                self._kept(name, item, inner)
            else:
                self.visit(name, item, inner)
        self.text("\n" + indent + "}")

    def _list(self, var: str, value: list[Any] | tuple[Any, ...], indent: str, kind: str) -> None:
        self.check(f"type({var}) is not {kind} or len({var}) != {len(value)}")
        if not value:
            self.text("[]")
            return
        inner = indent + "  "
        self.text("[\n" + inner)
        for index, item in enumerate(value):
            if index:
                self.text(",\n" + inner)
            name = self.local()
            self.lines.append(f"    {name} = {var}[{index}]")
            if var == "v0" and type(item) in (dict, list, tuple):
                self._kept(name, item, inner)
            else:
                self.visit(name, item, inner)
        self.text("\n" + indent + "]")


def compile_writer(sample: Any, indent: str, number: Callable[[float], str]) -> Writer:
    """A function writing any value of `sample`'s structure as `json.dumps(indent=2)` does at
    `indent` (raising Mismatch for a value of another); Mismatch if `sample` has none.
    `number`: how a float is written."""
    source = _Source()
    source.visit("v0", sample, indent)
    template = "".join(source.template)
    body = "\n".join("    " + line for line in source.lines)
    args = "".join(f"{arg}, " for arg in source.args)
    kept = ", ".join(source.kept)
    state = f"    {' = '.join(source.kept)} = None\n" if kept else ""
    code = (
        f"def make():\n{state}    def write(v0):\n"
        + (f"        nonlocal {kept}\n" if kept else "")
        + f"{body}\n        return TEMPLATE % ({args})\n    return write\n"
    )
    namespace: dict[str, Any] = {
        "Mismatch": Mismatch,
        "TEMPLATE": template,
        "encode": encode_basestring,
        "number": number,
        **source.constants,
    }
    exec(code, namespace)  # keys enter the code only as repr() literals
    writer: Writer = namespace["make"]()
    return writer


class Templates:
    """The writers of the structures met so far at one indent, most recent first."""

    def __init__(self, indent: str, number: Callable[[float], str]) -> None:
        self.indent = indent
        self.number = number
        self.writers: list[Writer] = []
        self.second: Writer | None = None  # the last value's writer, if not the first one
        self.compiled = 0

    def write(self, value: Any) -> str | None:
        """`value`'s JSON, or None when it cannot be templated."""
        if self.compiled >= _MAX_COMPILED:
            return None
        for index, writer in enumerate(self.writers):
            try:
                text = writer(value)
            except Mismatch:  # ~3 µs: a value tried on the wrong structure first
                continue
            # a structure met twice in a row is tried first from then on (after a 2×2 pool,
            # every field has half-pixel centres); one met once (a merge among convs) is not
            if index and self.second is writer:
                self.writers.insert(0, self.writers.pop(index))
            self.second = writer if index else None
            return text
        self.compiled += 1
        try:
            writer = compile_writer(value, self.indent, self.number)
        except Mismatch:
            return None
        self.writers = [writer, *self.writers[: _KEEP - 1]]
        return writer(value)
