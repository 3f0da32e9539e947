"""AP at one IoU threshold (area "all", maxDets 255) from true / false positive flags, with
pycocotools' float operations, and the exact per-image "fix this image only" gains.

pycocotools ranks a category's detections by (-score, image, file order), takes
``pr = tp / (fp + tp + eps)`` on the cumulative counts, a running maximum from the right, and
reads it where the true-positive count first reaches each recall threshold (see
``evaluation/accumulate.py``). The running maximum from a true positive onwards is always
reached at a true positive (a false positive after it has the same tp and more fp), so only the
true positives matter: with the t-th one preceded by F_t false positives,
``q_r = max over t >= kmin_r of t / (F_t + t + eps)`` -- the same floats as pycocotools'.
That is what makes "fix only this image" cheap: a fix changes F_t and inserts true positives,
and each (category, image) pair is one row of a small matrix over the category's true
positives, not a re-run over all its detections.
"""

from __future__ import annotations

import numpy as np

from ..evaluation.accumulate import _recall_steps
from .errors import FixedState

EPS = np.spacing(1)


def score_rank(image_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """(N,) position of each prediction in pycocotools' ranking within a category: by -score,
    ties by image, then file order (``accumulate.ranked_order`` without the category)."""
    rank = np.empty(len(scores), dtype=np.int64)
    rank[np.lexsort((np.arange(len(scores)), image_ids, -scores))] = np.arange(len(scores))
    return rank


def _order(cat_pos: np.ndarray, rank: np.ndarray) -> np.ndarray:
    return np.argsort(cat_pos.astype(np.int64) * (int(rank.max()) + 1 if len(rank) else 1) + rank)


def _kmin_index(n_pos: np.ndarray, rec_thrs: np.ndarray) -> np.ndarray:
    """(len(n_pos), R): 0-based index of the true positive read at each recall threshold."""
    out = np.zeros((len(n_pos), len(rec_thrs)), dtype=np.int64)
    for value in np.unique(n_pos):
        if value > 0:
            k = _recall_steps(int(value), rec_thrs).astype(np.int64)
            out[n_pos == value] = np.maximum(k, 1) - 1
    return out


def precision_table(state: FixedState, rank: np.ndarray, category_ids: np.ndarray, npig: np.ndarray,
                    rec_thrs: np.ndarray) -> np.ndarray:
    """(R, K) interpolated precision, -1 where a category has no GT (pycocotools' convention).
    ``rank``: :func:`score_rank` of the predictions."""
    K, R = len(category_ids), len(rec_thrs)
    out = -np.ones((R, K))
    sel = np.flatnonzero(state.tp | state.fp)
    cat_pos = np.searchsorted(category_ids, state.category[sel])
    known = (cat_pos < K) & (category_ids[np.minimum(cat_pos, max(K - 1, 0))] == state.category[sel]) if K else cat_pos < 0
    sel, cat_pos = sel[known], cat_pos[known]
    order = _order(cat_pos, rank[sel])
    c = cat_pos[order]
    t = state.tp[sel[order]].astype(np.int64)
    f = state.fp[sel[order]].astype(np.int64)
    bounds = np.searchsorted(c, np.arange(K + 1))
    ctp, cfp = np.cumsum(t), np.cumsum(f)
    base_tp = np.concatenate(([0], ctp))[bounds[:-1]]
    base_fp = np.concatenate(([0], cfp))[bounds[:-1]]
    pos = np.flatnonzero(t)
    tcount = (ctp[pos] - base_tp[c[pos]]).astype(float)
    fcount = (cfp[pos] - base_fp[c[pos]]).astype(float)
    prec = tcount / (fcount + tcount + EPS)  # pycocotools: tp / (fp + tp + np.spacing(1))
    tp_bounds = np.searchsorted(c[pos], np.arange(K + 1))
    kidx = _kmin_index(npig, rec_thrs)
    for k in np.flatnonzero(npig > 0).tolist():
        seg = prec[tp_bounds[k] : tp_bounds[k + 1]]
        if len(seg) == 0:
            out[:, k] = 0.0
            continue
        suffix = np.maximum.accumulate(seg[::-1])[::-1]
        idx = kidx[k]
        out[:, k] = np.where(idx < len(seg), suffix[np.minimum(idx, len(seg) - 1)], 0.0)
    return out


def category_ap(precision: np.ndarray) -> np.ndarray:
    """(K,) AP per category (mean over recall thresholds), NaN where undefined."""
    defined = precision[0] > -1
    ap = np.full(precision.shape[1], np.nan)
    ap[defined] = precision[:, defined].mean(axis=0)
    return ap


def image_gains(base: FixedState, fixed: FixedState, image_ids: np.ndarray, rank: np.ndarray,
                category_ids: np.ndarray, npig: np.ndarray, gt_image_ids: np.ndarray,
                gt_category_ids: np.ndarray, rec_thrs: np.ndarray, base_ap: np.ndarray,
                table_images: np.ndarray) -> np.ndarray:
    """Gain in mean AP when only one image's errors are fixed (``fixed`` restricted to it),
    for every image of ``table_images``: exact, each (category, image) pair one matrix row.

    ``base`` and ``fixed`` must differ only by fixes: true positives stay, false positives are
    only removed, and a detection changes category only by becoming a true positive or leaving.
    """
    K = len(category_ids)
    n_def = int(np.isfinite(base_ap).sum())
    gains_sum = np.zeros(len(table_images))
    drops = np.zeros(len(table_images), dtype=np.int64)
    dropped_ap = np.zeros(len(table_images))
    if n_def == 0:
        return gains_sum
    live_b, live_f = base.tp | base.fp, fixed.tp | fixed.fp
    stay = fixed.category == base.category
    a = np.flatnonzero(live_b | (live_f & stay))
    b = np.flatnonzero(live_f & ~stay)
    idx = np.concatenate((a, b))
    cat = np.concatenate((base.category[a], fixed.category[b]))
    btp = np.concatenate((base.tp[a], np.zeros(len(b), bool)))
    bfp = np.concatenate((base.fp[a], np.zeros(len(b), bool)))
    ftp = np.concatenate((fixed.tp[a] & stay[a], fixed.tp[b]))
    ffp = np.concatenate((fixed.fp[a] & stay[a], fixed.fp[b]))
    cat_pos = np.searchsorted(category_ids, cat)
    ok = cat_pos < K
    ok[ok] = category_ids[cat_pos[ok]] == cat[ok]
    idx, cat_pos, btp, bfp, ftp, ffp = idx[ok], cat_pos[ok], btp[ok], bfp[ok], ftp[ok], ffp[ok]
    img = image_ids[idx]
    order = _order(cat_pos, rank[idx])
    cat_pos, img, btp, bfp, ftp, ffp = (x[order] for x in (cat_pos, img, btp, bfp, ftp, ffp))
    bounds = np.searchsorted(cat_pos, np.arange(K + 1))
    # removed GT per (category, image)
    rem_cat = np.searchsorted(category_ids, gt_category_ids[fixed.removed_gt])
    rem_img = gt_image_ids[fixed.removed_gt]
    rem_order = np.lexsort((rem_img, rem_cat))
    rem_cat, rem_img = rem_cat[rem_order], rem_img[rem_order]
    rem_bounds = np.searchsorted(rem_cat, np.arange(K + 1))
    for k in np.flatnonzero(np.isfinite(base_ap)).tolist():
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        r_img = rem_img[rem_bounds[k] : rem_bounds[k + 1]]
        changed = (btp[lo:hi] != ftp[lo:hi]) | (bfp[lo:hi] != ffp[lo:hi])
        if not changed.any() and len(r_img) == 0:
            continue
        rows, ap_rows = _category_rows(btp[lo:hi], bfp[lo:hi], ftp[lo:hi], ffp[lo:hi], img[lo:hi],
                                       changed, r_img, int(npig[k]), rec_thrs)
        at = np.searchsorted(table_images, rows)
        dropped = np.isnan(ap_rows)
        gains_sum[at[~dropped]] += ap_rows[~dropped] - base_ap[k]
        drops[at[dropped]] += 1
        dropped_ap[at[dropped]] += base_ap[k]
    gains = gains_sum / n_def
    d = drops > 0
    if d.any():  # a category whose every GT left the denominator leaves the mean
        total = float(np.nansum(base_ap))
        new_mean = (total - dropped_ap[d] + gains_sum[d]) / np.maximum(n_def - drops[d], 1)
        gains[d] = np.where(n_def - drops[d] > 0, new_mean - total / n_def, 0.0)
    return gains


def _category_rows(btp: np.ndarray, bfp: np.ndarray, ftp: np.ndarray, ffp: np.ndarray, img: np.ndarray,
                   changed: np.ndarray, removed_img: np.ndarray, npig: int,
                   rec_thrs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AP of one category with each image's changes applied alone: (image ids, AP or NaN)."""
    rows = np.union1d(np.unique(img[changed]), removed_img)
    m, n = len(rows), len(btp)
    P = np.flatnonzero(btp)  # base true positive positions
    T = len(P)
    fp_before = np.cumsum(bfp) - bfp  # base false positives strictly before each position
    e_pos = np.flatnonzero(ftp & ~btp)  # new true positives
    d_pos = np.flatnonzero(bfp & ~ffp)  # false positives removed
    e_row = np.searchsorted(rows, img[e_pos])
    d_row = np.searchsorted(rows, img[d_pos])
    e_sort = np.lexsort((e_pos, e_row))  # by row, then position
    d_sort = np.lexsort((d_pos, d_row))
    e_pos, e_row, d_pos, d_row = e_pos[e_sort], e_row[e_sort], d_pos[d_sort], d_row[d_sort]
    # per row and base TP j: new TPs and removed FPs before P[j] (cumulated bin counts)
    e_bin = np.searchsorted(P, e_pos)
    d_bin = np.searchsorted(P, d_pos)
    shift_e = np.cumsum(np.bincount(e_row * (T + 1) + e_bin, minlength=m * (T + 1)).reshape(m, T + 1), axis=1)
    shift_d = np.cumsum(np.bincount(d_row * (T + 1) + d_bin, minlength=m * (T + 1)).reshape(m, T + 1), axis=1)
    n_e = np.bincount(e_row, minlength=m)
    width = T + (int(n_e.max()) if m else 0)
    mat = np.full((m, max(width, 1)), -1.0)
    if T:
        j = np.arange(T)
        merged = j[None, :] + shift_e[:, :T]
        tcount = (merged + 1).astype(float)
        fcount = (fp_before[P][None, :] - shift_d[:, :T]).astype(float)
        np.put_along_axis(mat, merged, tcount / (fcount + tcount + EPS), axis=1)
    if len(e_pos):
        e_first = np.searchsorted(e_row, np.arange(m))
        rank_in_row = np.arange(len(e_pos)) - e_first[e_row]
        merged_e = rank_in_row + e_bin
        step = n + 1
        d_keys = d_row * step + d_pos  # sorted: rows ascending, positions ascending
        d_first = np.searchsorted(d_row, np.arange(m))
        d_before = np.searchsorted(d_keys, e_row * step + e_pos) - d_first[e_row]
        tcount = (merged_e + 1).astype(float)
        fcount = (fp_before[e_pos] - d_before).astype(float)
        mat[e_row, merged_e] = tcount / (fcount + tcount + EPS)
    suffix = np.maximum.accumulate(mat[:, ::-1], axis=1)[:, ::-1]
    removed = np.bincount(np.searchsorted(rows, removed_img), minlength=m) if len(removed_img) else np.zeros(m, np.int64)
    n_pos = npig - removed
    kidx = _kmin_index(n_pos, rec_thrs)
    t_row = T + n_e
    q = np.where(kidx < t_row[:, None], np.take_along_axis(suffix, np.minimum(kidx, suffix.shape[1] - 1), axis=1), 0.0)
    ap = q.mean(axis=1)
    ap[n_pos <= 0] = np.nan
    return rows, ap
