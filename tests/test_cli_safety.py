"""What the CLI does with outputs and mix-ups: never destroy an input, never a traceback."""

from __future__ import annotations

import json
import os
import stat

import pytest

from placeseg_core.cli.main import main
from placeseg_core.demo import build_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("safety") / "d"
    info = build_demo(root, n_images=3, seed=1)
    gt = root.parent / "gt.json"
    assert main(["convert", str(info.annotation_dir), "--img-cat-ids", str(info.catalog_path), "-o", str(gt)]) == 0
    return info, gt


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


def test_an_output_that_is_an_input_is_refused(demo, tmp_path, capsys):
    info, gt = demo
    catalog = tmp_path / "imgCatIds.json"
    catalog.write_bytes(info.catalog_path.read_bytes())
    before = catalog.read_bytes()
    assert main(["convert", str(info.annotation_dir), "--img-cat-ids", str(catalog), "-o", str(catalog)]) == 2
    assert "is also an input" in one_error_line(capsys)
    assert catalog.read_bytes() == before
    preds = tmp_path / "p.json"
    preds.write_bytes(info.predictions_path.read_bytes())
    assert main(["validate", str(preds), "--img-cat-ids", str(catalog), "--report", str(preds)]) == 2
    assert "is also an input" in one_error_line(capsys)
    assert main(["evaluate", "--preds", str(preds), "--gt", str(gt), "--json", str(gt)]) == 2
    assert "is also an input" in one_error_line(capsys)
    assert preds.read_bytes() == info.predictions_path.read_bytes()
    json.loads(gt.read_text())  # still the ground truth


def test_unwritable_outputs_are_one_line_errors(demo, tmp_path, capsys):
    info, gt = demo
    assert main(["evaluate", "--preds", str(info.predictions_path), "--gt", str(gt), "--json", str(tmp_path)]) == 2
    assert "is a folder" in one_error_line(capsys)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    target = blocker / "sub" / "gt.json"  # a parent that is a file: cannot be created
    assert main(["convert", str(info.annotation_dir), "--img-cat-ids", str(info.catalog_path), "-o", str(target)]) == 2
    assert "cannot write" in one_error_line(capsys)
    assert main(["demo", str(blocker / "demo")]) == 2
    assert "cannot write" in one_error_line(capsys)
    assert main(["demo", str(tmp_path / "d2"), "--seed", "-1"]) == 2
    assert "--seed" in one_error_line(capsys)


def test_outputs_get_the_usual_file_mode(demo, tmp_path):
    info, gt = demo
    old = os.umask(0o022)
    try:
        out = tmp_path / "new.json"
        assert main(["convert", str(info.annotation_dir), "--img-cat-ids", str(info.catalog_path), "-o", str(out)]) == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o644  # not mkstemp's 0600
        out.chmod(0o640)
        assert main(["convert", str(info.annotation_dir), "--img-cat-ids", str(info.catalog_path), "-o", str(out)]) == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o640  # an overwritten file keeps its mode
    finally:
        os.umask(old)


def test_wrong_folders_and_files_say_what_was_meant(demo, tmp_path, capsys):
    info, gt = demo
    out = tmp_path / "o.json"
    assert main(["convert", str(info.image_dir), "--img-cat-ids", str(info.catalog_path), "-o", str(out)]) == 2
    assert "is this the images folder?" in one_error_line(capsys)
    assert not out.exists()
    assert main(["evaluate", "--preds", str(info.predictions_path), "--ann-dir", str(info.image_dir),
                 "--img-cat-ids", str(info.catalog_path)]) == 2
    assert "no annotation PNGs" in one_error_line(capsys)
    assert main(["evaluate", "--preds", str(info.predictions_path), "--gt", str(info.catalog_path)]) == 2
    assert "not a ground truth" in one_error_line(capsys)
    empty = tmp_path / "empty_gt.json"
    empty.write_text(json.dumps({"images": [], "categories": [], "annotations": []}))
    assert main(["validate", str(info.predictions_path), "--gt", str(empty)]) == 2
    assert "lists no images" in one_error_line(capsys)


def test_bom_is_refused_like_json_load_does(demo, tmp_path, capsys):
    info, gt = demo
    preds = tmp_path / "bom.json"
    preds.write_bytes(b"\xef\xbb\xbf" + info.predictions_path.read_bytes())
    assert main(["evaluate", "--preds", str(preds), "--gt", str(gt)]) == 2
    assert "byte-order mark" in one_error_line(capsys)


def test_evaluate_warns_about_masks_of_the_wrong_size(demo, tmp_path, capsys):
    info, gt = demo
    items = json.loads(info.predictions_path.read_text())
    h, w = items[0]["segmentation"]["size"]
    items[0]["segmentation"] = dict(items[0]["segmentation"], size=[w, h])
    preds = tmp_path / "swapped.json"
    preds.write_text(json.dumps(items))
    assert main(["evaluate", "--preds", str(preds), "--gt", str(gt)]) == 0
    out = capsys.readouterr().out
    assert "1 prediction(s) have a mask size other than their image's, 1 of them with height and width swapped" in out


def test_demo_rebuild_with_fewer_images_leaves_no_stale_files(tmp_path, capsys):
    root = tmp_path / "d"
    assert main(["demo", str(root), "--images", "4"]) == 0
    assert main(["demo", str(root), "--images", "2"]) == 0
    assert len(list((root / "images" / "validation").iterdir())) == 2
    assert len(list((root / "annotations_instance" / "validation").iterdir())) == 2
    assert main(["convert", str(root / "annotations_instance" / "validation"), "--img-cat-ids",
                 str(root / "imgCatIds.json"), "-o", str(tmp_path / "gt.json")]) == 0
