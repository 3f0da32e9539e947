"""pycocotools' ``accumulate()``, with the same float operations, on columns instead of dicts.

pycocotools concatenates, per (category, area, maxDet), the per-image results in ascending image
order (each image's detections in its score order, cut at maxDet), then ranks them with a
stable mergesort on ``-score``: on equal scores the earlier image, then the earlier detection
in that image's order, comes first. One ``np.lexsort`` on (category, -score, image, rank) gives
that order for all categories at once; cutting at a smaller maxDet keeps the relative order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import EvalParams


@dataclass
class LaneFlags:
    """Per scored detection and (area, threshold) lane: true / false positive (else ignored)."""

    tp: np.ndarray  # bool (n, A, T)
    fp: np.ndarray  # bool (n, A, T)


@dataclass
class Accumulated:
    """``COCOeval.eval``'s arrays; -1 marks "no ground truth" (pycocotools' convention)."""

    precision: np.ndarray  # (T, R, K, A, M)
    recall: np.ndarray  # (T, K, A, M)
    scores: np.ndarray  # (T, R, K, A, M)


def ranked_order(cat_idx: np.ndarray, img_idx: np.ndarray, rank: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Detections by category, then pycocotools' ranking: -score, ties by image then rank."""
    return np.lexsort((rank, img_idx, -score, cat_idx))


def ranked_order_in_group_order(cat_idx: np.ndarray, score: np.ndarray) -> np.ndarray:
    """:func:`ranked_order` of columns listed in group order (image, category, rank), as
    ``Plan.scored`` lists them. lexsort is stable, so among equal (category, score) the list
    order -- image, then rank -- is kept: two keys give the four-key order, 2.5x faster."""
    return np.lexsort((-score, cat_idx))


def accumulate(
    params: EvalParams,
    num_categories: int,
    cat_idx: np.ndarray,
    img_idx: np.ndarray,
    rank: np.ndarray,
    score: np.ndarray,
    flags: LaneFlags,
    npig: np.ndarray,
    cancel_check: object = None,
    base: Accumulated | None = None,
    categories: np.ndarray | None = None,
    order: np.ndarray | None = None,
    slots: np.ndarray | None = None,
) -> Accumulated:
    """Precision, recall and score arrays exactly as ``COCOeval.accumulate`` makes them.

    ``cat_idx``, ``img_idx``, ``rank``, ``score`` describe the scored detections (rank within
    their image and category, all < maxDets[-1]); ``npig`` (K, A) counts non-ignored GTs.
    With ``base`` and ``categories``, only those category indices are recomputed and the rest
    is copied from ``base`` (for variants that differ in a few categories). ``order`` is
    :func:`ranked_order` of the same columns, when the caller already has it. ``slots`` (K,)
    says where each category goes on the arrays' K axis (-1: not computed); the arrays then
    hold ``max(slots) + 1`` categories -- a process evaluating some categories allocates only
    theirs (the full arrays are ~10 MB each for 100 categories).
    """
    T, R = len(params.iou_thrs), len(params.rec_thrs)
    K, A, M = num_categories, len(params.area_rngs), len(params.max_dets)
    if slots is None:
        slots = np.arange(K)
    K_out = int(slots.max()) + 1 if len(slots) else 0
    if base is not None:
        precision, recall, scores = base.precision.copy(), base.recall.copy(), base.scores.copy()
    else:
        precision = np.full((T, R, K_out, A, M), -1.0)  # one allocation instead of ones + negation
        recall = np.full((T, K_out, A, M), -1.0)
        scores = np.full((T, R, K_out, A, M), -1.0)
    if order is None:
        order = ranked_order(cat_idx, img_idx, rank, score)
    sorted_cat = cat_idx[order]
    bounds = np.searchsorted(sorted_cat, np.arange(K + 1), side="left")
    eps = np.spacing(1)
    todo = range(K) if categories is None else np.unique(categories).tolist()
    for k in todo:
        slot = int(slots[k])
        if slot < 0:
            continue
        n_pos = npig[k]  # (A,)
        areas = np.flatnonzero(n_pos > 0)  # pycocotools: 'if npig == 0: continue' leaves -1
        if len(areas) == 0:
            continue
        if callable(cancel_check):
            cancel_check()
        # minimal true-positive count reaching each recall threshold (see _recall_steps)
        kmin = np.stack([_recall_steps(int(n_pos[a]), params.rec_thrs) for a in areas])  # (A', R)
        order_k = order[bounds[k] : bounds[k + 1]]
        rank_k = rank[order_k]
        top_rank = int(rank_k.max()) if len(rank_k) else -1
        tp_k, fp_k = flags.tp[order_k], flags.fp[order_k]
        if len(areas) < A:
            tp_k, fp_k = tp_k[:, areas, :], fp_k[:, areas, :]
        done_full = None
        for m in reversed(range(M)):  # largest maxDet first: smaller ones often cut nothing
            max_det = params.max_dets[m]
            if max_det > top_rank and done_full is not None:
                q, ss, rc_last = done_full  # the cut keeps every detection: same numbers
            elif max_det > top_rank:
                q, ss, rc_last = done_full = _curves(tp_k, fp_k, n_pos[areas], kmin, score[order_k], eps)
            else:
                keep = rank_k < max_det
                q, ss, rc_last = _curves(tp_k[keep], fp_k[keep], n_pos[areas], kmin,
                                         score[order_k[keep]], eps)
            precision[:, :, slot, areas, m] = q.transpose(1, 2, 0)  # (A', T, R) -> (T, R, A')
            scores[:, :, slot, areas, m] = ss.transpose(1, 2, 0)
            recall[:, slot, areas, m] = rc_last.T
    return Accumulated(precision, recall, scores)


