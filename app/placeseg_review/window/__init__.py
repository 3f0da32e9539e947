"""The main window, its named layouts (``--view``) and the screenshot mode: a thin assembly of
the panels."""
