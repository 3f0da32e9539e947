"""Polygons (and boxes without a mask) drawn at their image's size, as ``COCO.annToRLE`` draws them.

:func:`rasterise` runs once the ground truth gives the images' sizes. Per image size, every
coordinate of every polygon is converted to float64 at once (as ``frPoly`` converts each part
with ``np.array(part, dtype=double)``) and checked -- finite, within one image side of the
image (:data:`~placeseg_core.safety.masks.POLYGON_MARGIN`), a first part of more than 4
numbers -- and then drawn from those arrays with pycocotools' own ``frPyObjects`` and
``merge``: the masks are bit for bit the official ones. Anything unusual is checked polygon by
polygon (:func:`~.shapes.polygon_fault`), which names the first item pycocotools would fail or
crash on.

A large set is drawn in two processes (a forked helper takes every other polygon of each size).
The helper reads only the numpy arrays: walking 12 million Python floats in a forked child would
copy every page they live on (their reference counts change) and cost more than it saves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from itertools import chain
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from ..processes import PARALLEL_MIN_PREDICTIONS, choose_workers, run_parts
from ..safety.masks import POLYGON_MARGIN
from ..safety.numbers import MAX_IMAGE_PIXELS
from .model import Submission, SubmissionError
from .shapes import BoxPolygon, polygon_fault


@dataclass
class _Flat:
    """The polygons of one image size as arrays: every coordinate, part after part."""

    coords: np.ndarray  # float64: all coordinates of all parts
    starts: np.ndarray  # int64 (P,): where each part begins in ``coords``
    lengths: np.ndarray  # int64 (P,): its number of coordinates
    first: np.ndarray  # int64 (N + 1,): each polygon list's first part (and the end)

    def parts(self, positions: range) -> list[np.ndarray]:
        """The parts of the polygon lists at ``positions``, as views of ``coords``."""
        c, s, n, f = self.coords, self.starts.tolist(), self.lengths.tolist(), self.first.tolist()
        return [c[s[j] : s[j] + n[j]] for k in positions for j in range(f[k], f[k + 1])]


def _flatten(segs: list[Any], h: int, w: int) -> _Flat | None:
    """The arrays of polygon lists pycocotools draws safely, or None when anything is unusual."""
    if not segs or not set(map(type, segs)) <= {list, BoxPolygon}:
        return None
    n_parts = np.fromiter(map(len, segs), dtype=np.int64, count=len(segs))
    parts = list(chain.from_iterable(segs))
    if (n_parts == 0).any() or set(map(type, parts)) != {list}:
        return None
    lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    first = np.concatenate(([0], np.cumsum(n_parts)))
    if (lengths[first[:-1]] <= 4).any():  # frPyObjects fails on a first part of 4 numbers or fewer
        return None
    try:
        coords = np.fromiter(chain.from_iterable(parts), dtype=np.float64, count=int(lengths.sum()))
    except (TypeError, ValueError, OverflowError):
        return None
    if not np.isfinite(coords).all():
        return None
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    if (lengths % 2).any():  # frPoly reads len // 2 points of each part
        k = lengths // 2
        runs = np.repeat(starts, k)
        offset = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
        x_at = runs + 2 * offset
        x, y, counts = coords[x_at], coords[x_at + 1], k
    else:
        x, y, counts = coords[0::2], coords[1::2], lengths // 2
    counts = counts[counts > 0]
    bounds = np.concatenate(([0], np.cumsum(counts)[:-1]))
    m = POLYGON_MARGIN
    inside = (np.minimum.reduceat(x, bounds).min() >= -m * w and np.maximum.reduceat(x, bounds).max() <= (1 + m) * w
              and np.minimum.reduceat(y, bounds).min() >= -m * h and np.maximum.reduceat(y, bounds).max() <= (1 + m) * h)
    return _Flat(coords, starts, lengths, first) if inside else None


def _fault(seg: Any, h: int, w: int) -> str | None:
    fault = polygon_fault(seg, h, w)
    if fault is not None and isinstance(seg, BoxPolygon):  # the item has no polygon: name its box
        fault = "bbox: the item has no segmentation, so its box is drawn as its mask, and " + fault.split(": ", 1)[1]
    return fault


def _draw(parts: list[Any], sizes: list[int], h: int, w: int) -> list[str]:
    """annToRLE's masks as counts strings: ``parts`` of polygon lists of ``sizes`` parts each.

    One frPoly call for every part of every polygon: frPyObjects dispatches on the first part
    only, which has more than 4 numbers (checked), and frPoly draws each part on its own, so each
    is what annToRLE's own call makes; then annToRLE's merge of each item's parts (merging one
    part returns it unchanged)."""
    if not parts:
        return []
    drawn = mask_utils.frPyObjects(parts, h, w)
    out: list[str] = []
    k = 0
    for n in sizes:
        rle = drawn[k] if n == 1 else mask_utils.merge(drawn[k : k + n])
        k += n
        out.append(rle["counts"].decode("ascii"))
    return out


class _Quiet:
    """No progress to report, nothing to cancel (what :func:`run_parts` asks of a control)."""

    def advance(self, steps: int = 1) -> None:
        pass

    def check(self) -> None:
        pass


def _groups(sub: Submission, sizes: Mapping[int, tuple[int, int] | None], skip_unknown: bool) -> dict[tuple[int, int], list[int]]:
    """The pending items by their image's (height, width), in file order."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i in sorted(sub.pending_polygons):
        image_id = int(sub.image_ids[i])
        if image_id not in sizes:
            if skip_unknown:
                continue
            raise SubmissionError(f"{sub.source}: item {i}: image_id {image_id} is not in the ground truth's images")
        size = sizes[image_id]
        if size is None or not (0 < size[0] and 0 < size[1] and size[0] * size[1] <= MAX_IMAGE_PIXELS):
            raise SubmissionError(
                f"{sub.source}: item {i}, field segmentation: polygons (and boxes without a mask) are drawn "
                f"at their image's height and width, and image {image_id} has no usable 'height' and "
                "'width' in the ground truth (pycocotools' annToRLE fails on it)")
        groups.setdefault(size, []).append(i)
    return groups


