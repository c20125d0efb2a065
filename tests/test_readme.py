"""The README's examples run as written: every `cnncalc` line of its ```bash blocks (exit 0,
no traceback) and every ```python block (in order, one namespace; a bare expression followed
by `# <literal>` must equal it), in a temporary folder holding `architectures/` and `docs/`.
Also the error example, and (with `-m slow`) the pre-commit and Actions snippets for real.

The blocks are found by parsing, whatever sections the README has, so no claim can go stale.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from cnncalc.cli import app, normalize_argv

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# lines that install things or need programs other than cnncalc: not run here
EXTERNAL = ("dot", "pip", "python3 -m venv", "bash .ci/run", "pre-commit", "git", "pdflatex")
SHELL = ("|", "<(", "&&", ";", "<")  # a line with these runs in bash, not in-process
runner = CliRunner()


def blocks(language: str) -> list[tuple[int, str]]:
    """(first line number, text) of every fenced block of `language` ("" for a plain ```
    block), at any indentation (a block inside a list item)."""
    found: list[tuple[int, str]] = []
    fence: tuple[str, str, int, list[str]] | None = None  # indent, language, start, lines
    for number, line in enumerate(README.splitlines(), start=1):
        match = re.fullmatch(r"( *)```(\S*)\s*", line)
        if fence is None:
            if match:
                fence = (match.group(1), match.group(2), number + 1, [])
        elif match and match.group(1) == fence[0] and not match.group(2):
            if fence[1] == language:
                found.append((fence[2], "".join(f"{text}\n" for text in fence[3])))
            fence = None
        else:
            fence[3].append(line[len(fence[0]) :])
    return found


def command_lines() -> Iterator[tuple[int, str]]:
    for start, text in blocks("bash"):
        for offset, line in enumerate(text.splitlines()):
            if line.startswith("cnncalc ") or line == "cnncalc":
                yield start + offset, line


def external(line: str) -> bool:
    words = shlex.split(line, comments=True)
    segments = " ".join(words).replace("|", "\n").replace("&&", "\n").splitlines()
    return any(seg.strip().startswith(EXTERNAL) for seg in segments) or "<(" in line


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "architectures", folder / "architectures")
    shutil.copytree(ROOT / "docs", folder / "docs")
    return folder


def stub_inputs(words: list[str], folder: Path) -> None:
    """Create the placeholder spec and budget files a line names (`my_net.yaml`, globs)."""
    for index, word in enumerate(words):
        if not word.endswith((".yaml", ".yml")) or word.startswith("-"):
            continue
        path = folder / word.replace("**/", "").replace("*", "net")
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if index and words[index - 1] == "--budget":
            path.write_text("max_params: 1G\n")
        else:
            shutil.copy(ROOT / "architectures" / "seed_32x32.yaml", path)


LINES = [pytest.param(line, id=f"README:{number}") for number, line in command_lines()]


