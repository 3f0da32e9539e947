"""Property: any bootstrap sample equals pycocotools on the resample built literally.

Tiny generated sets (hypothesis, the project's profiles): a few small images, two categories,
objects and crowd regions, predictions whose scores come from three values (ties across
images and within an image everywhere), and one draw of the images (repeats, missing images).
"""

from __future__ import annotations

import numpy as np
from compare_cases import literal_resample, official_mean_ap
from hypothesis import given
from hypothesis import strategies as st
from test_eval_cases import run_pycocotools

from placeseg_core import rle as rle_utils
from placeseg_core.compare import build_table, resampled_mean_ap
from placeseg_core.evaluation import evaluate, ground_truth_from_dict

H, W = 12, 16
SCORES = (0.2, 0.5, 0.8)


def _box(draw: st.DrawFn) -> np.ndarray:
    y0, x0 = draw(st.integers(0, H - 3)), draw(st.integers(0, W - 3))
    h, w = draw(st.integers(2, H - y0)), draw(st.integers(2, W - x0))
    m = np.zeros((H, W), np.uint8)
    m[y0 : y0 + h, x0 : x0 + w] = 1
    return m


@st.composite
def tiny_sets(draw: st.DrawFn) -> tuple[dict, list, np.ndarray]:
    n_images = draw(st.integers(1, 3))
    images = [{"id": 7 + 3 * i, "file_name": f"{i}.jpg", "height": H, "width": W} for i in range(n_images)]
    anns, items, next_id = [], [], 1
    for im in images:
        for _ in range(draw(st.integers(0, 3))):
            m = _box(draw)
            crowd = draw(st.integers(0, 5)) == 0
            anns.append({"id": next_id, "image_id": im["id"], "category_id": draw(st.sampled_from((1, 2))),
                         "iscrowd": int(crowd), "area": int(m.sum()), "segmentation": rle_utils.encode(m)})
            next_id += 1
        for _ in range(draw(st.integers(0, 4))):
            items.append({"image_id": im["id"], "category_id": draw(st.sampled_from((1, 2))),
                          "segmentation": rle_utils.encode(_box(draw)), "score": draw(st.sampled_from(SCORES))})
    if not items:  # pycocotools' loadRes refuses an empty list
        items.append({"image_id": images[0]["id"], "category_id": 1,
                      "segmentation": rle_utils.encode(_box(draw)), "score": 0.5})
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]}
    picks = draw(st.lists(st.integers(0, n_images - 1), min_size=n_images, max_size=n_images))
    return gt, items, np.array(picks)


@given(tiny_sets())
def test_any_sample_equals_pycocotools_on_the_literal_resample(data):
    gt, items, picks = data
    truth = ground_truth_from_dict(gt)
    result = evaluate(truth, items, workers=1)
    table = build_table(result.records, truth.image_ids, truth.category_ids, result.params)
    mean = resampled_mean_ap(table, picks[None, :])[0]
    lit_gt, lit_items = literal_resample(gt, items, truth.image_ids, picks)
    if lit_items:
        expected = official_mean_ap(run_pycocotools(lit_gt, lit_items))
    else:  # loadRes refuses an empty list; every defined precision would be 0
        expected = 0.0 if any(not a["iscrowd"] for a in lit_gt["annotations"]) else None
    assert (np.isnan(mean) and expected is None) or mean == expected
