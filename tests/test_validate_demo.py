"""The demo's predictions pass; the embedded category schemes match the challenge kit."""

from __future__ import annotations

import json

import numpy as np

from placeseg_core import rle
from placeseg_core.catalog import load_catalog
from placeseg_core.cli.main import main
from placeseg_core.demo import build_demo
from placeseg_core.synth import synth_dataset
from placeseg_core.validate import validate_submission
from placeseg_core.validate.category_schemes import FULL_ADE20K, SCENEPARSE150


def test_demo_predictions_pass_with_no_errors(tmp_path, capsys):
    info = build_demo(tmp_path / "demo", n_images=4, seed=3)
    catalog = load_catalog(info.catalog_path)
    report = validate_submission(info.predictions_path, catalog, split="val")
    assert report.valid, report.problems
    assert not report.errors
    assert report.stats["predictions"] == info.n_predictions
    code = main(["validate", str(info.predictions_path), "--img-cat-ids", str(info.catalog_path), "--ann-dir", str(info.annotation_dir)])
    assert code == 0
    assert "VALID" in capsys.readouterr().out


def test_synthetic_full_size_predictions_pass(tmp_path):
    synth = synth_dataset(6, seed=1, preds_per_image=120)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(synth.predictions))
    ids = [im["id"] for im in synth.ground_truth["images"]]
    report = validate_submission(path, synth.catalog, expected_image_ids=ids)
    assert report.valid and not report.errors, report.problems
    assert report.stats["per_image"]["max"] <= 120


def test_category_schemes_match_the_kit(shared_dir):
    path = shared_dir / "placeschallenge" / "categoryMapping.txt"
    rows = [line.split() for line in path.read_text().splitlines()[1:] if line.strip()]
    sp: dict[int, set[int]] = {}
    full: dict[int, set[int]] = {}
    for instance, scene, ade in rows:
        sp.setdefault(int(instance), set()).add(int(scene))
        full.setdefault(int(instance), set()).add(int(ade))
    assert {k: {v} for k, v in SCENEPARSE150.items()} == sp
    assert {k: set(v) for k, v in FULL_ADE20K.items()} == full


def test_real_catalog_split_inference(shared_dir, tmp_path):
    """On the kit's imgCatIds.json: val file numbers used as ids are spotted."""
    catalog = load_catalog(shared_dir / "placeschallenge" / "imgCatIds.json")
    val = catalog.split_images("val")[:50]
    items = []
    for k, record in enumerate(val):
        mask = np.zeros((record.height, record.width), np.uint8)
        mask[:4, :4] = 1
        items.append({"image_id": record.file_number, "category_id": 1 + k % 100, "segmentation": dict(rle.encode(mask)), "score": 0.5 + k / 1000})
    report = validate_submission(items, catalog)
    assert "image-id-is-file-number" in report.counts
    assert report.stats["split"] == "val"
    for item, record in zip(items, val, strict=True):
        item["image_id"] = record.id
    report = validate_submission(items, catalog, split="val")
    assert report.valid and report.counts == {"missing-images": 1950}
