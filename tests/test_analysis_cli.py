"""``placeseg evaluate --errors``: the breakdown in the text and the JSON output."""

from __future__ import annotations

import json

import pytest

from placeseg_core.analysis import ALL_ERROR_TYPES, analyze
from placeseg_core.cli.main import main
from placeseg_core.evaluation import evaluate, ground_truth_from_dict
from placeseg_core.submissions import submission_from_parsed
from placeseg_core.synth import synth_dataset


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    s = synth_dataset(12, seed=2, preds_per_image=30)
    folder = tmp_path_factory.mktemp("errors")
    (folder / "gt.json").write_text(json.dumps(s.ground_truth))
    (folder / "preds.json").write_text(json.dumps(s.predictions))
    return s, folder


def test_errors_flag_adds_the_breakdown_to_text_and_json(files, capsys):
    s, folder = files
    out = folder / "scores.json"
    code = main(["evaluate", "--preds", str(folder / "preds.json"), "--gt", str(folder / "gt.json"),
                 "--errors", "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    gt, sub = ground_truth_from_dict(s.ground_truth), submission_from_parsed(s.predictions)
    result = evaluate(gt, sub)
    a = analyze(result, gt, sub)
    assert "error analysis (TIDE, masks) at IoU 0.50" in text
    for name in ("classification", "localisation", "both", "duplicate", "background", "missed"):
        line = next(x for x in text.splitlines() if x.strip().startswith(name))
        assert line.split()[1] == str(a.counts[name]) and line.split()[2] == f"{100 * a.dap[name]:.2f}"
    assert "worst images" in text
    doc = json.loads(out.read_text())
    errors = doc["errors"]
    assert errors["ap"] == doc["summary"]["AP50"] == a.ap
    assert [t["type"] for t in errors["types"]] == list(ALL_ERROR_TYPES)
    assert {t["type"]: t["count"] for t in errors["types"]} == {t: a.counts[t] for t in ALL_ERROR_TYPES}
    assert {t["type"]: t["dap"] for t in errors["types"]} == a.dap
    assert len(errors["images"]) == 12
    assert sum(i["missed"] for i in errors["images"]) == a.counts["missed"]
    assert sum(c["count"] for c in errors["confusion"]["cells"]) == int(a.confusion.counts.sum())


def test_without_the_flag_nothing_changes(files, capsys):
    _, folder = files
    out = folder / "plain.json"
    assert main(["evaluate", "--preds", str(folder / "preds.json"), "--gt", str(folder / "gt.json"),
                 "--json", str(out)]) == 0
    assert "error analysis" not in capsys.readouterr().out
    assert "errors" not in json.loads(out.read_text())
