"""The problem codes of the submission validator: name, severity and a one-line fix.

The names are stable (the CLI's JSON output, the GUI and the tests refer to them), and their
order here is the order reports list them in: errors first, roughly from "the file cannot be
read" down to "one item is wrong", then warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    """An error makes the submission invalid; a warning does not, but may cost score."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class CodeInfo:
    code: str
    severity: Severity
    title: str
    fix: str


_E, _W = Severity.ERROR, Severity.WARNING

_CODES: tuple[CodeInfo, ...] = (
    CodeInfo("unreadable-file", _E, "the file cannot be read",
             "Give the path of a readable JSON file (not a folder)."),
    CodeInfo("file-too-large", _E, "the file is larger than the size limit",
             "Check that this is the right file, or raise the limit (--max-size-mb)."),
    CodeInfo("internal-error", _E, "the validator itself failed",
             "Please report this with the file; meanwhile check it with pycocotools' loadRes."),
    CodeInfo("json-syntax", _E, "not valid JSON",
             "Write the file with json.dump(predictions, f); a truncated file means the writer "
             "was interrupted or the disk was full."),
    CodeInfo("not-a-list", _E, "the top level is not a list",
             "The file must be a JSON list [{...}, ...] of predictions, not an object around it."),
    CodeInfo("empty-submission", _E, "the list is empty",
             "Add the predictions; pycocotools' loadRes fails on an empty list."),
    CodeInfo("not-an-object", _E, "an item is not an object",
             'Each entry must be {"image_id", "category_id", "segmentation", "score"}.'),
    CodeInfo("missing-field", _E, "a required field is missing",
             "Give every prediction image_id, category_id, segmentation {size, counts} and score."),
    CodeInfo("bad-type", _E, "a field has the wrong type",
             "image_id and category_id are JSON integers; segmentation is "
             '{"size": [height, width], "counts": "<string>"}.'),
    CodeInfo("unknown-image", _E, "image_id is not in imgCatIds.json",
             "Use the id that imgCatIds.json gives the image's file_name."),
    CodeInfo("wrong-split", _E, "the image is not one of the images being evaluated",
             "Predict only for the images of the split you submit for (or of the ground truth)."),
    CodeInfo("unknown-category", _E, "category_id is not one of the categories",
             "Use the challenge's category ids 1..100 (the 'categories' of imgCatIds.json), or for "
             "another COCO set the ids of its ground truth's 'categories'."),
    CodeInfo("bad-score", _E, "score is not a finite number",
             "Write scores as finite JSON numbers; NaN, Infinity, strings and booleans are not scores."),
    CodeInfo("bad-rle", _E, "the mask is not a valid compressed COCO RLE",
             "Encode with pycocotools.mask.encode(np.asfortranarray(mask)) and store "
             "counts.decode('ascii')."),
    CodeInfo("size-mismatch", _E, "the mask size differs from the image size",
             "Encode masks at the image's full resolution: size = [height, width] of imgCatIds.json."),
    CodeInfo("too-many-per-image", _E, "more than 255 predictions for one image",
             "Keep each image's 255 highest-scoring masks (the challenge's rule)."),
    CodeInfo("empty-mask", _W, "a mask has no pixels",
             "Drop predictions with empty masks: they can only be false positives."),
    CodeInfo("duplicate", _W, "the same prediction appears twice",
             "Remove repeated predictions: every copy after the first is a false positive."),
    CodeInfo("missing-images", _W, "images without any prediction",
             "Predict for every image being evaluated; images without predictions lower recall."),
    CodeInfo("unknown-field", _W, "a field the challenge does not use",
             "Remove fields other than image_id, category_id, segmentation and score."),
    CodeInfo("bbox-present", _W, "a bbox field changes how pycocotools reads the file",
             "Remove 'bbox' so that pycocotools takes every area from the mask."),
    CodeInfo("image-id-is-file-number", _W, "image ids look like file-name numbers",
             "image_id is the id of the file_name in imgCatIds.json "
             "(ADE_val_00000001.jpg has id 20210), not the number in the name."),
    CodeInfo("category-id-scheme", _W, "category ids look like another labelling's ids",
             "Map your classes to the challenge's ids 1..100 with categoryMapping.txt."),
    CodeInfo("score-ties", _W, "many equal scores",
             "Give distinct scores (e.g. more decimals): on ties, file order decides the ranking."),
)

CODES: dict[str, CodeInfo] = {c.code: c for c in _CODES}
CODE_ORDER: dict[str, int] = {c.code: i for i, c in enumerate(_CODES)}
ERROR_CODES: tuple[str, ...] = tuple(c.code for c in _CODES if c.severity is _E)
WARNING_CODES: tuple[str, ...] = tuple(c.code for c in _CODES if c.severity is _W)
# The submission was not checked at all: the CLI exits 2 ("inputs cannot be used"), as evaluate
# does for the same files. Not JSON (truncated, a byte-order mark, not UTF-8) is one of them:
# no item could be looked at.
UNUSABLE_CODES: frozenset[str] = frozenset({"unreadable-file", "file-too-large", "json-syntax"})


def severity_of(code: str) -> Severity:
    return CODES[code].severity


def fix_for(code: str) -> str:
    """The one-line fix shown beside a code."""
    return CODES[code].fix
