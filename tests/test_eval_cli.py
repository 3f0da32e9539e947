"""``placeseg evaluate`` and ``placeseg matches``: output, --json, --ann-dir, exit codes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_eval_cases import make_case, run_pycocotools

from factories import two_object_planes, write_catalog, write_label_png
from placeseg_core.catalog import load_catalog
from placeseg_core.cli.main import main
from placeseg_core.convert import convert_annotations

SUMMARY_KEYS = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR50", "AR255", "ARs", "ARm", "ARl"]


@pytest.fixture
def files(tmp_path):
    case = make_case(21, id0_match=True, many=True)
    gt_path, preds_path = tmp_path / "gt.json", tmp_path / "preds.json"
    gt_path.write_text(json.dumps(case.gt))
    preds_path.write_text(json.dumps(case.items))
    return case, gt_path, preds_path


def test_readme_rule_note_for_the_challenge_categories(tmp_path, capsys):
    from placeseg_core.categories import default_categories

    case = make_case(21, id0_match=True, many=True)
    gt = dict(case.gt, categories=default_categories())  # the challenge's 100 (ids 1..100)
    gt_path, preds_path = tmp_path / "gt.json", tmp_path / "preds.json"
    gt_path.write_text(json.dumps(gt))
    preds_path.write_text(json.dumps(case.items))
    assert main(["evaluate", "--preds", str(preds_path), "--gt", str(gt_path)]) == 0
    out = capsys.readouterr().out
    assert "README rule broken" in out and "keeping each image's 255 best" in out and "--readme-rule" in out


def test_evaluate_prints_summary_table_and_quirks(files, tmp_path, capsys):
    case, gt_path, preds_path = files
    out_json = tmp_path / "out" / "scores.json"
    code = main(["evaluate", "--preds", str(preds_path), "--gt", str(gt_path), "--json", str(out_json)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.splitlines()
    assert lines[0].startswith(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=255 ] = ")
    assert "maxDets= 50" in lines[7]
    assert "cat1" in captured.out and "  n/a" in captured.out  # category 5 has no ground truth
    assert "id 0" in captured.out
    # the 255-per-image rule is the challenge's: not mentioned for a set with other categories
    assert "README rule" not in captured.out
    doc = json.loads(out_json.read_text())
    assert list(doc["summary"]) == SUMMARY_KEYS
    E = run_pycocotools(case.gt, case.items)
    p = E.eval["precision"][:, :, :, 0, 2]
    assert doc["mean_ap"] == float(np.mean(p[p > -1]))
    assert [c["id"] for c in doc["per_category"]] == [1, 2, 3, 4, 5]
    assert doc["per_category"][4]["ap"] is None
    assert doc["variants"]["id0_counted"]["changed"] is True
    assert doc["readme_rule"]["broken"] is True


def test_evaluate_reference_engine_and_readme_rule(files, tmp_path, capsys):
    _, gt_path, preds_path = files
    fast_json, ref_json = tmp_path / "fast.json", tmp_path / "ref.json"
    assert main(["evaluate", "--preds", str(preds_path), "--gt", str(gt_path), "--readme-rule",
                 "--json", str(fast_json)]) == 0
    assert main(["evaluate", "--preds", str(preds_path), "--gt", str(gt_path), "--readme-rule",
                 "--engine", "reference", "--json", str(ref_json)]) == 0
    out = capsys.readouterr().out
    assert "README rule applied" in out
    fast, ref = json.loads(fast_json.read_text()), json.loads(ref_json.read_text())
    assert fast["summary"] == ref["summary"] and fast["mean_ap"] == ref["mean_ap"]
    assert fast["readme_rule"]["applied"] is True


def test_evaluate_from_annotation_pngs(tmp_path, capsys):
    red, green = two_object_planes()
    ann_dir = tmp_path / "annotations_instance" / "validation"
    write_label_png(ann_dir / "ADE_val_00000001.png", red, green)
    write_label_png(ann_dir / "ADE_val_00000002.png", red, green)
    catalog_path = write_catalog(tmp_path / "imgCatIds.json", [
        ("ADE_val_00000001.jpg", 20210, 60, 40), ("ADE_val_00000002.jpg", 20211, 60, 40)])
    dataset = convert_annotations(ann_dir, load_catalog(catalog_path), workers=1).dataset
    items = [{"image_id": a["image_id"], "category_id": a["category_id"],
              "segmentation": a["segmentation"], "score": 0.9} for a in dataset["annotations"]]
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(items))
    out_json = tmp_path / "s.json"
    code = main(["evaluate", "--preds", str(preds), "--ann-dir", str(ann_dir),
                 "--img-cat-ids", str(catalog_path), "--json", str(out_json)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    doc = json.loads(out_json.read_text())
    E = run_pycocotools(dataset, items)
    p = E.eval["precision"][:, :, :, 0, 2]
    assert doc["mean_ap"] == float(np.mean(p[p > -1]))
    # converted as the official converter numbers them: the first annotation has id 0
    assert doc["quirks"]["gt_has_id_zero"] is True and doc["quirks"]["id0_predictions"] == 1
    assert doc["mean_ap"] < doc["variants"]["id0_counted"]["mean_ap"] == 1.0


def test_matches_prints_one_image(files, capsys):
    case, gt_path, preds_path = files
    image_id = case.gt["images"][-1]["id"]
    code = main(["matches", "--preds", str(preds_path), "--gt", str(gt_path), "--image-id", str(image_id)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    doc = json.loads(captured.out)
    assert doc["image_id"] == image_id
    expected = [i for i, it in enumerate(case.items) if it["image_id"] == image_id]
    assert [p["index"] for p in doc["predictions"]] == expected
    for p in doc["predictions"]:
        assert len(p["matched_gt"]) == 10 and len(p["iou"]) == 10
        assert p["status"] in ("scored", "beyond_max_dets", "unknown_category")
    assert {p["status"] for p in doc["predictions"]} >= {"scored", "beyond_max_dets"}
    gt_ids = [a["id"] for a in case.gt["annotations"] if a["image_id"] == image_id]
    assert [g["id"] for g in doc["ground_truth"]] == gt_ids
    # the same pairs as pycocotools' evaluateImg (area all, maxDets 255)
    E = run_pycocotools(case.gt, case.items)
    by_id = {g["id"]: g for g in doc["ground_truth"]}
    for e in E.evalImgs:
        if e is None or e["image_id"] != image_id or e["aRng"] != E.params.areaRng[0]:
            continue
        for j, gid in enumerate(e["gtIds"]):
            assert by_id[gid]["matched_pred"] == [int(d) - 1 if d > 0 else None for d in e["gtMatches"][:, j]]


def test_input_errors_exit_codes(files, tmp_path, capsys):
    case, gt_path, preds_path = files
    missing = tmp_path / "nope.json"
    assert main(["evaluate", "--preds", str(missing), "--gt", str(gt_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.json" in err and "Traceback" not in err
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    assert main(["evaluate", "--preds", str(broken), "--gt", str(gt_path)]) == 2
    assert "invalid JSON" in capsys.readouterr().err
    stray = tmp_path / "stray.json"
    items = [dict(case.items[0], image_id=999999)]
    stray.write_text(json.dumps(items))
    assert main(["evaluate", "--preds", str(stray), "--gt", str(gt_path)]) == 1
    err = capsys.readouterr().err
    assert "999999" in err and "Traceback" not in err
    uncompressed = tmp_path / "uncompressed.json"
    uncompressed.write_text(json.dumps([dict(case.items[0], segmentation={"size": [4, 4], "counts": [0, 16]})]))
    assert main(["evaluate", "--preds", str(uncompressed), "--gt", str(gt_path)]) == 1
    assert "counts" in capsys.readouterr().err
    assert main(["matches", "--preds", str(preds_path), "--gt", str(gt_path), "--image-id", "5"]) == 2
    assert "image 5" in capsys.readouterr().err
    assert main(["evaluate", "--preds", str(preds_path), "--ann-dir", str(tmp_path)]) == 2
    assert "--img-cat-ids" in capsys.readouterr().err
