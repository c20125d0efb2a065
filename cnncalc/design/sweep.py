"""Many variants of a spec, one row each: `--set width=32,64 --set depth=2..6 --input ...`.

A variant is the spec with every key named by a `--set` (a block argument's default, a call's
argument, a layer field, a repeat's `times`) given one of its values, on one input size. Each
is loaded and analyzed with the ordinary rules — in this process, in a process pool
(`workers`), or on a Dask cluster (`scheduler`: its address); a variant that makes no valid
network gets a row with its error.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cnncalc.errors import CnncalcError, SourcePos, SpecError
from cnncalc.layers import Shape
from cnncalc.passes.memory import MemoryOptions
from cnncalc.report import analyze
from cnncalc.spec import from_document
from cnncalc.yamlnodes import YList, YMap
from cnncalc.yamltree import parse_yaml

Value = int | float | bool | str
MAX_VARIANTS = 1_000_000


def parse_values(text: str, option: str = "--set") -> tuple[str, tuple[Value, ...]]:
    """`width=32,64,128` or `depth=2..6` (both ends included) as a name and its values."""
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier() or not values.strip():
        raise SpecError(
            f"{option} takes NAME=VALUES, got {text[:60]!r}",
            SourcePos(option),
            "e.g. --set width=32,64,128 or --set depth=2..6",
        )
    out: list[Value] = []
    for item in values.split(","):
        item = item.strip()
        low, dots, high = item.partition("..")
        if dots and _integer(low) and _integer(high):
            start, stop = int(low), int(high)
            if stop < start or stop - start >= 10_000:
                raise SpecError(
                    f"{option} {name}: the range {item} is empty or over 10,000 values",
                    SourcePos(option),
                )
            out += range(start, stop + 1)
        else:
            out.append(_scalar(item))
    return name, tuple(out)


def _integer(text: str) -> bool:
    return text.lstrip("-").isdigit() and len(text) < 19


def _scalar(text: str) -> Value:
    if _integer(text):
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    try:
        return float(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class Job:
    """One variant to analyze (picklable: sent to worker processes)."""

    text: str
    file: str
    stem: str
    values: tuple[tuple[str, Value], ...]
    input_shape: Shape | None
    convention: str
    memory: MemoryOptions


@dataclass(frozen=True)
class Row:
    """One variant's figures, or the error that made it invalid."""

    values: tuple[tuple[str, Value], ...]
    input_shape: Shape | None
    output_shape: Shape | None = None
    params: int = 0
    trainable_params: int = 0
    macs: int = 0
    flops: int = 0
    rf: tuple[int, int] | None = None  # the last spatial layer's field
    inference_peak_bytes: int = 0
    training_bytes: int = 0
    layers: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": dict(self.values),
            "input_shape": list(self.input_shape) if self.input_shape else None,
            "output_shape": list(self.output_shape) if self.output_shape else None,
            "layers": self.layers,
            "params": self.params,
            "trainable_params": self.trainable_params,
            "macs": self.macs,
            "flops": self.flops,
            "rf": list(self.rf) if self.rf else None,
            "inference_peak_bytes": self.inference_peak_bytes,
            "training_bytes": self.training_bytes,
            "error": self.error,
        }


@dataclass(frozen=True)
class SweepResult:
    name: str
    names: tuple[str, ...]  # the --set names, in order
    rows: tuple[Row, ...]
    convention: str
    memory: MemoryOptions
    inputs_varied: bool = field(default=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sets": list(self.names),
            "convention": self.convention,
            "dtype": self.memory.dtype,
            "batch": self.memory.batch,
            "optimizer": self.memory.optimizer,
            "variants": [row.to_dict() for row in self.rows],
        }


@lru_cache(maxsize=4)
def _parsed(text: str, file: str) -> Any:
    return parse_yaml(text, file)


def _with_values(node: Any, values: Mapping[str, Value], found: set[str]) -> Any:
    """A copy of the YAML tree with every key in `values` set (the tree is never changed)."""
    if isinstance(node, YMap):
        out = YMap(node.pos)
        out.key_pos.update(node.key_pos)
        out.value_pos.update(node.value_pos)
        for key, value in node.items():
            if key in values and not isinstance(value, YMap | YList):
                found.add(key)
                out[key] = values[key]
            else:
                out[key] = _with_values(value, values, found)
        return out
    if isinstance(node, YList):
        copy = YList(node.pos)
        for pos in node.item_pos:
            copy.item_pos.append(pos)
        copy.extend(_with_values(item, values, found) for item in node)
        return copy
    return node