def rasterise(sub: Submission, sizes: Mapping[int, tuple[int, int] | None], skip_unknown: bool = False,
              workers: int | None = 1) -> Submission:
    """The submission with every polygon (a box-only item's too) drawn as compressed RLE at its
    image's ``(height, width)`` from ``sizes``, exactly as ``COCO.annToRLE`` draws it.

    A new :class:`Submission` (the given one is not changed); the same one when nothing is
    pending. :class:`SubmissionError` names the first item (lowest index) that cannot be drawn.
    An image missing from ``sizes`` is an error unless ``skip_unknown`` (the window: such items
    are never drawn), when the item keeps its placeholder. ``workers``: as for the fast engine
    (None: a forked helper draws half of a large set when that is safe; 1: this process only).
    """
    pending = sub.pending_polygons
    if not pending:
        return sub
    order = list(_groups(sub, sizes, skip_unknown).items())
    flats: list[_Flat | None] = []
    faults: list[tuple[int, str]] = []
    for (h, w), items in order:
        flat = _flatten([pending[i] for i in items], h, w)
        flats.append(flat)
        if flat is None:  # something unusual: polygon by polygon, the first fault named
            faults += [(i, f) for i, f in ((i, _fault(pending[i], h, w)) for i in items) if f is not None][:1]
    if faults:
        i, fault = min(faults)
        raise SubmissionError(f"{sub.source}: item {i}, field {fault}")
    n = choose_workers(workers, len(pending) >= PARALLEL_MIN_PREDICTIONS)

    def task(p: int, tick: Callable[[], None]) -> list[list[str]]:
        """Every ``n``-th polygon list of each size, from the ``p``-th on, drawn."""
        out = []
        for ((h, w), items), flat in zip(order, flats, strict=True):
            mine = range(p, len(items), n)
            if flat is not None:
                parts, counts = flat.parts(mine), (flat.first[1:] - flat.first[:-1])[p::n].tolist()
            else:  # odd shapes pycocotools draws all the same: from the lists themselves
                segs = [pending[items[k]] for k in mine]
                parts, counts = [part for seg in segs for part in seg], [len(seg) for seg in segs]
            out.append(_draw(parts, counts, h, w))
            tick()
        return out

    results = run_parts(task, n, _Quiet()) if n > 1 else [task(0, lambda: None)]
    rles = list(sub.rles)
    assert sub.mask_sizes is not None
    mask_sizes = sub.mask_sizes.copy()
    for g, ((h, w), items) in enumerate(order):
        for p, drawn in enumerate(results):
            for i, counts in zip(items[p::n], drawn[g], strict=True):
                rles[i] = {"size": [h, w], "counts": counts}
                mask_sizes[i] = (h, w)
    left = {i: seg for i, seg in pending.items() if rles[i]["counts"] == ""}
    # masks drawn here were not decoded by the loader: no areas kept (the engine computes them)
    return replace(sub, rles=rles, mask_sizes=mask_sizes, pending_polygons=left, mask_areas=None)
