"""RLE helpers: same strings as pycocotools, str counts, the area() overflow worked around."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pycocotools import mask as mask_utils

from placeseg_core import rle


@given(
    h=st.integers(1, 25),
    w=st.integers(1, 25),
    labels=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_label_image_to_rles_equals_encode_per_instance(h, w, labels, seed):
    lab = np.random.default_rng(seed).integers(0, labels + 1, (h, w)).astype(np.uint8)
    ids = [int(i) for i in np.unique(lab) if i]
    assert rle.label_image_to_rles(lab, ids) == [rle.encode(lab == i) for i in ids]


@given(data=st.data())
def test_crop_runs_equal_full_image_encoding(data):
    height = data.draw(st.integers(1, 30))
    width = data.draw(st.integers(1, 30))
    h = data.draw(st.integers(1, height))
    w = data.draw(st.integers(1, width))
    y0 = data.draw(st.integers(0, height - h))
    x0 = data.draw(st.integers(0, width - w))
    density = data.draw(st.floats(0, 1))
    seed = data.draw(st.integers(0, 2**32 - 1))
    crop = np.random.default_rng(seed).random((h, w)) < density
    full = np.zeros((height, width), np.uint8)
    full[y0 : y0 + h, x0 : x0 + w] = crop
    got = rle.from_run_lengths([rle.crop_to_run_lengths(crop, y0, x0, height, width)], height, width)
    assert got == [rle.encode(full)]


def test_area_of_many_rles_does_not_overflow():
    m = np.zeros((8, 8), np.uint8)
    m[1:3, 1:4] = 1
    rles = [rle.encode(m)] * 1000
    with pytest.raises(OverflowError):  # the pycocotools defect the helper exists for
        mask_utils.area(rles)
    areas = rle.area(rles)
    assert areas.shape == (1000,) and (areas == 6).all()
    assert rle.bbox(rles).shape == (1000, 4)
    assert rle.area([]).shape == (0,)


def test_iou_and_decode_accept_str_counts():
    a = np.zeros((10, 10), np.uint8)
    b = np.zeros((10, 10), np.uint8)
    a[0:5, 0:5] = 1
    b[0:5, 2:7] = 1
    ra, rb = rle.encode(a), rle.encode(b)
    assert isinstance(ra["counts"], str)
    assert rle.iou([ra], [rb])[0, 0] == pytest.approx(15 / 35)
    assert (rle.decode(ra) == a).all()
    assert rle.iou([], [rb]).shape == (0, 1)
