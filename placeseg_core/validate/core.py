"""``validate_submission``: the one entry point of the validator, for the CLI and the GUI.

It reads (or takes) a submission, runs every check and returns a typed
:class:`~placeseg_core.validate.report.ValidationReport`. It never raises because of what the
file holds; it reports progress as ``(done, total)`` and stops with
:class:`ValidationCancelled` when the caller's cancel token is set.
"""

from __future__ import annotations

import mmap
import os
import traceback
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import numpy as np

from ..catalog import SPLITS, Catalog, is_places_catalog
from ..errors import InputError
from ..jsonio import paused_gc, release_in_pieces
from . import advice, checks, shapes
from .images import decide_expectation, file_number_evidence, image_table
from .reader import DEFAULT_MAX_BYTES, FAILED, parse_submission, read_bytes
from .report import DEFAULT_MAX_LOCATIONS, ProblemCollector, ValidationReport
from .scan import Columns, scan_items

ProgressCallback = Callable[[int, int], None]
PROGRESS_TOTAL = 1000
# Share of the progress bar per phase (read, parse, structure, masks, the rest).
_PHASES = {"read": (0, 60), "parse": (60, 350), "scan": (350, 550), "rles": (550, 900), "checks": (900, 1000)}


class _Event(Protocol):
    def is_set(self) -> bool: ...


CancelToken = Callable[[], bool] | _Event


class ValidationCancelled(InterruptedError):
    """The caller cancelled the validation (nothing is wrong with the file)."""


class _Progress:
    def __init__(self, callback: ProgressCallback | None, cancel: CancelToken | None) -> None:
        self.callback = callback
        self.cancel = cancel
        self.done = 0

    def check_cancel(self) -> None:
        token = self.cancel
        if token is None:
            return
        is_set = getattr(token, "is_set", None)
        if (is_set() if callable(is_set) else token()):  # type: ignore[operator]
            raise ValidationCancelled("validation cancelled")

    def phase(self, name: str) -> Callable[[int, int], None]:
        lo, hi = _PHASES[name]

        def report(done: int, total: int) -> None:
            self.advance(lo + (hi - lo) * (done / total if total else 1.0))

        self.advance(lo)
        return report

    def advance(self, value: float) -> None:
        value = int(min(max(value, self.done), PROGRESS_TOTAL))
        if value != self.done or value == 0:
            self.done = value
            if self.callback:
                self.callback(value, PROGRESS_TOTAL)
        self.check_cancel()


def validate_submission(
    source: str | os.PathLike[str] | bytes | list[Any] | Any,
    catalog: Catalog,
    split: str | None = None,
    expected_image_ids: Iterable[int] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    *,
    max_locations: int = DEFAULT_MAX_LOCATIONS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    source_name: str | None = None,
    places: bool | None = None,
    keep_parsed: list[Any] | None = None,
) -> ValidationReport:
    """Check a submission (a path, JSON bytes, or already parsed items) against the catalogue.

    ``split`` ("val"/"test") or ``expected_image_ids`` (the ground truth's images) say which
    images it is for; with neither, the split is inferred from the ids and reported in
    ``stats``. ``progress(done, total)`` is called as work proceeds; ``cancel`` is a callable
    or an object with ``is_set()`` (e.g. ``threading.Event``), polled between steps.

    ``places``: apply the challenge's own rules (category ids 1..100 and their look-alikes, at
    most 255 masks per image). None (default): when the catalogue's categories are the
    challenge's 100 (imgCatIds.json, or a ground truth converted from the kit). Any other COCO
    set (e.g. a ground truth's images and categories, ``placeseg validate --gt`` alone) is
    checked as pycocotools reads it: its own categories, sizes from its images, and no
    per-image limit (maxDets applies per image and category when scoring).

    ``keep_parsed``: a list that receives what was parsed instead of it being freed here. For a
    process that ends right after (``placeseg validate``, the window's validation process):
    freeing 505k parsed predictions takes a third of a second, which the end of the process
    does for nothing (it exits without freeing: cli.main.console_main, isolated.call_isolated).
    """
    if not catalog.images:  # an input problem, not the submission's: nothing to check against
        raise InputError(f"{catalog.source}: lists no images, so there is nothing to check against")
    if places is None:
        places = is_places_catalog(catalog)
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    tracker = _Progress(progress, cancel)
    out = ProblemCollector(max_locations)
    if isinstance(source, (str, os.PathLike)):
        name = source_name or os.fspath(source)
    else:
        name = source_name or "<memory>"
    stats: dict[str, Any] = {"predictions": 0}
    try:
        # Parsing and checking make millions of objects and no reference cycles: collector
        # passes over them would only cost time (about a third of the total).
        with paused_gc():
            items = _load(source, name, out, stats, tracker, max_bytes)
            if items is not FAILED:
                _check_items(items, catalog, split, expected_image_ids, out, stats, tracker, places)
            if keep_parsed is not None:
                keep_parsed.append(items)
            elif items is not source:  # what we parsed ourselves, never the caller's own list
                release_in_pieces(items)
            del items
    except ValidationCancelled:
        raise
    except Exception as exc:  # a bug must not become a traceback for the participant
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        out.add(
            "internal-error",
            f"the validator failed on this input ({type(exc).__name__}: {exc} at "
            f"{os.path.basename(frame.filename)}:{frame.lineno}); please report it with the file",
        )
    tracker.advance(PROGRESS_TOTAL)
    return out.report(stats, name)


