"""The GUI's data layer: opening folders and COCO files, predictions, workers, the demo cache."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from gui_fixtures import WAIT_MS, TinySet
from PySide6.QtCore import QObject

from placeseg_core.convert import convert_annotations, write_ground_truth
from placeseg_core.errors import InputError
from placeseg_review.model.data import (
    load_predictions,
    open_coco,
    open_ground_truth,
    open_layout,
    sniff_json_kind,
)
from placeseg_review.model.prepared import prepare_image
from placeseg_review.services.demo_cache import demo_dir, ensure_demo
from placeseg_review.services.workers import WorkerPool

# pycocotools 2.0.11 with numpy 2 warns on every decode; it is not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def test_layout_lists_images_with_catalogue_ids(tiny_set: TinySet):
    ds = open_layout(tiny_set.root)
    assert [e.id for e in ds.entries] == [20210, 20211]
    assert ds.entries[0].photo_path.name == "ADE_val_00000001.jpg"
    assert ds.entries[0].annotation_path.name == "ADE_val_00000001.png"
    assert ds.category_name(8) == "chair"


def test_coco_ground_truth_opens_with_same_instances_as_the_pngs(tiny_set: TinySet, tmp_path: Path):
    ds_png = open_layout(tiny_set.root)
    result = convert_annotations(tiny_set.root / "annotations_instance" / "validation", _catalog(tiny_set))
    gt_path = tmp_path / "gt.json"
    write_ground_truth(gt_path, result.dataset)
    ds = open_coco(gt_path, tiny_set.root / "images")
    assert ds.kind == "coco" and ds.gt_counts.tolist() == [3, 1]
    assert all(e.photo_path is not None for e in ds.entries)
    a, b = prepare_image(ds_png, 20210, None), prepare_image(ds, 20210, None)
    assert [(i.category_id, i.area, i.bbox) for i in a.gt.instances] == [(i.category_id, i.area, i.bbox) for i in b.gt.instances]
    assert np.array_equal(a.gt.labels > 0, b.gt.labels > 0)
    assert open_ground_truth(gt_path, tiny_set.root / "images").kind == "coco"


def _catalog(tiny: TinySet) -> object:
    from placeseg_core.catalog import load_catalog

    return load_catalog(tiny.root / "imgCatIds.json")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[{\"image_id\": 1,", "invalid JSON at line 1"),
        ("{\"a\": 1}", "expected a JSON list"),
        ("[]", "empty list"),
        (json.dumps([{"image_id": 5, "category_id": 1, "score": 0.5,
                      "segmentation": {"size": [40, 60], "counts": "P[2"}}]), "none of its 1 predictions"),
        (json.dumps([{"image_id": 5, "category_id": 1, "score": 0.5,
                      "segmentation": {"size": [40, 60], "counts": "PP`0"}}]),
         r"item 0, field segmentation\.counts: the runs cover 16384 pixels but size 40×60 has 2400"),
    ],
)
def test_bad_predictions_give_one_line_reasons(tiny_set: TinySet, tmp_path: Path, content: str, expected: str):
    ds = open_layout(tiny_set.root)
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(InputError, match=expected):
        load_predictions(bad, ds)


def test_folder_without_the_layout_is_refused(tmp_path: Path):
    with pytest.raises(InputError, match="no images/<split>"):
        open_ground_truth(tmp_path)


def test_sniff_json_kind(tiny_set: TinySet):
    assert sniff_json_kind(tiny_set.predictions) == "predictions"
    assert sniff_json_kind(tiny_set.root / "imgCatIds.json") == "ground-truth"


def test_predictions_are_indexed_per_image(tiny_set: TinySet):
    idx = load_predictions(tiny_set.predictions, open_layout(tiny_set.root))
    assert idx.count(20210) == 2 and idx.count(20211) == 1 and idx.count(99) == 0
    assert idx.category_counts[4] == 2 and idx.category_counts[8] == 1


def test_worker_results_arrive_on_the_gui_thread_and_errors_are_reported(qtbot):
    owner = QObject()
    pool = WorkerPool(2, owner)
    seen: dict[str, object] = {}

    def work(task, x):
        task.progress(1, 1)
        return x * 2, threading.get_ident()

    def boom(task):
        raise ValueError("broken")

    pool.submit(work, 21, on_returned=lambda r: seen.update(ret=r, thread=threading.get_ident()))
    qtbot.waitUntil(lambda: "ret" in seen and pool.pending == 0, timeout=WAIT_MS)
    assert seen["ret"][0] == 42
    assert seen["ret"][1] != threading.get_ident() and seen["thread"] == threading.get_ident()
    pool.submit(boom, on_error=lambda exc: seen.update(err=exc))
    qtbot.waitUntil(lambda: "err" in seen, timeout=WAIT_MS)
    assert str(seen["err"]) == "broken"
    assert pool.shutdown(WAIT_MS) and pool.active_thread_count() == 0


def test_cancelled_worker_stops_and_returns_nothing(qtbot):
    pool = WorkerPool(1)
    started = threading.Event()
    results: list[object] = []

    def loop(task):
        started.set()
        while True:
            task.check()
            threading.Event().wait(0.005)

    worker = pool.submit(loop, on_returned=results.append)
    assert started.wait(WAIT_MS / 1000)
    with qtbot.waitSignal(worker.signals.cancelled, timeout=WAIT_MS):
        worker.cancel()
    assert pool.shutdown(WAIT_MS) and results == []


def test_demo_is_built_once_into_the_overridable_cache(isolated_user_state: Path):
    assert demo_dir() == isolated_user_state / "cache" / "demo"
    root = ensure_demo(n_images=2)
    stamp = (root / "predictions.json").stat().st_mtime_ns
    assert ensure_demo(n_images=2) == root
    assert (root / "predictions.json").stat().st_mtime_ns == stamp  # not rebuilt
    assert len(open_layout(root).entries) == 2


def test_qt_calls_and_signals_keep_reference_counts():
    """PySide6 6.12.0 on CPython 3.11 drops a reference to None per void Qt call and to True per
    signal delivery, so a session dies with "Fatal Python error: none_dealloc" within seconds.
    pyproject.toml excludes 6.12 on Python < 3.12; this guards that pin.
    """
    import sys

    from PySide6.QtCore import Signal

    class Emitter(QObject):
        fired = Signal()

    obj = Emitter()
    received = []
    obj.fired.connect(lambda: received.append(1))
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        obj.setObjectName("x")
        obj.fired.emit()
    assert len(received) == 2000
    if sys.version_info < (3, 12):  # immortal singletons from 3.12 on: counts are meaningless
        assert abs(sys.getrefcount(None) - none_before) < 50
        assert abs(sys.getrefcount(True) - true_before) < 50
