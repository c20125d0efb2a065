"""Awkward files and paths: FIFOs, symlink loops, closed standard input, names too long for
the system, and glob patterns that are not valid sets. Each ends promptly with a clear error
(exit 2, `WHERE: error:`), never a traceback or a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.check.globbing import PathPattern
from cnncalc.cli import app, normalize_argv

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and symlinks: POSIX")
runner = CliRunner()
SPEC = "input: [8, 8, 3]\nlayers:\n  - conv: {filters: 4, kernel: 3}\n"  # 112 params
ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path | None = None):  # type: ignore[no-untyped-def]
    """Invoke the CLI in-process; assert no traceback and a prompt end (a hang guard)."""
    start = time.perf_counter()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = runner.invoke(app, normalize_argv(args))
    finally:
        os.chdir(old)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert time.perf_counter() - start < 5.0, args[:2]
    return result


def cli_subprocess(*args: str, cwd: Path, close_stdin: bool = False):  # type: ignore[no-untyped-def]
    """Run `python -m cnncalc` (a FIFO would block this test forever in-process)."""
    return subprocess.run(
        [sys.executable, "-m", "cnncalc", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,  # the hang guard: each run takes ~0.3 s
        stdin=None if close_stdin else subprocess.DEVNULL,
        preexec_fn=(lambda: os.close(0)) if close_stdin else None,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


def statuses(result) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(file, status) per spec from `check -f json` output (in-process or subprocess)."""
    return [(f["file"], f["status"]) for f in json.loads(result.stdout)["files"]]


# --- FIFOs --------------------------------------------------------------------------------------


