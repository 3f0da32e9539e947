"""``placeseg-review``: the desktop application's entry point.

    placeseg-review [PATH ...] [--images DIR] [--preds P.json] [--preds-b B.json] [--demo]
                    [--image-id N] [--view NAME] [--screenshot OUT.png [--size WxH]]
    placeseg-review --install-desktop | --uninstall-desktop | --version

PATHs are any mix of a data root, a ground-truth JSON and predictions JSONs, in any order (what
each is, is sniffed): a desktop opens files with ``placeseg-review %F``.

``--screenshot`` renders the window with its overlays into a PNG once everything is loaded
and exits (it uses the offscreen platform when there is no display, and a throw-away settings
file so the user's recent files and last image are left alone).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .services.desktop import APP_ID, app_version
from .window.layouts import VIEWS

SCREENSHOT_TIMEOUT_S = 180


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="placeseg-review",
        description="Browse Places Challenge 2017 images with ground-truth and prediction overlays.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="a folder in the challenge layout or a COCO ground-truth JSON (with --images), "
                        "and predictions JSONs: any mix, in any order (what each is, is sniffed)")
    p.add_argument("--images", metavar="DIR", help="image folder of a COCO ground-truth JSON")
    p.add_argument("--preds", metavar="P.json", help="predictions (submission) JSON to overlay")
    p.add_argument("--preds-b", metavar="B.json", help="a second predictions file to compare with the first")
    p.add_argument("--demo", action="store_true", help="build the demo data set once (cached) and open it")
    p.add_argument("--image-id", type=int, metavar="N", help="show this image id first")
    p.add_argument("--view", choices=sorted(VIEWS), default="viewer", help="the view to open (default: viewer)")
    p.add_argument("--screenshot", metavar="OUT.png", help="render the window into a PNG and exit")
    p.add_argument("--size", default="1600x1000", metavar="WxH", help="window size for --screenshot (default 1600x1000)")
    p.add_argument("--settings", metavar="FILE.ini", help="settings file to use instead of the user's")
    p.add_argument("--install-desktop", action="store_true",
                   help="add the menu entry, icon and file types to your desktop (XDG folders of the user) and exit")
    p.add_argument("--uninstall-desktop", action="store_true", help="remove what --install-desktop added and exit")
    p.add_argument("--version", action="version", version=f"%(prog)s {app_version()}")
    p.add_argument("--quit-after-first-image", action="store_true", help=argparse.SUPPRESS)
    return p


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"placeseg-review: error: --size must be WxH, got {text!r}") from None
    return max(w, 640), max(h, 480)  # the window holds from 1024×700 up; below that it scrolls


def screenshot_problem(args: argparse.Namespace) -> str | None:
    """Why ``--screenshot`` cannot work with these arguments (checked before Qt starts), or None.

    Creates the output's folder when it is missing, as the screenshot would.
    """
    if not args.paths and not args.demo:
        return "--screenshot needs a data set (DATA_ROOT or --demo)"
    out = Path(args.screenshot)
    if out.is_dir():
        return f"{out}: is a folder; give the PNG file to write"
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"{parent}: cannot create the folder of the screenshot ({exc.strerror or exc})"
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return f"{parent}: the folder of the screenshot is not writable"
    if out.exists() and not os.access(out, os.W_OK):
        return f"{out}: not writable"
    from placeseg_core.atomic import OutputError, check_output_path  # noqa: PLC0415 (Qt-free, small)
    from placeseg_core.safety.files import resolved  # noqa: PLC0415

    try:
        check_output_path(out, [*args.paths, args.preds, args.settings])
    except OutputError as exc:
        return str(exc)
    # any existing file of the data set (photos, annotation PNGs, catalogue) is an input
    roots = [Path(resolved(r)) for r in (*args.paths, args.images) if r is not None]
    roots = [r if r.is_dir() else r.parent for r in roots]
    if out.exists() and any(Path(resolved(out)).is_relative_to(r) for r in roots):
        return f"{out}: is a file of the data set being shown; choose another output file"
    return None


_QUIET = ("This plugin does not support propagateSizeHints()",)  # offscreen platform chatter


def _qt_message(mode: object, context: object, message: str) -> None:
    if not message.startswith(_QUIET):
        print(message, file=sys.stderr)


def _dispose(window: object) -> None:
    """Close and delete the window while Python is fully alive.

    Left to PySide's exit handler, the window would be destroyed after the Python-owned objects it
    uses (table models, ...) and its views' hide handlers would run into deleted C++ objects at
    interpreter shutdown, which crashes the process (segfault in shiboken's error handling).
    """
    from shiboken6 import Shiboken

    window.close()
    Shiboken.delete(window)


def _desktop_files(install: bool) -> int:
    """``--install-desktop`` / ``--uninstall-desktop``: no Qt, no window."""
    from .services.desktop import install_desktop, uninstall_desktop

    try:
        done = install_desktop() if install else uninstall_desktop()
    except (OSError, ValueError) as exc:
        print(f"placeseg-review: error: {exc}", file=sys.stderr)
        return 2
    verb = "wrote" if install else "removed"
    for path in done.written:
        print(f"{verb} {path}")
    if not done.written:
        print("nothing to remove: the desktop entry was not installed")
    for note in done.notes:
        print(f"placeseg-review: note: {note}", file=sys.stderr)
    return 0


def _qt_problem() -> str | None:
    """A system library Qt needs is missing: which Debian packages to install (Qt itself would
    abort naming a library that may well be present)."""
    from .services.platform_check import import_problem, xcb_problem

    try:
        from PySide6 import QtGui, QtWidgets  # noqa: F401
    except ImportError as exc:
        return import_problem(exc) or f"Qt cannot start: {exc}"
    return xcb_problem()


def main(argv: Sequence[str] | None = None) -> int:
    t0 = time.perf_counter()
    args = build_parser().parse_args(argv)
    if args.install_desktop or args.uninstall_desktop:
        return _desktop_files(install=args.install_desktop)
    if not args.paths and args.preds and not args.demo:
        print("placeseg-review: error: --preds needs a data set (DATA_ROOT or --demo)", file=sys.stderr)
        return 2
    if args.screenshot:
        problem = screenshot_problem(args)
        if problem:
            print(f"placeseg-review: error: {problem}", file=sys.stderr)
            return 2
    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and sys.platform.startswith("linux")
    if (args.screenshot or args.quit_after_first_image) and headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif headless and not os.environ.get("QT_QPA_PLATFORM"):
        # Qt would abort with a page about platform plugins; say what to do instead.
        print("placeseg-review: error: no display (DISPLAY and WAYLAND_DISPLAY are unset); run it on "
              "a desktop, under 'xvfb-run placeseg-review ...', or render a view with --screenshot OUT.png",
              file=sys.stderr)
        return 2
    problem = _qt_problem()
    if problem:
        print(f"placeseg-review: error: {problem}", file=sys.stderr)
        return 2

    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from .services.assets import apply_theme, icon
    from .services.settings import Settings
    from .services.workers import share_gil_with_gui_thread
    from .window.layouts import apply_view
    from .window.main_window import MainWindow

    qInstallMessageHandler(_qt_message)
    share_gil_with_gui_thread()  # a process-wide setting: the application's, not the window's
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("placeseg-review")
    app.setOrganizationName("PlaceSeg")
    app.setApplicationDisplayName("PlaceSeg Review")
    app.setApplicationVersion(app_version())
    app.setDesktopFileName(APP_ID)  # the menu entry this window belongs to (its icon on Wayland)
    apply_theme(app)
    app.setWindowIcon(icon("placeseg-review"))

    scratch = tempfile.TemporaryDirectory(prefix="placeseg-review-") if args.screenshot else None
    settings_path = Path(scratch.name) / "settings.ini" if scratch else args.settings
    window = MainWindow(Settings(settings_path))
    window.resize(*_parse_size(args.size))
    geometry, state = window.settings.window_state()
    if not args.screenshot:
        window.restore_layout(geometry, state)  # only when it still fits the screen
    if args.view != "viewer" or args.screenshot or geometry is None:
        apply_view(window, args.view)
    window.show()

    ctrl = window.controller
    if args.preds_b:
        window.compare.request(args.preds_b)  # compared once the first predictions are open
    if args.demo:
        ctrl.open_demo(image_id=args.image_id)
    elif args.paths:
        ctrl.open_paths(args.paths, images=args.images, predictions=args.preds, image_id=args.image_id)

    if args.quit_after_first_image:
        def first_image(prep: object) -> None:
            if prep is not None:
                print(f"first image after {(time.perf_counter() - t0) * 1000:.0f} ms in main()", flush=True)
                app.exit(0)
        window.session.imageChanged.connect(first_image)

    shooter = None
    if args.screenshot:
        from .window.screenshot import Screenshotter

        shooter = Screenshotter(window, Path(args.screenshot), args.view, SCREENSHOT_TIMEOUT_S)
        shooter.start()
    elif not args.paths and not args.demo:
        window.status.showMessage("Open a data set: File ▸ Open data set folder, or drop a folder here", 15000)

    rc = app.exec()
    window.shutdown()
    if shooter is not None:
        rc = shooter.exit_code
    _dispose(window)
    if scratch is not None:
        scratch.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
