"""The ``placeseg`` command ends its process without tearing Python down (cli.main.console_main):
everything it prints and writes must still be complete, with the right exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_validate_fixtures import valid_items, write_catalog, write_items

SCRIPT = Path(sys.executable).with_name("placeseg")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    head = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "placeseg_core.cli.main"]
    return subprocess.run(head + list(args), capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("valid", [True, False])
def test_validate_output_and_report_are_whole_and_the_exit_code_right(tmp_path, valid):
    items = valid_items()
    if not valid:
        items[0]["score"] = "high"
    preds = write_items(tmp_path, items)
    report = tmp_path / "report.json"
    done = _run("validate", "--format", "json", "--report", str(report),
                "--img-cat-ids", str(write_catalog(tmp_path)), str(preds))
    assert done.returncode == (0 if valid else 1), done.stderr
    printed = json.loads(done.stdout)  # all of it, flushed before the process ended
    assert printed["valid"] is valid
    assert json.loads(report.read_text()) == printed
    assert not list(tmp_path.glob("*.tmp*"))  # nothing half-written left beside it


def test_an_input_error_is_one_line_and_exit_code_2(tmp_path):
    done = _run("validate", "--img-cat-ids", str(tmp_path / "missing.json"), str(tmp_path / "p.json"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "missing.json" in done.stderr
