"""The window's panels (docks): each a small assembly of widgets bound to the session and
the runners."""
