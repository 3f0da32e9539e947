"""How background work shares the window: progress updates are thinned out (each one repaints
the status bar), the last one always arrives, a worker whose window is gone ends quietly, and
the automatic error analysis starts only after the evaluation is on screen."""

from __future__ import annotations

from gui_error_set import write_error_set

from placeseg_review.error_runner import AUTO_DELAY_MS
from placeseg_review.workers import WorkerPool


def _many_steps(task, n):
    for k in range(n):
        task.progress(k + 1, n)
    return n


def test_progress_is_thinned_out_but_the_last_step_arrives(qtbot):
    pool = WorkerPool(1)
    seen = []
    with qtbot.waitSignal(pool.activeChanged, check_params_cb=lambda n: n == 0, timeout=10000):
        pool.submit(_many_steps, 20000, on_progress=lambda done, total: seen.append(done))
    qtbot.waitUntil(lambda: seen and seen[-1] == 20000, timeout=5000)
    assert seen[0] == 1  # the first step is shown at once
    assert len(seen) < 1000  # not one repaint per step
    assert seen == sorted(seen)
    assert pool.shutdown()


def test_automatic_error_analysis_waits_until_the_evaluation_is_shown(qtbot, window, tmp_path):
    root = write_error_set(tmp_path / "errors").root
    window.controller.open_dataset(root)
    qtbot.waitUntil(lambda: window.session.predictions is not None and window.session.image is not None
                    and not window.controller.busy, timeout=30000)
    started = []
    window.errors.runningChanged.connect(lambda running: running and started.append(True))
    with qtbot.waitSignal(window.session.evaluationChanged, check_params_cb=lambda ev: ev is not None,
                          timeout=60000):
        window.show_analysis("errors", run=True)
    assert not window.errors.running() and not started  # not in the same turn of the event loop
    assert window.errors._auto_timer.isActive() and window.errors._auto_timer.interval() == AUTO_DELAY_MS
    qtbot.waitUntil(lambda: window.session.error_analysis is not None and window.errors.current(),
                    timeout=60000)
    assert started


def test_closing_the_window_cancels_a_pending_automatic_analysis(qtbot, window, tmp_path):
    root = write_error_set(tmp_path / "errors").root
    window.controller.open_dataset(root)
    qtbot.waitUntil(lambda: window.session.predictions is not None and not window.controller.busy, timeout=30000)
    with qtbot.waitSignal(window.session.evaluationChanged, check_params_cb=lambda ev: ev is not None,
                          timeout=60000):
        window.show_analysis("errors", run=True)
    assert window.errors._auto_timer.isActive()
    assert window.shutdown()
    assert not window.errors._auto_timer.isActive() and not window.errors.running()
