"""The course shorthand: `Conv4-5-Pvalid-S2`, `Pool3`, `FC5`, `ReLU` (case-insensitive).

`Conv<k>-<filters>[-P<valid|same|p>][-S<stride>][-NB]`, `[Max|Avg]Pool<k>[-S<stride>]`
(stride defaults to k), `FC<units>[-NB]`; `-NB` (or `-nobias`): without bias. A layer kind
without required fields (`ReLU`, `Sigmoid`, `Flatten`) is written as its name.
"""

from __future__ import annotations

import re
from typing import Any

from cnncalc.errors import SourcePos, SpecError

_NETWORK = SourcePos("<shorthand>", 1, 1)  # a shorthand network on the command line
_MAX_DIGITS = 19  # 2^63 − 1 has 19 digits: a longer number is no size, and int() may refuse it

_NO_BIAS = r"(?:-(nb|nobias))?"
_CONV = re.compile(
    r"conv(\d+)(?:x(\d+))?-(\d+)(?:-p(valid|same|\d+))?(?:-s(\d+))?" + _NO_BIAS, re.I
)
_POOL = re.compile(r"(max|avg)?pool(\d+)(?:-s(\d+))?", re.I)
_FC = re.compile(r"fc(\d+)" + _NO_BIAS, re.I)
LOOKS_LIKE = re.compile(r"(conv|maxpool|avgpool|pool|fc)(?=\d|-|$)", re.I)

SYNTAX = (
    "Conv<k>-<filters>[-Pvalid|-Psame|-P<p>][-S<stride>][-NB], Pool<k>[-S<stride>], "
    "FC<units>[-NB], ReLU"
)
_FORMS = {
    "conv": "Conv<k>-<filters>[-Pvalid|-Psame|-P<p>][-S<stride>][-NB], e.g. Conv3-16-Psame-S2 "
    "(Conv3x5-16 for a 3×5 kernel, -NB without bias)",
    "pool": "[Max|Avg]Pool<k>[-S<stride>], e.g. Pool2 or AvgPool3-S2",
    "fc": "FC<units>[-NB], e.g. FC10 (FC10-NB without bias)",
}


def _short(text: str) -> str:
    return text if len(text) <= 24 else text[:20] + "…"


def looks_like_shorthand(text: str) -> bool:
    """Whether `text` starts like a shorthand layer (`Conv4-x`, `Pool`, `FC`) without being one."""
    return LOOKS_LIKE.match(text.strip()) is not None


def shorthand_hint(text: str) -> str:
    """How to write the shorthand layer that `text` seems to be."""
    word = text.strip().lower()
    form = next((f for key, f in _FORMS.items() if key in word[:7]), None)
    return f"write {form}" if form else f"shorthand is {SYNTAX}"


def parse_shorthand(text: str, pos: SourcePos = _NETWORK) -> tuple[str, dict[str, Any]] | None:
    """(kind, fields) for a shorthand layer, or None when `text` is not shorthand; a number too
    large to be a size is an error at `pos` (by default, a shorthand network's start)."""
    text = text.strip()

    def size(digits: str) -> int:
        if len(digits.lstrip("0")) > _MAX_DIGITS:
            raise SpecError(
                f"a number in shorthand {_short(text)!r} is too large ({len(digits):,} digits)",
                pos,
                "sizes are at most 2^63 − 1 (9,223,372,036,854,775,807)",
            )
        return int(digits)

    if m := _CONV.fullmatch(text):
        kh = size(m.group(1))
        fields: dict[str, Any] = {
            "filters": size(m.group(3)),
            "kernel": [kh, size(m.group(2))] if m.group(2) else kh,
        }
        if m.group(4):
            pad = m.group(4).lower()
            fields["padding"] = size(pad) if pad.isdigit() else pad
        if m.group(5):
            fields["stride"] = size(m.group(5))
        if m.group(6):
            fields["bias"] = False
        return "conv", fields
    if m := _POOL.fullmatch(text):
        kind = "avgpool" if (m.group(1) or "").lower() == "avg" else "maxpool"
        fields = {"kernel": size(m.group(2))}
        if m.group(3):
            fields["stride"] = size(m.group(3))
        return kind, fields
    if m := _FC.fullmatch(text):
        return "dense", {"units": size(m.group(1))} | ({"bias": False} if m.group(2) else {})
    return None