def variant_document(text: str, file: str, values: Mapping[str, Value]) -> Any:
    """The spec's YAML tree with the variant's values; a name the spec lacks is an error."""
    found: set[str] = set()
    doc = _with_values(_parsed(text, file), values, found)
    missing = [name for name in values if name not in found]
    if missing:
        raise SpecError(
            f"--set {missing[0]}: the spec has no key {missing[0]!r} to set",
            SourcePos(file),
            "set a block argument, a layer field or a repeat's `times` the spec writes out",
        )
    return doc


def evaluate(job: Job) -> Row:
    """Analyze one variant (runs in workers too)."""
    try:
        doc = variant_document(job.text, job.file, dict(job.values))
        net = from_document(doc, job.file, job.stem, job.input_shape)
        report = analyze(net, job.convention, job.memory)
    except CnncalcError as exc:
        return Row(job.values, job.input_shape, error=str(exc).splitlines()[0])
    fields = [row.rf for row in report.layers if row.rf is not None]
    return Row(
        job.values,
        net.input_shape,
        net.shapes[net.output.name],
        report.totals.params,
        report.totals.trainable_params,
        report.macs,
        report.flops,
        (int(fields[-1].size[0]), int(fields[-1].size[1])) if fields else None,
        report.memory.inference_peak_bytes,
        report.memory.training_bytes,
        len(net),
    )


def _evaluate_chunk(jobs: Sequence[Job]) -> list[Row]:
    return [evaluate(job) for job in jobs]


def _chunks(jobs: Sequence[Job], size: int) -> Iterator[Sequence[Job]]:
    for start in range(0, len(jobs), size):
        yield jobs[start : start + size]


def run_jobs(jobs: Sequence[Job], workers: int = 1, scheduler: str | None = None) -> list[Row]:
    """Every job's row, in order: here (workers 1), in a process pool, or on Dask."""
    size = max(1, min(256, len(jobs) // (max(workers, 1) * 8) or 1))
    if scheduler is not None:
        try:
            from distributed import Client
        except ImportError:
            raise SpecError(
                "a Dask scheduler needs dask.distributed",
                None,
                'pip install "cnncalc[dask]"',
            ) from None
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            futures = client.map(_evaluate_chunk, list(_chunks(jobs, size)), pure=False)
            return [row for rows in client.gather(futures) for row in rows]
    if workers <= 1:
        return _evaluate_chunk(jobs)
    from concurrent.futures import ProcessPoolExecutor  # (multiprocessing: only when used)

    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [row for rows in pool.map(_evaluate_chunk, _chunks(jobs, size)) for row in rows]


def sweep(
    spec: str | Sequence[str],
    sets: Mapping[str, Sequence[Value]] | None = None,
    inputs: Sequence[Shape] = (),
    *,
    file: str = "<text>",
    stem: str = "network",
    convention: str = "macs",
    memory: MemoryOptions | None = None,
    workers: int = 1,
    scheduler: str | None = None,
) -> SweepResult:
    """One row per variant: every combination of the `sets` values (and of `inputs`, input
    shapes H, W, C) applied to the spec text — or to each of a list of spec texts."""
    texts = [spec] if isinstance(spec, str) else list(spec)
    sets = dict(sets or {})
    memory = memory or MemoryOptions()
    count = len(texts) * max(len(inputs), 1)
    for values in sets.values():
        count *= len(values)
    if count > MAX_VARIANTS:
        raise SpecError(
            f"the sweep has {count:,} variants, more than {MAX_VARIANTS:,}", None, "sweep fewer"
        )
    names = tuple(sets)
    shapes: Sequence[Shape | None] = list(inputs) or [None]
    jobs = [
        Job(text, file, stem, tuple(zip(names, combo, strict=True)), shape, convention, memory)
        for text in texts
        for combo in itertools.product(*sets.values())
        for shape in shapes
    ]
    if jobs:
        variant_document(texts[0], file, dict(jobs[0].values))  # a name the spec lacks: stop
    rows = run_jobs(jobs, workers, scheduler)
    name = _name(texts[0], file, stem) if texts else stem
    return SweepResult(name, names, tuple(rows), convention, memory, bool(inputs))


def _name(text: str, file: str, stem: str) -> str:
    doc = _parsed(text, file)
    name = doc.get("name", stem) if isinstance(doc, YMap) else stem
    return name if isinstance(name, str) else stem
