"""The bulk numpy RLE decoder against pycocotools, and on malformed strings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pycocotools import mask as mask_utils

from placeseg_core import rle
from placeseg_core.safety import rledecode


def runs_of(mask: np.ndarray) -> np.ndarray:
    """Column-major run lengths, zeros first (the uncompressed COCO form)."""
    flat = mask.T.ravel()
    change = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.concatenate(([0], change, [flat.size])))
    return np.concatenate(([0], runs)) if flat.size and flat[0] else runs


def random_masks(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    masks = []
    for k in range(n):
        h, w = (int(v) for v in rng.integers(1, 70, 2))
        kind = k % 4
        if kind == 0:
            m = rng.random((h, w)) < rng.random()
        elif kind == 1:  # blobs: long runs, multi-character values
            yy, xx = np.mgrid[:h, :w]
            m = (yy - h / 2) ** 2 + (xx - w / 3) ** 2 < (min(h, w) / 2.5) ** 2
        elif kind == 2:
            m = np.zeros((h, w), bool)
        else:
            m = np.ones((h, w), bool)
        masks.append(m.astype(np.uint8))
    masks.append(np.zeros((600, 700), np.uint8))  # a run needing four characters
    masks[-1][100:500, 10:690] = 1
    return masks


@pytest.mark.parametrize("chunk_chars", [7, 300, rledecode.CHUNK_CHARS])
def test_bulk_decode_matches_pycocotools(chunk_chars):
    masks = random_masks(1, 400)
    rles = [rle.encode(m) for m in masks]
    counts = [r["counts"] for r in rles]
    hw = np.array([m.size for m in masks])
    res = rledecode.decode_counts_bulk(counts, hw, chunk_chars=chunk_chars)
    assert (res.status == rledecode.OK).all()
    assert (res.total == hw).all()
    assert (res.area == rle.area(rles)).all()  # pycocotools' own decoder
    assert (res.area == [int(m.sum()) for m in masks]).all()
    assert (res.nruns == [len(runs_of(m)) for m in masks]).all()
    for m, c in zip(masks, counts, strict=True):
        assert np.array_equal(rledecode.decode_runs(c), runs_of(m))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # inside pycocotools decode, numpy 2
def test_decode_matches_pycocotools_decoder_on_strings_it_accepts():
    """Strings built from arbitrary run lists: our runs are the ones pycocotools decodes to."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(1, 30))
        runs = rng.integers(0, 40, n)
        runs[1:] = np.maximum(runs[1:], 1)
        h = int(rng.integers(1, 9))
        total = int(runs.sum())
        w = -(-total // h)
        runs[-1] += h * w - total
        (encoded,) = mask_utils.frPyObjects([{"counts": runs.tolist(), "size": [h, w]}], h, w)
        counts = encoded["counts"].decode()
        assert np.array_equal(rledecode.decode_runs(counts), runs)
        res = rledecode.decode_counts_bulk([counts], np.array([h * w]))
        assert res.status[0] == rledecode.OK
        mask = mask_utils.decode({"counts": counts, "size": [h, w]})
        assert res.area[0] == mask.sum()


@pytest.mark.parametrize(
    ("counts", "status"),
    [
        ("", rledecode.SUM_MISMATCH),
        ("0", rledecode.SUM_MISMATCH),
        ("P", rledecode.TRUNCATED),
        ("5Q", rledecode.TRUNCATED),
        ("0 4", rledecode.BAD_CHAR),
        ("0p", rledecode.BAD_CHAR),
        ("é4", rledecode.NOT_ASCII),
        ("0" + "o" * 8 + "0", rledecode.VALUE_TOO_LONG),
        ("5@", rledecode.BAD_RUN),  # second run -16
        ("14", rledecode.OK),  # 1 zero, 4 ones of a 5-pixel image
    ],
)
def test_malformed_strings(counts, status):
    res = rledecode.decode_counts_bulk(["14", counts, "14"], np.array([5, 5, 5]))
    assert res.status.tolist() == [0, status, 0]  # faults never leak into neighbours
    message = rledecode.describe_counts_fault(counts, 1, 5)
    assert message and "\n" not in message


def test_delta_chains_negative_runs_are_caught():
    # runs [2, 3, 1, -1 (=3 + (-4)), ...]: index 3 is coded against index 1
    values = [2, 3, 1, -4, 1]
    s = _encode_values(values)
    assert rledecode.decode_runs(s).tolist() == [2, 3, 1, -1, 2]
    res = rledecode.decode_counts_bulk([s], np.array([7]))
    assert res.status[0] == rledecode.BAD_RUN


def _encode_values(values: list[int]) -> str:
    """pycocotools' rleToString for already delta-coded values (maskApi.c)."""
    out = []
    for x in values:
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            out.append(chr((c | (0x20 if more else 0)) + 48))
    return "".join(out)


@given(st.lists(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=130), max_size=12), min_size=1, max_size=8), st.integers(0, 60))
def test_garbage_never_raises_and_is_independent(strings, hw):
    res = rledecode.decode_counts_bulk(strings, np.full(len(strings), hw), chunk_chars=5)
    for s, status in zip(strings, res.status.tolist(), strict=True):
        alone = rledecode.decode_counts_bulk([s], np.array([hw]))
        assert alone.status[0] == status
        if status == rledecode.OK:
            runs = rledecode.decode_runs(s)
            assert runs is not None and runs.sum() == hw and (runs >= 0).all()
