"""Reusable widgets: canvas, image list, tables, plots. They bind to services and model
objects and know nothing of the panels or the window."""
