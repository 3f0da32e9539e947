"""Exceptions for input the user must fix; the CLI turns them into one-line messages."""

from __future__ import annotations


class InputError(Exception):
    """An input file or folder cannot be used at all (missing, unreadable, malformed).

    The message names the file and, where it helps, the item and the field, so that the CLI can
    print it as it is (exit code 2) and the GUI can show it in a dialog.
    """