@posix_only
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path):
    os.mkfifo(tmp_path / "fifo.yaml")
    proc = cli_subprocess("params", "fifo.yaml", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("fifo.yaml: error: is a FIFO"), proc.stderr
    assert "Traceback" not in proc.stderr


@posix_only
def test_check_reports_a_fifo_in_a_folder_and_checks_the_rest(tmp_path: Path):
    (tmp_path / "specs").mkdir()
    os.mkfifo(tmp_path / "specs" / "a_fifo.yaml")
    (tmp_path / "specs" / "net.yaml").write_text(SPEC)
    proc = cli_subprocess("check", "specs", "-f", "json", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    files = json.loads(proc.stdout)["files"]
    assert [(f["file"], f["status"]) for f in files] == [
        ("specs/a_fifo.yaml", "invalid"),
        ("specs/net.yaml", "passed"),
    ]
    assert "FIFO" in files[0]["error"]["message"]


@posix_only
def test_a_fifo_as_budget_file_is_refused(tmp_path: Path):
    os.mkfifo(tmp_path / "budget.yaml")
    (tmp_path / "net.yaml").write_text(SPEC)
    proc = cli_subprocess("check", "net.yaml", "--budget", "budget.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("budget.yaml: error: is a FIFO"), proc.stderr


# --- symlink loops ------------------------------------------------------------------------------


@pytest.fixture
def looped(tmp_path: Path) -> Path:
    """specs/net.yaml and specs/sub/deep.yaml, with specs/a -> . and specs/sub/up -> .."""
    specs = tmp_path / "specs"
    (specs / "sub").mkdir(parents=True)
    (specs / "net.yaml").write_text(SPEC)
    (specs / "sub" / "deep.yaml").write_text(SPEC)
    (specs / "a").symlink_to(".")
    (specs / "sub" / "up").symlink_to("..")
    return tmp_path


@posix_only
@pytest.mark.parametrize("arg", ["specs", "specs/**/*.yaml", "specs/**", "specs/**/a/*.yaml"])
def test_symlink_loops_end_and_each_spec_is_checked_once(looped: Path, arg: str):
    proc = cli_subprocess("check", arg, "-f", "json", cwd=looped)  # hung before: no in-process
    assert proc.returncode == 0, proc.stderr
    names = [Path(file).name for file, _ in statuses(proc)]
    want = ["net.yaml"] if arg.endswith("a/*.yaml") else ["net.yaml", "deep.yaml"]
    assert sorted(names) == sorted(want)


@posix_only
def test_a_budget_glob_over_a_symlink_loop_ends(looped: Path):
    (looped / "budget.yaml").write_text("specs/**/*.yaml: {max_params: 100}\n")
    proc = cli_subprocess("check", "specs", "--budget", "budget.yaml", "-f", "json", cwd=looped)
    assert proc.returncode == 1, proc.stderr  # 112 params > 100, for both specs
    assert sorted(status for _, status in statuses(proc)) == ["failed", "failed"]


# --- closed standard input ----------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize(
    "args",
    [["params", "-"], ["check", "-"], ["diff", "-", "lenet5"], ["verify", "-"], ["graph", "-"]],
)
def test_closed_stdin_is_an_error(tmp_path: Path, args: list[str]):
    proc = cli_subprocess(*args, cwd=tmp_path, close_stdin=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("<stdin>: error: "), proc.stderr
    assert "Traceback" not in proc.stderr


# --- names the system cannot look up ------------------------------------------------------------

LONG = "x" * 5000


@pytest.mark.parametrize(
    "args",
    [
        ["params", LONG + ".yaml"],
        ["summary", "dir/" + LONG],
        ["rf", LONG],
        ["graph", LONG + ".yaml"],
        ["verify", LONG + ".yaml"],
        ["diff", LONG + ".yaml", "lenet5"],
        ["diff", "lenet5", LONG + ".yaml"],
        ["check", LONG],
        ["check", LONG + "*.yaml"],
        ["check", "dir/" + LONG + "/**/*.yaml"],
        ["check", "lenet5", "--budget", LONG + ".yaml"],
        ["params", "lenet5", "--svg", LONG + ".svg"],
        ["verify", "seed_21x21", "--no-rf", "--svg", LONG + ".svg"],
        ["check", "x" * 252],  # fits a name, but not with `.yaml` added (the zoo lookup)
    ],
)
def test_names_too_long_are_errors(tmp_path: Path, args: list[str]):
    result = run(*args, cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert ": error: " in result.stderr.splitlines()[0] or result.stderr.startswith("error: ")


def test_a_budget_key_too_long_or_with_a_nul_matches_no_file(tmp_path: Path):
    (tmp_path / "net.yaml").write_text(SPEC)
    for key in (LONG + "/*.yaml", "a\\0b/*.yaml"):
        (tmp_path / "budget.yaml").write_text(f'? "{key}"\n: {{max_params: 1}}\n')  # a long key
        result = run("check", "net.yaml", "--budget", "budget.yaml", cwd=tmp_path)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("budget.yaml:1:3: error: budget pattern"), result.stderr


# --- patterns that are not valid sets -----------------------------------------------------------


def test_invalid_sets_in_check_globs(tmp_path: Path):
    (tmp_path / "net.yaml").write_text(SPEC)
    result = run("check", "[z-a]*.yaml", cwd=tmp_path)  # an empty range matches nothing
    assert result.exit_code == 2
    assert result.stderr.startswith("[z-a]*.yaml: error: no spec file matches"), result.stderr
    (tmp_path / "net[].yaml").write_text(SPEC)  # an unclosed `[` is literal text
    result = run("check", "net[].y*ml", "-f", "json", cwd=tmp_path)
    assert statuses(result) == [("net[].yaml", "passed")]


def test_invalid_sets_in_budget_keys(tmp_path: Path):
    (tmp_path / "net.yaml").write_text(SPEC)
    (tmp_path / "net[].yaml").write_text(SPEC)
    (tmp_path / "budget.yaml").write_text("'[z-a]*.yaml': {max_params: 1}\n")
    result = run("check", "net.yaml", "--budget", "budget.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("budget.yaml:1:1: error: budget pattern '[z-a]*.yaml'")
    (tmp_path / "budget.yaml").write_text("net[].yaml: {max_params: 100}\n")
    result = run("check", ".", "--budget", "budget.yaml", "-f", "json", cwd=tmp_path)
    assert statuses(result) == [("net.yaml", "passed"), ("net[].yaml", "failed")]


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("**/*.yaml", "/r/a.yaml", True),
        ("**/*.yaml", "/r/x/y/a.yaml", True),
        ("x/**/a.yaml", "/r/x/a.yaml", True),
        ("*.yaml", "/r/x/a.yaml", False),  # `*` stays within a name
        ("x/?.yaml", "/r/x/a.yaml", True),
        ("x/[!b].yaml", "/r/x/a.yaml", True),
        ("x/[!a].yaml", "/r/x/a.yaml", False),
        ("*.yaml", "/r/.hidden.yaml", False),  # wildcards skip hidden names, as glob's do
        ("**/a.yaml", "/r/.git/a.yaml", False),
        (".*.yaml", "/r/.hidden.yaml", True),
        ("../*.yaml", "/a.yaml", True),
        ("*.yaml", "/elsewhere/a.yaml", False),
    ],
)
def test_pattern_semantics(pattern: str, path: str, matches: bool):
    assert PathPattern.parse(pattern, "/r").matches(path) is matches


def test_a_literal_folder_with_brackets_is_not_a_pattern(tmp_path: Path):
    folder = tmp_path / "run[1]"
    folder.mkdir()
    (folder / "net.yaml").write_text(SPEC)
    pattern = PathPattern.parse("*.yaml", str(folder))
    assert pattern.paths() == [str(folder / "net.yaml")]
    assert pattern.matches(str(folder / "net.yaml"))
