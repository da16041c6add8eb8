"""Reading TOML data files (config, seeds, watchlists) with errors that name file and key.

Config, seeds and alert routes are pydantic models (``pipelines.core.models``); watchlists
keep their own small checker here (``Problems``, ``check_keys``) for the rule language's
nested conditions. No pydantic here: extraction workers import this module.
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """One or more problems in configuration, seed or watchlist files.

    Each problem names the file and the key, e.g. ``seeds/app.toml: articles.allow[0]: ...``.
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class Problems:
    """Collects every problem of one file, so `wirewatch check` can report them all at once."""

    def __init__(self, path: Path | str):
        self.path = str(path)
        self.items: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.items.append(f"{self.path}: {key}: {message}" if key else f"{self.path}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning every failure into a ConfigError naming the file."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: object) -> timedelta:
    """``"30s"``, ``"90m"``, ``"12h"`` or ``"3d"`` as a timedelta; ValueError for anything else."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"expected a duration like '30s', '90m', '12h' or '3d', got {value!r}")
    return timedelta(**{_UNITS[match[2]]: float(match[1])})


def check_keys(table: dict[str, Any], allowed: set[str], prefix: str, problems: Problems) -> None:
    for key in table:
        if key not in allowed:
            problems.add(f"{prefix}{key}", f"unknown key (expected one of: {', '.join(sorted(allowed))})")


def toml_files(paths: tuple[Path, ...], what: str) -> list[Path]:
    """The ``*.toml`` files of the given folders, and the given files; a missing one is an error."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.toml")))
        elif path.exists():
            files.append(path)
        else:
            raise ConfigError([f"{path}: {what} folder or file does not exist"])
    return files
