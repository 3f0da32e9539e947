"""Checks across items, vectorised over the columns: images, sizes, categories, masks, counts.

Each check counts every offending item and describes only the first few (see
:class:`~placeseg_core.validate.report.ProblemCollector`), so a systematic fault costs a few
numpy passes, not 200k messages.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..catalog import Catalog
from ..safety import rledecode
from .images import Expectation, ImageTable
from .report import ProblemCollector
from .scan import Columns

MAX_PER_IMAGE = 255  # the challenge's rule: at most 255 masks per image, all categories together
TIE_FRACTION = 0.01  # "many" equal scores: at least this share of the predictions

_RLE_REASON = {
    rledecode.NOT_ASCII: "contains characters outside ASCII",
    rledecode.BAD_CHAR: "contains a character that cannot occur in a COCO RLE string",
    rledecode.TRUNCATED: "ends in the middle of a number (truncated)",
    rledecode.VALUE_TOO_LONG: "holds a number too long to be a run length",
    rledecode.BAD_RUN: "decodes to a negative run length",
}


def image_label(catalog: Catalog, image_id: int) -> str:
    record = catalog.by_id.get(image_id)
    return f"image {image_id} ({record.file_name})" if record else f"image {image_id}"


def check_images(
    cols: Columns, table: ImageTable, catalog: Catalog, expect: Expectation, out: ProblemCollector
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """unknown-image and wrong-split; returns (table position, found, expected) per item."""
    pos, found = table.lookup(cols.image_id)
    found &= cols.image_ok
    unknown = np.flatnonzero(cols.image_ok & ~found)
    out.add_many(
        "unknown-image",
        unknown,
        lambda i: (f"item {i}: image_id {cols.image_id[i]} is not in {catalog.source}", int(cols.image_id[i]), "image_id"),
    )
    if expect.expected is None:
        return pos, found, found.copy()
    expected_rows = np.isin(table.ids, expect.expected)  # catalogue-sized, not item-sized
    in_expected = found & expected_rows[pos]
    wrong = np.flatnonzero(found & ~in_expected)

    def describe(i: int) -> tuple[str, int | None, str | None]:
        record = table.records[int(pos[i])]
        if expect.how == "ground truth":
            where = f"it is not in the ground truth ({record.split or 'unknown'} split)"
        else:
            where = f"a {record.split or 'non-ADE'} image"
        return (
            f"item {i}: image_id {record.id} is {record.file_name}, {where}; this submission is "
            f"checked against {expect.label}",
            record.id,
            "image_id",
        )

    out.add_many("wrong-split", wrong, describe)
    return pos, found, in_expected


def check_sizes(cols: Columns, table: ImageTable, pos: np.ndarray, found: np.ndarray, out: ProblemCollector) -> None:
    sel = found & cols.size_ok
    h_img, w_img = table.height[pos], table.width[pos]
    mismatch = sel & ((cols.height != h_img) | (cols.width != w_img))
    idx = np.flatnonzero(mismatch)
    if idx.size == 0:
        return
    swapped = (cols.height[idx] == w_img[idx]) & (cols.width[idx] == h_img[idx])
    n_swapped = int(swapped.sum())
    note = ""
    if n_swapped and idx.size > 1:
        note = f" ({n_swapped} of {idx.size} have height and width swapped)" if n_swapped < idx.size else " (all swapped)"

    def describe(i: int) -> tuple[str, int | None, str | None]:
        hh, ww, hi, wi = cols.height[i], cols.width[i], h_img[i], w_img[i]
        msg = f"item {i}: segmentation.size is [{hh}, {ww}] but image {cols.image_id[i]} is [{hi}, {wi}] (height, width)"
        if hh == wi and ww == hi:
            msg += ": height and width are swapped"
        return msg + (note if i == idx[0] else ""), int(cols.image_id[i]), "segmentation.size"

    out.add_many("size-mismatch", idx, describe)


def distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values; a counting pass when they are small non-negative integers."""
    if values.size and values.min() >= 0 and values.max() < (1 << 16):
        return np.flatnonzero(np.bincount(values))
    return np.unique(values)


def check_categories(cols: Columns, valid_ids: np.ndarray, out: ProblemCollector, places: bool = True) -> None:
    cid = cols.category_id
    ok = cols.category_ok
    if ok.any() and cid[ok].min() >= 0 and cid[ok].max() < (1 << 16) and valid_ids.max() < (1 << 16):
        table = np.zeros(max(int(cid[ok].max()), int(valid_ids.max())) + 1, dtype=bool)
        table[valid_ids[valid_ids >= 0]] = True
        known = np.zeros(cols.n, dtype=bool)
        known[ok] = table[cid[ok]]
    else:
        known = np.isin(cid, valid_ids)
    bad = np.flatnonzero(ok & ~known)
    lo, hi = int(valid_ids.min()), int(valid_ids.max())
    if places:
        what = f"is not a challenge category ({lo}..{hi})"
    else:
        what = (f"is not one of the {valid_ids.size} categories of the ground truth ({lo}..{hi}); "
                "pycocotools never loads such a prediction")
    out.add_many(
        "unknown-category",
        bad,
        lambda i: (
            f"item {i}: category_id {cols.category_id[i]} {what}",
            int(cols.image_id[i]) if cols.image_ok[i] else None,
            "category_id",
        ),
    )


