"""Icons (SVG), the style sheet and the desktop file of PlaceSeg Review (data only)."""
