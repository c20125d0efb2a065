"""`cnncalc report resnet50` and `rf --image`: time as fresh processes, and the page's size.

    python bench/pictures.py

Medians of 7 runs (after a warm-up), against `cnncalc summary resnet50` measured in the same
run, so the ratios hold on a busy machine.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from startup import wall  # type: ignore[import-not-found]


def main() -> None:
    cli = [sys.executable, "-m", "cnncalc"]
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "resnet50.html"
        summary = wall([*cli, "summary", "resnet50"])
        report = wall([*cli, "report", "resnet50", "-o", str(page)])
        png = wall(
            [*cli, "rf", "resnet50", "--layer", "layer4.2.relu3", "--image", f"{folder}/rf.png"]
        )
        empirical = wall(
            [
                *cli,
                "rf",
                "resnet50",
                "--layer",
                "layer2.0.relu3",
                "--image",
                f"{folder}/rf.png",
                "--empirical",
            ]
        )
        size = page.stat().st_size
    print(f"summary resnet50           {summary * 1000:7.0f} ms")
    print(f"report resnet50            {report * 1000:7.0f} ms  ({report / summary:.2f}× summary)")
    print(f"  page size                {size / 1024:7.0f} KiB")
    print(f"rf --image (png)           {png * 1000:7.0f} ms  ({png / summary:.2f}×)")
    print(f"rf --image --empirical     {empirical * 1000:7.0f} ms  ({empirical / summary:.2f}×)")


if __name__ == "__main__":
    main()
