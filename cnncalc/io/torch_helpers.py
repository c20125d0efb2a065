"""Small `nn.Module`s for the kinds torch has no module for (a LayerNorm or Linear over the
channels of a channels-first tensor, LayerScale, Keras' partial batchnorm, slices, means).

Kept as source text, so one definition serves both users of the shared table: the PyTorch
exporter prints the classes a network uses into its file, and the cross-check
(`cnncalc.reference.torch_model`) executes the same text. Nothing here imports torch.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

TORCH_HELPERS: dict[str, str] = {
    "ChannelsLastLinear": '''
class ChannelsLastLinear(nn.Linear):
    """nn.Linear over the channels at every position of an (N, C, ...) tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() <= 2:
            return super().forward(x)
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)
''',
    "ChannelsLastLayerNorm": '''
class ChannelsLastLayerNorm(nn.LayerNorm):
    """nn.LayerNorm over the channels at every position (ConvNeXt's LayerNorm2d)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() <= 2:
            return super().forward(x)
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)
''',
    "LayerScale": '''
class LayerScale(nn.Module):
    """x times a learned factor per channel."""

    def __init__(self, channels: int, init: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight.view(1, -1, *([1] * (x.dim() - 2)))
''',
    "Standardize": '''
class Standardize(nn.Module):
    """(x - mean) / sqrt(variance) per channel (Keras' Normalization). Adapted: its mean,
    variance and count are buffers; else constants the spec does not give (0 and 1)."""

    def __init__(self, channels: int, adapted: bool = False) -> None:
        super().__init__()
        self.adapted = adapted
        if adapted:
            self.register_buffer("mean", torch.zeros(channels))
            self.register_buffer("variance", torch.ones(channels))
            self.register_buffer("count", torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.adapted:
            return x
        shape = (1, -1, *([1] * (x.dim() - 2)))
        return (x - self.mean.view(shape)) / self.variance.view(shape).sqrt()
''',
    "PartialBatchNorm": '''
class PartialBatchNorm(nn.Module):
    """Keras' BatchNormalization without its scale or its center (offset)."""

    def __init__(self, channels: int, eps: float, scale: bool, center: bool) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, eps=self.eps
        )
''',
    "L2Norm": '''
class L2Norm(nn.Module):
    """x divided by its L2 norm over the channels."""

    def __init__(self, eps: float) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, 2.0, 1, self.eps)
''',
    "ScaleBy": '''
class ScaleBy(nn.Module):
    """x·factor + offset, constants."""

    def __init__(self, factor: float = 1.0, offset: float = 0.0) -> None:
        super().__init__()
        self.factor, self.offset = factor, offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor + self.offset if self.offset else x * self.factor
''',
    "Mean": '''
class Mean(nn.Module):
    """The mean over some dims."""

    def __init__(self, dims: tuple[int, ...], keepdim: bool) -> None:
        super().__init__()
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(self.dims, keepdim=self.keepdim)
''',
    "ChannelShuffle": '''
class ChannelShuffle(nn.Module):
    """ShuffleNet's channel shuffle (nn.ChannelShuffle needs a spatial input)."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        parts = x.reshape(n, self.groups, c // self.groups, *x.shape[2:])
        return parts.transpose(1, 2).reshape(x.shape)
''',
    "ChannelSlice": '''
class ChannelSlice(nn.Module):
    """Channels start:stop."""

    def __init__(self, start: int, stop: int) -> None:
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start : self.stop]
''',
    "Crop": '''
class Crop(nn.Module):
    """Cuts (before, after) off each spatial axis, in the spec's axis order."""

    def __init__(self, cuts: tuple[int, ...]) -> None:
        super().__init__()
        self.cuts = cuts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for axis in range(len(self.cuts) // 2):
            before, after = self.cuts[2 * axis : 2 * axis + 2]
            x = x.narrow(axis + 2, before, x.shape[axis + 2] - before - after)
        return x
''',
}


def helpers_source(names: Iterable[str]) -> str:
    """The class definitions of these helpers, in the table's order, for a source file."""
    wanted = set(names)
    return "".join(
        "\n\n" + text.strip("\n") for name, text in TORCH_HELPERS.items() if name in wanted
    )


@functools.cache
def helper_classes(torch: Any) -> dict[str, Any]:
    """The helpers as classes, for the live model (the same text the exporter prints)."""
    namespace: dict[str, Any] = {
        "torch": torch,
        "nn": torch.nn,
        "F": torch.nn.functional,
        "__name__": "cnncalc_torch_helpers",
    }
    for text in TORCH_HELPERS.values():
        exec(compile(text, "<cnncalc torch helpers>", "exec"), namespace)
    return {name: namespace[name] for name in TORCH_HELPERS}
