"""Persistent settings (QSettings): recent files, the last image per data set, window state.

Tests and the screenshot mode pass their own INI file so the user's settings are never read
or written by them.
"""

from __future__ import annotations

import hashlib
import os

from PySide6.QtCore import QByteArray, QSettings

from placeseg_core.safety.files import resolved

ORGANISATION = "PlaceSeg"
APPLICATION = "placeseg-review"
MAX_RECENT = 10


class Settings:
    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        if path is None:
            self.qsettings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)
        else:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)

    # ------------------------------------------------------------- recent
    def recent(self) -> list[dict[str, str]]:
        """Most recent first: ``{"kind": "dataset"|"predictions", "path": ..., "images": ...}``."""
        raw = self.qsettings.value("recent", [])
        items = raw if isinstance(raw, list) else [raw] if raw else []
        out: list[dict[str, str]] = []
        for item in items:
            kind, _, rest = str(item).partition("|")
            path, _, images = rest.partition("|")
            if kind and path:
                out.append({"kind": kind, "path": path, "images": images})
        return out

    def add_recent(self, kind: str, path: str | os.PathLike[str], images: str | os.PathLike[str] | None = None) -> None:
        entry = f"{kind}|{resolved(path)}|{resolved(images) if images else ''}"
        items = [f"{r['kind']}|{r['path']}|{r['images']}" for r in self.recent()]
        items = [entry] + [i for i in items if i != entry]
        self.qsettings.setValue("recent", items[:MAX_RECENT])

    def clear_recent(self) -> None:
        self.qsettings.remove("recent")

    # --------------------------------------------------------- last image
    @staticmethod
    def _key(source: str | os.PathLike[str]) -> str:
        digest = hashlib.sha1(resolved(source).encode()).hexdigest()[:16]
        return f"last_image/{digest}"

    def last_folder(self) -> str:
        """The folder of the last file or folder chosen in a dialog ("" before any)."""
        value = self.qsettings.value("dialogs/last_folder", "")
        return value if isinstance(value, str) and os.path.isdir(value) else ""

    def set_last_folder(self, path: str | os.PathLike[str]) -> None:
        folder = os.fspath(path)
        self.qsettings.setValue("dialogs/last_folder", folder if os.path.isdir(folder) else os.path.dirname(folder))

    def last_image(self, source: str | os.PathLike[str]) -> int | None:
        value = self.qsettings.value(self._key(source))
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    def set_last_image(self, source: str | os.PathLike[str], image_id: int) -> None:
        self.qsettings.setValue(self._key(source), int(image_id))

    # ------------------------------------------------------------- window
    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geo, state = self.qsettings.value("window/geometry"), self.qsettings.value("window/state")
        return (geo if isinstance(geo, QByteArray) else None, state if isinstance(state, QByteArray) else None)

    def set_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)

    def sync(self) -> None:
        self.qsettings.sync()