def check_rles(
    cols: Columns,
    out: ProblemCollector,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """bad-rle and empty-mask; returns (decoded fine, area) per item."""
    idx = np.flatnonzero(cols.counts_ok)
    strings = cols.counts if idx.size == cols.n else [cols.counts[i] for i in idx.tolist()]
    # Without a usable size there is nothing to sum to: check the string only.
    hw = np.where(cols.size_ok[idx], cols.height[idx] * cols.width[idx], -1)
    res = rledecode.decode_counts_bulk(strings, hw, lengths=cols.counts_len[idx], progress=progress)  # type: ignore[arg-type]
    status = res.status
    no_size = hw < 0
    status[no_size & (status == rledecode.SUM_MISMATCH)] = rledecode.OK
    ok = np.zeros(cols.n, dtype=bool)
    area = np.zeros(cols.n, dtype=np.int64)
    ok[idx] = status == rledecode.OK
    area[idx] = res.area
    bad = np.flatnonzero(status != rledecode.OK)

    def describe(k: int) -> tuple[str, int | None, str | None]:
        i = int(idx[k])
        reason = _RLE_REASON.get(int(status[k]))
        if reason is None:
            reason = rledecode.describe_counts_fault(cols.counts[i] or "", int(cols.height[i]), int(cols.width[i]))
        return f"item {i}: segmentation.counts {reason}", _image(cols, i), "segmentation.counts"

    position = {int(idx[k]): int(k) for k in bad[: out.max_locations]}
    out.add_many("bad-rle", idx[bad], lambda i: describe(position[i]))
    empty = np.flatnonzero(ok & cols.size_ok & (area == 0))
    out.add_many(
        "empty-mask",
        empty,
        lambda i: (f"item {i}: the mask has no pixels (it can only be a false positive)", _image(cols, i), "segmentation"),
    )
    return ok, area


def _image(cols: Columns, i: int) -> int | None:
    return int(cols.image_id[i]) if cols.image_ok[i] else None


def check_per_image(
    cols: Columns, table: ImageTable, pos: np.ndarray, found: np.ndarray, catalog: Catalog, out: ProblemCollector,
    limit: int | None = MAX_PER_IMAGE,
) -> tuple[np.ndarray, np.ndarray]:
    """too-many-per-image (unless ``limit`` is None: not the challenge's data); returns (image ids
    covered, sorted, and predictions per image)."""
    known = np.bincount(pos[found], minlength=table.ids.size)
    unknown_ids = cols.image_id[cols.image_ok & ~found]
    u_ids, u_counts = np.unique(unknown_ids, return_counts=True)
    covered = np.concatenate((table.ids[known > 0], u_ids))
    per_image = np.concatenate((known[known > 0], u_counts))
    order = np.argsort(covered, kind="stable")
    covered, per_image = covered[order], per_image[order]
    over = np.flatnonzero(per_image > MAX_PER_IMAGE) if limit is not None else np.zeros(0, dtype=np.int64)
    if over.size:
        item_index = np.flatnonzero(cols.image_ok)
        ids = cols.image_id[item_index]
        by_image = np.argsort(ids, kind="stable")  # file order within each image
        starts = np.searchsorted(ids[by_image], covered[over])
        locations = item_index[by_image[starts + MAX_PER_IMAGE]]  # first item over the limit
        by_location = dict(zip(locations.tolist(), over.tolist(), strict=True))
        out.add_many(
            "too-many-per-image",
            np.sort(locations),
            lambda i: (
                f"{image_label(catalog, int(covered[by_location[i]]))} has {per_image[by_location[i]]} "
                f"predictions; the challenge allows {MAX_PER_IMAGE} (item {i} is the first one over)",
                int(covered[by_location[i]]),
                "image_id",
            ),
        )
    return covered, per_image


def check_missing_images(expect: Expectation, covered: np.ndarray, catalog: Catalog, out: ProblemCollector) -> int:
    if expect.expected is None:
        return 0
    missing = np.setdiff1d(expect.expected, covered, assume_unique=True)
    n = missing.size
    for image_id in missing[: out.max_locations].tolist():
        out.add(
            "missing-images",
            f"{image_label(catalog, image_id)} of {expect.label} has no prediction ({n} such images in all)",
            None,
            image_id,
        )
    out.count_only("missing-images", n - min(n, out.max_locations))
    return n
