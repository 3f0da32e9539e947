"""Decode compressed COCO RLE straight into the mask's bounding-box crop (numpy, Qt-free).

``pycocotools.mask.decode`` writes a full ``H×W`` array per mask; drawing 100 predictions of a
683×512 image that way moves 35 MB and takes tens of milliseconds. Predictions are small
compared with the image, so this decoder reads the run lengths from the string (vectorised)
and fills only the crop. Results equal ``pycocotools.mask.decode`` (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from placeseg_core.safety import rledecode

from .overlay import mask_outline


def counts_from_string(counts: str | bytes) -> np.ndarray:
    """Run lengths of a compressed RLE string (pycocotools' ``rleFrString``, vectorised)."""
    raw = counts.encode("ascii") if isinstance(counts, str) else bytes(counts)
    if not raw:
        return np.zeros(0, dtype=np.int64)
    c = np.frombuffer(raw, dtype=np.uint8).astype(np.int64) - 48
    more = (c & 0x20) != 0
    ends = np.flatnonzero(~more)  # last character of each number
    starts = np.concatenate(([0], ends[:-1] + 1))
    group = np.repeat(np.arange(len(ends)), ends - starts + 1)
    k = np.arange(len(c)) - starts[group]  # position of the character inside its number
    x = np.add.reduceat((c & 0x1F) << (5 * k), starts)
    negative = (c[ends] & 0x10) != 0
    x = np.where(negative, x - (np.int64(1) << (5 * (k[ends] + 1))), x)
    out = x.copy()
    if len(x) > 3:  # counts[m] = x[m] + counts[m-2] for m > 2
        out[3::2] = np.cumsum(x[3::2]) + x[1]
        out[4::2] = np.cumsum(x[4::2]) + x[2]
    return out


def decode_crop(counts: str | bytes, height: int, width: int) -> tuple[int, int, np.ndarray] | None:
    """``(y0, x0, crop)``: the mask's bounding-box crop (bool); None for an empty mask."""
    runs = counts_from_string(counts)
    if runs.size < 2:
        return None
    edges = np.cumsum(runs)
    on_start = edges[0::2][: len(runs) // 2]  # ones start after each zero run
    on_end = edges[1::2]
    keep = on_end > on_start
    on_start, on_end = on_start[keep], on_end[keep]
    if on_start.size == 0:
        return None
    on_end = np.minimum(on_end, height * width)
    first_col, last_col = on_start // height, (on_end - 1) // height
    same = first_col == last_col
    y0 = int(np.where(same, on_start % height, 0).min())
    y1 = int(np.where(same, (on_end - 1) % height, height - 1).max())
    x0, x1 = int(first_col.min()), int(last_col.max())
    ch, cw = y1 - y0 + 1, x1 - x0 + 1
    # Column-major positions inside the crop; a run that crosses a column boundary implies a
    # full-height crop, where crop and image positions differ by a constant.
    local_start = (first_col - x0) * ch + (on_start % height - y0)
    local_end = local_start + (on_end - on_start)
    diff = np.zeros(ch * cw + 1, dtype=np.int32)
    np.add.at(diff, local_start, 1)
    np.add.at(diff, local_end, -1)
    flat = np.cumsum(diff[:-1]) > 0
    return y0, x0, flat.reshape(cw, ch).T


def _segmented_cumsum(values: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Running sums of ``values`` restarting where ``segment`` (non-decreasing) changes."""
    total = np.cumsum(values)
    if not len(values):
        return total
    first = np.flatnonzero(np.diff(segment, prepend=segment[0] - 1))  # where each segment begins
    before = np.where(first > 0, total[first - 1], 0)  # what the previous segments summed to
    return total - np.repeat(before, np.diff(np.append(first, len(values))))


@dataclass
class MaskCrop:
    """One decoded mask: its bounding-box crop and, in image coordinates, its outline pixels
    (those with a 4-neighbour outside the mask or the crop, as ``overlay.inner_boundary``)."""

    y0: int
    x0: int
    crop: np.ndarray  # bool (h, w), possibly a view into a buffer shared with other masks
    edge_ys: np.ndarray
    edge_xs: np.ndarray
    area: int


def decode_masks(counts: list[str], height: int, width: int,
                 cancelled: Callable[[], bool] = lambda: False) -> list[MaskCrop | None]:
    """The masks of one image, all decoded at once, with their outlines and areas.

    One call per mask costs about 20 numpy calls, and its outline a dozen more; an image of
    100-255 predictions spent most of its preparation there (the cold image switch,
    benchmarks/gui_switch.py). Here the strings are decoded together (``placeseg_core``'s bulk
    decoder), their runs and bounding boxes worked out with segment reductions, every crop
    filled in one pass over one buffer (each crop is a view into it). A string the bulk decoder does not call well formed is
    decoded on its own by :func:`decode_crop`, as before. Crops equal :func:`decode_crop`'s
    (tests/test_gui_overlay.py). None for an empty mask. Once ``cancelled()`` (polled every 16
    masks) the rest are left None: a prefetch stopped for the image the user asked for gives
    the GIL back within a millisecond or two.
    """
    n = len(counts)
    out: list[MaskCrop | None] = [None] * n

    def one_by_one(i: int) -> None:
        decoded = decode_crop(counts[i], height, width)
        if decoded is not None:
            y0, x0, crop = decoded
            ys, xs = np.nonzero(mask_outline(crop))
            out[i] = MaskCrop(y0, x0, crop, ys + y0, xs + x0, int(np.count_nonzero(crop)))

    if n == 0:
        return out
    text = "".join(counts)
    if not text.isascii():
        for i in range(n):
            one_by_one(i)
        return out
    lengths = np.fromiter(map(len, counts), dtype=np.int64, count=n)
    res, values, voff = rledecode.decode_buffer(np.frombuffer(text.encode("ascii"), dtype=np.uint8), lengths,
                                                np.full(n, height * width, dtype=np.int64), return_values=True)
    assert values is not None
    nvals = np.diff(voff)
    good = (res.status == rledecode.OK) & (nvals >= 2)
    for i in np.flatnonzero(res.status != rledecode.OK).tolist():
        one_by_one(i)
    # runs from the stored values: run p = value p + run p - 2 for p > 2 (per RLE, per parity)
    rle = np.repeat(np.arange(n), nvals)
    pos = rledecode.ranks(nvals)
    keep = good[rle]
    rle, pos, vals = rle[keep], pos[keep], values[keep]
    runs = vals.copy()
    for parity in (0, 1):
        sel = np.flatnonzero((pos % 2 == parity) & (pos >= (2 if parity == 0 else 1)))
        runs[sel] = _segmented_cumsum(vals[sel], rle[sel])
    ends = _segmented_cumsum(runs, rle)  # where each run ends, per RLE
    # a run of ones is an odd position p: it spans [end of run p - 1, end of run p)
    ones = np.flatnonzero(pos % 2 == 1)
    on_start, on_end, mask = ends[ones - 1], np.minimum(ends[ones], height * width), rle[ones]
    nonempty = on_end > on_start
    on_start, on_end, mask = on_start[nonempty], on_end[nonempty], mask[nonempty]
    if not len(mask):
        return out
    first_col, last_col = on_start // height, (on_end - 1) // height
    same = first_col == last_col
    which, first = np.unique(mask, return_index=True)  # masks with pixels, and their first run
    y0 = np.minimum.reduceat(np.where(same, on_start % height, 0), first)
    y1 = np.maximum.reduceat(np.where(same, (on_end - 1) % height, height - 1), first)
    x0 = np.minimum.reduceat(first_col, first)
    x1 = np.maximum.reduceat(last_col, first)
    ch, cw = y1 - y0 + 1, x1 - x0 + 1
    size = ch * cw + 1  # one spare cell per crop: a run may end at the crop's last pixel
    base = np.cumsum(size) - size
    slot = np.searchsorted(which, mask)  # each run's mask among ``which``
    local_start = (first_col - x0[slot]) * ch[slot] + (on_start % height - y0[slot])
    local_end = local_start + (on_end - on_start)
    total = int(size.sum())
    diff = (np.bincount(base[slot] + local_start, minlength=total)
            - np.bincount(base[slot] + local_end, minlength=total))
    flat = np.cumsum(diff) > 0  # each crop's starts and ends cancel within it
    areas = np.bincount(slot, weights=on_end - on_start, minlength=len(which)).astype(np.int64)
    for j, i in enumerate(which.tolist()):
        if j % 16 == 15 and cancelled():
            break
        b, h_, w_ = int(base[j]), int(ch[j]), int(cw[j])
        crop = flat[b:b + h_ * w_].reshape(w_, h_).T
        # the outline per crop, on the crop's own pixels (a pass over every pixel of every crop
        # at once, with int64 positions, was slower)
        ys, xs = np.nonzero(mask_outline(crop))
        out[i] = MaskCrop(int(y0[j]), int(x0[j]), crop, ys + int(y0[j]), xs + int(x0[j]), int(areas[j]))
    return out
