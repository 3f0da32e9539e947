"""How background work shares the window: progress updates are thinned out (each one repaints
the status bar), the last one always arrives, a worker whose window is gone ends quietly, and
the automatic error analysis starts only after the evaluation is on screen."""

from __future__ import annotations

from gui_error_set import write_error_set
from gui_fixtures import WAIT_MS

from placeseg_review.services.error_runner import AUTO_DELAY_MS
from placeseg_review.services.workers import WorkerPool


def _many_steps(task, n):
    for k in range(n):
        task.progress(k + 1, n)
    return n


def test_progress_is_thinned_out_but_the_last_step_arrives(qtbot):
    pool = WorkerPool(1)
    seen = []
    with qtbot.waitSignal(pool.activeChanged, check_params_cb=lambda n: n == 0, timeout=WAIT_MS):
        pool.submit(_many_steps, 20000, on_progress=lambda done, total: seen.append(done))
    qtbot.waitUntil(lambda: seen and seen[-1] == 20000, timeout=WAIT_MS)
    assert seen[0] == 1  # the first step is shown at once
    assert len(seen) < 1000  # not one repaint per step
    assert seen == sorted(seen)
    assert pool.shutdown()


def test_automatic_error_analysis_waits_until_the_evaluation_is_shown(qtbot, window, tmp_path):
    root = write_error_set(tmp_path / "errors").root
    window.controller.open_dataset(root)
    qtbot.waitUntil(lambda: window.session.predictions is not None and window.session.image is not None
                    and not window.controller.busy, timeout=WAIT_MS)
    started = []
    window.errors.runningChanged.connect(lambda running: running and started.append(True))
    # Checked as the evaluation arrives, once every view has taken it (this slot is connected
    # last): on a loaded machine the turn of the event loop that delivers it can outlast the
    # timer, so a check after waitSignal returns could see the analysis already started.
    shown = []
    window.session.evaluationChanged.connect(lambda ev: ev is not None and shown.append(
        (window.errors.running(), bool(started), window.errors._auto_timer.isActive(),
         window.errors._auto_timer.interval())))
    with qtbot.waitSignal(window.session.evaluationChanged, check_params_cb=lambda ev: ev is not None,
                          timeout=WAIT_MS):
        window.show_analysis("errors", run=True)
    assert len(shown) == 1
    running, started_then, timer_active, interval = shown[0]
    assert not running and not started_then  # not in the turn of the event loop that shows it
    assert timer_active and interval == AUTO_DELAY_MS
    qtbot.waitUntil(lambda: window.session.error_analysis is not None and window.errors.current(),
                    timeout=WAIT_MS)
    assert started


def test_closing_the_window_cancels_a_pending_automatic_analysis(qtbot, window, tmp_path):
    root = write_error_set(tmp_path / "errors").root
    window.controller.open_dataset(root)
    qtbot.waitUntil(lambda: window.session.predictions is not None and not window.controller.busy,
                    timeout=WAIT_MS)
    # Closed while the automatic analysis is pending: right as the evaluation is shown (this
    # slot runs after the views' slots). After waitSignal returns, on a loaded machine, the
    # timer may already have fired, and nothing would be pending any more.
    closed = []

    def close_while_pending(ev) -> None:
        if ev is not None and not closed:
            closed.append((window.errors._auto_timer.isActive(), window.shutdown()))

    window.session.evaluationChanged.connect(close_while_pending)
    with qtbot.waitSignal(window.session.evaluationChanged, check_params_cb=lambda ev: ev is not None,
                          timeout=WAIT_MS):
        window.show_analysis("errors", run=True)
    assert closed == [(True, True)]  # pending when closed; every thread ended
    assert not window.errors._auto_timer.isActive() and not window.errors.running()