@pytest.mark.parametrize("line", LINES)
def test_bash_line_runs(line: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if external(line):
        pytest.skip("needs a program other than cnncalc")
    words = shlex.split(line, comments=True)
    stub_inputs(words, workdir)
    monkeypatch.chdir(workdir)
    if any(op in words for op in SHELL):
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        proc = subprocess.run(
            ["bash", "-c", line], cwd=workdir, env=env, capture_output=True, text=True, check=False
        )
        code, err = proc.returncode, proc.stderr
    else:
        target = None
        if ">" in words:  # a redirect of stdout to a file
            target = words[words.index(">") + 1]
            words = words[: words.index(">")]
        result = runner.invoke(app, normalize_argv(words[1:]))
        code, err = result.exit_code, result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        if target:
            (workdir / target).write_text(result.stdout)
    assert "Traceback" not in err
    assert code == 0, err


def _expect(statement: ast.stmt, source: str) -> Any:
    """The literal in the comment after a bare expression (`x.params  # 2590`), if any."""
    if not isinstance(statement, ast.Expr) or statement.end_lineno != statement.lineno:
        return None
    line = source.splitlines()[statement.lineno - 1]
    comment = line[statement.end_col_offset :].strip()
    if not comment.startswith("#"):
        return None
    try:
        return (ast.literal_eval(comment[1:].strip()),)
    except (ValueError, SyntaxError):
        return None


def test_python_blocks_run(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    namespace: dict[str, Any] = {}
    for start, source in blocks("python"):
        for statement in ast.parse(source).body:
            code = ast.Module([statement], type_ignores=[])
            expected = _expect(statement, source)
            where = f"README line {start + statement.lineno - 1}"
            if expected is None:
                exec(compile(code, where, "exec"), namespace)
                continue
            value = eval(compile(ast.Expression(statement.value), where, "eval"), namespace)  # type: ignore[attr-defined]
            assert value == expected[0], where


def test_the_error_example_is_what_cnncalc_prints(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "name: net\ninput: [16, 16, 3]\nlayers:\n  - conv: {filters: 8, kernel: 3, stride: 2}\n"
        "  - maxpool: {kernel: 2}\n  - conv: {name: conv3, filters: 16, kernel: 5}\n"
    )
    (example,) = [text for _, text in blocks("") if "error: layer conv3" in text]
    proc = subprocess.run(
        [sys.executable, "-m", "cnncalc", "params", "net.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr == example


# --- the pre-commit and GitHub Actions snippets, run for real (-m slow) ---------------------


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def _needs_git() -> None:
    if shutil.which("git") is None or _git("rev-parse", "--git-dir").returncode:
        pytest.skip("not a git checkout")
    if _git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        pytest.skip("a shallow clone lacks the history the snippets name")


def test_the_documented_revisions_exist() -> None:
    """`rev:` of the pre-commit snippet is a commit of this repository that defines the hook;
    the Actions snippet installs a ref that exists."""
    _needs_git()
    config = yaml.safe_load((ROOT / "docs" / "pre-commit-config.yaml").read_text())
    rev = config["repos"][0]["rev"]
    assert re.fullmatch(r"[0-9a-f]{40}", rev), "a commit hash: pre-commit never updates a branch"
    hooks = _git("show", f"{rev}:.pre-commit-hooks.yaml")
    assert hooks.returncode == 0, f"{rev} is not a commit of this repository"
    assert "id: cnncalc-check" in hooks.stdout
    workflow = (ROOT / "docs" / "github-workflow.yml").read_text()
    (ref,) = re.findall(r"git\+https://\S+?/cnncalc@([\w./-]+)\"", workflow)
    refs = [
        r for r in (ref, f"origin/{ref}") if not _git("rev-parse", "--verify", "-q", r).returncode
    ]
    if not refs:
        pytest.skip(f"this checkout has no branch {ref} to compare with")
    assert _git("cat-file", "-e", f"{refs[0]}:pyproject.toml").returncode == 0


@pytest.mark.slow
def test_the_pre_commit_snippet_runs(tmp_path: Path) -> None:
    """docs/pre-commit-config.yaml with only the URL replaced by this repository's path."""
    _needs_git()
    if shutil.which("pre-commit") is None:
        pytest.skip("pre-commit is not installed")
    text = (ROOT / "docs" / "pre-commit-config.yaml").read_text()
    text = re.sub(r"repo: \S+", f"repo: {ROOT}", text, count=1)
    project = tmp_path / "project"
    (project / "architectures").mkdir(parents=True)
    shutil.copy(ROOT / "architectures" / "lenet5.yaml", project / "architectures")
    (project / ".pre-commit-config.yaml").write_text(text)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    for command in (["git", "init", "-q"], ["git", "add", "-A"]):
        subprocess.run(command, cwd=project, check=True)
    run = ["pre-commit", "run", "--all-files"]
    proc = subprocess.run(run, cwd=project, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cnncalc check" in proc.stdout and "Passed" in proc.stdout
    shutil.copy(ROOT / "tests" / "data" / "check" / "failing.yaml", project / "architectures")
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    proc = subprocess.run(run, cwd=project, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and "params is 9,740" in proc.stdout


@pytest.mark.slow
def test_the_actions_install_line_installs(tmp_path: Path) -> None:
    """The workflow's pip line with the URL pointing at this repository (no network)."""
    _needs_git()
    workflow = yaml.safe_load((ROOT / "docs" / "github-workflow.yml").read_text())
    (step,) = [
        s["run"] for s in workflow["jobs"]["check"]["steps"] if "pip install" in s.get("run", "")
    ]
    step = re.sub(r"git\+https://\S+?/cnncalc@", f"git+file://{ROOT}@", step)
    args = shlex.split(step)[3:]  # after `python -m pip`
    target = tmp_path / "site"
    command = [sys.executable, "-m", "pip", *args, "--no-deps", "--target", str(target)]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (target / "cnncalc" / "cli" / "__init__.py").is_file()
