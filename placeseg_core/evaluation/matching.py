"""Greedy matching of pycocotools' ``evaluateImg``, vectorised across groups, areas and thresholds.

For one (image, category) group, one area range and one IoU threshold, pycocotools walks the
detections in score order and, for each, the ground truths sorted "not ignored first" (stable):

    iou = min(t, 1 - 1e-10); m = -1
    for g in gts:
        if matched[g] and not crowd[g]: continue   # a crowd region can be matched many times
        if m > -1 and not ignored[m] and ignored[g]: break
        if ious[d, g] < iou: continue
        iou = ious[d, g]; m = g                      # '<' : on equal IoU the LATER gt wins

which is: the best available non-ignored GT with IoU >= t (ties -> last in file order); if there
is none, the best available ignored GT the same way. Groups are independent and so are the
(area, threshold) lanes, so we run detection step ``r`` of every group at once, over all
``A * T`` lanes, with numpy. Only detections with some IoU >= the lowest threshold can ever
match, and only ground truths some detection overlaps that much can be matched; the others
change nothing and are dropped first ("compaction"), which leaves small dense blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: pycocotools: ``iou = min([t, 1 - 1e-10])`` -- a threshold of 1 would still accept IoU 1.
MAX_THRESHOLD = 1 - 1e-10


@dataclass
class Groups:
    """(image, category) groups of one chunk, flattened.

    Group j has ``num_dt[j]`` detections (score order) and ``num_gt[j]`` ground truths (file
    order); its IoU matrix from pycocotools.mask.iou is stored row-major in ``ious``.
    """

    num_dt: np.ndarray  # int64 (n,)
    num_gt: np.ndarray  # int64 (n,)
    dt_index: np.ndarray  # int64 (sum num_dt,): submission indices
    gt_rows: np.ndarray  # int64 (sum num_gt,): ground-truth rows
    ious: np.ndarray  # float64 (sum num_dt * num_gt,)

    def subset_dt(self, keep: np.ndarray) -> Groups:
        """The same groups with only the detections where ``keep`` (per detection) is true."""
        n = len(self.num_dt)
        group_of_dt = np.repeat(np.arange(n), self.num_dt)
        elem_keep = np.repeat(keep, self.num_gt[group_of_dt])
        return Groups(np.bincount(group_of_dt[keep], minlength=n).astype(np.int64), self.num_gt,
                      self.dt_index[keep], self.gt_rows, self.ious[elem_keep])


@dataclass
class MatchOutput:
    """Matches of the detections that overlap something; every other detection is unmatched."""

    dt_index: np.ndarray  # int64 (C,): submission indices
    gt_row: np.ndarray  # int32 (C, A, T): matched ground-truth row per lane, -1 if none
    iou_all: np.ndarray  # float64 (C, T): IoU of the match in area lane 0 ("all"), NaN if none

    @staticmethod
    def empty(num_areas: int, num_thrs: int) -> MatchOutput:
        return MatchOutput(
            np.zeros(0, np.int64),
            np.zeros((0, num_areas, num_thrs), np.int32),
            np.zeros((0, num_thrs), np.float64),
        )

    @staticmethod
    def concat(parts: list[MatchOutput], num_areas: int, num_thrs: int) -> MatchOutput:
        parts = [p for p in parts if len(p.dt_index)]
        if not parts:
            return MatchOutput.empty(num_areas, num_thrs)
        return MatchOutput(
            np.concatenate([p.dt_index for p in parts]),
            np.concatenate([p.gt_row for p in parts]),
            np.concatenate([p.iou_all for p in parts]),
        )


def _bucket_width(g: np.ndarray) -> np.ndarray:
    """Padded width of a group with g candidate GTs: exact up to 8, then the next power of 2."""
    pow2 = np.left_shift(1, np.ceil(np.log2(np.maximum(g, 1))).astype(np.int64))
    return np.where(g <= 8, g, pow2)


def offsets(counts: np.ndarray) -> np.ndarray:
    """Exclusive prefix sums with the total at the end: [0, c0, c0 + c1, ...]."""
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def match_groups(groups: Groups, gt_ignore: np.ndarray, gt_crowd: np.ndarray, iou_thrs: np.ndarray) -> MatchOutput:
    """Match every group. ``gt_ignore`` is (A, rows): pycocotools' per-area ``_ignore`` flag."""
    num_areas = gt_ignore.shape[0]
    thrs = np.minimum(np.asarray(iou_thrs, dtype=np.float64), MAX_THRESHOLD)
    num_thrs = len(thrs)
    n = len(groups.num_dt)
    if n == 0 or len(groups.ious) == 0:
        return MatchOutput.empty(num_areas, num_thrs)
    nd, ng = groups.num_dt, groups.num_gt
    # element -> (group, global row, global column)
    size = nd * ng
    elem_start, row_base, col_base = offsets(size), offsets(nd), offsets(ng)
    group_of_elem = np.repeat(np.arange(n), size)
    local = np.arange(len(groups.ious)) - elem_start[group_of_elem]
    width_e = ng[group_of_elem]
    row = row_base[group_of_elem] + local // width_e
    col = col_base[group_of_elem] + local % width_e
    # Compaction: detections / ground truths with no IoU >= the lowest threshold never match
    # and never change another's match.
    hit = groups.ious >= thrs.min()
    row_keep = np.zeros(row_base[-1], dtype=bool)
    row_keep[row[hit]] = True
    col_keep = np.zeros(col_base[-1], dtype=bool)
    col_keep[col[hit]] = True
    group_of_row = np.repeat(np.arange(n), nd)
    group_of_col = np.repeat(np.arange(n), ng)
    new_nd = np.bincount(group_of_row[row_keep], minlength=n)
    new_ng = np.bincount(group_of_col[col_keep], minlength=n)
    # rank of each kept row / column within its group (exclusive prefix counts per group start)
    kept_before_row = offsets(row_keep)
    new_row = kept_before_row[1:] - 1 - kept_before_row[row_base[:-1]][group_of_row]
    kept_before_col = offsets(col_keep)
    new_col = kept_before_col[1:] - 1 - kept_before_col[col_base[:-1]][group_of_col]
    elem_keep = row_keep[row] & col_keep[col]
    widths = _bucket_width(new_ng)
    parts = []
    for width in np.unique(widths[new_nd > 0]).tolist():
        members = np.flatnonzero((widths == width) & (new_nd > 0))
        # longest groups first, so that the groups still active at step r are a prefix
        members = members[np.argsort(-new_nd[members], kind="stable")]
        parts.append(_match_bucket(int(width), members, new_nd, groups, row_keep, col_keep, new_row,
                                   new_col, elem_keep, row, col, group_of_elem, group_of_row,
                                   group_of_col, gt_ignore, gt_crowd, thrs))
    return MatchOutput.concat(parts, num_areas, num_thrs)


