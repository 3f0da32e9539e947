"""``placeseg validate``: exit codes, text and JSON output, --report, --gt, --ann-dir."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from test_validate_fixtures import pred, valid_items, write_catalog, write_items

from placeseg_core.cli.main import main


@pytest.fixture
def cat(tmp_path):
    return str(write_catalog(tmp_path))


def run_cli(capsys, *args):
    code = main(["validate", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_valid_exits_0_with_text_summary(tmp_path, cat, capsys):
    preds = write_items(tmp_path, valid_items())
    code, out, _ = run_cli(capsys, preds, "--img-cat-ids", cat)
    assert code == 0
    assert "VALID (0 errors, 0 warnings)" in out and "split: val (inferred from the image ids)" in out
    assert "predictions per image: min 2, median 2, max 2" in out


def test_warnings_only_exit_0(tmp_path, cat, capsys):
    items = valid_items()[:2]
    code, out, _ = run_cli(capsys, write_items(tmp_path, items), "--img-cat-ids", cat, "--split", "val")
    assert code == 0 and "warning missing-images" in out and "fix:" in out


def test_errors_exit_1_json_format(tmp_path, cat, capsys):
    items = valid_items()
    items[3]["score"] = float("nan")
    items[4] = pred(22210, 1, score=0.2)
    items[5] = pred(22210, 4, score=0.1, seed=1)  # so image 20212 has no prediction
    code, out, _ = run_cli(capsys, write_items(tmp_path, items), "--img-cat-ids", cat, "--split", "val", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["valid"] is False
    assert set(doc) >= {"valid", "problems", "stats", "counts"}
    by_code: dict = {}
    for p in doc["problems"]:
        by_code.setdefault(p["code"], p)  # the first location of each code
    assert by_code["bad-score"] == {
        "severity": "error", "code": "bad-score", "message": by_code["bad-score"]["message"],
        "index": 3, "image_id": items[3]["image_id"], "field": "score",
    }
    assert by_code["wrong-split"]["index"] == 4 and by_code["wrong-split"]["image_id"] == 22210
    assert by_code["missing-images"]["severity"] == "warning" and by_code["missing-images"]["index"] is None
    assert doc["stats"]["predictions"] == 6 and doc["stats"]["split"] == "val"


def test_report_file_written_and_text_groups_codes(tmp_path, cat, capsys):
    items = [pred(20210, 1, score=k / 1000, size=(8, 6), seed=k) for k in range(30)]  # all swapped
    report_path = tmp_path / "out" / "report.json"
    code, out, _ = run_cli(capsys, write_items(tmp_path, items), "--img-cat-ids", cat, "--report", report_path, "--max-locations", "3")
    assert code == 1
    assert "error size-mismatch: the mask size differs from the image size (30 found)" in out
    assert "... and 27 more" in out and "height and width are swapped" in out
    doc = json.loads(report_path.read_text())
    assert doc["counts"]["size-mismatch"] == 30
    assert [p["index"] for p in doc["problems"] if p["code"] == "size-mismatch"] == [0, 1, 2]
    assert not list(report_path.parent.glob(".*tmp"))  # atomic write left no temporary


def test_unusable_inputs_exit_2(tmp_path, cat, capsys):
    preds = write_items(tmp_path, valid_items())
    code, _, err = run_cli(capsys, preds, "--img-cat-ids", tmp_path / "missing.json")
    assert code == 2 and "missing.json" in err and "Traceback" not in err
    bad_cat = tmp_path / "bad.json"
    bad_cat.write_text('{"images": [')
    code, _, err = run_cli(capsys, preds, "--img-cat-ids", bad_cat)
    assert code == 2 and "line 1" in err
    code, out, _ = run_cli(capsys, tmp_path / "nope.json", "--img-cat-ids", cat)
    assert code == 2 and "unreadable-file" in out
    code, out, _ = run_cli(capsys, tmp_path, "--img-cat-ids", cat)
    assert code == 2 and "folder" in out
    code, out, _ = run_cli(capsys, preds, "--img-cat-ids", cat, "--max-size-mb", "0.0001")
    assert code == 2 and "file-too-large" in out


def test_ground_truth_decides_expected_images(tmp_path, cat, capsys):
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps({"images": [{"id": 20210}, {"id": 20211}], "annotations": [], "categories": []}))
    preds = write_items(tmp_path, valid_items())
    code, out, _ = run_cli(capsys, preds, "--img-cat-ids", cat, "--gt", gt, "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["counts"] == {"wrong-split": 2}
    assert doc["stats"]["split_source"] == "ground truth"
    gt.write_text("[]")
    code, _, err = run_cli(capsys, preds, "--img-cat-ids", cat, "--gt", gt)
    assert code == 2 and "ground truth" in err


def test_ann_dir_decides_expected_images(tmp_path, cat, capsys):
    ann = tmp_path / "annotations_instance" / "validation"
    ann.mkdir(parents=True)
    for name, (h, w) in (("ADE_val_00000001", (6, 8)), ("ADE_val_00000003", (5, 7))):
        Image.fromarray(np.zeros((h, w, 3), np.uint8)).save(ann / f"{name}.png")
    items = valid_items()
    code, out, _ = run_cli(capsys, write_items(tmp_path, items), "--img-cat-ids", cat, "--ann-dir", ann, "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["counts"] == {"wrong-split": 2}
    assert {p["image_id"] for p in doc["problems"]} == {20211}
    (ann / "ADE_val_00000009.png").write_bytes(b"")
    code, _, err = run_cli(capsys, write_items(tmp_path, items), "--img-cat-ids", cat, "--ann-dir", ann)
    assert code == 2 and "ADE_val_00000009.jpg" in err


def test_gt_and_ann_dir_are_exclusive(tmp_path, cat, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["validate", "p.json", "--img-cat-ids", cat, "--gt", "g.json", "--ann-dir", "d"])
    assert exc.value.code == 2
    capsys.readouterr()


def test_subprocess_entry_point(tmp_path, cat):
    items = valid_items()
    items[0]["category_id"] = 0
    preds = write_items(tmp_path, items)
    proc = subprocess.run(
        [sys.executable, "-m", "placeseg_core.cli.main", "validate", str(preds), "--img-cat-ids", cat, "--format", "json"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["counts"] == {"unknown-category": 1} and doc["problems"][0]["index"] == 0
    assert "Traceback" not in proc.stderr


def test_a_split_without_images_says_so_instead_of_of_0_expected(tmp_path, capsys):
    from test_validate_fixtures import catalog_dict

    doc = catalog_dict()
    doc["images"] = [im for im in doc["images"] if "_val_" in im["file_name"]]  # no test images
    cat_path = tmp_path / "val_only.json"
    cat_path.write_text(json.dumps(doc))
    code, out, _ = run_cli(capsys, write_items(tmp_path, valid_items()), "--img-cat-ids", cat_path, "--split", "test")
    assert code == 1 and "wrong-split" in out
    assert "none expected: the test split lists no images" in out and "of 0 expected" not in out


def test_a_lowered_size_limit_is_printed_in_kilobytes(tmp_path, cat, capsys):
    code, out, _ = run_cli(capsys, write_items(tmp_path, valid_items()), "--img-cat-ids", cat, "--max-size-mb", "0.0002")
    assert code == 2  # the file cannot be used as given
    assert "is above the limit of 0.2 KB" in out and "0 MB" not in out and "full test submission" not in out
