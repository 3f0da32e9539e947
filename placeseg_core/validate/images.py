"""Which images a submission is for, and whether its image ids are the right kind of id.

The catalogue holds every split's images; the expected images are the ground truth's, the
given split's, or — with neither — the split that most predictions name. A common mistake is
to use the number in the file name (``ADE_val_00000012.jpg`` -> 12) as ``image_id``: those
numbers are valid *train* ids, so the split would be inferred wrongly; the sizes of the masks
tell the two readings apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..catalog import SPLITS, Catalog, ImageRecord
from .scan import Columns

SPLIT_CODE = {name: i for i, name in enumerate(SPLITS)}


@dataclass
class ImageTable:
    """The catalogue as sorted arrays, for vectorised look-ups of 200k image ids."""

    ids: np.ndarray  # int64, sorted
    height: np.ndarray
    width: np.ndarray
    split: np.ndarray  # int8 index into SPLITS, -1 for names outside the ADE scheme
    records: list[ImageRecord]  # aligned with ids

    def lookup(self, image_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions in the table and a found mask."""
        if self.ids.size == 0:
            return np.zeros(image_ids.size, dtype=np.int64), np.zeros(image_ids.size, dtype=bool)
        pos = np.searchsorted(self.ids, image_ids)
        pos = np.minimum(pos, self.ids.size - 1)
        return pos, self.ids[pos] == image_ids


def image_table(records: list[ImageRecord]) -> ImageTable:
    ordered = sorted(records, key=lambda r: r.id)
    return ImageTable(
        ids=np.array([r.id for r in ordered], dtype=np.int64),
        height=np.array([r.height for r in ordered], dtype=np.int64),
        width=np.array([r.width for r in ordered], dtype=np.int64),
        split=np.array([SPLIT_CODE.get(r.split or "", -1) for r in ordered], dtype=np.int8),
        records=ordered,
    )


@dataclass
class FileNumberEvidence:
    """Image ids that read better as file numbers of ``split`` than as catalogue ids."""

    split: str
    items: int  # predictions whose id is a file number of that split
    size_matches_as_number: int
    size_matches_as_id: int
    example: ImageRecord


def file_number_evidence(cols: Columns, table: ImageTable, catalog: Catalog) -> FileNumberEvidence | None:
    ok = cols.image_ok
    ids = cols.image_id[ok]
    if ids.size == 0:
        return None
    pos_id, found_id = table.lookup(ids)
    for split in ("val", "test"):
        in_split_by_id = found_id & (table.split[pos_id] == SPLIT_CODE[split])
        if in_split_by_id.mean() >= 0.5:  # the ids are this split's ids: nothing to explain
            continue
        records = [r for r in catalog.split_images(split) if r.file_number is not None]
        if not records:
            continue
        by_number = image_table(
            [ImageRecord(r.file_number, r.file_name, r.width, r.height, split) for r in records]  # type: ignore[arg-type]
        )
        pos_fn, found_fn = by_number.lookup(ids)
        if found_fn.mean() < 0.9:
            continue
        size_ok = cols.size_ok[ok]
        h, w = cols.height[ok], cols.width[ok]
        as_number = found_fn & size_ok & (by_number.height[pos_fn] == h) & (by_number.width[pos_fn] == w)
        as_id = found_id & size_ok & (table.height[pos_id] == h) & (table.width[pos_id] == w)
        n_sizes = int((size_ok & found_fn).sum())
        if n_sizes and int(as_number.sum()) <= int(as_id.sum()):
            continue
        first = int(np.flatnonzero(found_fn)[0])
        number_record = by_number.records[int(pos_fn[first])]
        example = next(r for r in records if r.file_name == number_record.file_name)
        return FileNumberEvidence(split, int(found_fn.sum()), int(as_number.sum()), int(as_id.sum()), example)
    return None


@dataclass
class Expectation:
    """The images the submission is judged against."""

    split: str | None
    how: str  # how split / images were decided, for the report
    expected: np.ndarray | None  # sorted image ids, or None when unknown
    label: str  # "the val split", "the ground truth", ... for messages


def decide_expectation(
    cols: Columns,
    table: ImageTable,
    catalog: Catalog,
    split: str | None,
    expected_image_ids: np.ndarray | None,
    evidence: FileNumberEvidence | None,
) -> Expectation:
    pos, found = table.lookup(cols.image_id)
    found &= cols.image_ok
    if expected_image_ids is not None:
        expected = np.unique(np.asarray(expected_image_ids, dtype=np.int64))
        gt_pos, gt_found = table.lookup(expected)
        codes = table.split[gt_pos[gt_found]]
        gt_split = _majority(codes)
        return Expectation(split or gt_split, "ground truth", expected, "the ground truth's images")
    if split is not None:
        ids = table.ids[table.split == SPLIT_CODE[split]]
        return Expectation(split, "given", ids, f"the {split} split")
    if evidence is not None:
        inferred: str | None = evidence.split
        how = f"inferred: the image ids look like {evidence.split} file numbers"
    else:
        inferred = _majority(table.split[pos[found]])
        how = "inferred from the image ids" if inferred else "unknown: no prediction names a known image"
    if inferred is None:
        return Expectation(None, how, None, "")
    ids = table.ids[table.split == SPLIT_CODE[inferred]]
    return Expectation(inferred, how, ids, f"the {inferred} split")


def _majority(split_codes: np.ndarray) -> str | None:
    codes = split_codes[split_codes >= 0]
    if codes.size == 0:
        return None
    return SPLITS[int(np.bincount(codes, minlength=len(SPLITS)).argmax())]
