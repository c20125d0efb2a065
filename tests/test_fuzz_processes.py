"""The fuzz's cases that cannot run in-process (`tests/test_fuzz.py` runs the rest): a FIFO
named as a spec, a closed or endless stdin, and the peak memory of whole child processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.test_fuzz import RAW

# the child reports its own peak RSS in KiB (VmHWM: unlike ru_maxrss, which a child inherits
# from the test process it was forked from, it starts anew at exec) on the descriptor RSS_FD
CHILD = (
    "import atexit, os, re, sys; from cnncalc.cli import main; "
    "atexit.register(lambda: os.write(int(os.environ['RSS_FD']), re.search("
    "r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1).encode())); "
    "sys.argv[0] = 'cnncalc'; main()"
)


def run_child(args: list[str], stdin: str) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, peak RSS in KiB) of `cnncalc ARGS` in a child process
    whose stdin is `/dev/null`, `/dev/zero` (endless) or `closed`."""
    read_rss, write_rss = os.pipe()
    with open("/dev/zero" if stdin == "zero" else os.devnull, "rb") as source:
        process = subprocess.Popen(
            [sys.executable, "-c", CHILD, *args],
            stdin=source,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "RSS_FD": str(write_rss)},
            pass_fds=(write_rss,),
            preexec_fn=(lambda: os.close(0)) if stdin == "closed" else None,
        )
        try:
            out, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise AssertionError(f"cnncalc {args} still running after 20 s") from None
        finally:
            os.close(write_rss)
    with os.fdopen(read_rss, "rb") as reported:
        peak = int(reported.read() or 0)
    return process.returncode, out.decode(errors="replace"), err.decode(errors="replace"), peak


def test_fuzz_processes(tmp_path: Path):
    """Spec sources that only a real process can have, each in a child: exit 0, 1 or 2
    without a traceback or raw control characters, and a bounded peak RSS."""
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    cases = [
        (["params", "-"], "zero"),
        (["summary", "resnet50", "-f", "json"], "null"),
        (["verify", "vgg16", "--max-memory", "64MiB"], "null"),
        (["params", str(tmp_path / "loop.yaml")], "null"),
        (["params", "-"], "closed"),
        (["params", str(fifo)], "null"),
        (["check", str(tmp_path)], "null"),
    ]
    for args, stdin in cases:
        code, out, err, peak = run_child(args, stdin)
        assert code in (0, 1, 2), (args, stdin, code, err)
        assert "Traceback" not in err, (args, stdin, err)
        assert not RAW.search(out) and not RAW.search(err), (args, stdin)
        assert peak < 1 << 20, (args, stdin, f"peak RSS {peak} KiB")
