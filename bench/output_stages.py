"""The output of the analysis commands on a 100,000-layer chain, stage by stage, in process.

    python bench/output_stages.py [LAYERS] [--against PATH]

After loading and analysing the chain (every receptive field read), each view is built (view,
subtotal, `visible_table`) and rendered the way `cnncalc` writes it, and `summary --format
json` is built (`Report.json_data`, or `to_dict` where there is none) and written; the best
of three `time.process_time()` runs of each, with the collector paused as the commands pause
it. `--against PATH` runs the same in a second process on the cnncalc package under PATH (a
checkout of another version) and prints both, their ratio, and whether the outputs are the
same bytes. Goal (issue 9): each at most ~60% of the stages before it.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _stages(spec: Path) -> dict[str, tuple[float, float, str]]:
    from cnncalc.loader import load
    from cnncalc.render import views
    from cnncalc.render.safe import json_chunks, visible_table
    from cnncalc.report import analyze

    gc.disable()
    report = analyze(load(spec), "macs", None)
    for row in report.layers:
        row.rf  # noqa: B018 (the fields are worked out when first read)

    def best(task: Callable[[], Any]) -> tuple[float, Any]:
        times, out = [], None
        for _ in range(3):
            start = time.process_time()
            out = task()
            times.append(time.process_time() - start)
        return min(times), out

    def wide(r: Any) -> Any:
        return views.summary_view(r, wide=True)

    cases: dict[str, tuple[Callable[[Any], Any], Callable[[Any], str]]] = {
        "params": (views.params_view, lambda t: t.to_text(100)),
        "summary": (views.summary_view, lambda t: t.to_text(100)),
        "summary csv": (views.summary_view, lambda t: t.to_csv()),
        "summary markdown": (views.summary_view, lambda t: t.to_markdown()),
        "rf": (views.rf_view, lambda t: t.to_text(100)),
        "summary --wide": (wide, lambda t: t.to_text(100)),
        "summary --wide markdown": (wide, lambda t: t.to_markdown()),
        "summary --wide csv": (wide, lambda t: t.to_csv()),
        "summary --wide latex": (wide, lambda t: t.to_latex()),
    }
    results = {}
    for name, (view, render) in cases.items():
        built, table = best(lambda view=view: visible_table(views.with_subtotal(view, report)))
        rendered, text = best(lambda render=render, table=table: render(table))
        results[name] = built, rendered, hashlib.md5(text.encode()).hexdigest()
    data = getattr(report, "json_data", report.to_dict)
    built, value = best(data)
    rendered, text = best(lambda: "".join(json_chunks(value)) + "\n")
    results["summary --format json"] = built, rendered, hashlib.md5(text.encode()).hexdigest()
    return results


def _run(package_root: Path, spec: Path) -> dict[str, list[Any]]:
    code = (
        f"import sys, json; sys.path.insert(0, {str(package_root)!r}); "
        f"sys.path.insert(0, {str(HERE)!r}); import output_stages; "
        f"print(json.dumps(output_stages._stages(__import__('pathlib').Path({str(spec)!r}))))"
    )
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env=env)
    result: dict[str, list[Any]] = json.loads(out.stdout)
    return result


def main() -> None:
    args = sys.argv[1:]
    against = Path(args[args.index("--against") + 1]) if "--against" in args else None
    numbers = [a for a in args if a.isdigit()]
    layers = int(numbers[0]) if numbers else 100_000
    sys.path.insert(0, str(HERE))
    from common import chain_spec

    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "chain.yaml"
        spec.write_text(chain_spec(layers))
        ours = _run(HERE.parent, spec)
        theirs = _run(against, spec) if against else None
    print(f"{layers:,}-layer chain: CPU seconds, view (build) + render = total")
    for name, (built, rendered, digest) in ours.items():
        line = f"{name:26} {built:6.3f} + {rendered:6.3f} = {built + rendered:6.3f}"
        if theirs is not None:
            b, r, other = theirs[name]
            line += f"   against {b:6.3f} + {r:6.3f} = {b + r:6.3f}"
            same = "same" if digest == other else "DIFFERENT"
            line += f"   ×{(built + rendered) / (b + r):.2f}  {same}"
        print(line)


if __name__ == "__main__":
    main()
