"""Writing outputs without ever leaving a half-written file where the user expects a whole one."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import InputError
from .safety.files import kind_of, resolved, was_read

_UMASK_LOCK = threading.Lock()


class OutputError(InputError):
    """An output cannot be written where the user asked (a folder, no permission, an input)."""


def _new_file_mode() -> int:
    """The mode ``open()`` would give a new file (0o666 minus the umask), not mkstemp's 0o600."""
    with _UMASK_LOCK:  # os.umask can only be read by setting it
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def _same_file(out: Path, src: Path) -> bool:
    if resolved(out) == resolved(src):
        return True
    try:
        return os.path.samefile(out, src)
    except OSError:
        return False


def ensure_not_an_input(output: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str] | None],
                        input_dirs: Iterable[str | os.PathLike[str] | None] = ()) -> None:
    """Refuse an output path that is one of the inputs: writing it would destroy that input.

    ``inputs`` are files the command reads; ``input_dirs`` folders whose files it reads (the
    annotation PNGs). Besides the paths (resolved, so links and ``..`` do not hide a file), the
    file's (device, inode) is compared with every file this process has read
    (:func:`placeseg_core.safety.files.was_read`), which catches hard links too.
    """
    out = Path(output)
    message = f"{out}: is also an input of this command; choose another output file"
    for given in inputs:
        if given is not None and _same_file(out, Path(given)):
            raise OutputError(message)
    try:
        st = os.stat(out)
    except OSError:
        st = None
    if st is not None and was_read(st):
        raise OutputError(message)
    for folder in input_dirs:
        if folder is None:
            continue
        if st is not None and stat.S_ISREG(st.st_mode):
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                try:
                    est = entry.stat()
                except OSError:
                    continue
                if (est.st_dev, est.st_ino) == (st.st_dev, st.st_ino):
                    raise OutputError(message)


def check_output_path(output: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str] | None] = (),
                      input_dirs: Iterable[str | os.PathLike[str] | None] = ()) -> None:
    """Before long work: the output must be a file name that can be written without replacing
    an input or anything that is not a regular file (see :func:`write_bytes_atomic`)."""
    out = Path(output)
    if out.is_dir():
        raise OutputError(f"{output}: is a folder; give the output a file name")
    try:
        st = os.stat(out)
    except OSError:
        st = None
    if st is not None and not _writable_kind(st.st_mode):
        raise OutputError(f"{output}: is {kind_of(st.st_mode)}; give the output a regular file name")
    ensure_not_an_input(output, inputs, input_dirs)


def _writable_kind(mode: int) -> bool:
    """A regular file is replaced atomically; a FIFO or character device (``/dev/stdout``,
    ``/dev/null``) is written in place. Anything else is refused."""
    return stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP while a temporary file exists (main thread only).

    A signal between writing the temporary file and renaming it would otherwise leave a hidden
    ``.NAME.xxxx.tmp`` beside the output; held, it is handled right after the rename or the
    clean-up, so the user sees the whole old file or the whole new one, and nothing else.
    The mask covers the main thread only: the kernel may hand a process-wide signal to another
    thread (numpy's, a pool's), which is why the command line also turns SIGTERM and SIGHUP into
    SystemExit (``cli.main``), and the writer removes its temporary file on any exception.
    """
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are delivered to the main thread; this thread needs no shield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _write_in_place(target: Path, data: bytes) -> None:
    """Write to a FIFO or character device as it is (renaming over it would replace it)."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OutputError(f"{target}: is a FIFO that no program is reading") from None
        raise OutputError(f"{target}: cannot write ({exc.strerror or exc})") from None
    try:
        os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise OutputError(f"{target}: cannot write ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``.

    A crash, a full disk or a signal leaves either the old file or the new one, never a
    truncated mix or a stray temporary file. The new file gets the old file's mode, or a new
    file's usual mode (mkstemp would give 0600, unreadable to anyone else). A symbolic link is
    followed (the link stays, its target is replaced); a FIFO or character device is written in
    place; a file this process read as an input is never replaced. Raises
    :class:`OutputError` with a one-line reason.
    """
    target = Path(path)
    try:
        st = os.stat(target)
    except OSError:
        st = None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(f"{target}: is a folder; give the output a file name")
        if not _writable_kind(st.st_mode):
            raise OutputError(f"{target}: is {kind_of(st.st_mode)}; give the output a regular file name")
        if was_read(st):
            raise OutputError(f"{target}: is also an input of this command; choose another output file")
        if not stat.S_ISREG(st.st_mode):
            _write_in_place(target, data)
            return
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = st.st_mode & 0o7777 if st is not None else _new_file_mode()
    except OSError as exc:
        raise OutputError(f"{target}: cannot write ({exc.strerror or exc})") from None
    with _signals_held():
        tmp: str | None = None
        try:
            # the name is cut so that the temporary name fits where the output's name fits
            fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(target.name), suffix=".tmp", dir=target.parent)
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), mode)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException as exc:  # a full disk, or SystemExit from a signal (see cli.main)
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
            if isinstance(exc, OSError):
                raise OutputError(f"{target}: cannot write ({exc.strerror or exc})") from None
            raise


#: Bytes of the output's name kept in the temporary file's name: with the dot, the random part
#: and ".tmp" it stays far below the 255 bytes a file name may have.
_TMP_NAME_BYTES = 64


def _temporary_prefix(name: str) -> str:
    """``.NAME.`` with NAME cut to :data:`_TMP_NAME_BYTES` bytes (a 250-character output name
    is legal; the temporary name must not be longer than what the file system allows)."""
    cut = os.fsencode(name)[:_TMP_NAME_BYTES]
    return "." + os.fsdecode(cut).encode("utf-8", "ignore").decode("utf-8", "ignore") + "."


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Atomic UTF-8 text write (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike[str], obj: Any, **dump_kwargs: Any) -> None:
    """Serialise ``obj`` with :func:`json.dumps` and write it atomically."""
    write_text_atomic(path, json.dumps(obj, **dump_kwargs))
