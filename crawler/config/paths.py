"""Where the bundled defaults live, in a source checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # crawler/


def bundled(name: str) -> Path:
    """Return the bundled ``config`` or ``seeds`` folder.

    A wheel carries them as ``crawler/_bundled/<name>``; a checkout (or an editable install)
    has them at the top of the repository, beside ``crawler/``.
    """
    inside = _PACKAGE / "_bundled" / name
    return inside if inside.is_dir() else _PACKAGE.parent / name
