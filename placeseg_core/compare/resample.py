"""pycocotools' ``accumulate`` (area "all", maxDets[-1]) for many resamples at once.

For one category and threshold, pycocotools walks the sorted detections with running counts
``tp`` and ``fp``, takes ``pr = tp / (fp + tp + eps)``, replaces it by its running maximum from
the right, and reads it at the first position where ``tp`` reaches each recall threshold
(``tp >= kmin[r]``, see ``accumulate._recall_steps``); past the end, precision is 0.

Only positions where a true positive lands matter: at a false positive ``pr`` drops and ``tp``
is unchanged, and an ignored detection repeats the previous values. Between two true
positives the sum ``fp + tp`` is the count ``N`` of non-ignored detections so far. For a
regular slot repeated ``w`` times (a true positive whose image was drawn ``w`` times), ``pr``
rises over the copies (``fp`` fixed), so the maximum over the block -- and over any tail of it
-- sits at its last copy: one point per slot is exact. The floats are pycocotools' own:
``C / (N + eps)`` with ``C`` and ``N`` exact integers equals ``tp / (fp + tp + eps)``.

Every array here is (resamples, columns): one row per resample of the batch, one column per
regular slot; a mixed tie group takes its cells (``groups.py``) and a column for its total.
"""

from __future__ import annotations

import numpy as np

from ..evaluation.accumulate import _recall_steps
from .groups import ALL, GroupCells, expand_groups
from .table import BootstrapTable, CategorySlots

_EPS = np.spacing(1)


class RecallSteps:
    """``kmin[v, r]``: least true-positive count reaching recall threshold r with v objects."""

    def __init__(self, rec_thrs: np.ndarray) -> None:
        self.rec_thrs = rec_thrs
        self.table = np.zeros((1, len(rec_thrs)), dtype=np.int64)  # row 0: no objects (unused)

    def rows(self, counts: np.ndarray) -> np.ndarray:
        top = int(counts.max()) if counts.size else 0
        have = len(self.table) - 1
        if top > have:
            extra = [_recall_steps(v, self.rec_thrs).astype(np.int64) for v in range(have + 1, top + 1)]
            self.table = np.concatenate((self.table, np.stack(extra)))
        return self.table[counts]


def image_counts(draws: np.ndarray, num_images: int) -> np.ndarray:
    """(B, n) how many times each image was drawn in each resample."""
    B = len(draws)
    flat = (np.arange(B, dtype=np.int64)[:, None] * num_images + draws).ravel()
    # int32: every count below is at most the number of detections (well below 2**31), and
    # the narrower columns halve the memory traffic of the gathers and running sums
    return np.bincount(flat, minlength=B * num_images).reshape(B, num_images).astype(np.int32)


def resampled_npig(table: BootstrapTable, counts: np.ndarray) -> np.ndarray:
    """(B, K) non-ignored ground truth per category of each resample: each drawn copy counts.
    (A sparse sum over the few (image, category) pairs with objects; no BLAS threads.)"""
    img, num, cat = table.npig_nonzero
    out = np.zeros((len(counts), table.num_categories), dtype=np.int64)
    if len(img):
        bounds = np.flatnonzero(np.r_[True, cat[1:] != cat[:-1]])
        out[:, cat[bounds]] = np.add.reduceat(counts[:, img].astype(np.int64) * num, bounds, axis=1)
    return out