def _load(
    source: Any, name: str, out: ProblemCollector, stats: dict[str, Any], tracker: _Progress, max_bytes: int
) -> Any:
    if isinstance(source, (str, os.PathLike)):
        tracker.phase("read")
        raw = read_bytes(source, out, max_bytes)
        if raw is FAILED:
            return FAILED
        stats["file_bytes"] = len(raw)  # type: ignore[arg-type]
        if isinstance(raw, mmap.mmap):
            with raw:
                tracker.phase("parse")
                return _parse(raw, name, out, stats)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
    else:
        return source
    tracker.phase("parse")
    return _parse(raw, name, out, stats)


def _parse(raw: Any, name: str, out: ProblemCollector, stats: dict[str, Any]) -> Any:
    where: dict[str, Any] = {}
    items = parse_submission(raw, name, out, where)
    if where:
        stats["json_error"] = where
    return items


def _check_items(
    items: Any,
    catalog: Catalog,
    split: str | None,
    expected_image_ids: Iterable[int] | None,
    out: ProblemCollector,
    stats: dict[str, Any],
    tracker: _Progress,
    places: bool = True,
) -> None:
    if not isinstance(items, list):
        out.add("not-a-list", f"the file holds {_kind(items)}, not a list of predictions")
        return
    if not items:
        out.add("empty-submission", "the list of predictions is empty")
        return
    cols = scan_items(items, out, tracker.phase("scan"), tracker.check_cancel)
    mask_ok, area = checks.check_rles(cols, out, tracker.phase("rles"))
    tracker.phase("checks")
    table = image_table(catalog.images)
    evidence = file_number_evidence(cols, table, catalog)
    expected = None if expected_image_ids is None else np.fromiter(expected_image_ids, dtype=np.int64)
    expect = decide_expectation(cols, table, catalog, split, expected, evidence)
    pos, found, _ = checks.check_images(cols, table, catalog, expect, out)
    checks.check_sizes(cols, table, pos, found, out)
    # polygons, run lists, boxes without a mask: not the format, yet scored when item 0 has a bbox
    kinds = shapes.check_shapes(items, cols, table, pos, found, out) if cols.shapes else {}
    category_ids = np.array(sorted(c.id for c in catalog.categories) or range(1, 101), dtype=np.int64)
    checks.check_categories(cols, category_ids, out, places)
    tracker.advance(930)
    covered, per_image = checks.check_per_image(cols, table, pos, found, catalog, out,
                                                checks.MAX_PER_IMAGE if places else None)
    missing = checks.check_missing_images(expect, covered, catalog, out)
    dup_stats = advice.check_duplicates_and_ties(cols, out)
    tracker.advance(970)
    uses_boxes = advice.check_extra_fields(items, cols, mask_ok, area, out)
    if places:  # look-alike numberings of the challenge's 100 categories
        advice.check_category_scheme(cols, catalog, out)
    if evidence is not None:
        advice.report_file_numbers(evidence, out)
    stats.update(_stats(cols, mask_ok, area, covered, per_image))
    stats.update(
        split=expect.split,
        split_source=expect.how,
        expected_images=None if expect.expected is None else int(expect.expected.size),
        missing_images=missing if expect.expected is not None else None,
        uses_bbox_areas=uses_boxes,
        mask_kinds=kinds,
        rules="places" if places else "coco",
        **dup_stats,
    )


def _kind(value: Any) -> str:
    from .scan import json_kind

    return json_kind(value)


def _stats(cols: Columns, mask_ok: np.ndarray, area: np.ndarray, covered: np.ndarray, per_image: np.ndarray) -> dict[str, Any]:
    """The numbers a participant checks first: how many, how spread, which ranges."""
    scores = cols.score[cols.score_ok]
    areas = area[mask_ok & cols.size_ok]
    categories = checks.distinct(cols.category_id[cols.category_ok])
    return {
        "predictions": cols.n,
        "images_covered": int(covered.size),
        "per_image": (
            {"min": int(per_image.min()), "median": float(np.median(per_image)), "max": int(per_image.max())}
            if per_image.size else None
        ),
        "categories_used": int(categories.size),
        "category_ids": [int(c) for c in categories[:200]],
        "score_range": [float(scores.min()), float(scores.max())] if scores.size else None,
        "mask_area_range": [int(areas.min()), int(areas.max())] if areas.size else None,
        "empty_masks": int((areas == 0).sum()),
    }
