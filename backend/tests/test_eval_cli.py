"""`cairn eval` refuses unusable input with exit code 2 and a message, before touching any
service (the --api-url below points nowhere, so a contacted API would fail differently)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main as cairn

FIXTURE = Path(__file__).parent / "fixtures" / "beir_tiny"
NOWHERE = "http://127.0.0.1:9"


def copy_fixture(tmp_path: Path) -> Path:
    target = tmp_path / "tiny"
    shutil.copytree(FIXTURE, target)
    return target


def test_missing_qrels_exits_2_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = copy_fixture(tmp_path)
    shutil.rmtree(data / "qrels")
    code = cairn(["eval", str(data), "--api-url", NOWHERE, "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "error: no test qrels" in err and "qrels_test.tsv" in err


def test_malformed_corpus_line_exits_2_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = copy_fixture(tmp_path)
    lines = (data / "corpus.jsonl").read_text().splitlines()
    lines[3] = lines[3][:-1]  # cut the closing brace of line 4
    (data / "corpus.jsonl").write_text("\n".join(lines) + "\n")
    code = cairn(["eval", str(data), "--api-url", NOWHERE, "--no-progress"])
    assert code == 2
    assert "corpus.jsonl line 4: not valid JSON" in capsys.readouterr().err


def test_k_above_the_api_limit_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cairn(["eval", str(FIXTURE), "--k", "101", "--api-url", NOWHERE]) == 2
    assert "at most 100" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--modes", "vector,sparse"], ["--modes", ""], ["--k", "0"]])
def test_invalid_options_are_rejected_by_the_parser(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cairn(["eval", str(FIXTURE), *argv])
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_eval_is_a_subcommand_of_the_cairn_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "eval", "--help"], capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for option in ("--api-url", "--ignore-identical-ids", "--limit-queries", "--keep"):
        assert option in done.stdout
