"""Decode compressed COCO RLE straight into the mask's bounding-box crop (numpy, Qt-free).

``pycocotools.mask.decode`` writes a full ``H×W`` array per mask; drawing 100 predictions of a
683×512 image that way moves 35 MB and takes tens of milliseconds. Predictions are small
compared with the image, so this decoder reads the run lengths from the string (vectorised)
and fills only the crop. Results equal ``pycocotools.mask.decode`` (tested).
"""

from __future__ import annotations

import numpy as np


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
