"""One broken submission per problem code (and combinations): code, severity, index."""

from __future__ import annotations

import copy
import json
import threading

import numpy as np
import pytest
from test_validate_fixtures import VAL_IDS, make_catalog, mask_rle, pred, valid_items, write_items

from placeseg_core import rle
from placeseg_core.validate import (
    CODES,
    PROGRESS_TOTAL,
    Severity,
    ValidationCancelled,
    fix_for,
    validate_submission,
)


@pytest.fixture
def catalog():
    return make_catalog()


def check(tmp_path, catalog, items, **kw):
    """Validate ``items`` written to a real file."""
    return validate_submission(write_items(tmp_path, items), catalog, **kw)


def only(report, code):
    problems = report.problems_for(code)
    assert problems, f"{code} not reported: {report.counts}"
    return problems


def test_valid_submission_has_no_problem(tmp_path, catalog):
    report = check(tmp_path, catalog, valid_items())
    assert report.valid and report.counts == {}
    s = report.stats
    assert s["predictions"] == 6 and s["images_covered"] == 3 and s["split"] == "val"
    assert s["per_image"] == {"min": 2, "median": 2.0, "max": 2}
    assert s["categories_used"] == 2 and s["score_range"] == pytest.approx([0.4, 0.9])
    assert s["mask_area_range"] == [4, 4]


def test_every_code_has_a_fix_and_a_severity():
    for code, info in CODES.items():
        assert fix_for(code) and "\n" not in fix_for(code)
        assert info.severity in (Severity.ERROR, Severity.WARNING)


@pytest.mark.parametrize(
    ("content", "line", "column"),
    [
        (b"", 1, 1),
        (b"   \n ", 1, 1),
        (b'[{"image_id": 1,\n "score": }]', 2, 11),
        (b'[{"image_id": 20210, "category_id": 1', 1, 38),  # truncated
        (b"[1, 2,]", 1, 7),
    ],
)
def test_json_syntax_with_position(tmp_path, catalog, content, line, column):
    path = tmp_path / "p.json"
    path.write_bytes(content)
    report = validate_submission(path, catalog)
    (p,) = only(report, "json-syntax")
    assert p.severity is Severity.ERROR and f"line {line}, column {column}" in p.message
    assert report.stats["json_error"] == {"line": line, "column": column}
    assert not report.valid


def test_not_utf8_and_bom(tmp_path, catalog):
    path = tmp_path / "p.json"
    path.write_bytes(b'[\n  "\xff\xfe"]')
    (p,) = only(validate_submission(path, catalog), "json-syntax")
    assert "line 2, column 4" in p.message and "UTF-8" in p.message
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(valid_items()).encode())
    report = validate_submission(path, catalog)
    assert report.codes == ["json-syntax"] and "byte-order mark" in report.problems[0].message


def test_nan_and_infinity_are_bad_scores_not_syntax(tmp_path, catalog):
    items = valid_items()
    items[1]["score"] = float("nan")
    items[3]["score"] = float("inf")
    items[4]["score"] = float("-inf")
    path = tmp_path / "p.json"
    path.write_text(json.dumps(items))  # Python writes NaN / Infinity
    assert b"NaN" in path.read_bytes()
    report = validate_submission(path, catalog)
    assert report.codes == ["bad-score"]
    assert [p.index for p in report.problems] == [1, 3, 4]
    assert all(p.field == "score" and p.image_id == items[p.index]["image_id"] for p in report.problems)


@pytest.mark.parametrize(("value", "word"), [("0.5", "string"), (True, "boolean"), (None, "null"), ([0.5], "list"), (10**400, "too large")])
def test_bad_score_kinds(tmp_path, catalog, value, word):
    items = valid_items()
    items[2]["score"] = value
    (p,) = only(check(tmp_path, catalog, items), "bad-score")
    assert p.index == 2 and word in p.message


@pytest.mark.parametrize(("content", "code"), [({"predictions": []}, "not-a-list"), ("x", "not-a-list"), (None, "not-a-list"), ([], "empty-submission")])
def test_top_level(tmp_path, catalog, content, code):
    report = check(tmp_path, catalog, content)
    assert report.codes == [code] and report.problems[0].index is None and not report.valid


