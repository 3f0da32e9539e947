"""Icons and the style sheet, read from the ``placeseg_review.resources`` package data."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from PySide6.QtGui import QIcon


def resource_path(name: str) -> str:
    return str(files("placeseg_review.resources").joinpath(name))


@cache
def icon(name: str) -> QIcon:
    """An SVG icon by name (``"open-folder"`` -> ``open-folder.svg``); empty if missing."""
    return QIcon(resource_path(f"{name}.svg"))


def style_sheet() -> str:
    try:
        return files("placeseg_review.resources").joinpath("style.qss").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return ""


def apply_theme(app: object) -> None:
    """Fusion style, a dark palette (dialogs and every widget agree) and the style sheet."""
    from PySide6.QtGui import QColor, QPalette

    app.setStyle("Fusion")
    pal = QPalette()
    role = QPalette.ColorRole
    for r, colour in ((role.Window, "#202124"), (role.WindowText, "#e8eaed"), (role.Base, "#202124"),
                      (role.AlternateBase, "#26272a"), (role.Text, "#e8eaed"), (role.Button, "#303134"),
                      (role.ButtonText, "#e8eaed"), (role.ToolTipBase, "#303134"), (role.ToolTipText, "#e8eaed"),
                      (role.Highlight, "#394457"), (role.HighlightedText, "#ffffff"), (role.Link, "#8ab4f8"),
                      (role.PlaceholderText, "#9aa0a6")):
        pal.setColor(r, QColor(colour))
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, r, QColor("#80868b"))
    app.setPalette(pal)
    app.setStyleSheet(style_sheet())
