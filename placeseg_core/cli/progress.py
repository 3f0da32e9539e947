"""Progress on stderr for long runs: a single updating line on a terminal, sparse lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class StderrProgress:
    """Callable ``(done, total)`` that reports at most a few times a second."""

    def __init__(self, label: str, stream: TextIO | None = None, min_interval: float = 0.5) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.min_interval = min_interval
        self._last = time.monotonic()
        self._started = time.monotonic()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
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
