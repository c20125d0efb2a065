"""Every analysis command on 10,000- and 100,000-layer specs: CPU time and peak memory.

    python bench/large_specs.py [--quick]

Each command runs as its own `cnncalc` process (cold start included, with the package
compiled to bytecode as `pip install` leaves it); the table prints the
CPU seconds (user + system, from `os.wait4`: unlike wall time, not inflated by other
processes sharing the machine) and peak RSS at both sizes and the 100k/10k ratio of each
(linear ≈ 10). Goals: 100k
layers under 2 s and 300 MB in every command. Also a 187-byte spec that nested repeats
expand to 45,000 layers, and the 4 MiB YAML files of `{}`, `[]` and `a: 1` lines.
`--quick` runs only the 10k size and the YAML files.
"""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import chain_spec

import cnncalc

COMMANDS = [
    ["params"],
    ["summary"],
    ["summary", "--format", "json"],
    ["summary", "--format", "csv"],
    ["summary", "--wide", "--format", "markdown"],
    ["flops", "--convention", "fvcore"],
    ["rf"],
    ["memory"],
    ["graph"],
    ["graph", "--format", "dot"],
    ["check"],
    ["diff", "SELF"],
]

NESTED_REPEATS = """input: [8, 8, 4]
blocks:
  a: {layers: [relu]}
  b: {layers: [{repeat: {block: a, times: 30}}]}
  c: {layers: [{repeat: {block: b, times: 30}}]}
layers:
  - repeat: {block: c, times: 50}
"""

YAML_LINES = {  # the documented size limit filled with tiny nodes
    "- {}": lambda i: "- {}\n",
    "- []": lambda i: "- []\n",
    "kN: 1": lambda i: f"k{i}: 1\n",
}


def run(args: list[str]) -> tuple[float, float, int]:
    """(CPU seconds, peak RSS in MB, exit code) of one `cnncalc` process."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cnncalc", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = usage.ru_utime + usage.ru_stime
    return seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def command_args(command: list[str], spec: Path) -> list[str]:
    return [command[0], str(spec), *(str(spec) if a == "SELF" else a for a in command[1:])]


def main() -> None:
    quick = "--quick" in sys.argv
    # measure cnncalc as `pip install` leaves it: with its modules compiled to bytecode (an
    # editable install under PYTHONDONTWRITEBYTECODE would compile ~80 modules on every start)
    compileall.compile_dir(Path(cnncalc.__file__).parent, quiet=1)
    sizes = (10_000,) if quick else (10_000, 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        specs = {n: Path(tmp, f"chain{n}.yaml") for n in sizes}
        for n, path in specs.items():
            path.write_text(chain_spec(n))
        header = "".join(f"{f'{n // 1000}k s':>9}{f'{n // 1000}k MB':>9}" for n in sizes)
        print(f"{'command':<40}{header}{'  ratio s / MB' if not quick else ''}")
        for command in COMMANDS:
            cells, results = "", []
            for n in sizes:
                seconds, mb, code = run(command_args(command, specs[n]))
                results.append((seconds, mb))
                cells += f"{seconds:9.2f}{mb:9.0f}" + ("" if code in (0, 1) else f" exit {code}")
            if not quick:
                (s1, m1), (s2, m2) = results
                cells += f"  {s2 / s1:5.1f} / {m2 / m1:4.1f}"
            print(f"{' '.join(command):<40}{cells}")

        nested = Path(tmp, "nested.yaml")
        nested.write_text(NESTED_REPEATS)
        for command in (["summary"], ["verify"]):
            seconds, mb, code = run([command[0], str(nested)])
            print(
                f"nested repeats ({len(NESTED_REPEATS)} bytes) {command[0]}: "
                f"{seconds:.2f} s CPU, {mb:.0f} MB, exit {code}"
            )

        for name, line in YAML_LINES.items():
            path = Path(tmp, "big.yaml")
            with path.open("w") as out:
                i = 0
                while out.tell() < 4 * 1024 * 1024 - 64:
                    out.write(line(i))
                    i += 1
            seconds, mb, code = run(["params", str(path)])
            print(f"4 MiB of `{name}` lines: {seconds:.2f} s, {mb:.0f} MB, exit {code}")


if __name__ == "__main__":
    main()
