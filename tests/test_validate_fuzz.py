"""Hostile and odd input: validation never raises and never fails internally."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from test_validate_fixtures import make_catalog, valid_items

from placeseg_core.validate import validate_submission

CATALOG = make_catalog()

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, 20210, 22210, 100, 101, -1, 2**63, -(2**63) - 1, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["", "0", "P", "14", "é", "\x00"]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(["image_id", "category_id", "segmentation", "score", "size", "counts", "bbox", "x"]) | st.text(max_size=5), children, max_size=5),
    ),
    max_leaves=25,
)


def assert_sane(report):
    assert "internal-error" not in report.counts, report.problems
    assert report.valid == (not any(p.severity.value == "error" for p in report.problems))
    json.dumps(report.to_dict())  # the report itself is always serialisable


@given(json_values)
def test_any_json_value_as_submission(value):
    assert_sane(validate_submission(value, CATALOG))


@given(st.lists(json_values, min_size=1, max_size=6))
@example([{"bbox": [0, 0, 10**400, 0]}])  # was internal-error: float(bbox value) overflowed
def test_any_list_of_values(items):
    assert_sane(validate_submission(items, CATALOG, split="val"))


FIELDS = [("image_id",), ("category_id",), ("score",), ("segmentation",), ("segmentation", "size"), ("segmentation", "counts"), ("bbox",)]


@given(st.integers(0, 5), st.sampled_from(FIELDS), json_values, st.booleans())
@example(0, ("bbox",), [1, 2, 3, 10**400], False)  # item 0's bbox decides every area: was internal-error
def test_mutated_valid_submission(index, path, value, delete):
    items = copy.deepcopy(valid_items())
    target = items[index]
    for key in path[:-1]:
        target = target[key]
    if delete:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    report = validate_submission(items, CATALOG)
    assert_sane(report)
    if delete and path[-1] != "bbox":
        assert not report.valid and any(p.index == index for p in report.problems)


@given(st.binary(max_size=300))
def test_any_bytes_as_file(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("fuzz") / "p.json"
    path.write_bytes(content)
    report = validate_submission(path, CATALOG)
    assert_sane(report)
    assert not report.valid


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"[" * 200000, "nested too deeply"),
        (b'[{"image_id": ' + b"9" * 5000 + b"}]", "cannot be read"),
        (b"\x00\x01\x02", "line 1, column 1"),
        (b"\xff\xfe[\x00]\x00", "not UTF-8"),
    ],
)
def test_extreme_files(tmp_path, content, fragment):
    path = tmp_path / "p.json"
    path.write_bytes(content)
    report = validate_submission(path, CATALOG)
    assert report.codes == ["json-syntax"] and fragment in report.problems[0].message


def test_huge_and_deep_values_inside_valid_json(tmp_path):
    items = valid_items()
    items[0]["image_id"] = 10**400
    items[1]["category_id"] = -(10**300)
    items[2]["score"] = 10**400
    deep = [0]
    for _ in range(500):
        deep = [deep]
    items[3]["segmentation"]["counts"] = deep
    items[4]["extra"] = deep
    path = tmp_path / "p.json"
    path.write_text(json.dumps(items))
    report = validate_submission(path, CATALOG)
    assert_sane(report)
    assert {"unknown-image", "unknown-category", "bad-score", "bad-rle", "unknown-field"} <= set(report.counts)


@pytest.mark.parametrize("box", [[1, 2, 3, 10**400], [0, 0, 10**400, 0], [-(10**400), 0, 1, 1]])
def test_a_bbox_number_too_large_for_a_float_is_a_located_problem(box):
    """Item 0's bbox decides every area (pycocotools' loadRes); a number no float can hold in
    it is a bad-type error at that item's bbox, like other absurd numbers at their fields."""
    items = valid_items()
    items[0]["bbox"] = box
    for item in items[1:]:
        item["bbox"] = [0, 0, 1, 1]
    report = validate_submission(items, CATALOG)
    assert_sane(report)
    assert [(p.code, p.index, p.field) for p in report.problems if p.severity.value == "error"] == [("bad-type", 0, "bbox")]
    assert "too large for a float" in report.problems_for("bad-type")[0].message


def test_a_gigabyte_file_is_refused_without_reading_it(tmp_path):
    """A sparse 900 MB file (no disk used): refused by size, with the way to go on."""
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(900_000_000)
    report = validate_submission(path, CATALOG)
    assert report.codes == ["file-too-large"] and report.unusable
    assert "900 MB" in report.problems[0].message and "memory" in report.problems[0].message
