"""Say which Debian packages to install when Qt cannot start for want of a system library.

Qt aborts when its xcb platform plugin cannot load, with a message that names one library (in
Qt 6.5+ always ``libxcb-cursor0``, even when that one is present and others are missing). Before
Qt starts, :func:`xcb_problem` loads the plugin the way Qt would and, when that fails, lists every
missing library (``ldd``) with the Debian package that provides it. :func:`import_problem` does
the same for a library that Qt itself cannot import without (GL, fontconfig, ...).
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

#: Libraries whose Debian package name does not follow the soname (libfoo.so.N -> libfooN).
_PACKAGES = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
    "libz.so.1": "zlib1g",
}


def debian_package(soname: str) -> str:
    """The Debian package that provides a library, by Debian's naming rule (``libxcb-icccm.so.4``
    -> ``libxcb-icccm4``, ``libX11.so.6`` -> ``libx11-6``)."""
    if soname in _PACKAGES:
        return _PACKAGES[soname]
    m = re.fullmatch(r"(.+?)\.so\.(\d+)(?:\..*)?", soname)
    if not m:
        return soname
    name, major = m.group(1).lower(), m.group(2)
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def missing_libraries(library: Path) -> list[str]:
    """The libraries that ``ldd`` cannot find for ``library`` (sonames), [] when it is absent."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(library)], capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    # (each once: ldd lists a library again for every library that needs it)
    return list(dict.fromkeys(re.findall(r"^\s*(\S+) => not found", out, flags=re.MULTILINE)))


def _advice(what: str, sonames: list[str]) -> str:
    packages = list(dict.fromkeys(debian_package(s) for s in sonames if not s.startswith("libQt6")))
    text = f"{what}: {', '.join(sonames)} missing."
    if packages:
        text += f" On Debian or Ubuntu: sudo apt install {' '.join(packages)}"
    return text


def wants_xcb(environ: Mapping[str, str]) -> bool:
    """Qt will use its xcb (X11) platform plugin in this environment."""
    platform = environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":")[0].split(";")[0] == "xcb"
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def xcb_plugin() -> Path | None:
    """Qt's xcb platform plugin (in a PyInstaller bundle too), None if there is none."""
    import PySide6
    from PySide6.QtCore import QLibraryInfo  # QtCore loads without any X11 or GL library

    for plugins in (Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)),
                    Path(PySide6.__file__).parent / "Qt" / "plugins"):
        if (plugins / "platforms" / "libqxcb.so").is_file():
            return plugins / "platforms" / "libqxcb.so"
    return None


def xcb_problem(plugin: Path | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """Why Qt's xcb plugin cannot load here (naming the Debian packages to install), or None."""
    if not wants_xcb(os.environ if environ is None else environ):
        return None
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return None
    try:
        ctypes.CDLL(str(plugin), mode=os.RTLD_LAZY)  # the load Qt is about to do: it stays loaded
        return None
    except OSError as exc:
        missing = missing_libraries(plugin)
        if not missing:
            return f"Qt's X11 platform plugin cannot load: {exc}"
        return _advice("Qt's X11 platform plugin cannot load", missing)


def import_problem(exc: ImportError) -> str | None:
    """A Qt module could not import because a system library is missing: which package to
    install; None for any other import error."""
    m = re.search(r"(lib[^\s:/]+\.so[.\d]*): cannot open shared object file", str(exc))
    if not m:
        return None
    return _advice("Qt cannot start", [m.group(1)])
