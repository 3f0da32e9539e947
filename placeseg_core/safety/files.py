"""Opening the files a user names: regular files only, bounded in size, remembered as inputs.

Every command and the window read their inputs through :func:`read_input_bytes` (or
:func:`open_input` for readers that want a file object), so one rule decides what may be read:

- only a regular file is read. A FIFO would block ``open()`` until some writer appears (the
  command hangs for ever), a character device such as ``/dev/zero`` never ends (the reader
  eats memory until it dies), a folder or socket cannot be read as a file. The file is opened
  with ``O_NONBLOCK`` so that even a FIFO returns at once, and its kind is read from the open
  descriptor (``fstat``), so nothing can swap the file between the check and the read;
- a symbolic link loop, a dangling link, a missing file or a permission problem is a one-line
  :class:`~placeseg_core.errors.InputError` naming the path;
- the size is checked before anything is read (:data:`DEFAULT_MAX_BYTES`, raised with
  ``--max-size-mb`` on the command line);
- every file read is remembered by (device, inode) so that no output can later replace it
  (:func:`was_read`, used by :mod:`placeseg_core.atomic`).
"""

from __future__ import annotations

import errno
import io
import os
import stat
import threading
from typing import BinaryIO

from ..errors import InputError

#: Refuse larger inputs unless asked: parsing JSON needs about five times the file's size in
#: memory, and even a full test submission (255 masks for each of 3,352 images, about 240 MB)
#: is well under this.
DEFAULT_MAX_BYTES = 800_000_000

_limit_lock = threading.Lock()
_max_bytes = DEFAULT_MAX_BYTES
_read_lock = threading.Lock()
# (device, inode) -> ctime of every file read in this process. The ctime tells a file that was
# read from a new file that happens to get the same inode after the first was deleted.
_read: dict[tuple[int, int], int] = {}


class NotARegularFile(InputError):
    """The path names a FIFO, a device, a folder or a socket."""


def max_input_bytes() -> int:
    """The size above which an input is refused (see :func:`set_max_input_bytes`)."""
    return _max_bytes


def set_max_input_bytes(limit: int) -> None:
    """Raise or lower the input size ceiling for this process (``--max-size-mb``)."""
    global _max_bytes
    if limit <= 0:
        raise ValueError("the size limit must be positive")
    with _limit_lock:
        _max_bytes = int(limit)


def human_size(num_bytes: int) -> str:
    """A size for messages: whole MB for big files, but never "0 MB" for a small one."""
    if num_bytes >= 10e6:
        return f"{num_bytes / 1e6:,.0f} MB"
    if num_bytes >= 1e5:
        return f"{num_bytes / 1e6:,.1f} MB"
    return f"{num_bytes / 1e3:,.1f} KB"


def kind_of(mode: int) -> str:
    """What a file is, in words, from its ``st_mode``."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _open_error(path: str, exc: OSError, what: str) -> InputError:
    if exc.errno == errno.ENOENT:
        if os.path.islink(path):
            return InputError(f"{path}: is a symbolic link to a missing file ({os.readlink(path)})")
        return InputError(f"{path}: file not found{what}")
    if exc.errno == errno.ELOOP:
        return InputError(f"{path}: symbolic link loop (the link points back to itself)")
    if exc.errno == errno.ENXIO:
        return NotARegularFile(f"{path}: is a socket, not a regular file{what}")
    if exc.errno == errno.ENAMETOOLONG:
        return InputError(f"{path}: the path is too long")
    return InputError(f"{path}: cannot read ({exc.strerror or exc})")


def open_input(path: str | os.PathLike[str], what: str = "", max_bytes: int | None = None) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file within the size limit.

    ``what`` completes "file not found" (e.g. " (the kit's imgCatIds.json)"). Raises
    :class:`~placeseg_core.errors.InputError` (:class:`NotARegularFile` for FIFOs, devices,
    folders and sockets) naming the path. The caller closes the returned file.
    """
    p = os.fspath(path)
    limit = _max_bytes if max_bytes is None else max_bytes
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise _open_error(p, exc, what) from None
    except ValueError:  # a NUL character in the path
        raise InputError(f"{p!r}: not a usable path (it contains a NUL character)") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = kind_of(st.st_mode)
            hint = "; give the JSON file inside it" if stat.S_ISDIR(st.st_mode) else ""
            raise NotARegularFile(f"{p}: is {kind}, not a regular file{hint}")
        if st.st_size > limit:
            raise InputError(
                f"{p}: {human_size(st.st_size)} is above the input limit of {human_size(limit)} "
                "(raise it with --max-size-mb)"
            )
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    remember_input(st)
    return handle


def read_input_bytes(path: str | os.PathLike[str], what: str = "", max_bytes: int | None = None) -> bytes:
    """All bytes of a regular file (see :func:`open_input`)."""
    limit = _max_bytes if max_bytes is None else max_bytes
    with open_input(path, what, limit) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InputError(f"{os.fspath(path)}: cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:  # grew while we read it
        raise InputError(f"{os.fspath(path)}: more than the input limit of {human_size(limit)} (raise it with --max-size-mb)")
    return data


def check_input(path: str | os.PathLike[str], what: str = "") -> None:
    """Raise as :func:`open_input` would, without reading (for inputs read later, elsewhere)."""
    with open_input(path, what):
        pass


def resolved(path: str | os.PathLike[str]) -> str:
    """The absolute path with links followed as far as they go; never raises (a symlink loop,
    on which ``Path.resolve()`` raises RuntimeError, stays as the absolute path)."""
    try:
        return os.path.realpath(path)
    except (OSError, RuntimeError, ValueError):
        return os.path.abspath(path)


def remember_input(st: os.stat_result) -> None:
    """Record a file this process read, so that no output replaces it (:func:`was_read`)."""
    with _read_lock:
        _read[(st.st_dev, st.st_ino)] = st.st_ctime_ns


def forget_inputs() -> None:
    """Start a new record of inputs (each command-line command is a session of its own, also
    when several run in one process, as in the tests)."""
    with _read_lock:
        _read.clear()


def was_read(st: os.stat_result) -> bool:
    """True when the file ``st`` describes was read as an input by this process."""
    with _read_lock:
        ctime = _read.get((st.st_dev, st.st_ino))
    return ctime is not None and ctime == st.st_ctime_ns


def bytes_io(path: str | os.PathLike[str], what: str = "") -> io.BytesIO:
    """A regular file's bytes as a file object (for readers such as Pillow that take one)."""
    return io.BytesIO(read_input_bytes(path, what))
