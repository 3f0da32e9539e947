"""Overlay rendering and hit-testing as pure numpy (no window)."""

from __future__ import annotations

import numpy as np
import pytest
from gui_fixtures import GREY, TinySet

from placeseg_review.model.data import load_predictions, open_layout
from placeseg_review.model.overlay import (
    category_overlay_colour,
    compose_crops,
    inner_boundary,
    instance_overlay_colour,
    lut_rgba,
    render_labels,
    visible_predictions,
)
from placeseg_review.model.prepared import prepare_image
from placeseg_review.model.render import (
    OverlayOptions,
    pick,
    render_gt,
    render_preds,
    selection_mask,
)

# pycocotools 2.0.11 with numpy 2 warns on every decode; it is not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def test_inner_boundary_marks_only_edge_pixels_of_labels():
    labels = np.zeros((7, 7), np.uint8)
    labels[1:6, 1:6] = 3
    edge = inner_boundary(labels)
    assert edge[1, 1] and edge[1, 3] and edge[5, 5]
    assert not edge[3, 3]  # interior
    assert not edge[0, 0]  # background never
    assert edge.sum() == 16  # the ring of a 5x5 square


def test_render_labels_fills_with_lut_and_outlines_opaque():
    labels = np.zeros((5, 5), np.uint8)
    labels[1:4, 1:4] = 2
    lut = lut_rgba(3, [(2, (255, 0, 0), 0.5)])
    outline = lut_rgba(3, [(2, (0, 255, 0), 1.0)])
    rgba = render_labels(labels, lut, inner_boundary(labels), outline)
    assert tuple(rgba[2, 2]) == (255, 0, 0, 128)
    assert tuple(rgba[1, 1]) == (0, 255, 0, 255)
    assert rgba[0, 0, 3] == 0


def test_category_colours_are_stable_and_distinct():
    colours = [category_overlay_colour(c) for c in range(1, 101)]
    assert colours == [category_overlay_colour(c) for c in range(1, 101)]
    assert len(set(colours)) == 100
    assert len({instance_overlay_colour(k) for k in range(1, 60)}) == 59


def test_visible_predictions_threshold_topk_and_hidden_categories():
    scores = np.array([0.9, 0.8, 0.5, 0.4, 0.1])
    cats = np.array([1, 2, 1, 3, 2])
    assert visible_predictions(scores, cats, 0.3, 0, frozenset()).tolist() == [0, 1, 2, 3]
    assert visible_predictions(scores, cats, 0.0, 2, frozenset()).tolist() == [0, 1]
    # top-K is taken before hiding: hiding category 1 does not pull a worse one in
    assert visible_predictions(scores, cats, 0.0, 2, frozenset({1})).tolist() == [1]


def test_compose_crops_puts_the_best_on_top_and_reports_it():
    a = np.ones((4, 4), bool)
    b = np.ones((4, 4), bool)
    crops = [(0, 0, a), (2, 2, b)]  # position 0 = best score
    edges = [np.nonzero(inner_boundary(a.astype(np.uint8))), tuple(v + 2 for v in np.nonzero(inner_boundary(b.astype(np.uint8))))]
    colours = np.array([[255, 0, 0], [0, 0, 255]], np.uint8)
    rgba, top = compose_crops((8, 8), crops, edges, np.array([0, 1]), colours, 0.5, outlines=False)
    assert top[3, 3] == 1  # overlap: the best (position 0) wins
    assert top[5, 5] == 2 and top[7, 7] == 0
    assert tuple(rgba[5, 5, :3]) == (0, 0, 255)
    rgba, top = compose_crops((8, 8), crops, edges, np.array([1]), colours, 0.5, outlines=False)
    assert top[0, 0] == 0 and top[3, 3] == 2  # only position 1 shown
    rgba, _ = compose_crops((8, 8), crops, edges, np.array([0, 1]), colours, 0.5, outlines=True)
    assert tuple(int(v) for v in rgba[5, 5]) == (0, 0, 255, 255)  # outline pixel: opaque
    assert tuple(int(v) for v in rgba[4, 4]) == (0, 0, 255, 128)  # inside: translucent fill


