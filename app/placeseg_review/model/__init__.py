"""The window's data, Qt-free: data sets and predictions as the viewer holds them, prepared
images, rendering to RGBA layers, match rows and evaluations. Imports no Qt (a contract)."""
