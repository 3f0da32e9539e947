"""The fast engine's split into category parts run in forked helpers: same numbers, same
records, progress and cancel across processes, and a helper that fails is made up for."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from test_eval_cases import make_case, run_pycocotools, shifted_ids
from test_eval_parity import assert_same_arrays, assert_same_pairs

from placeseg_core.evaluation import (
    VARIANT_ID0_COUNTED,
    VARIANT_MASK_AREAS,
    VARIANT_README_RULE,
    evaluate,
)
from placeseg_core.evaluation.control import Control, EvaluationCancelled
from placeseg_core.evaluation.parts import split_categories
from placeseg_core.processes import run_parts


def _same_results(one, two) -> None:
    assert np.array_equal(one.precision, two.precision)
    assert np.array_equal(one.recall, two.recall)
    assert one.variants.keys() == two.variants.keys()
    for key in one.variants:
        assert one.variants[key].same_numbers(two.variants[key]), key
    assert one.quirks == two.quirks
    for image_id in one.records.image_ids_with_records().tolist():
        assert one.records.image(image_id) == two.records.image(image_id)


@pytest.mark.parametrize("workers", [2, 3])
def test_every_variant_is_the_same_with_parts_in_helpers(workers):
    """Box areas, id-0 matches and the README rule: each part fills its own categories of
    each variant; a part without the variant keeps the official numbers there."""
    case = make_case(11, n_images=10, bbox=True, many=True, id0_match=True, ties=True, crowd=True)
    one = evaluate(case.gt, case.items, workers=1)
    split = evaluate(case.gt, case.items, workers=workers)
    assert set(split.variants) == {VARIANT_ID0_COUNTED, VARIANT_MASK_AREAS, VARIANT_README_RULE}
    assert split.timings["workers"] == workers
    _same_results(one, split)
    E = run_pycocotools(case.gt, case.items)
    assert_same_arrays(split, E)
    assert_same_pairs(split, E, case.items)
    E0 = run_pycocotools(shifted_ids(case.gt), case.items)
    assert np.array_equal(split.variants[VARIANT_ID0_COUNTED].precision, E0.eval["precision"])


def test_more_parts_than_categories_with_predictions():
    case = make_case(3, n_images=4, categories=(1, 2), empty_images=True)
    E = run_pycocotools(case.gt, case.items)
    result = evaluate(case.gt, case.items, workers=4)
    assert_same_arrays(result, E)


def test_split_categories_covers_each_category_once_and_balances():
    cost = np.array([50.0, 40, 30, 20, 10, 10, 5, 5, 0, 0])
    parts = split_categories(cost, 2)
    assert len(parts) == 2
    assert np.array_equal(np.sum(parts, axis=0), np.ones(len(cost)))
    loads = sorted(float(cost[p].sum()) for p in parts)
    assert loads == [85.0, 85.0]
    assert len(split_categories(cost, 1)) == 1
    assert len(split_categories(np.array([3.0]), 2)) == 1  # one category: one part


def _square(p, tick):
    for _ in range(3):
        tick()
    return p * p


def test_run_parts_counts_the_helpers_progress():
    seen = []
    control = Control(progress=lambda done, total: seen.append(done))
    control.set_total(9)
    assert run_parts(_square, 3, control) == [0, 1, 4]
    assert control.done == 9 and seen[-1] == 9


def test_a_part_whose_helper_fails_is_run_here():
    parent = os.getpid()

    def task(p, tick):
        if os.getpid() != parent:
            raise MemoryError("helper ran out")
        tick()
        return ("here", p)

    control = Control()
    control.set_total(2)
    assert run_parts(task, 2, control) == [("here", 0), ("here", 1)]


def test_an_error_in_every_process_reaches_the_caller():
    def task(p, tick):
        raise ValueError(f"part {p} is broken")

    with pytest.raises(ValueError, match="part 0 is broken"):
        run_parts(task, 2, Control())


def test_cancel_while_waiting_for_a_helper_stops_it():
    parent = os.getpid()
    read_end, write_end = os.pipe()  # the helper blocks reading it: it never finishes by itself
    cancel = threading.Event()

    def task(p, tick):
        if os.getpid() != parent:
            os.read(read_end, 1)
            return "late"
        cancel.set()  # the user cancels as this process finishes its own part
        return "mine"

    try:
        with pytest.raises(EvaluationCancelled):
            run_parts(task, 2, Control(cancel=cancel))
    finally:
        os.close(read_end)
        os.close(write_end)


def test_batched_iou_calls_give_each_group_its_own_matrix():
    """Several groups of one image share a pycocotools ``iou`` call; each group's block equals
    the call pycocotools itself makes for that group (crowd regions included)."""
    from pycocotools import mask as mask_utils

    from placeseg_core.evaluation.matching import Groups
    from placeseg_core.evaluation.work import WorkSet, group_ious, iou_batches

    case = make_case(5, n_images=6, crowd=True, many=True)
    gt = case.gt
    rles = [a["segmentation"] for a in gt["annotations"]]
    crowd = np.array([a["iscrowd"] for a in gt["annotations"]], dtype=bool)
    preds = [it["segmentation"] for it in case.items]
    by_group: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
    for i, it in enumerate(case.items):
        by_group.setdefault((it["image_id"], it["category_id"]), ([], []))[0].append(i)
    for r, a in enumerate(gt["annotations"]):
        if (a["image_id"], a["category_id"]) in by_group:
            by_group[(a["image_id"], a["category_id"])][1].append(r)
    keys = sorted(k for k, (d, g) in by_group.items() if d and g)
    assert len({img for img, _ in keys}) < len(keys)  # some image has several groups
    dts = [by_group[k][0] for k in keys]
    gts = [by_group[k][1] for k in keys]
    groups = Groups(np.array([len(d) for d in dts]), np.array([len(g) for g in gts]),
                    np.array([i for d in dts for i in d]), np.array([r for g in gts for r in g]), np.zeros(0))
    work = WorkSet(sub_rles=preds, sub_areas=None, gt_rles=rles, gt_crowd=crowd, gt_ignore=np.zeros((1, len(rles)), bool),
                   iou_thrs=np.array([0.5]), dt_index=groups.dt_index, dt_group=groups.dt_index,
                   gt_order=groups.gt_rows, gt_group=groups.gt_rows, selections=[],
                   chunk_bounds=np.array([0, 1]), dt_img=groups.dt_index, gt_img=groups.gt_rows)
    image = np.array([img for img, _ in keys])
    got = group_ious(work, groups, image)
    expected = np.concatenate([
        np.asarray(mask_utils.iou([preds[i] for i in d], [rles[r] for r in g], [int(crowd[r]) for r in g])).reshape(-1)
        for d, g in zip(dts, gts, strict=True)])
    assert np.array_equal(got, expected)
    assert len(iou_batches(image.tolist(), groups.num_dt.tolist(), groups.num_gt.tolist(), 40)) - 1 < len(keys)


def test_a_rerun_part_does_not_count_the_helpers_ticks_twice():
    parent = os.getpid()

    def task(p, tick):
        for step in range(3):
            if os.getpid() != parent and step == 2:
                raise MemoryError("helper ran out after two steps")
            tick()
        return p

    seen = []
    control = Control(progress=lambda done, total: seen.append(done))
    control.set_total(6)
    assert run_parts(task, 2, control) == [0, 1]
    assert seen[-1] == 6 and seen.count(6) == 1  # full only at the very end


def test_the_callers_cancel_callable_runs_only_in_the_calling_process(tmp_path):
    calls = tmp_path / "calls.txt"

    def cancel() -> bool:
        with open(calls, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        return False

    case = make_case(2, n_images=8, many=True)
    evaluate(case.gt, case.items, workers=2, cancel=cancel)
    pids = set(calls.read_text().split())
    assert pids == {str(os.getpid())}


def test_a_helper_that_hangs_is_stopped_and_its_part_run_here():
    parent = os.getpid()
    read_end, write_end = os.pipe()  # the helper blocks reading it, silently, forever

    def task(p, tick):
        if os.getpid() != parent:
            os.read(read_end, 1)
            return "never"
        tick()
        return ("here", p)

    control = Control()
    control.set_total(2)
    try:
        assert run_parts(task, 2, control, patience_s=0.3) == [("here", 0), ("here", 1)]
    finally:
        os.close(read_end)
        os.close(write_end)
