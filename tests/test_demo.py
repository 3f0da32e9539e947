"""The built-in demo: layout, determinism, consistency of photos, PNGs and predictions, plausible AP."""

from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from placeseg_core.catalog import load_catalog
from placeseg_core.cli.main import main
from placeseg_core.convert import convert_annotations
from placeseg_core.demo import build_demo
from placeseg_core.errors import InputError
from placeseg_core.submissions import load_submission
from placeseg_core.synth import synth_dataset


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo(tmp_path_factory.mktemp("demo") / "d", n_images=16, seed=0)


def test_layout_and_catalog(demo):
    cat = load_catalog(demo.catalog_path)
    assert len(cat.images) == 16 and len(cat.categories) == 100
    assert cat.images[0].file_name == "ADE_val_00000001.jpg" and cat.images[0].id == 20210
    for im in cat.images:
        photo = Image.open(demo.image_dir / im.file_name)
        png = Image.open(demo.annotation_dir / im.file_name.replace(".jpg", ".png"))
        assert photo.size == png.size == (im.width, im.height)
        assert png.mode == "RGB"


def test_photos_are_textured_not_flat(demo):
    photo = np.asarray(Image.open(demo.image_dir / "ADE_val_00000001.jpg"), dtype=float)
    planes = np.asarray(Image.open(demo.annotation_dir / "ADE_val_00000001.png"))
    background = photo[planes[..., 1] == 0]
    assert background.std(axis=0).min() > 5  # shading and texture, not one flat colour
    assert len(np.unique(photo.reshape(-1, 3), axis=0)) > 2000


def test_objects_in_photo_match_masks(demo):
    photo = np.asarray(Image.open(demo.image_dir / "ADE_val_00000002.jpg"), dtype=float)
    green = np.asarray(Image.open(demo.annotation_dir / "ADE_val_00000002.png"))[..., 1]
    ids = [i for i in np.unique(green) if i]
    means = [photo[green == i].mean(axis=0) for i in ids]
    bg = photo[green == 0].mean(axis=0)
    # Each object's colour differs visibly from the background around it.
    assert sum(np.abs(m - bg).max() > 15 for m in means) >= len(ids) // 2


def test_predictions_are_a_valid_submission(demo):
    cat = load_catalog(demo.catalog_path)
    sub = load_submission(demo.predictions_path)
    assert len(sub) > 100
    assert set(sub.image_ids.tolist()) <= set(cat.by_id)
    for i in range(len(sub)):
        im = cat.by_id[int(sub.image_ids[i])]
        assert sub.rles[i]["size"] == [im.height, im.width]
    assert ((sub.category_ids >= 1) & (sub.category_ids <= 100)).all()
    assert ((sub.scores > 0) & (sub.scores <= 1)).all()


def test_deterministic(tmp_path, demo):
    again = build_demo(tmp_path / "again", n_images=16, seed=0)
    assert again.predictions_path.read_bytes() == demo.predictions_path.read_bytes()
    a = (demo.annotation_dir / "ADE_val_00000005.png").read_bytes()
    assert (again.annotation_dir / "ADE_val_00000005.png").read_bytes() == a


def test_in_memory_set_equals_converted_demo(demo):
    ds = synth_dataset(16, seed=0)
    converted = convert_annotations(demo.annotation_dir, load_catalog(demo.catalog_path), workers=1)
    assert converted.dataset["annotations"] == ds.ground_truth["annotations"]
    assert json.loads(demo.predictions_path.read_text()) == ds.predictions


def test_score_is_plausible(demo):
    gt_data = convert_annotations(demo.annotation_dir, load_catalog(demo.catalog_path), workers=1).dataset
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(gt_data)
        gt.createIndex()
        dt = gt.loadRes(json.loads(demo.predictions_path.read_text()))
        ev = COCOeval(gt, dt, "segm")
        ev.params.maxDets = [1, 50, 255]
        ev.evaluate()
        ev.accumulate()
    p = ev.eval["precision"][0:10, :, :, 0, 2]
    assert 0.15 < p[p > -1].mean() < 0.45


def test_refuses_to_write_into_a_foreign_folder(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(InputError, match="not made by 'placeseg demo'"):
        build_demo(tmp_path, n_images=1)
    assert main(["demo", str(tmp_path), "--images", "1"]) == 2
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    assert "choose a new folder" in capsys.readouterr().err


def test_cli_demo_rebuilds_its_own_folder(tmp_path, capsys):
    assert main(["demo", str(tmp_path / "d"), "--images", "2"]) == 0
    assert main(["demo", str(tmp_path / "d"), "--images", "2"]) == 0
    assert "2 images" in capsys.readouterr().err
