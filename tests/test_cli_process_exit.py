"""The ``placeseg`` command ends its process without tearing Python down (cli.main.console_main):
everything it prints and writes must still be complete, with the right exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_validate_fixtures import valid_items, write_catalog, write_items

SCRIPT = Path(sys.executable).with_name("placeseg")
COMMAND = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "placeseg_core.cli.main"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(COMMAND + list(args), capture_output=True, text=True, timeout=120)


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


def test_a_reader_that_leaves_early_does_not_cut_the_json_short(tmp_path):
    """``placeseg evaluate ... --json OUT | head -1``: the reader closes the pipe early; the
    command still writes its JSON and ends with 0, without a word about the pipe."""
    from placeseg_core.cli.main import main

    assert main(["demo", str(tmp_path / "d"), "--images", "3"]) == 0
    d, out = tmp_path / "d", tmp_path / "e.json"
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line: every write meets a broken pipe
    try:
        proc = subprocess.Popen(COMMAND + ["evaluate", "--ann-dir", str(d / "annotations_instance" / "validation"),
                                        "--img-cat-ids", str(d / "imgCatIds.json"),
                                        "--preds", str(d / "predictions.json"), "--json", str(out)],
                                stdout=write_end, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"))  # each line written at once
    finally:
        os.close(write_end)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "pipe" not in err.lower()
    assert json.loads(out.read_text())["mean_ap"] is not None