def _recall_steps(n_pos: int, rec_thrs: np.ndarray) -> np.ndarray:
    """For each recall threshold r, the least k with ``k / n_pos >= r`` in floats.

    pycocotools finds ``np.searchsorted(rc, recThrs, side='left')`` with ``rc = tp / npig``:
    the first position where ``rc >= r``. ``k / n_pos`` is non-decreasing in k (a division by
    the same positive number), so that is the first position where ``tp >= kmin[r]``: the same
    index, found on exact integers, for every threshold lane in one ``searchsorted``.
    """
    levels = np.arange(n_pos + 1, dtype=float) / n_pos
    return np.searchsorted(levels, rec_thrs, side="left").astype(float)  # n_pos + 1 if never


def _curves(tps: np.ndarray, fps: np.ndarray, n_pos: np.ndarray, kmin: np.ndarray,
            scores_sorted: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pycocotools' per-(t, k, a, m) loop body for all (area, threshold) lanes at once.

    ``tps``/``fps``: (nd, A', T) in ranked order. Returns q, ss (A', T, R) and recall (A', T).
    """
    nd = tps.shape[0]
    num_a, num_t = tps.shape[1], tps.shape[2]
    R = kmin.shape[1]
    # pycocotools: np.cumsum(tps, axis=1).astype(dtype=float), same for fps
    tp_sum = np.cumsum(tps, axis=0).astype(dtype=float)
    fp_sum = np.cumsum(fps, axis=0).astype(dtype=float)
    q = np.zeros((num_a, num_t, R))
    ss = np.zeros((num_a, num_t, R))
    if nd == 0:
        return q, ss, np.zeros((num_a, num_t))  # recall 0, precision 0 ('if nd' / IndexError)
    rc_last = tp_sum[-1] / n_pos[:, None]  # rc = tp / npig; recall = rc[-1]
    pr = tp_sum / (fp_sum + tp_sum + eps)
    # "for i in range(nd-1, 0, -1): if pr[i] > pr[i-1]: pr[i-1] = pr[i]" is a running maximum
    # from the right; max is exact, so the floats are identical
    pr = np.maximum.accumulate(pr[::-1], axis=0)[::-1]
    # one searchsorted over all lanes: rows offset by a step larger than any count
    step = float(max(nd, int(n_pos.max())) + 2)
    offsets = np.arange(num_a * num_t, dtype=float).reshape(num_a, num_t) * step
    keys = (tp_sum.transpose(1, 2, 0) + offsets[:, :, None]).ravel()
    queries = (kmin[:, None, :] + offsets[:, :, None]).ravel()
    flat = np.searchsorted(keys, queries, side="left").reshape(num_a, num_t, R)
    lane_start = (np.arange(num_a * num_t).reshape(num_a, num_t) * nd)[:, :, None]
    inds = flat - lane_start
    # pycocotools fills q[ri] = pr[pi] until pi runs past the end (IndexError swallowed by a
    # bare except): the rest stays 0
    valid = inds < nd
    safe = np.minimum(inds, nd - 1)
    # pr laid out lane by lane like ``keys``: one flat gather instead of take_along_axis
    picked = pr.transpose(1, 2, 0).reshape(-1)[lane_start + safe]
    q = np.where(valid, picked, 0.0)
    ss = np.where(valid, scores_sorted[safe], 0.0)
    return q, ss, rc_last


def lane_flags(
    match_rows: np.ndarray,
    cand_pos: np.ndarray,
    n: int,
    dt_outside: np.ndarray,
    gt_ignore: np.ndarray,
    gt_ids: np.ndarray,
    count_id_zero: bool = False,
) -> LaneFlags:
    """True/false positives from matches, with pycocotools' ignore rules.

    ``match_rows`` (C, A, T) are the matched GT rows of the detections at positions ``cand_pos``
    (others are unmatched); ``dt_outside`` (n, A): detection area outside the range;
    ``gt_ignore`` (A, rows). pycocotools stores a match as the GT's *id* in ``dtMatches`` and
    tests it for truth, so a match with id 0 counts as none (unless ``count_id_zero``).
    """
    num_thrs = match_rows.shape[2] if match_rows.ndim == 3 else 0
    A = dt_outside.shape[1]
    # Unmatched: ignored when outside the area range, else a false positive.
    fp = np.repeat(~dt_outside[:, :, None], num_thrs, axis=2)
    tp = np.zeros_like(fp)
    if len(cand_pos):
        matched = match_rows >= 0
        rows = np.maximum(match_rows, 0)
        truthy = matched if count_id_zero else matched & (gt_ids[rows] != 0)
        area_idx = np.arange(A)[None, :, None]
        # dtIg = gtIg[m] for a match, then "dtm == 0 and outside the area range" adds ignores
        ig = (matched & gt_ignore[area_idx, rows]) | (~truthy & dt_outside[cand_pos][:, :, None])
        tp[cand_pos] = truthy & ~ig
        fp[cand_pos] = ~truthy & ~ig
    return LaneFlags(tp, fp)
