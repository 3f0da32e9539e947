"""Writing outputs without ever leaving a half-written file where the user expects a whole one."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import InputError

_UMASK_LOCK = threading.Lock()


class OutputError(InputError):
    """An output cannot be written where the user asked (a folder, no permission, an input)."""


def _new_file_mode() -> int:
    """The mode ``open()`` would give a new file (0o666 minus the umask), not mkstemp's 0o600."""
    with _UMASK_LOCK:  # os.umask can only be read by setting it
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def ensure_not_an_input(output: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str] | None]) -> None:
    """Refuse an output path that is one of the inputs: writing it would destroy that input."""
    out = Path(output)
    for given in inputs:
        if given is None:
            continue
        src = Path(given)
        same = out.resolve() == src.resolve()
        if not same and out.exists() and src.exists():
            try:
                same = os.path.samefile(out, src)
            except OSError:
                same = False
        if same:
            raise OutputError(f"{out}: is also an input of this command; choose another output file")


def check_output_path(output: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str] | None] = ()) -> None:
    """Before long work: the output must be a file name, and not one of the inputs."""
    if Path(output).is_dir():
        raise OutputError(f"{output}: is a folder; give the output a file name")
    ensure_not_an_input(output, inputs)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``.

    A crash or a full disk leaves either the old file or the new one, never a truncated mix.
    The new file gets the old file's mode, or a new file's usual mode (mkstemp would give
    0600, unreadable to anyone else). Raises :class:`OutputError` with a one-line reason.
    """
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{target}: is a folder; give the output a file name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = target.stat().st_mode & 0o7777 if target.exists() else _new_file_mode()
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"{target}: cannot write ({exc.strerror or exc})") from None
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Atomic UTF-8 text write (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike[str], obj: Any, **dump_kwargs: Any) -> None:
    """Serialise ``obj`` with :func:`json.dumps` and write it atomically."""
    write_text_atomic(path, json.dumps(obj, **dump_kwargs))
