"""``placeseg compare``: text, the exact --json document, exit codes and messages."""

from __future__ import annotations

import json

import numpy as np
import pytest
from compare_cases import second_model
from test_eval_cases import make_case

from factories import two_object_planes, write_catalog, write_label_png
from placeseg_core.cli.main import main

SUMMARY_KEYS = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR50", "AR255", "ARs", "ARm", "ARl"]


@pytest.fixture
def files(tmp_path):
    case = make_case(21, ties=True, crowd=True, id0_match=True)
    gt, a, b = tmp_path / "gt.json", tmp_path / "a.json", tmp_path / "b.json"
    gt.write_text(json.dumps(case.gt))
    a.write_text(json.dumps(case.items))
    b.write_text(json.dumps(second_model(case.items, 5, ties=True)))
    return case, gt, a, b


def _compare(gt, a, b, *extra):
    return main(["compare", "--gt", str(gt), "--preds", str(a), str(b), *extra])


def test_json_is_exactly_the_documented_structure(files, tmp_path, capsys):
    _, gt, a, b = files
    out = tmp_path / "cmp.json"
    assert _compare(gt, a, b, "--json", str(out)) == 0, capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert list(doc) == ["a", "b", "delta", "matches", "bootstrap"]
    assert doc["bootstrap"] is None
    # "a" and "b" are what 'placeseg evaluate --json' writes for each file
    for key, path in (("a", a), ("b", b)):
        single = tmp_path / f"evaluate_{key}.json"
        assert main(["evaluate", "--gt", str(gt), "--preds", str(path), "--json", str(single)]) == 0
        assert doc[key] == json.loads(single.read_text())
    delta = doc["delta"]
    assert list(delta) == ["mean_ap", "summary", "per_category"]
    assert delta["mean_ap"] == doc["b"]["mean_ap"] - doc["a"]["mean_ap"]
    assert list(delta["summary"]) == SUMMARY_KEYS
    assert delta["summary"]["APs"] == (None if doc["a"]["summary"]["APs"] is None
                                       else doc["b"]["summary"]["APs"] - doc["a"]["summary"]["APs"])
    assert all(list(row) == ["id", "name", "a", "b", "delta"] for row in delta["per_category"])
    assert delta["per_category"][4] == {"id": 5, "name": "cat5", "a": None, "b": None, "delta": None}
    m = doc["matches"]
    assert list(m) == ["iou", "ground_truth", "images"] and m["iou"] == 0.5
    assert list(m["ground_truth"]) == ["both", "a_only", "b_only", "neither"]
    assert all(list(row) == ["image_id", "tp_a", "fp_a", "fn_a", "tp_b", "fp_b", "fn_b"] for row in m["images"])
    text = capsys.readouterr().out
    assert "mean AP: A " in text and "B - A" in text and "bootstrap" not in text
    assert "categories that gained most" in text and "images that changed most" in text
    assert "A: quirk:" in text  # each file's notes, as evaluate prints them


def test_bootstrap_block_and_names(files, tmp_path, capsys):
    _, gt, a, b = files
    out = tmp_path / "cmp.json"
    code = _compare(gt, a, b, "--bootstrap", "25", "--seed", "4", "--names", "base", "new", "--json", str(out))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    boot = json.loads(out.read_text())["bootstrap"]
    assert list(boot) == ["resamples", "seed", "samples", "ci95", "b_better"]
    assert boot["resamples"] == 25 and boot["seed"] == 4 and len(boot["samples"]) == 25
    assert all(list(s) == ["a", "b"] for s in boot["samples"])
    a_values = [s["a"] for s in boot["samples"]]
    assert boot["ci95"]["a"] == np.percentile(a_values, [2.5, 97.5]).tolist()
    assert list(boot["ci95"]) == ["a", "b", "delta"]
    assert boot["b_better"] == sum(s["b"] > s["a"] for s in boot["samples"]) / 25
    assert "mean AP: base " in captured.out and "new - base" in captured.out
    assert "95% interval base [" in captured.out and "new beat base in" in captured.out


def test_a_bad_b_file_is_named(files, tmp_path, capsys):
    case, gt, a, _ = files
    missing = tmp_path / "missing_b.json"
    assert _compare(gt, a, missing) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "B" in err and "missing_b.json" in err and "Traceback" not in err
    broken = tmp_path / "broken_b.json"
    broken.write_text("[{")
    assert _compare(gt, a, broken) == 2
    err = capsys.readouterr().err
    assert err.startswith("placeseg compare: error: B") and "broken_b.json" in err and err.count("\n") == 1
    stray = tmp_path / "stray_b.json"
    stray.write_text(json.dumps([dict(case.items[0], image_id=999999)]))
    assert _compare(gt, a, stray) == 1  # read, but cannot be scored: the validator's report
    err = capsys.readouterr().err
    assert "cannot be scored: B: " in err and "stray_b.json" in err and "999999" in err
    assert "Traceback" not in err
    assert _compare(gt, stray, a) == 1
    assert "error: the submission cannot be scored: A" in capsys.readouterr().err
    assert _compare(gt, a, missing, "--names", "base", "new") == 2
    assert "error: B (new): " in capsys.readouterr().err


def test_input_errors_exit_2(files, tmp_path, capsys):
    _, gt, a, b = files
    assert _compare(tmp_path / "no_gt.json", a, b) == 2
    err = capsys.readouterr().err
    assert "no_gt.json" in err and err.count("\n") == 1
    assert _compare(gt, a, b, "--json", str(a)) == 2  # an output that is an input
    assert "is also an input" in capsys.readouterr().err
    for argv, word in ((["--bootstrap", "0"], "at least 1"), (["--seed", "x"], "--seed")):
        with pytest.raises(SystemExit) as usage:  # argparse's own usage errors, on one line
            _compare(gt, a, b, *argv)
        assert usage.value.code == 2 and word in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["compare", "--gt", str(gt), "--preds", str(a)])  # two files needed
    assert "--preds" in capsys.readouterr().err
    assert main(["compare", "--ann-dir", str(tmp_path), "--preds", str(a), str(b)]) == 2
    assert "--img-cat-ids" in capsys.readouterr().err


def test_from_annotation_pngs(tmp_path, capsys):
    red, green = two_object_planes()
    ann_dir = tmp_path / "annotations_instance" / "validation"
    write_label_png(ann_dir / "ADE_val_00000001.png", red, green)
    catalog = write_catalog(tmp_path / "imgCatIds.json", [("ADE_val_00000001.jpg", 20210, 60, 40)])
    from placeseg_core import rle as rle_utils

    masks = [(green == v).astype(np.uint8) for v in (1, 2)]
    items = [{"image_id": 20210, "category_id": c, "segmentation": rle_utils.encode(m), "score": 0.9}
             for c, m in zip((1, 4), masks, strict=True)]
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(items))
    b.write_text(json.dumps(items[1:]))
    out = tmp_path / "o.json"
    code = main(["compare", "--ann-dir", str(ann_dir), "--img-cat-ids", str(catalog), "--preds", str(a), str(b),
                 "--bootstrap", "5", "--json", str(out)])
    assert code == 0, capsys.readouterr().err
    doc = json.loads(out.read_text())
    # the converter numbers from 0: the bed (id 0) is never counted found, in either file
    assert doc["matches"]["ground_truth"] == {"both": 1, "a_only": 0, "b_only": 0, "neither": 1}
    assert doc["a"]["quirks"]["id0_predictions"] == 1
    assert doc["bootstrap"]["samples"] == [{"a": doc["a"]["mean_ap"], "b": doc["b"]["mean_ap"]}] * 5
