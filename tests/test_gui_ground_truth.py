"""One ground-truth identity in the window: the annotation PNGs are decoded once (the background
scan's decoding is what the evaluation converts), and evaluation rows meet drawn objects by the
object's own id (a PNG's instance id, the green value), never by position."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from gui_fixtures import WAIT_MS, H, W, open_tiny, wait_settled
from PIL import Image

from placeseg_core.catalog import load_catalog
from placeseg_core.convert import convert_annotations
from placeseg_review.model.ground_truth import build_scoring_truth
from placeseg_review.model.match_rows import gt_row_labels, label_gt_ids


def _renumber_first_png(root: Path) -> dict[int, int]:
    """Give image 20210's objects the instance ids 9, 4, 6 (was 1, 2, 3): ids that are neither
    contiguous nor the objects' positions. Returns old id -> new id."""
    png = root / "annotations_instance" / "validation" / "ADE_val_00000001.png"
    rgb = np.asarray(Image.open(png).convert("RGB")).copy()
    new = {1: 9, 2: 4, 3: 6}
    green = rgb[..., 1].copy()
    for old, value in new.items():
        rgb[..., 1][green == old] = value
    Image.fromarray(rgb).save(png)
    return new


def _evaluate(qtbot, window) -> None:
    with qtbot.waitSignal(window.session.evaluationChanged, timeout=WAIT_MS, check_params_cb=lambda e: e is not None):
        window.analysis.evaluate()
    qtbot.waitUntil(lambda: not window.analysis.running("evaluate"), timeout=WAIT_MS)


def test_rows_meet_drawn_objects_by_instance_id(qtbot, window, tiny_set):
    _renumber_first_png(tiny_set.root)
    open_tiny(qtbot, window, tiny_set)
    _evaluate(qtbot, window)
    window.controller.go_to(20210)
    qtbot.waitUntil(lambda: window.session.image is not None and window.session.image.entry.id == 20210,
                    timeout=WAIT_MS)
    ev, prep = window.session.evaluation, window.session.image
    rows = ev.result.records.image_gt_rows(20210)
    # each evaluation row knows the PNG's id of its object (the annotation ids are 0, 1, 2)
    assert sorted(ev.gt_instance_ids[rows].tolist()) == [4, 6, 9]
    labels = gt_row_labels(prep, ev)
    assert len(labels) == 3
    by_label = prep.gt.by_label
    for g, label in labels.items():
        assert by_label[label].instance_id == int(ev.gt_instance_ids[g])
        assert by_label[label].category_id == int(ev.result.records.gt_category_ids[g])
    # the inspector's "GT id" is that row's annotation id
    ids = label_gt_ids(prep, ev)
    chair = next(i for i in prep.gt.instances if i.instance_id == 9)
    chair_row = next(g for g, label in labels.items() if label == chair.label)
    assert ids[chair.label] == int(ev.result.records.gt_ids[chair_row])


def test_the_evaluation_converts_what_the_scan_decoded(qtbot, window, tiny_set):
    open_tiny(qtbot, window, tiny_set)
    wait_settled(qtbot, window)
    ds = window.session.dataset
    pngs = sorted((tiny_set.root / "annotations_instance" / "validation").glob("*.png"))
    assert sorted(ds.decoded) == sorted(os.path.abspath(p) for p in pngs)
    # the same ground truth, id for id, as `placeseg convert` makes from the files
    catalog = load_catalog(tiny_set.root / "imgCatIds.json")
    fresh = convert_annotations(pngs[0].parent, catalog, workers=1)
    truth = build_scoring_truth(ds, window.session.predictions)
    assert truth.gt.ann_ids.tolist() == [a["id"] for a in fresh.dataset["annotations"]]
    assert truth.gt.ann_rles == [a["segmentation"] for a in fresh.dataset["annotations"]]
    assert truth.instance_by_annotation.tolist() == fresh.instance_ids == [1, 2, 3, 1]
    # and it was not decoded again: the PNG replaced on disk by an empty image changes nothing
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(pngs[0])
    again = build_scoring_truth(ds, window.session.predictions)
    assert again.gt.ann_ids.tolist() == truth.gt.ann_ids.tolist()
    assert convert_annotations(pngs[0].parent, catalog, workers=1).instance_ids == [1]  # what a re-read sees
