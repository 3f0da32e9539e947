"""A call in a spawned process (placeseg_core.isolated): what the window validates with, so
that seconds of Python work never share the GIL with its GUI thread."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from placeseg_core.errors import InputError
from placeseg_core.isolated import IsolatedCallCancelled, IsolatedCallFailed, call_isolated


def counted(n: int, progress=None) -> tuple[int, int]:
    """Reports n steps, returns (n, this process's pid)."""
    for k in range(1, n + 1):
        progress(k, n)
    return n, os.getpid()


def refuses(path: str, progress=None) -> None:
    raise InputError(f"{path}: item 3: field 'score': not a number")


def waits_for_ever(progress=None) -> None:
    progress(0, 1)
    threading.Event().wait()


def dies(progress=None) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_the_result_comes_back_from_another_process_with_its_progress():
    seen: list[tuple[int, int]] = []
    n, pid = call_isolated(counted, 5, progress=lambda d, t: seen.append((d, t)))
    assert n == 5 and pid != os.getpid()
    assert seen and seen[-1] == (5, 5)  # throttled, but the last step always arrives


def test_the_callees_own_error_is_raised_in_the_caller():
    with pytest.raises(InputError, match=r"p\.json: item 3: field 'score'"):
        call_isolated(refuses, "p.json")


def test_cancel_kills_the_process_and_says_so():
    started = threading.Event()

    def progress(_done: int, _total: int) -> None:
        started.set()

    with pytest.raises(IsolatedCallCancelled):
        call_isolated(waits_for_ever, progress=progress, cancelled=started.is_set)


def test_a_process_that_dies_is_an_error_naming_how():
    with pytest.raises(IsolatedCallFailed, match="killed by signal 9"):
        call_isolated(dies)
