"""Progress on stderr for long runs: a single updating line on a terminal, sparse lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

#: Seconds between reports: a terminal's line updates twice a second; a log (a file, a pipe, a
#: CI job) gets a line every few seconds, and a run shorter than that prints nothing there, so
#: that a script reading stderr sees the error line first.
TERMINAL_INTERVAL = 0.5
LOG_INTERVAL = 5.0


class StderrProgress:
    """Callable ``(done, total)`` that reports at most a few times a second."""

    def __init__(self, label: str, stream: TextIO | None = None, min_interval: float | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        if min_interval is None:
            min_interval = TERMINAL_INTERVAL if self._tty else LOG_INTERVAL
        self.min_interval = min_interval
        self._last = time.monotonic()
        self._started = time.monotonic()
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.min_interval:
            return
        if done >= total and not self._shown and now - self._started < self.min_interval:
            return  # short runs stay quiet
        self._last = now
        self._shown = True
        pct = 100.0 * done / total if total else 100.0
        text = f"{self.label}: {done}/{total} ({pct:.0f}%)"
        if self._tty:
            end = "\n" if done >= total else ""
            self.stream.write("\r" + text + end)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
