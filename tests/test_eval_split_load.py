"""The two-process submission loader: same columns as the single-process loader, and on any
unusual input the single-process loader's own result or message (it falls back to it)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_eval_api import pred, square, tiny_gt

from placeseg_core.errors import InputError
from placeseg_core.evaluation import evaluate
from placeseg_core.rle import area as rle_area
from placeseg_core.submissions import split as S
from placeseg_core.submissions.columns import load_in_one_process


@pytest.fixture(autouse=True)
def small_files(monkeypatch):
    """Split even tiny files, at many places."""
    monkeypatch.setattr(S, "MIN_BYTES", 0)
    monkeypatch.setattr(S, "CUT_SHARES", (0.3, 0.5, 0.7, 0.9))


def items(n: int = 40, bbox: bool = False) -> list[dict]:
    out = []
    for k in range(n):
        it = pred(square(k % 50, (3 * k) % 50, 20 + k % 7), round(0.2 + 0.6 * ((k * 37) % 100) / 100, 2),
                  category_id=1 + k % 2)
        if bbox:
            it["bbox"] = [1.0, 2.0, 3.0 + k, 4.0]
        if k == 11:
            it["extra"] = 1
        out.append(it)
    return out


def write(tmp_path: Path, data, text: str | None = None) -> Path:
    path = tmp_path / "preds.json"
    path.write_text(json.dumps(data, indent=1) if text is None else text)
    return path


def loaded(path: Path):
    split = S.start_split_load(path, 2)
    assert split is not None
    return S.finish_split_load(split)


def same(a, b) -> None:
    for name in ("image_ids", "category_ids", "scores"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert a.rles == b.rles and a.extra_fields == b.extra_fields and a.source == b.source
    assert (a.bboxes is None) == (b.bboxes is None)
    if a.bboxes is not None:
        assert np.array_equal(a.bboxes, b.bboxes)
    # the areas the loaders keep from their checks are pycocotools' own mask.area
    assert a.mask_areas is not None and b.mask_areas is not None
    assert np.array_equal(a.mask_areas, b.mask_areas)
    assert np.array_equal(a.mask_areas, rle_area(a.rles))


@pytest.mark.parametrize("bbox", [False, True])
def test_same_columns_as_one_process(tmp_path, bbox, monkeypatch):
    path = write(tmp_path, items(bbox=bbox))
    expected = load_in_one_process(path)

    def no_fallback(_path):
        raise AssertionError("fell back to the single-process loader")

    monkeypatch.setattr(S, "load_in_one_process", no_fallback)
    same(loaded(path), expected)


def test_compact_file_and_evaluation_identical(tmp_path):
    path = write(tmp_path, None, json.dumps(items(60), separators=(",", ":")))
    gt = tiny_gt(first_id=1)
    ours = evaluate(gt, path, workers=2)
    single = evaluate(gt, path, workers=1)
    assert np.array_equal(ours.precision, single.precision) and np.array_equal(ours.recall, single.recall)


def test_cut_inside_a_string_falls_back(tmp_path):
    data = items()
    for it in data:
        it["note"] = "}, {" * 50  # every cut lands inside a string: a piece cannot parse
    path = write(tmp_path, data)
    same(loaded(path), load_in_one_process(path))


def test_tail_item_only_the_shared_loader_takes(tmp_path):
    data = items()
    data[-1]["score"] = float("nan")  # the bulk path refuses it in the helper
    path = write(tmp_path, data)
    with pytest.raises(InputError) as ours:
        loaded(path)
    with pytest.raises(InputError) as single:
        load_in_one_process(path)
    assert str(ours.value) == str(single.value)


def test_first_item_bbox_but_tail_without(tmp_path):
    data = items(bbox=True)
    del data[-1]["bbox"]
    path = write(tmp_path, data)
    with pytest.raises(InputError) as ours:
        loaded(path)
    with pytest.raises(InputError) as single:
        load_in_one_process(path)
    assert str(ours.value) == str(single.value)


def test_tail_bboxes_ignored_when_first_item_has_none(tmp_path):
    data = items(bbox=True)
    del data[0]["bbox"]
    path = write(tmp_path, data)
    sub = loaded(path)
    assert sub.bboxes is None
    same(sub, load_in_one_process(path))


@pytest.mark.parametrize("cut", ["tail", "head"])
def test_invalid_json_same_message(tmp_path, cut):
    text = json.dumps(items(), indent=1)
    at = int(len(text) * (0.95 if cut == "tail" else 0.1))
    text = text[:at] + "}}" + text[at:]
    path = write(tmp_path, None, text)
    with pytest.raises(InputError) as ours:
        evaluate(tiny_gt(), path, workers=2)
    with pytest.raises(InputError) as single:
        evaluate(tiny_gt(), path, workers=1)
    assert str(ours.value) == str(single.value)


def test_not_a_list_or_too_small_is_not_split(tmp_path):
    assert S.start_split_load(write(tmp_path, {"a": [{"b": 1}, {"c": 2}]}), 2) is None
    assert S.start_split_load(write(tmp_path, items()), 1) is None
    assert S.start_split_load(tmp_path / "missing.json", 2) is None


@pytest.mark.parametrize("mode", ["no", "required", "if_usable"])
def test_columns_built_in_pieces_equal_the_whole(mode):
    """The GUI's loader builds columns a slice at a time: same columns, same verdicts."""
    from placeseg_core.submissions.columns import extract_columns, extract_columns_in_pieces

    data = items(400, bbox=True)
    data[300].pop("bbox")  # one item late in the file without a box
    whole = extract_columns(data, mode)
    pieces = extract_columns_in_pieces(data, mode, piece=64)
    assert (whole is None) == (pieces is None) == (mode == "required")
    if whole is not None:
        for name in ("image_ids", "category_ids", "scores"):
            assert np.array_equal(getattr(whole, name), getattr(pieces, name))
        assert whole.segs == pieces.segs and whole.counts == pieces.counts and whole.sizes == pieces.sizes
        assert whole.extra == pieces.extra and "extra" in whole.extra
        assert (whole.bboxes is None) == (pieces.bboxes is None) == (mode == "if_usable" or mode == "no")
    data[300]["bbox"] = [1.0, 2.0, 3.0, 4.0]
    whole, pieces = extract_columns(data, "required"), extract_columns_in_pieces(data, "required", piece=64)
    assert np.array_equal(whole.bboxes, pieces.bboxes)
    data[390]["score"] = "high"  # a fault in the last piece: both refuse (the shared loader explains)
    assert extract_columns(data, "no") is None and extract_columns_in_pieces(data, "no", piece=64) is None


def test_the_engine_scores_alike_with_the_loaders_areas_and_with_its_own(tmp_path):
    """The fast engine takes detection areas from the loader when it kept them, else it asks
    pycocotools: the matches and every number are the same either way."""
    from dataclasses import replace

    from placeseg_core.submissions.columns import load_in_one_process

    sub = load_in_one_process(write(tmp_path, items(60)))
    assert sub.mask_areas is not None
    gt = tiny_gt(first_id=1)
    kept, computed = evaluate(gt, sub, workers=1), evaluate(gt, replace(sub, mask_areas=None), workers=1)
    assert np.array_equal(kept.precision, computed.precision) and np.array_equal(kept.recall, computed.recall)
    for name in ("status", "rank", "outside_all", "cand_index", "cand_gt_row", "gt_matched"):
        assert np.array_equal(getattr(kept.records, name), getattr(computed.records, name)), name
