"""The viewer on any COCO ground truth: polygons drawn like any mask (rasterised as pycocotools
does, at the image's size), crowd regions hatched and named so in the hover card."""


from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from coco_cases import polygon_mask, uncompressed_rle
from gui_fixtures import WAIT_MS, canvas_pixel, differs, wait_settled
from PIL import Image

from placeseg_core import rle as rle_utils
from placeseg_review.model.data import open_coco
from placeseg_review.model.prepared import prepare_image
from placeseg_review.model.render import OverlayOptions, pick, render_gt
from placeseg_review.widgets.hover_card import hover_html

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

H, W = 48, 96  # not square: a transposed conversion would show
POLYGON = [[4.0, 6.0, 36.0, 4.0, 38.0, 40.0, 6.0, 42.0]]
CROWD_BOX = (slice(4, 44), slice(50, 92))  # rows, columns
INSIDE_CROWD = (slice(20, 30), slice(60, 70))  # an object of its own inside the crowd region


def _crowd() -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    m[CROWD_BOX] = 1
    return m


def _inner() -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    m[INSIDE_CROWD] = 1
    return m


def write_coco_set(root: Path) -> Path:
    images = root / "images"
    images.mkdir(parents=True)
    Image.fromarray(np.full((H, W, 3), 128, np.uint8)).save(images / "scene.png")
    gt = {
        "images": [{"id": 7, "file_name": "scene.png", "height": H, "width": W}],
        "categories": [{"id": 1, "name": "person"}, {"id": 44, "name": "bottle"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 1, "iscrowd": 0, "area": 1100.0, "segmentation": POLYGON},
            {"id": 2, "image_id": 7, "category_id": 1, "iscrowd": 1, "area": float(_crowd().sum()),
             "segmentation": uncompressed_rle(_crowd())},
            {"id": 3, "image_id": 7, "category_id": 44, "iscrowd": 0, "area": 100.0,
             "segmentation": rle_utils.encode(_inner())},
        ],
    }
    path = root / "instances.json"
    path.write_text(json.dumps(gt))
    return path


def _stripe_points(mask: np.ndarray, phase: int, min_y: int = 0) -> list[tuple[int, int]]:
    """(x, y) inside ``mask`` (away from its edge, at rows >= ``min_y``) with (x + y) % 8 == phase."""
    ys, xs = np.nonzero(mask)
    xs, ys = xs[ys >= min_y], ys[ys >= min_y]
    pts = [(int(x), int(y)) for x, y in zip(xs, ys, strict=True) if (x + y) % 8 == phase]
    inner = [(x, y) for x, y in pts if mask[y - 2 : y + 3, x - 2 : x + 3].all()]
    return inner


def test_polygons_and_crowd_regions_prepared_and_drawn(tmp_path):
    ds = open_coco(write_coco_set(tmp_path / "set"))
    prep = prepare_image(ds, 7, None)
    gt = prep.gt
    assert not gt.findings
    by_id = {i.instance_id: i for i in gt.instances}
    assert [by_id[k].iscrowd for k in (1, 2, 3)] == [False, True, False]
    # the polygon: exactly pycocotools' frPyObjects at (height, width), as annToRLE converts it
    assert np.array_equal(gt.labels == by_id[1].label, polygon_mask(POLYGON, H, W).astype(bool))
    # the object inside the crowd region stays on top of it
    assert (gt.labels[INSIDE_CROWD] == by_id[3].label).all()
    assert by_id[2].area == int(_crowd().sum() - _inner().sum())

    rgba = render_gt(prep, OverlayOptions())
    crowd_only = (gt.labels == by_id[2].label)
    person = (gt.labels == by_id[1].label)
    on, off = _stripe_points(crowd_only, 0), _stripe_points(crowd_only, 4)
    assert on and off
    # hatched: opaque stripes over a translucent fill inside the crowd region ...
    assert {int(rgba[y, x, 3]) for x, y in on} == {255}
    assert {int(rgba[y, x, 3]) for x, y in off} == {round(0.45 * 255)}
    # ... while an ordinary object (polygon or RLE) is one translucent fill inside its outline
    for mask in (person, gt.labels == by_id[3].label):
        inside = _stripe_points(mask, 0) + _stripe_points(mask, 4)
        assert inside and {int(rgba[y, x, 3]) for x, y in inside} == {round(0.45 * 255)}

    names = {c.id: c.name for c in ds.categories}
    opts = OverlayOptions()
    x, y = off[0]
    info = pick(prep, x, y, None, opts, names)
    assert info.gt.iscrowd and "crowd region" in hover_html(info) and "person" in hover_html(info)
    info = pick(prep, 20, 22, None, opts, names)
    assert info.gt.instance_id == 1 and "crowd" not in hover_html(info)
    info = pick(prep, 64, 24, None, opts, names)  # inside the crowd region, on the bottle
    assert info.gt.instance_id == 3 and "bottle" in hover_html(info) and "crowd" not in hover_html(info)


def test_window_shows_crowd_hatched_and_names_it(qtbot, window, tmp_path):
    gt_path = write_coco_set(tmp_path / "set")
    window.controller.open_dataset(gt_path, images=str(gt_path.parent / "images"))
    wait_settled(qtbot, window)
    assert window.session.dataset.kind == "coco"
    prep = window.session.image
    crowd_label = next(i.label for i in prep.gt.instances if i.iscrowd)
    crowd_only = prep.gt.labels == crowd_label
    person = prep.gt.labels == next(i.label for i in prep.gt.instances if i.instance_id == 1)
    # on screen (rows below the category names drawn near the top): inside the crowd region,
    # stripe pixels differ from the fill between them ...
    stripes = [canvas_pixel(window, x, y) for x, y in _stripe_points(crowd_only, 0, 32)[:6]]
    fill = [canvas_pixel(window, x, y) for x, y in _stripe_points(crowd_only, 4, 32)[:6]]
    assert len(stripes) == len(fill) == 6
    assert all(differs(s, f) for s, f in zip(stripes, fill, strict=True))
    # ... inside an ordinary object the same positions look alike (no hatching)
    p_on = [canvas_pixel(window, x, y) for x, y in _stripe_points(person, 0, 32)[:6]]
    p_off = [canvas_pixel(window, x, y) for x, y in _stripe_points(person, 4, 32)[:6]]
    assert p_on and not any(differs(a, b, by=6) for a, b in zip(p_on, p_off, strict=True))
    # and the polygon object is drawn at all (differs from the bare photo)
    assert differs(canvas_pixel(window, 20, 22), (128, 128, 128))

    canvas = window.canvas
    x, y = _stripe_points(crowd_only, 4)[0]
    qtbot.mouseMove(canvas.viewport(), canvas.image_to_viewport(x, y))
    qtbot.waitUntil(lambda: canvas.hover_info is not None and canvas.hover_info.gt is not None, timeout=WAIT_MS)
    assert canvas.card.isVisible() and "crowd region" in canvas.card.text and "person" in canvas.card.text
    info = canvas.hover_at(20, 22)  # the polygon object
    assert info.gt.instance_id == 1 and not info.gt.iscrowd
    assert "crowd" not in canvas.card.text and "person" in canvas.card.text
