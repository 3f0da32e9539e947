"""Desktop integration for pip users: the menu entry, the icon and the MIME types of the files
the application opens, written into the user's XDG folders (``--install-desktop``) and removed
again (``--uninstall-desktop``); and the application's version, from the package metadata.

The .deb (packaging/build) installs the same three files system-wide. Qt-free.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from importlib.resources import files
from pathlib import Path

DIST_NAME = "placeseg-review"
APP_ID = "org.placeseg.PlaceSegReview"  # the desktop entry's id (and AppStream's)
ICON_NAME = "placeseg-review"
DESKTOP_FILE = f"{APP_ID}.desktop"
MIME_FILE = "placeseg-review-mime.xml"


def app_version() -> str:
    """The installed distribution's version (``"unknown"`` when run from a bare source tree)."""
    try:
        return metadata.version(DIST_NAME)
    except metadata.PackageNotFoundError:
        return "unknown"


def _resource(name: str) -> bytes:
    return files("placeseg_review.resources").joinpath(name).read_bytes()


def data_home(environ: dict[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` (an empty or relative value is ignored, as the
    XDG base directory specification says)."""
    env = os.environ if environ is None else environ
    value = env.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path(env.get("HOME") or Path.home()) / ".local" / "share"


def current_executable() -> Path:
    """The ``placeseg-review`` program this process was started as (the bundle's executable when
    frozen, the console script of the environment otherwise)."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve()
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name.startswith(DIST_NAME) and argv0.is_file():
        return argv0.absolute()
    beside = Path(sys.executable).parent / DIST_NAME  # the same venv's bin/ (python -m ...)
    if beside.is_file():
        return beside.absolute()
    found = shutil.which(DIST_NAME)
    if found:
        return Path(found).absolute()
    raise FileNotFoundError(f"cannot find the {DIST_NAME} program (run --install-desktop as {DIST_NAME})")


def exec_quote(path: Path) -> str:
    """``path`` as one argument of a desktop entry's Exec key (quoting and both levels of escaping
    of the Desktop Entry Specification)."""
    text = str(path)
    if "\n" in text or "\r" in text:
        raise ValueError(f"{text!r}: a line break cannot be written in a desktop entry")
    if re.fullmatch(r"[A-Za-z0-9_./+,:@=-]+", text):
        arg = text
    else:
        arg = '"' + re.sub(r'(["`$\\])', r"\\\1", text) + '"'
    return arg.replace("\\", "\\\\").replace("%", "%%")


def desktop_entry(executable: Path) -> str:
    """The packaged desktop entry with Exec and TryExec pointing at ``executable``."""
    lines = []
    for line in _resource(DESKTOP_FILE).decode("utf-8").splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_quote(executable)} %F"
        elif line.startswith("TryExec="):
            line = "TryExec=" + str(executable).replace("\\", "\\\\")
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass
class DesktopFiles:
    """Where the user's menu entry, icon and MIME types go under one XDG data folder."""

    root: Path
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def entry(self) -> Path:
        return self.root / "applications" / DESKTOP_FILE

    @property
    def icon(self) -> Path:
        return self.root / "icons" / "hicolor" / "scalable" / "apps" / f"{ICON_NAME}.svg"

    @property
    def mime(self) -> Path:
        return self.root / "mime" / "packages" / f"{DIST_NAME}.xml"

    def all(self) -> list[Path]:
        return [self.entry, self.icon, self.mime]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _refresh_caches(target: DesktopFiles) -> None:
    """Tell the desktop about the change, with the tools that are installed (each is optional:
    desktops also notice new files by themselves)."""
    for tool, folder in (("update-mime-database", target.root / "mime"),
                         ("update-desktop-database", target.root / "applications"),
                         ("gtk-update-icon-cache", target.root / "icons" / "hicolor")):
        exe = shutil.which(tool)
        if exe is None or not folder.is_dir():
            continue
        args = [exe, "-q", "-t", "-f", str(folder)] if tool == "gtk-update-icon-cache" else [exe, str(folder)]
        if tool == "gtk-update-icon-cache" and not (folder / "index.theme").is_file():
            continue  # it refuses a theme folder without index.theme; the icon is found anyway
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            target.notes.append(f"{tool}: {exc}")
            continue
        if proc.returncode != 0:
            target.notes.append(f"{tool} failed: {(proc.stderr or proc.stdout).strip()[:200]}")


def install_desktop(executable: Path | None = None, root: Path | None = None) -> DesktopFiles:
    """Write the desktop entry (Exec = ``executable``, the current program by default), the icon
    and the MIME types into ``root`` (the user's XDG data folder by default)."""
    exe = (executable or current_executable()).absolute()
    target = DesktopFiles(root or data_home())
    _write(target.entry, desktop_entry(exe).encode("utf-8"))
    _write(target.icon, _resource(f"{ICON_NAME}.svg"))
    _write(target.mime, _resource(MIME_FILE))
    target.written = target.all()
    _refresh_caches(target)
    return target


def uninstall_desktop(root: Path | None = None) -> DesktopFiles:
    """Remove what :func:`install_desktop` wrote (``written`` lists what was there)."""
    target = DesktopFiles(root or data_home())
    for path in target.all():
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        target.written.append(path)
    _refresh_caches(target)
    return target
