"""`vsee-contract diff`: exit codes (0 compatible, 1 breaking, 2 usage or invalid spec, one line), the reports for CI
and `--base` against a git ref in a temporary repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from vsee_contract import cli

from helpers.mock_api import ROOT

SPEC = ROOT / "openapi.yaml"
FAST = ["--examples", "5"]


def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(yaml.safe_load(SPEC.read_text(encoding="utf-8"))))
    return loaded


def require_limit(doc: dict[str, Any]) -> None:
    """A breaking edit: GET /rooms without `limit` is refused."""
    listing = next(
        item["get"] for item in doc["paths"].values() if item.get("get", {}).get("operationId") == "listRooms"
    )
    limit = next(p for p in listing["parameters"] if p.get("name") == "limit")
    limit["required"] = True


def add_answer_field(doc: dict[str, Any]) -> None:
    """A compatible edit: the queue answer gains a field (answer objects are open)."""
    doc["components"]["schemas"]["Queue"]["properties"]["estimated_wait"] = {"type": "integer"}


def written(tmp_path: Path, name: str, edit: Any) -> str:
    doc = document()
    edit(doc)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    code = cli.main(["diff", *argv], environ=env or {})
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code: int, out: str, err: str, *mentions: str) -> str:
    """Exit code 2, nothing on stdout, one stderr line `vsee-contract diff: <problem>; <fix>`, no traceback."""
    assert (code, out) == (2, ""), (code, out, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    line = err.strip()
    problem, _, fix = line.removeprefix("vsee-contract diff: ").partition("; ")
    assert line.startswith("vsee-contract diff: ") and problem and fix, line
    for mention in mentions:
        assert mention in line, (mention, line)
    return line


def test_the_identical_spec_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(SPEC), str(SPEC))
    assert (code, err) == (0, "")
    assert out.splitlines() == [out.strip()] and "every client of OLD keeps working with NEW" in out


def test_a_breaking_edit_exits_1_with_one_line_per_change(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, str(SPEC), written(tmp_path, "new.yaml", require_limit), *FAST)
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith("BREAKING listRooms GET /rooms /paths/~1rooms/get/parameters/"), lines
    assert "now required" in lines[0] and "e.g. GET /rooms without limit" in lines[0], lines[0]
    assert "1 breaking change(s)" in lines[-1]


def test_verbose_lists_the_compatible_changes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    new = written(tmp_path, "new.yaml", add_answer_field)
    quiet = run(capsys, str(SPEC), new, *FAST)
    verbose = run(capsys, str(SPEC), new, *FAST, "--verbose")
    assert quiet[0] == verbose[0] == 0
    assert len(quiet[1].splitlines()) == 1
    listed = [line for line in verbose[1].splitlines() if line.startswith("compatible ")]
    assert any("getRoomQueue" in line and "estimated_wait" in line for line in listed), verbose[1]


def test_reports_markdown_step_summary_and_junit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    report, junit = tmp_path / "diff.md", tmp_path / "diff.xml"
    new = written(tmp_path, "new.yaml", require_limit)
    code, _, _ = run(
        capsys,
        str(SPEC),
        new,
        *FAST,
        "--report",
        str(report),
        "--junit",
        str(junit),
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert code == 1
    markdown = report.read_text(encoding="utf-8")
    assert markdown.startswith("## Contract change gate: ❌ breaking changes")
    assert "| listRooms GET /rooms | `/paths/~1rooms/get/parameters/" in markdown
    assert summary.read_text(encoding="utf-8") == "earlier step\n" + markdown + "\n"
    suite = ElementTree.parse(junit).getroot()
    failed = [case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None]
    assert failed == ["listRooms GET /rooms"] and suite.get("failures") == "1"


@pytest.mark.parametrize(
    ("argv", "mentions"),
    [
        (["/missing.yaml", str(SPEC)], ["OLD /missing.yaml: no such file", "give the path"]),
        ([str(SPEC)], ["expected OLD and NEW, got 1", "--base"]),
        ([str(SPEC), str(SPEC), "--examples", "many"], ["'many' is not a whole number"]),
        ([str(SPEC), str(SPEC), "--report", "/no/such/folder/r.md"], ["--report /no/such/folder/r.md", "writable"]),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], mentions: list[str]
) -> None:
    try:
        code = cli.main(["diff", *argv], environ={})
    except SystemExit as exc:  # argparse's own refusals exit through OneLineParser
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    one_line(code, out, err, *mentions)


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("openapi: 3.1.0\ninfo: [unclosed\n", ["NEW", "is not valid YAML", "line 3"]),
        ("openapi: 3.1.0\ninfo: {title: x}\npaths: {}\n", ["NEW", "not a valid OpenAPI document", "/info"]),
        ("- a list\n", ["NEW", "not an OpenAPI document"]),
    ],
)
def test_an_invalid_spec_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, mentions: list[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    one_line(*run(capsys, str(SPEC), str(bad)), *mentions)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A temporary git repository whose first commit holds the project's openapi.yaml."""
    if shutil.which("git") is None:
        pytest.fail("git is needed for --base (it is installed wherever this project is developed)")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shutil.copy(SPEC, repo / "openapi.yaml")
    git(repo, "add", "openapi.yaml")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "released contract")
    return repo


def test_base_compares_the_working_file_with_a_git_ref(
    capsys: pytest.CaptureFixture[str], repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    assert run(capsys, "--base", "main", *FAST)[0] == 0  # unchanged since the commit
    doc = yaml.safe_load((repo / "openapi.yaml").read_text(encoding="utf-8"))
    require_limit(doc)
    (repo / "openapi.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    code, out, _ = run(capsys, "--base", "main", *FAST)
    assert code == 1 and out.startswith("BREAKING listRooms GET /rooms"), out
    one_line(*run(capsys, "--base", "no-such-ref", *FAST), "--base no-such-ref", "git log")
    one_line(*run(capsys, "--base", "main", "old.yaml", "new.yaml"), "--base takes only NEW")


def test_console_script_and_module_run_as_processes(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("vsee-contract")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VSEE_")}
    same = subprocess.run([str(script), "diff", str(SPEC), str(SPEC)], capture_output=True, text=True, env=env)
    assert (same.returncode, same.stderr) == (0, ""), same.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "vsee_contract.diff", str(SPEC), str(tmp_path / "none.yaml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.splitlines()) == 1, bad.stderr
    assert bad.stderr.startswith("python -m vsee_contract.diff: NEW ") and "no such file" in bad.stderr