def test_rle_crop_decoder_matches_pycocotools():
    from pycocotools import mask as mask_utils

    from placeseg_core import rle as rle_utils
    from placeseg_review.model.rle_crops import decode_crop

    rng = np.random.default_rng(0)
    for trial in range(400):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        m = np.zeros((h, w), np.uint8)
        if trial % 3 == 0:
            m = (rng.random((h, w)) < rng.random()).astype(np.uint8)  # runs across columns
        elif trial % 3 == 1:
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
            m[y:y + int(rng.integers(1, h + 1)), x:x + int(rng.integers(1, w + 1))] = 1
        rle = rle_utils.encode(m)
        out = decode_crop(rle["counts"], h, w)
        full = np.zeros((h, w), bool)
        if out is not None:
            y0, x0, crop = out
            full[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
            assert [x0, y0, crop.shape[1], crop.shape[0]] == mask_utils.toBbox(rle).tolist()
        assert np.array_equal(full, mask_utils.decode(rle).astype(bool)), trial


def test_prepared_tiny_image_renders_and_picks(tiny_set: TinySet):
    ds = open_layout(tiny_set.root)
    preds = load_predictions(tiny_set.predictions, ds)
    prep = prepare_image(ds, 20210, preds)
    assert prep.photo.shape == (40, 60, 3) and abs(int(prep.photo[0, 0, 0]) - GREY) <= 2
    assert [i.category_id for i in prep.gt.instances] == [8, 4, 10]
    assert [f.code for f in prep.gt.findings] == ["multiple-categories"]
    assert prep.preds.scores.tolist() == [0.9, 0.2]  # best first
    opts = OverlayOptions(score_threshold=0.3)
    gt = render_gt(prep, opts)
    x, y = tiny_set.chair_px
    assert gt[y, x, 3] > 0 and gt[tiny_set.background_px[1], tiny_set.background_px[0], 3] == 0
    hidden = render_gt(prep, OverlayOptions(hidden_categories=frozenset({8})))
    assert hidden[y, x, 3] == 0
    layer = render_preds(prep, opts)
    lx, ly = tiny_set.low_pred_px
    assert layer.rgba[ly, lx, 3] == 0  # score 0.2 < 0.3: not drawn
    assert render_preds(prep, OverlayOptions(score_threshold=0.1)).rgba[ly, lx, 3] > 0
    names = {8: "chair", 4: "person"}
    info = pick(prep, x, y, layer, opts, names)
    assert info.gt.instance_id == 1 and info.gt_category == "chair"
    assert info.pred_index == 0 and info.pred_score == 0.9
    assert pick(prep, lx, ly, layer, opts, names).pred_index is None
    assert pick(prep, -1, 5, layer, opts, names) is None
    mask = selection_mask(prep, info.topmost())
    assert mask.sum() == 15 * 20


def test_all_masks_of_an_image_decoded_at_once_equal_one_by_one():
    """decode_masks (one pass for an image's masks) gives decode_crop's crops, mask by mask,
    with inner_boundary's outline and the pixel count:
    empty, full, one pixel, runs across columns and a string that does not sum to the
    image's size among them."""
    from placeseg_core import rle as rle_utils
    from placeseg_review.model.overlay import inner_boundary
    from placeseg_review.model.rle_crops import decode_crop, decode_masks

    rng = np.random.default_rng(1)
    for trial in range(60):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        counts = []
        for k in range(int(rng.integers(1, 30))):
            m = np.zeros((h, w), np.uint8)
            kind = (trial + k) % 5
            if kind == 0:
                m = (rng.random((h, w)) < rng.random()).astype(np.uint8)
            elif kind == 1:
                y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
                m[y:y + int(rng.integers(1, h + 1)), x:x + int(rng.integers(1, w + 1))] = 1
            elif kind == 2:
                m[:] = 1
            elif kind == 3:
                m[int(rng.integers(0, h)), int(rng.integers(0, w))] = 1
            counts.append(rle_utils.encode(m)["counts"])  # kind 4: empty
        counts.append(rle_utils.encode(np.ones((h + 1, w), np.uint8))["counts"])  # runs sum to more
        for c, mask in zip(counts, decode_masks(counts, h, w), strict=True):
            want = decode_crop(c, h, w)
            assert (mask is None) == (want is None), trial
            if mask is not None:
                assert (mask.y0, mask.x0) == want[:2] and mask.crop.shape == want[2].shape, trial
                assert np.array_equal(mask.crop, want[2]), trial
                ys, xs = np.nonzero(inner_boundary(want[2]))
                assert mask.area == int(np.count_nonzero(want[2])), trial
                assert np.array_equal(mask.edge_ys, ys + want[0]) and np.array_equal(mask.edge_xs, xs + want[1])


@pytest.mark.parametrize("with_pool", [False, True])
def test_an_image_prepared_with_its_predictions_in_a_second_thread_is_the_same(tiny_set: TinySet, with_pool):
    """With a pool the predictions are decoded beside the photo and ground truth: the same
    crops, and the same note for a prediction whose mask is not the image's size."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    from placeseg_core import rle as rle_utils

    items = json.loads(tiny_set.predictions.read_text())
    other = rle_utils.encode(np.ones((7, 9), np.uint8))
    wrong = dict(items[0], segmentation={"size": [7, 9], "counts": other["counts"]})
    tiny_set.predictions.write_text(json.dumps(items + [wrong]))
    ds = open_layout(tiny_set.root)
    preds = load_predictions(tiny_set.predictions, ds)
    alone = prepare_image(ds, 20210, preds)
    with ThreadPoolExecutor(1) as pool:
        prep = prepare_image(ds, 20210, preds, pool=pool if with_pool else None)
    assert prep.preds.indices.tolist() == alone.preds.indices.tolist()
    assert all(np.array_equal(a[2], b[2]) and a[:2] == b[:2] for a, b in zip(prep.preds.crops, alone.preds.crops, strict=True))
    assert prep.preds.size_mismatch == 1
    assert any("RLE size other than 40×60" in note for note in prep.notes), prep.notes
