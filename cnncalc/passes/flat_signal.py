"""Warnings pass: a 1-D input that a dense layer flattens straight away.

The course sheets write a table of n samples with p features as an input of shape (n, p).
cnncalc reads `--input 100x3` as one 1-D signal of 100 samples and 3 channels, so a dense
layer on it sees 300 features and every count differs from the sheet's. A real 1-D network
starts with a conv or a pool, so a dense layer on the input itself is the telling sign.
"""

from __future__ import annotations

from cnncalc.graph import INPUT, Network
from cnncalc.layers.dense import Dense
from cnncalc.passes.flooring import SpecWarning


def flattened_signal(net: Network) -> list[SpecWarning]:
    """A warning per dense layer that flattens a 1-D network input."""
    if len(net.input_shape) != 2:
        return []
    length, channels = net.input_shape
    return [
        SpecWarning(
            node.name,
            node.pos,
            f"layer {node.name}: the input {length}×{channels} is one 1-D signal of {length} "
            f"samples × {channels} channels, and this dense layer flattens it to "
            f"{length * channels} features",
            f"for {length} rows of {channels} features each (a data table's (n, p)), the input "
            f"is one row: --input {channels} (and the rows are the batch: --batch {length} on "
            "memory and summary)",
        )
        for node in net
        if INPUT in node.inputs and isinstance(node.op, Dense) and not node.op.per_position
    ]
