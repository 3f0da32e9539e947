"""COCO run-length encoding helpers on top of pycocotools, with ``counts`` always a ``str``.

pycocotools returns ``counts`` as ``bytes``, which ``json`` cannot write (one of the official
converter's Python 3 failures); every RLE leaving this module has ``counts`` as ``str``.
pycocotools accepts both forms on input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import numpy as np
from pycocotools import mask as mask_utils

# pycocotools 2.0.11 with numpy 2.x raises OverflowError in mask.area() for lists of more than
# 255 RLEs (an internal uint8 index); every bulk call below goes in chunks of this size.
_PYCOCOTOOLS_CHUNK = 255


class RLE(TypedDict):
    size: list[int]
    counts: str


def _as_str(rle: dict[str, Any]) -> RLE:
    counts = rle["counts"]
    if isinstance(counts, bytes):
        counts = counts.decode("ascii")
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": counts}


def encode(mask: np.ndarray) -> RLE:
    """Encode one binary ``(H, W)`` mask as compressed COCO RLE, exactly as pycocotools does."""
    fortran = np.asfortranarray(mask.astype(np.uint8, copy=False))
    return _as_str(mask_utils.encode(fortran))


def decode(rle: dict[str, Any] | Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Decode one RLE to an ``(H, W)`` uint8 mask, or a list of them to ``(H, W, N)``."""
    return mask_utils.decode(rle)


def area(rles: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Pixel counts of many RLEs as int64 (chunked around the pycocotools overflow)."""
    if len(rles) == 0:
        return np.zeros(0, dtype=np.int64)
    parts = [
        np.asarray(mask_utils.area(list(rles[i : i + _PYCOCOTOOLS_CHUNK])), dtype=np.int64)
        for i in range(0, len(rles), _PYCOCOTOOLS_CHUNK)
    ]
    return np.concatenate(parts)


def bbox(rles: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """``[x, y, w, h]`` boxes of many RLEs, shape ``(N, 4)`` float64, as pycocotools' toBbox."""
    if len(rles) == 0:
        return np.zeros((0, 4), dtype=np.float64)
    parts = [
        np.asarray(mask_utils.toBbox(list(rles[i : i + _PYCOCOTOOLS_CHUNK])), dtype=np.float64)
        for i in range(0, len(rles), _PYCOCOTOOLS_CHUNK)
    ]
    return np.concatenate(parts).reshape(-1, 4)


def iou(
    dets: Sequence[Mapping[str, Any]],
    gts: Sequence[Mapping[str, Any]],
    iscrowd: Sequence[int] | None = None,
) -> np.ndarray:
    """IoU matrix ``(len(dets), len(gts))`` as pycocotools computes it (crowd semantics too)."""
    if len(dets) == 0 or len(gts) == 0:
        return np.zeros((len(dets), len(gts)), dtype=np.float64)
    crowd = [0] * len(gts) if iscrowd is None else [int(c) for c in iscrowd]
    return np.asarray(mask_utils.iou(list(dets), list(gts), crowd), dtype=np.float64)


def from_run_lengths(counts_list: Sequence[np.ndarray], height: int, width: int) -> list[RLE]:
    """Compress uncompressed run lengths (zeros first, column-major) into COCO RLE strings."""
    if len(counts_list) == 0:
        return []
    objs = [{"counts": np.asarray(c, dtype=np.uint64), "size": [height, width]} for c in counts_list]
    return [_as_str(r) for r in mask_utils.frPyObjects(objs, height, width)]


def label_image_to_rles(labels: np.ndarray, ids: Sequence[int] | np.ndarray) -> list[RLE]:
    """RLEs of ``labels == i`` for every ``i`` in ``ids``, in one pass over the label image.

    The official converter compares the whole image once per instance and encodes each binary
    mask separately; here the column-major run boundaries are found once and split by label,
    which gives the same RLE strings (tested against ``encode``).
    """
    height, width = labels.shape
    flat = np.ascontiguousarray(labels.T).ravel()  # column-major order, as COCO RLE counts
    n = flat.size
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [n]))
    values = flat[starts]
    order = np.argsort(values, kind="stable")  # groups runs by label, keeps position order
    sorted_values = values[order]
    out_counts: list[np.ndarray] = []
    for label in ids:
        lo = np.searchsorted(sorted_values, label, side="left")
        hi = np.searchsorted(sorted_values, label, side="right")
        sel = order[lo:hi]
        s = starts[sel]
        e = ends[sel]
        # zeros before each run, the run itself; then the trailing zeros
        edges = np.empty(2 * len(s) + 2, dtype=np.int64)
        edges[0] = 0
        edges[1:-1:2] = s
        edges[2:-1:2] = e
        edges[-1] = n
        counts = np.diff(edges)
        if counts[-1] == 0:  # pycocotools ends at the last run of ones, with no zero count
            counts = counts[:-1]
        out_counts.append(counts)
    return from_run_lengths(out_counts, height, width)


def crop_to_run_lengths(crop: np.ndarray, y0: int, x0: int, height: int, width: int) -> np.ndarray:
    """Uncompressed run lengths of a full ``(height, width)`` mask that is zero outside ``crop``.

    ``crop`` is a binary ``(h, w)`` array placed with its top-left corner at ``(y0, x0)`` and
    lying inside the image. Only the crop's pixels are visited, so generating many small
    masks on large images stays cheap (no full-image array per mask).
    """
    h, w = crop.shape
    padded = np.zeros((w, h + 2), dtype=np.int8)  # one column of the crop per row, zero-padded
    padded[:, 1:-1] = crop.T.astype(np.int8)
    d = np.diff(padded.ravel())
    starts = np.flatnonzero(d == 1) + 1  # position of the first 1 in the padded flattening
    ends = np.flatnonzero(d == -1) + 1  # position one past the last 1
    step = h + 2
    def to_full(pos: np.ndarray) -> np.ndarray:
        return (x0 + pos // step) * height + y0 + (pos % step) - 1
    s = to_full(starts)
    e = to_full(ends - 1) + 1
    if s.size > 1:  # runs that touch across a column boundary of the full image are one run
        keep = np.concatenate(([True], s[1:] != e[:-1]))
        s = s[keep]
        e = e[np.concatenate((keep[1:], [True]))]
    edges = np.empty(2 * s.size + 2, dtype=np.int64)
    edges[0] = 0
    edges[1:-1:2] = s
    edges[2:-1:2] = e
    edges[-1] = height * width
    counts = np.diff(edges)
    if counts.size > 1 and counts[-1] == 0:
        counts = counts[:-1]
    return counts