def test_not_an_object_and_missing_fields(tmp_path, catalog):
    items = valid_items()
    items[0] = [20210, 1]
    del items[1]["score"]
    del items[2]["segmentation"]["counts"]
    del items[3]["image_id"]
    report = check(tmp_path, catalog, items)
    assert only(report, "not-an-object")[0].index == 0
    missing = {(p.index, p.field) for p in only(report, "missing-field")}
    assert missing == {(1, "score"), (2, "segmentation.counts"), (3, "image_id")}
    assert report.counts["missing-field"] == 3


def test_bad_types(tmp_path, catalog):
    items = valid_items()
    items[0]["image_id"] = 20210.0
    items[1]["category_id"] = "1"
    items[2]["segmentation"] = [[1, 2, 3, 4, 5, 6]]
    items[3]["segmentation"]["size"] = [7]
    items[4]["segmentation"]["size"] = [7, True]
    report = check(tmp_path, catalog, items)
    got = {(p.index, p.field) for p in only(report, "bad-type")}
    assert got == {(0, "image_id"), (1, "category_id"), (2, "segmentation"), (3, "segmentation.size"), (4, "segmentation.size")}
    msgs = {p.index: p.message for p in report.problems}
    assert "without the decimal point" in msgs[0] and "polygons" in msgs[2]


def test_unknown_image_and_wrong_split(tmp_path, catalog):
    items = valid_items() + [pred(22210, score=0.11), pred(0, score=0.12)]
    items.append({**pred(20210, score=0.13), "image_id": 999999})
    report = check(tmp_path, catalog, items, split="val")
    (unknown,) = only(report, "unknown-image")
    assert unknown.index == 8 and unknown.image_id == 999999
    wrong = only(report, "wrong-split")
    assert [(p.index, p.image_id) for p in wrong] == [(6, 22210), (7, 0)]
    assert "test image" in wrong[0].message and "val split" in wrong[0].message


def test_wrong_split_against_ground_truth(tmp_path, catalog):
    report = check(tmp_path, catalog, valid_items(), expected_image_ids=[20210, 20211])
    wrong = only(report, "wrong-split")
    assert {p.image_id for p in wrong} == {20212} and "ground truth" in wrong[0].message
    assert report.stats["split_source"] == "ground truth" and report.stats["expected_images"] == 2


def test_unknown_category(tmp_path, catalog):
    items = valid_items()
    items[1]["category_id"] = 0
    items[2]["category_id"] = 101
    report = check(tmp_path, catalog, items)
    assert [p.index for p in only(report, "unknown-category")] == [1, 2]


def test_bad_rle_kinds(tmp_path, catalog):
    items = valid_items()
    h, w = 6, 8
    items[0]["segmentation"]["counts"] = [0, 48]  # uncompressed list
    items[1]["segmentation"]["counts"] = 12
    items[2]["segmentation"]["counts"] = items[2]["segmentation"]["counts"] + "1"  # runs too long
    items[3]["segmentation"]["counts"] = "P"  # truncated: continuation bit on the last char
    items[4]["segmentation"]["counts"] = "0 1"  # space is not an RLE character
    items[5]["segmentation"]["counts"] = "5@"  # second run negative
    report = check(tmp_path, catalog, items)
    bad = {p.index: p.message for p in only(report, "bad-rle")}
    assert set(bad) == {0, 1, 2, 3, 4, 5}
    assert "list of run lengths" in bad[0] and "truncated" in bad[3]
    assert "cover" in bad[2] and "character" in bad[4] and "negative" in bad[5]
    assert report.valid is False and h * w == 48


def test_size_mismatch_and_swapped(tmp_path, catalog):
    items = valid_items()
    items[0]["segmentation"] = mask_rle(8, 6)  # 20210 is 6 x 8: swapped
    items[2]["segmentation"] = mask_rle(3, 3)
    report = check(tmp_path, catalog, items)
    problems = only(report, "size-mismatch")
    assert [p.index for p in problems] == [0, 2]
    assert "swapped" in problems[0].message and "swapped" not in problems[1].message