def _match_bucket(width: int, members: np.ndarray, new_nd: np.ndarray, groups: Groups,
                  row_keep: np.ndarray, col_keep: np.ndarray, new_row: np.ndarray, new_col: np.ndarray,
                  elem_keep: np.ndarray, row: np.ndarray, col: np.ndarray, group_of_elem: np.ndarray,
                  group_of_row: np.ndarray, group_of_col: np.ndarray, gt_ignore: np.ndarray,
                  gt_crowd: np.ndarray, thrs: np.ndarray) -> MatchOutput:
    num_areas, num_thrs = gt_ignore.shape[0], len(thrs)
    n = len(members)
    slot = np.full(len(new_nd), -1, dtype=np.int64)  # group -> position in this bucket
    slot[members] = np.arange(n)
    depth = new_nd[members]
    starts = offsets(depth)[:-1]
    total = int(depth.sum())
    # rows of the bucket: kept detections of member groups
    r_sel = row_keep & (slot[group_of_row] >= 0)
    r_pos = starts[slot[group_of_row[r_sel]]] + new_row[r_sel]
    dt_index = np.empty(total, dtype=np.int64)
    dt_index[r_pos] = groups.dt_index[r_sel]
    c_sel = col_keep & (slot[group_of_col] >= 0)
    gt_rows = np.full((n, width), -1, dtype=np.int64)
    gt_rows[slot[group_of_col[c_sel]], new_col[c_sel]] = groups.gt_rows[c_sel]
    e_sel = elem_keep & (slot[group_of_elem] >= 0)
    ious = np.full((total, width), -1.0)  # padding never reaches a threshold
    e_rows = starts[slot[group_of_elem[e_sel]]] + new_row[row[e_sel]]
    ious[e_rows, new_col[col[e_sel]]] = groups.ious[e_sel]
    valid = gt_rows >= 0
    safe_rows = np.where(valid, gt_rows, 0)
    ignored = gt_ignore[:, safe_rows].transpose(1, 0, 2)  # (n, A, W)
    crowd = gt_crowd[safe_rows] & valid  # (n, W)
    matched = np.zeros((n, num_areas, num_thrs, width), dtype=bool)
    out = np.full((total, num_areas, num_thrs), -1, dtype=np.int32)
    out_iou = np.full((total, num_thrs), np.nan)
    neg_depth = -depth
    last = width - 1
    for r in range(int(depth[0])):
        active = int(np.searchsorted(neg_depth, -r, side="left"))  # groups with depth > r
        rows = starts[:active] + r
        x = ious[rows]  # (n_r, W)
        reach = x[:, None, :] >= thrs[None, :, None]  # (n_r, T, W)
        avail = ~matched[:active] | crowd[:active, None, None, :]
        ok = avail & reach[:, None, :, :]  # (n_r, A, T, W)
        ign = ignored[:active, :, None, :]
        xv = np.broadcast_to(x[:, None, None, :], ok.shape)
        best = np.full(ok.shape[:3], -1, dtype=np.int64)
        # ignored ones first, so that a non-ignored match overrides (pycocotools' 'break')
        for section in (ok & ign, ok & ~ign):
            vals = np.where(section, xv, -2.0)
            j = last - np.argmax(vals[..., ::-1], axis=-1)  # last index among equal maxima
            # a lane has a candidate iff the section is non-empty (vals > -2 exactly there)
            best = np.where(section.any(axis=-1), j, best)
        g_i, a_i, t_i = np.nonzero(best >= 0)
        matched[g_i, a_i, t_i, best[g_i, a_i, t_i]] = True
        out[rows] = best
        b0 = best[:, 0, :]
        out_iou[rows] = np.where(b0 >= 0, x[np.arange(len(rows))[:, None], np.maximum(b0, 0)], np.nan)
    # local column -> ground-truth row
    group_of_row = np.repeat(np.arange(n), depth)
    local = out.astype(np.int64)
    global_rows = gt_rows[group_of_row[:, None, None], np.maximum(local, 0)]
    out = np.where(local >= 0, global_rows, -1).astype(np.int32)
    return MatchOutput(dt_index, out, out_iou)
