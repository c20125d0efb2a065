"""Resampling and borders: `upsample`, `pixel_shuffle`, `pixel_unshuffle`, `pad` and `crop`,
in the input's spatial rank where the frameworks have them.

None has weights. Their receptive-field windows (see `cnncalc.passes.receptive_field`):
an upsample by an integer factor s is a transposed window of stride s (the jump becomes
j/s) whose kernel holds the taps one output unit mixes — 1 for nearest, 2 for linear, 4 for
bicubic per axis; a downsample by n an ordinary window of stride n; pad and crop shift the
centre; pixel_shuffle/unshuffle move r×r blocks like a nearest upsample/downsample by r.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cnncalc.derive import Q
from cnncalc.errors import LayerError
from cnncalc.fields import (
    BOOL,
    MAX_RANK,
    MAX_SIZE,
    PADDING,
    POSITIVE_AXES,
    POSITIVE_INT,
    Axes,
    FieldType,
    choice_type,
    describe,
    number_type,
)
from cnncalc.layers.base import (
    Op,
    Shape,
    Sizes,
    Window,
    axis_words,
    fmt_shape,
    param,
    per_axis,
    register,
    resolve_padding,
    spatial,
)

MODE_RANK = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}  # nearest: any rank
TAPS = {"nearest": 1, "linear": 2, "bilinear": 2, "trilinear": 2, "bicubic": 4}


def _or_null(ftype: FieldType) -> FieldType:
    """`ftype`, or null (the field not given), its branches in one flat oneOf."""
    branches = ftype.schema.get("oneOf", [ftype.schema])
    return FieldType(
        lambda value: None if value is None else ftype.convert(value),
        {"oneOf": [*branches, {"type": "null"}]},
        f"{ftype.expects} (or null)",
    )


_POSITIVE = number_type(0.0)


def _scale(value: Any) -> float | tuple[float, ...]:
    """A positive number, or one per spatial axis; ints stay ints (exact output sizes)."""
    items = value if isinstance(value, list) else [value]
    if not 1 <= len(items) <= MAX_RANK:
        raise LayerError(f"expects a number or one per spatial axis, got {describe(value)}")
    out = []
    for item in items:
        number = _POSITIVE.convert(item)
        if number == 0:
            raise LayerError(f"expects a scale > 0, got {describe(item)}")
        out.append(int(item) if isinstance(item, int) else number)
    return tuple(out) if isinstance(value, list) else out[0]


_NUMBER = {"type": "number", "exclusiveMinimum": 0}
SCALE = _or_null(
    FieldType(
        _scale,
        {"oneOf": [_NUMBER, {"type": "array", "items": _NUMBER, "minItems": 1, "maxItems": 3}]},
        "a number > 0 or one per spatial axis",
    )
)
SIZE = _or_null(POSITIVE_AXES)


def _explicit(value: Any) -> Axes:
    padding = PADDING.convert(value)
    if padding == "same":
        raise LayerError(
            "expects explicit sizes, got 'same'",
            "write p, one value per axis, or a (before, after) pair per axis",
        )
    return padding  # type: ignore[no-any-return]


EXPLICIT = FieldType(
    _explicit,
    {"oneOf": PADDING.schema["oneOf"][1:]},
    "an integer, [h, w] or [top, bottom, left, right] (per spatial axis)",
)


def _floor(value: float) -> int:
    """⌊value⌋; past 2^63 − 1 (or infinite) as one more than that, refused by the caller."""
    return math.floor(value) if value <= MAX_SIZE else MAX_SIZE + 1


def _ratio_plan(size: int, out: int, scale: float | None, mode: str, corners: bool) -> Any:
    """How one axis resamples: ("up", s), ("down", n) for an integer factor, else None."""
    if corners:
        if size > 1 and out > 1 and (out - 1) % (size - 1) == 0:
            return ("up", (out - 1) // (size - 1))
        if size > 1 and out > 1 and (size - 1) % (out - 1) == 0:
            return ("down", (size - 1) // (out - 1))
        return None
    if scale is not None:
        if float(scale).is_integer():
            return ("up", int(scale))
        inverse = 1 / scale
        return ("down", round(inverse)) if abs(inverse - round(inverse)) < 1e-9 else None
    if out % size == 0:
        return ("up", out // size)
    return ("down", size // out) if size % out == 0 else None


@register
@dataclass(frozen=True, kw_only=True)
class Upsample(Op):
    kind = "upsample"
    aliases = ("Upsample", "UpSampling1D", "UpSampling2D", "UpSampling3D", "Interpolate")
    doc = "resize by a scale or to a size: nearest, linear, bilinear, trilinear or bicubic"
    scale: float | tuple[float, ...] | None = param(
        SCALE,
        "factor per spatial axis (output = ⌊in·scale⌋, as torch)",
        default=None,
        aliases=("scale_factor",),
    )
    size: Axes | None = param(SIZE, "output size: n or [h, w]", default=None)
    mode: str = param(
        choice_type("nearest", "linear", "bilinear", "trilinear", "bicubic"),
        "interpolation (linear: rank 1, bilinear/bicubic: rank 2, trilinear: rank 3)",
        default="nearest",
    )
    align_corners: bool = param(
        BOOL, "map the corner pixels onto each other (linear family and bicubic)", default=False
    )

    def scales(self, rank: int) -> tuple[float, ...] | None:
        if self.scale is None:
            return None
        if isinstance(self.scale, tuple):
            return per_axis(self.scale, rank, "scale")  # type: ignore[arg-type]
        return (self.scale,) * rank

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        shape = spatial(inputs[0])
        rank = len(shape) - 1
        if (self.scale is None) == (self.size is None):
            raise LayerError(
                "needs exactly one of scale and size",
                "write `scale: 2` (a factor) or `size: 224` (the output size)",
                field="scale" if self.scale is not None else None,
            )
        want = MODE_RANK.get(self.mode)
        if want is not None and want != rank:
            raise LayerError(
                f"mode {self.mode} needs {axis_words(want)} but the input has {axis_words(rank)}",
                "linear is for 1-D, bilinear and bicubic for 2-D, trilinear for 3-D inputs; "
                "nearest works in every rank",
                field="mode",
            )
        if self.align_corners and self.mode == "nearest":
            raise LayerError(
                "align_corners only applies to the interpolating modes",
                "remove align_corners, or use mode linear, bilinear, trilinear or bicubic",
                field="align_corners",
            )
        scales = self.scales(rank)
        if scales is None:
            out: Sizes = per_axis(self.size, rank, "size")  # type: ignore[arg-type]
        else:
            out = tuple(
                Q(size) * Q(s) if isinstance(s, int) else Q(_floor(size * s), f"⌊{size}·{s}⌋")
                for size, s in zip(shape[:-1], scales, strict=True)
            )
        for size, n in zip(shape[:-1], out, strict=True):
            if n > MAX_SIZE:
                raise LayerError(
                    f"scale makes an output of ⌊{size}·scale⌋, beyond 2^63 − 1",
                    "a scale this large is a runaway: use a smaller one",
                    field="scale",
                )
            if n < 1:
                raise LayerError(
                    f"scale leaves no output: ⌊{size}·scale⌋ = {n}",
                    "use a larger scale, or give the output size with `size`",
                    field="scale",
                )
        return (*out, shape[-1])

    def plans(self, inputs: Sequence[Shape]) -> list[Any]:
        """Per axis ("up", s), ("down", n) or None (no integer factor)."""
        sizes = inputs[0][:-1]
        out = self.output_shape(inputs)[:-1]
        scales = self.scales(len(sizes)) or (None,) * len(sizes)
        return [
            _ratio_plan(size, n, s, self.mode, self.align_corners)
            for size, n, s in zip(sizes, out, scales, strict=True)
        ]

    def regular(self, inputs: Sequence[Shape]) -> bool:
        """Whether the window below is exact: an integer factor on every axis, all up or all
        down (otherwise it approximates, as adaptive pooling's widest bin)."""
        plans = self.plans(inputs)
        return None not in plans and len({p[0] for p in plans if p[1] != 1}) <= 1

    def window(self, inputs: Sequence[Shape]) -> Window:
        """Up by s: a transposed window, stride s, of the taps' kernel — nearest s (pad 0),
        linear 2s (pad ⌈s/2⌉, s with align_corners), bicubic 4s (pad ⌈s/2⌉ + s, 2s); down by
        n: stride n over 1 (nearest), 2 or 4 taps."""
        sizes, out = inputs[0][:-1], self.output_shape(inputs)[:-1]
        plans = [
            plan or (("up", round(n / size)) if n >= size else ("down", round(size / n)))
            for plan, size, n in zip(self.plans(inputs), sizes, out, strict=True)
        ]
        taps = TAPS[self.mode]
        up = any(direction == "up" and factor > 1 for direction, factor in plans)
        kernel, stride, pads = [], [], []
        for direction, factor in plans:
            if up and direction == "down":  # mixed: approximate, unit stride on this axis
                direction, factor = "up", 1
            if direction == "up" and up:
                kernel.append(taps * factor)
                stride.append(factor)
                if taps == 1:
                    pads.append(0)
                elif self.align_corners:
                    pads.append(factor * taps // 2)
                else:
                    pads.append(-(-factor // 2) + factor * (taps // 2 - 1))
            else:
                kernel.append(taps)
                stride.append(factor)
                if taps == 1 or self.align_corners:
                    pads.append(taps // 2 - 1 if taps > 1 else 0)
                else:
                    pads.append(taps // 2 - 1 - (factor - 1) // 2)
        rank = len(plans)
        return Window(tuple(kernel), tuple(stride), (1,) * rank, tuple(pads), transposed=up)


def _factor_check(shape: Shape, kind: str) -> None:
    if len(shape) != 3:
        raise LayerError(
            f"{kind} needs an H×W×C input, got {fmt_shape(shape)}",
            "pixel_shuffle and pixel_unshuffle work on 2-D inputs",
            field="from",
        )


@register
@dataclass(frozen=True, kw_only=True)
class PixelShuffle(Op):
    kind = "pixel_shuffle"
    aliases = ("PixelShuffle", "DepthToSpace")
    doc = "H×W×C·r² → rH×rW×C (sub-pixel convolution's rearrangement, PyTorch channel order)"
    factor: int = param(POSITIVE_INT, "upscale factor r", aliases=("upscale_factor",))

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        shape = spatial(inputs[0])
        _factor_check(shape, self.kind)
        r2 = self.factor * self.factor
        if shape[-1] % r2:
            raise LayerError(
                f"its {shape[-1]} input channels are not a multiple of factor² = {r2}",
                f"give it C·{r2} channels (e.g. a conv with {r2}·C filters before it)",
                field="factor",
            )
        h, w, c = shape
        return (Q(h) * Q(self.factor), Q(w) * Q(self.factor), Q(c // r2, f"{c}/{r2}"))

    def window(self, inputs: Sequence[Shape]) -> Window:
        r = self.factor
        return Window((r, r), (r, r), (1, 1), (0, 0), transposed=True)


@register
@dataclass(frozen=True, kw_only=True)
class PixelUnshuffle(Op):
    kind = "pixel_unshuffle"
    aliases = ("PixelUnshuffle", "SpaceToDepth")
    doc = "rH×rW×C → H×W×C·r² (the inverse of pixel_shuffle)"
    factor: int = param(POSITIVE_INT, "downscale factor r", aliases=("downscale_factor",))

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        shape = spatial(inputs[0])
        _factor_check(shape, self.kind)
        r = self.factor
        for size in shape[:-1]:
            if size % r:
                raise LayerError(
                    f"its {fmt_shape(shape[:-1])} input does not divide by factor {r}",
                    f"use a factor that divides both sides, or pad the input to a multiple of {r}",
                    field="factor",
                )
        h, w, c = shape
        return (Q(h, f"{h}/{r}") // r, Q(w, f"{w}/{r}") // r, Q(c) * Q(r) * Q(r))

    def window(self, inputs: Sequence[Shape]) -> Window:
        r = self.factor
        return Window((r, r), (r, r), (1, 1), (0, 0))


def _sides(value: Axes, shape: Shape, field: str) -> Sizes:
    return resolve_padding(value, len(shape) - 1, field)


@register
@dataclass(frozen=True, kw_only=True)
class Pad(Op):
    kind = "pad"
    aliases = (
        "ZeroPadding1D",
        "ZeroPadding2D",
        "ZeroPadding3D",
        "ZeroPad2d",
        "ConstantPad1d",
        "ConstantPad2d",
        "ConstantPad3d",
        "ReflectionPad1d",
        "ReflectionPad2d",
        "ReflectionPad3d",
        "ReplicationPad1d",
        "ReplicationPad2d",
        "ReplicationPad3d",
        "CircularPad1d",
        "CircularPad2d",
        "CircularPad3d",
    )
    doc = "adds borders: constant (value), reflect, replicate or circular (PyTorch F.pad)"
    padding: Axes = param(EXPLICIT, "p, [ph, pw] or [top, bottom, left, right]")
    mode: str = param(
        choice_type("constant", "reflect", "replicate", "circular"),
        "what the border holds",
        default="constant",
    )
    value: float = param(number_type(), "the border's value (constant mode)", default=0.0)

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        shape = spatial(inputs[0])
        pads = _sides(self.padding, shape, "padding")
        if self.value != 0 and self.mode != "constant":
            raise LayerError(
                f"value only applies to mode constant, not {self.mode}",
                "remove value, or use mode constant",
                field="value",
            )
        for index, pad in enumerate(pads):
            size = shape[index // 2]
            if self.mode == "reflect" and pad >= size:
                raise LayerError(
                    f"reflect padding {pad} is not smaller than the input's {size} on that axis",
                    f"PyTorch requires reflect padding < the size: use at most {size - 1}, "
                    "or mode replicate",
                    field="padding",
                )
            if self.mode == "circular" and pad > size:
                raise LayerError(
                    f"circular padding {pad} wraps around its {size}-wide input more than once",
                    f"use at most {size}",
                    field="padding",
                )
        out = tuple(
            Q(size) + Q(pads[2 * a]) + Q(pads[2 * a + 1]) for a, size in enumerate(shape[:-1])
        )
        return (*out, shape[-1])

    def window(self, inputs: Sequence[Shape]) -> Window:
        rank = len(inputs[0]) - 1
        pads = _sides(self.padding, inputs[0], "padding")
        ones = (1,) * rank
        return Window(ones, ones, ones, pads[::2])


@register
@dataclass(frozen=True, kw_only=True)
class Crop(Op):
    kind = "crop"
    aliases = ("Cropping1D", "Cropping2D", "Cropping3D", "CenterCrop")
    doc = "cuts borders off: p, [ph, pw] or [top, bottom, left, right] (Keras Cropping2D)"
    cropping: Axes = param(EXPLICIT, "p, [ph, pw] or [top, bottom, left, right]")

    def output_shape(self, inputs: Sequence[Shape]) -> Shape:
        shape = spatial(inputs[0])
        cuts = _sides(self.cropping, shape, "cropping")
        out = []
        for a, size in enumerate(shape[:-1]):
            before, after = cuts[2 * a], cuts[2 * a + 1]
            if before + after >= size:
                raise LayerError(
                    f"cropping {before}+{after} leaves nothing of its {size}-wide input",
                    f"crop less than {size} in total on that axis",
                    field="cropping",
                )
            out.append(Q(size) - Q(before) - Q(after))
        return (*out, shape[-1])

    def window(self, inputs: Sequence[Shape]) -> Window:
        rank = len(inputs[0]) - 1
        cuts = _sides(self.cropping, inputs[0], "cropping")
        ones = (1,) * rank
        return Window(ones, ones, ones, tuple(-c for c in cuts[::2]))
