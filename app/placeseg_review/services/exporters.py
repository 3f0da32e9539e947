"""What the validation and evaluation views export, written atomically (``placeseg_core.atomic``).

* validation report: JSON (``placeseg validate --format json`` shape) or text (``render_text``);
* evaluation: results JSON (``placeseg evaluate --json`` shape: ``result.to_json()`` plus the
  quirk ``notes``), per-category CSV, and plots as PNG (a widget grabbed into PNG bytes).
"""

from __future__ import annotations

import csv
import io
import os
from typing import Any

from placeseg_core.atomic import write_bytes_atomic, write_json_atomic, write_text_atomic
from placeseg_core.evaluation import EvaluationResult
from placeseg_core.validate import ValidationReport, render_text

from ..model.evaluation import Evaluation

CSV_COLUMNS = ("id", "name", "gt", "predictions", "ap", "ap50", "ap75")


def write_validation_json(path: str | os.PathLike[str], report: ValidationReport) -> None:
    write_json_atomic(path, report.to_dict(), indent=1)


def write_validation_text(path: str | os.PathLike[str], report: ValidationReport) -> None:
    write_text_atomic(path, render_text(report))


def results_document(evaluation: Evaluation) -> dict[str, Any]:
    """The document ``placeseg evaluate --json`` writes."""
    doc = evaluation.result.to_json()
    doc["notes"] = list(evaluation.notes)
    return doc


def write_results_json(path: str | os.PathLike[str], evaluation: Evaluation) -> None:
    write_json_atomic(path, results_document(evaluation), indent=1, allow_nan=False)


def category_rows(evaluation: Evaluation) -> list[tuple[int, str, int, int, float | None, float | None, float | None]]:
    """Per category of the ground truth: id, name, GT count, predictions, AP, AP50, AP75."""
    result: EvaluationResult = evaluation.result
    s = result.scores
    rows = []
    for cid, ap in zip(result.category_ids.tolist(), s.category_ap, strict=True):
        rows.append((cid, result.category_names.get(cid, str(cid)), evaluation.gt_per_category.get(cid, 0),
                     evaluation.preds_per_category.get(cid, 0), ap, s.ap(cid, iou=0.5), s.ap(cid, iou=0.75)))
    return rows


def category_csv(evaluation: Evaluation) -> str:
    """Per-category table as CSV (full precision; an undefined AP is an empty cell)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in category_rows(evaluation):
        writer.writerow(["" if v is None else (repr(v) if isinstance(v, float) else v) for v in row])
    return out.getvalue()


def write_category_csv(path: str | os.PathLike[str], evaluation: Evaluation) -> None:
    write_text_atomic(path, category_csv(evaluation))


def png_bytes(widget: Any) -> bytes:
    """A widget rendered into PNG bytes (what it shows on screen, at its size), or an image
    (e.g. a plot rendered at export size) encoded as PNG."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice  # noqa: PLC0415 (Qt only for images)

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image = widget.grab() if hasattr(widget, "grab") else widget
    if not image.save(buffer, "PNG"):
        raise OSError("cannot encode the plot as PNG")
    buffer.close()
    return bytes(data.data())


def write_png(path: str | os.PathLike[str], widget: Any) -> None:
    write_bytes_atomic(path, png_bytes(widget))
