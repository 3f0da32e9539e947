"""The one run / cancel / progress bar every panel uses, bound to a JobFeed."""

from __future__ import annotations

from placeseg_review.services.jobs import JobFeed
from placeseg_review.widgets.job_bar import JobBar


def test_the_bar_follows_its_feed_and_cancels_through_it(qtbot):
    state = {"running": False, "cancelled": 0, "runs": 0}

    def cancel() -> None:
        state["cancelled"] += 1

    feed = JobFeed(lambda: state["running"], cancel)
    bar = JobBar(feed, "Go", lambda: state.__setitem__("runs", state["runs"] + 1), progress_width=120)
    qtbot.addWidget(bar)
    bar.show()
    qtbot.waitExposed(bar)
    assert bar.run_button.isEnabled() and not bar.cancel_button.isVisible() and not bar.progress.isVisible()
    bar.run_button.click()
    assert state["runs"] == 1

    state["running"] = True
    feed.runningChanged.emit(True)
    assert not bar.run_button.isEnabled() and bar.cancel_button.isVisible() and bar.progress.isVisible()
    feed.progressed.emit(3, 4)
    assert (bar.progress.value(), bar.progress.maximum()) == (3, 4)
    bar.cancel_button.click()
    assert state["cancelled"] == 1

    state["running"] = False
    feed.runningChanged.emit(False)
    assert bar.run_button.isEnabled() and not bar.cancel_button.isVisible() and not bar.progress.isVisible()


def test_a_bar_that_cannot_run_says_so(qtbot):
    feed = JobFeed(lambda: False, lambda: None)
    bar = JobBar(feed, "Go", lambda: None, can_run=lambda: False)
    qtbot.addWidget(bar)
    assert not bar.run_button.isEnabled()