class _Layout:
    """One category's columns in one batch.

    A regular slot is one column; a mixed group is ``width[g]`` *cell* columns (its
    true-positive-capable entries in the row's order, ``groups.py``) and one *total* column.
    ``weight`` is what each column adds to the running count of non-ignored detections (a
    regular slot: its image's draw count, also its true positives; a cell: nothing, its true
    positive is read row by row; a total column: the group's entries).
    """

    def __init__(self, table: BootstrapTable, cs: CategorySlots, counts: np.ndarray, groups: GroupCells) -> None:
        S = len(cs.slot_det)
        is_group = cs.slot_group >= 0
        self.groups = groups
        self.col_slot: np.ndarray | None = None
        self.cell: np.ndarray | None = None  # (columns,) the cell of a cell column, else -1
        self.total_col: np.ndarray | None = None  # (columns,) bool
        self.total_group = np.zeros(0, dtype=np.int64)  # the group of each total column
        if not is_group.any():
            self.col_det = cs.slot_det
            self.weight = np.take(counts, table.det_img[cs.slot_det], axis=1)
            return
        width = np.ones(S, dtype=np.int64)
        width[is_group] = groups.width[cs.slot_group[is_group]] + 1
        col_start = np.cumsum(width) - width
        col_slot = np.repeat(np.arange(S, dtype=np.int64), width)
        within = np.arange(len(col_slot), dtype=np.int64) - col_start[col_slot]
        in_group = is_group[col_slot]
        total_col = in_group & (within == width[col_slot] - 1)
        cell_col = in_group & ~total_col
        g_of_col = cs.slot_group[col_slot]
        cell = np.full(len(col_slot), -1, dtype=np.int64)
        cell[cell_col] = groups.start[g_of_col[cell_col]] + within[cell_col]
        self.col_slot, self.cell, self.total_col = col_slot, cell, total_col
        self.col_det = cs.slot_det[col_slot]
        self.total_group = g_of_col[total_col]
        weight = np.take(counts, table.det_img[self.col_det], axis=1)
        weight[:, cell_col] = 0
        weight[:, total_col] = groups.total[ALL][:, self.total_group]
        self.weight = weight

    def columns(self, cs: CategorySlots, t: int) -> np.ndarray:
        """Columns where a true positive can land at threshold t."""
        if self.col_slot is None or self.total_col is None:
            return np.flatnonzero(cs.slot_tp[t])
        return np.flatnonzero(cs.slot_tp[t][self.col_slot] & ~self.total_col)

    def cells_in(self, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of ``cols`` are cells (positions in ``cols``), and their cell indices."""
        if self.cell is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        cell = self.cell[cols]
        sel = np.flatnonzero(cell >= 0)
        return sel, cell[sel]

    def pattern_weight(self, table: BootstrapTable, pattern: int) -> np.ndarray:
        """``weight`` when only detections non-ignored at threshold ``pattern`` count."""
        weight = self.weight * table.nonig[pattern][self.col_det][None, :]
        if self.total_col is not None:
            weight[:, self.total_col] = self.groups.total[pattern][:, self.total_group]
        return weight


def resampled_precision(table: BootstrapTable, draws: np.ndarray, steps: RecallSteps | None = None,
                        out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Interpolated precision (area "all", maxDets[-1]) of each resample (rows of ``draws``).

    A resample is a row of image indices in draw order, each draw a distinct image. Returns
    ``(precision, defined)``: precision (B, K, T, R) -- pycocotools' ``precision[:, :, k, 0,
    -1]`` with the category axis first, so that each category's block is written at once --
    and ``defined`` (B, K), the categories with non-ignored ground truth in the resample
    (elsewhere pycocotools leaves -1; here the block is left as it was). ``out``: a buffer of
    that shape to reuse.
    """
    params = table.params
    T, R, K = params.num_thresholds, len(params.rec_thrs), table.num_categories
    B = len(draws)
    steps = steps or RecallSteps(params.rec_thrs)
    counts = image_counts(draws, table.num_images)
    npig = resampled_npig(table, counts)
    groups = expand_groups(table, draws)
    precision = out if out is not None and out.shape == (B, K, T, R) else np.empty((B, K, T, R))
    for cs in table.categories:
        k = cs.k
        if not (npig[:, k] > 0).any():
            continue
        if len(cs.slot_det) == 0:
            precision[:, k] = 0.0
            continue
        lay = _Layout(table, cs, counts, groups)
        levels = np.maximum(steps.rows(npig[:, k]), 1)  # kmin 0 (recall 0) reads the first point
        precision[:, k] = _category_curves(table, cs, lay, levels)
    return precision, npig > 0


def _non_ignored_before(table: BootstrapTable, cs: CategorySlots, lay: _Layout, cols: np.ndarray,
                        per_t: list[np.ndarray], seg_len: np.ndarray) -> np.ndarray:
    """(B, m) non-ignored detections up to and including each candidate column."""
    T = len(per_t)
    sel, cell = lay.cells_in(cols)
    if cs.clean:
        n_at = np.take(np.cumsum(lay.weight, axis=1, dtype=np.int32), cols, axis=1)
        if len(sel):
            n_at[:, sel] += lay.groups.before[ALL][:, cell]
        return n_at
    n_at = np.empty((lay.weight.shape[0], len(cols)), dtype=np.int32)
    bounds = np.concatenate(([0], np.cumsum(seg_len)))
    seg_t = np.repeat(np.arange(T), seg_len)
    by_pattern: dict[int, np.ndarray] = {}
    for t in range(T):
        rep = cs.nonig_rep[t]
        if rep not in by_pattern:
            by_pattern[rep] = np.cumsum(lay.pattern_weight(table, rep), axis=1, dtype=np.int32)
        n_at[:, bounds[t] : bounds[t + 1]] = by_pattern[rep][:, per_t[t]]
        here = seg_t[sel] == t
        if here.any():
            n_at[:, sel[here]] += lay.groups.before[rep][:, cell[here]]
    return n_at


def _category_curves(table: BootstrapTable, cs: CategorySlots, lay: _Layout, levels: np.ndarray) -> np.ndarray:
    """(B, T, R) interpolated precision of one category at every threshold.

    The candidate columns of all thresholds side by side, one segment per threshold, so that
    the heavy steps are one call each.
    """
    T = table.params.num_thresholds
    B, R = levels.shape
    per_t = [lay.columns(cs, t) for t in range(T)]
    seg_len = np.array([len(c) for c in per_t])
    if not seg_len.any():
        return np.zeros((B, T, R))
    bounds = np.concatenate(([0], np.cumsum(seg_len)))
    cols = np.concatenate(per_t)
    tp_w = np.take(lay.weight, cols, axis=1)
    sel, cell = lay.cells_in(cols)
    if len(sel):  # a cell holds other detections in other rows: their outcome, row by row
        seg_of = np.repeat(np.arange(T, dtype=np.int64) * table.tp.shape[1], seg_len)[sel]
        tp_w[:, sel] = table.tp.ravel()[seg_of + lay.groups.det[:, cell]]
    n_at = _non_ignored_before(table, cs, lay, cols, per_t, seg_len)
    segments = [(int(bounds[t]), int(bounds[t + 1])) for t in range(T) if seg_len[t]]
    has = np.flatnonzero(seg_len)
    # true positives counted over the whole batch, row after row and threshold after
    # threshold: one running sum, and each segment's count is that sum less its value before
    # the segment (``base``)
    flat = tp_w.ravel()
    running = np.cumsum(flat, dtype=np.int64)
    if running[-1] == 0:
        return np.zeros((B, T, R))
    before = (running - flat).reshape(B, -1)
    base = np.zeros((B, T), dtype=np.int64)
    base[:, has] = before[:, bounds[has]]
    c = running.reshape(B, -1) - np.take(base, np.repeat(np.arange(T), seg_len), axis=1)
    # pycocotools' tp / (fp + tp + eps): fp + tp is the exact count n_at. A column where no
    # true positive lands has the count c of the point before it and an n_at no smaller (it
    # never falls along a row, empty cells included), so its value never exceeds that point's
    # and never changes a running maximum read at a point.
    pr = np.add(n_at, _EPS)
    np.divide(c, pr, out=pr)
    for a, b in segments:  # running maximum from the right, in place
        np.maximum.accumulate(pr[:, a:b][:, ::-1], axis=1, out=pr[:, a:b][:, ::-1])
    total = np.zeros((B, T), dtype=np.int64)
    total[:, has] = c[:, bounds[has + 1] - 1]
    # count v of a segment (1..total) is reached in the first column whose running sum is at
    # least base + v: the number of columns whose running sum is below it
    below = np.cumsum(np.bincount(running, minlength=int(running[-1]) + 1))
    lv = levels[:, None, :]
    ok = lv <= total[:, :, None]
    at = below[np.where(ok, base[:, :, None] + lv - 1, 0)]
    return np.where(ok, pr.ravel()[np.minimum(at, pr.size - 1)], 0.0)


def mean_ap_rows(precision: np.ndarray, defined: np.ndarray) -> np.ndarray:
    """The headline mean AP of each resample, as pycocotools' ``np.mean(s[s > -1])`` computes
    it: the defined categories' entries in (threshold, recall, category) order -- the same
    elements in the same order, so the same float. NaN where nothing is defined."""
    out = np.full(len(precision), np.nan)
    for b in range(len(precision)):
        keep = np.flatnonzero(defined[b])
        if keep.size:
            out[b] = np.mean(precision[b, keep].transpose(1, 2, 0).ravel())
    return out


def as_pycocotools(precision: np.ndarray, defined: np.ndarray) -> np.ndarray:
    """(B, T, R, K) with -1 for undefined categories: pycocotools' layout, for comparisons."""
    out = precision.transpose(0, 2, 3, 1).copy()
    out[np.broadcast_to(~defined[:, None, None, :], out.shape)] = -1.0
    return out
