"""PlaceSeg Review: the desktop application (PySide6 + pyqtgraph) on top of ``placeseg_core``."""