def test_systematic_fault_is_capped_but_counted(tmp_path, catalog):
    items = []
    for k in range(300):
        image_id = VAL_IDS[k % 3]
        h, w = (7, 6) if image_id == 20211 else (6, 8) if image_id == 20210 else (5, 7)
        items.append(pred(image_id, 1 + k % 100, score=k / 1000, size=(w, h)))  # all swapped
    report = check(tmp_path, catalog, items, max_locations=5)
    assert report.counts["size-mismatch"] == 300
    listed = report.problems_for("size-mismatch")
    assert [p.index for p in listed] == [0, 1, 2, 3, 4]
    assert "all swapped" in listed[0].message
    assert len(report.to_dict()["problems"]) <= 5 * len(report.counts)


def test_too_many_per_image(tmp_path, catalog):
    items = [pred(20210, 1 + k % 100, score=(k + 1) / 1000, seed=k) for k in range(300)]
    items += [pred(20211, 1, score=0.5)]
    report = check(tmp_path, catalog, items)
    (p,) = only(report, "too-many-per-image")
    assert p.image_id == 20210 and p.index == 255 and "300 predictions" in p.message
    assert report.counts == {"too-many-per-image": 1, "missing-images": 1}


def test_empty_mask_duplicate_and_missing_images(tmp_path, catalog):
    items = valid_items()[:4]  # 20212 gets nothing
    items[1]["segmentation"] = mask_rle(6, 8, empty=True)
    items.append(copy.deepcopy(items[2]))
    report = check(tmp_path, catalog, items)
    assert report.valid
    assert only(report, "empty-mask")[0].index == 1
    (dup,) = only(report, "duplicate")
    assert dup.index == 4 and "item 2" in dup.message and dup.severity is Severity.WARNING
    (missing,) = only(report, "missing-images")
    assert missing.image_id == 20212 and missing.index is None
    assert report.stats["duplicates"] == 1 and report.stats["empty_masks"] == 1


def test_unknown_fields(tmp_path, catalog):
    items = valid_items()
    items[2]["area"] = 4
    items[3]["segmentation"]["area"] = 4
    report = check(tmp_path, catalog, items)
    assert report.valid
    assert {(p.index, p.field) for p in only(report, "unknown-field")} == {(2, "area"), (3, "segmentation.area")}


def test_bbox_on_first_item_changes_areas(tmp_path, catalog):
    items = valid_items()
    items[0]["bbox"] = [0, 0, 40, 40]  # 1600 px box around a 4 px mask: small -> medium
    report = check(tmp_path, catalog, items)
    assert report.codes == ["missing-field", "bbox-present"]
    assert {p.index for p in only(report, "missing-field")} == {1, 2, 3, 4, 5}
    (warning,) = only(report, "bbox-present")
    assert warning.index == 0 and "1 of 1 predictions change area range" in warning.message
    assert report.stats["uses_bbox_areas"] is True
    for item in items[1:]:
        item["bbox"] = [0, 0, 2, 2]
    report = check(tmp_path, catalog, items)
    assert report.valid and report.codes == ["bbox-present"]


def test_bbox_on_later_items_is_ignored_by_pycocotools(tmp_path, catalog):
    items = valid_items()
    items[3]["bbox"] = [0, 0, 2, 2]
    report = check(tmp_path, catalog, items)
    (p,) = only(report, "bbox-present")
    assert p.index == 3 and "ignores" in p.message and report.stats["uses_bbox_areas"] is False


def test_image_id_is_file_number(tmp_path, catalog):
    items = [pred(n, 1, score=0.5 + n / 10, size=(h, w)) for n, (h, w) in zip((1, 2, 3), [(6, 8), (7, 6), (5, 7)], strict=True)]
    report = check(tmp_path, catalog, items)
    (p,) = only(report, "image-id-is-file-number")
    assert "ADE_val_00000001.jpg" in p.message and "20210" in p.message
    assert report.stats["split"] == "val"
    assert report.counts["wrong-split"] == 3  # ids 1..3 are train images
    assert report.counts["size-mismatch"] == 3  # read as ids (train images) no size fits


