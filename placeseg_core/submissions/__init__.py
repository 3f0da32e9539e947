"""Submission loading, shared by the validator, the evaluation engine, the CLI and the GUI.

A submission is a JSON list of ``{"image_id", "category_id", "segmentation", "score"}``
(docs/scoring.md, section 3). :func:`load_submission` parses it into columns (numpy arrays plus
the list of RLEs, :class:`Submission`) that the evaluator ranks and groups without touching
Python dicts again; it raises :class:`SubmissionError` at the first item it cannot score.

- :mod:`.model`: the :class:`Submission` columns and :class:`SubmissionError`;
- :mod:`.items`: the per-item loader (:func:`submission_from_items`), whose messages name the
  item and the field;
- :mod:`.columns`: the bulk loader (:func:`submission_from_parsed`), falling back to the
  per-item loader for its messages;
- :mod:`.split`: a large file parsed in two processes (:func:`start_split_load`,
  :func:`finish_split_load`), falling back to one process on any doubt;
- :mod:`.shapes`: what the official pipeline scores besides compressed RLE once item 0 has a
  bbox (uncompressed RLE, compressed at load; polygons and boxes) and the note saying so;
- :mod:`.draw`: those polygons and boxes drawn at their image's size once the ground truth gives
  the sizes (:func:`rasterise`).
"""

from __future__ import annotations

from .columns import submission_from_parsed
from .draw import rasterise
from .items import submission_from_items
from .model import Submission, SubmissionError, first_item_uses_bbox
from .shapes import format_note, image_sizes, polygon_fault
from .split import SplitLoad, finish_split_load, load_submission, start_split_load

__all__ = [
    "SplitLoad", "Submission", "SubmissionError", "finish_split_load", "first_item_uses_bbox",
    "format_note", "image_sizes", "load_submission", "polygon_fault", "rasterise", "start_split_load",
    "submission_from_items", "submission_from_parsed",
]
