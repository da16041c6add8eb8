"""Typed models of config and seed files (pydantic), with errors that name file and key.

``validated`` turns every error pydantic finds into one line, "<file>: <key>: <message>", all
of a file at once; the types below give the messages a user can act on.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    StrictStr,
    ValidationError,
)
from pydantic_core import ErrorDetails

from pipelines.core.validation import ConfigError, parse_duration


class Model(BaseModel):
    """A table of a config or seed file: unknown keys are errors, and values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: object, path: Path | str, context: dict[str, Any] | None = None) -> M:
    """``data`` as a ``model``, or a ConfigError listing every problem as "file: key: message"."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise ConfigError([_problem(model, error, path) for error in exc.errors()]) from None


# What a value of the wrong type should have been, by pydantic's error type.
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "path_type": "a path",
    "pattern_type": "a regular expression",
}
_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}


def _problem(model: type[BaseModel], error: ErrorDetails, path: Path | str) -> str:
    loc, kind, value, ctx = error["loc"], error["type"], error["input"], error.get("ctx", {})
    if kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {value!r}"
    elif kind == "value_error":
        message = str(ctx["error"])
    elif kind in _BOUNDS:
        name, words = _BOUNDS[kind]
        message = f"must be {words} {ctx[name]:g}, got {value!r}"
    elif kind == "too_short":
        message = "must not be empty"
    elif kind == "literal_error":
        message = f"expected {ctx['expected'].replace(chr(39), '')}, got {value!r}"
    elif kind == "missing":
        hint = _field_hint(model, loc)
        message = f"missing (required): {hint}" if hint else "missing (required)"
    elif kind == "extra_forbidden":
        table = _table_at(model, loc[:-1])
        known = f" (expected one of: {', '.join(sorted(table.model_fields))})" if table else ""
        message = f"unknown key{known}"
    else:
        message = error["msg"]
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    return f"{path}: {key}: {message}" if key else f"{path}: {message}"


def _table_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model of the table at ``loc`` (list indexes skipped), or None when there is none."""
    table: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, str):
            field = table.model_fields.get(part) if table else None
            table = _model_in(field.annotation) if field else None
    return table


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, map(_model_in, get_args(annotation))), None)


def _field_hint(model: type[BaseModel], loc: tuple[int | str, ...]) -> str | None:
    """The description of the field at ``loc``, which says what a missing key is for."""
    table = _table_at(model, loc[:-1])
    field = table.model_fields.get(str(loc[-1])) if table else None
    return field.description if field else None


# Types for fields of config and seed files.


def _duration(value: object) -> object:
    return value if isinstance(value, timedelta) else parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]
"""A timedelta, written ``"30s"``, ``"90m"``, ``"12h"`` or ``"3d"`` in a file."""


def _longer_than_0(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than 0")
    return value


PositiveDuration = Annotated[Duration, AfterValidator(_longer_than_0)]
Seconds = Annotated[float, Strict(), Field(ge=0)]
"""A number of seconds, 0 or more: an integer or a float, never a string or a boolean."""


def _zone(name: object) -> ZoneInfo:
    try:
        return ZoneInfo(name)  # type: ignore[arg-type]  # not a string: TypeError, refused below
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r} (use a name like 'Asia/Karachi')") from None


TimeZone = Annotated[ZoneInfo, PlainValidator(_zone)]
TimeZoneName = Annotated[StrictStr, AfterValidator(lambda name: _zone(name).key)]
"""The name of a time zone, checked against the tz database."""


def _compile(value: object) -> object:
    if not isinstance(value, str):
        return value  # a compiled pattern passes; pydantic refuses the rest
    try:
        return re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regular expression {value!r}: {exc}") from None


Regex = Annotated[re.Pattern[str], BeforeValidator(_compile)]


def empty_is_none(value: object) -> object:
    """For optional keys that a file leaves empty (``""``) to mean none."""
    return None if value == "" else value