@pytest.mark.parametrize(
    ("ids", "scheme"),
    [([13, 8, 103, 150], "SceneParse150"), ([165, 3055, 1831], "full-ADE20K"), ([0, 3, 7, 42, 99], "0-based")],
)
def test_category_id_scheme(tmp_path, catalog, ids, scheme):
    items = [pred(VAL_IDS[k % 3], c, score=0.9 - k / 100, seed=k) for k, c in enumerate(ids)]
    report = check(tmp_path, catalog, items)
    (p,) = only(report, "category-id-scheme")
    assert scheme in p.message and p.severity is Severity.WARNING


def test_score_ties(tmp_path, catalog):
    items = [pred(20210, 1, score=1.0, seed=k) for k in range(4)] + valid_items()
    report = check(tmp_path, catalog, items)
    (p,) = only(report, "score-ties")
    assert p.index == 1 and "4 predictions" in p.message and "file order" in p.message
    assert report.valid


def test_split_inferred_and_reported(tmp_path, catalog):
    items = [pred(22210, 1, score=0.3)]
    report = check(tmp_path, catalog, items)
    assert report.stats["split"] == "test" and report.stats["split_source"] == "inferred from the image ids"
    assert report.counts == {}


def test_combination_keeps_every_code(tmp_path, catalog):
    items = valid_items()
    items[0]["score"] = "high"
    items[1]["category_id"] = 500
    items[2]["segmentation"] = mask_rle(8, 6)
    items[3]["extra"] = 1
    items.append(7)
    report = check(tmp_path, catalog, items, max_locations=1)
    assert set(report.counts) == {"bad-score", "unknown-category", "size-mismatch", "unknown-field", "not-an-object"}
    assert [p.code for p in report.problems] == list(report.counts)  # errors first, code order


def test_unreadable_inputs(tmp_path, catalog):
    report = validate_submission(tmp_path / "nope.json", catalog)
    assert report.codes == ["unreadable-file"] and report.unusable
    report = validate_submission(tmp_path, catalog)
    assert "folder" in report.problems[0].message
    big = write_items(tmp_path, valid_items())
    report = validate_submission(big, catalog, max_bytes=100)
    assert report.codes == ["file-too-large"] and report.unusable


def test_items_bytes_and_paths_agree(tmp_path, catalog):
    items = valid_items()
    items[1]["score"] = float("nan")
    path = write_items(tmp_path, items)
    a = validate_submission(path, catalog).to_dict()
    b = validate_submission(path.read_bytes(), catalog, source_name=str(path)).to_dict()
    c = validate_submission(json.loads(path.read_text()), catalog, source_name=str(path)).to_dict()
    a["stats"].pop("file_bytes")
    assert a == b == c


def test_progress_and_cancel(tmp_path, catalog):
    path = write_items(tmp_path, valid_items())
    seen = []
    validate_submission(path, catalog, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (PROGRESS_TOTAL, PROGRESS_TOTAL)
    assert all(t == PROGRESS_TOTAL for _, t in seen) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    event = threading.Event()
    event.set()
    with pytest.raises(ValidationCancelled):
        validate_submission(path, catalog, cancel=event)
    calls = []

    def cancel_after_parse():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(ValidationCancelled):
        validate_submission(path, catalog, cancel=cancel_after_parse)
    # cancelled while the masks are decoded: the callback saw that phase start, nothing later
    progress_seen: list[int] = []
    with pytest.raises(ValidationCancelled):
        validate_submission(
            path, catalog, progress=lambda d, t: progress_seen.append(d),
            cancel=lambda: bool(progress_seen) and progress_seen[-1] >= 550,
        )
    assert 550 <= progress_seen[-1] < PROGRESS_TOTAL


def test_large_systematic_file_is_fast_to_report(tmp_path, catalog):
    """20k predictions all with swapped sizes: a small report, every item counted."""
    m = np.zeros((8, 6), np.uint8)
    m[1:3, 1:3] = 1
    seg = dict(rle.encode(m))
    items = [{"image_id": 20210, "category_id": 1 + k % 100, "segmentation": seg, "score": k / 20000} for k in range(20000)]
    report = check(tmp_path, catalog, items)
    assert report.counts["size-mismatch"] == 20000 and report.counts["too-many-per-image"] == 1
    assert len(report.problems) < 100
