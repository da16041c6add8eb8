"""The one place where what went wrong becomes a documented exit code.

Commands call the library and let its errors propagate; `Command.invoke` turns each domain
error into a `click.ClickException` carrying its exit code (click prints the message and
exits with it). A command that finishes returns its exit code (None for 0).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from crawler.runtime.exits import EXIT_CONFIG, EXIT_LOCKED
from pipelines.core.validation import ConfigError
from pipelines.store import LockHeld, QueryError


class ConfigFailure(click.ClickException):
    """A config, seed or watchlist file is invalid: every problem, with file and key."""

    exit_code = EXIT_CONFIG

    def __init__(self, error: ConfigError):
        super().__init__("invalid configuration:\n  " + "\n  ".join(error.problems))


class LockedFailure(click.ClickException):
    """Another run holds the run lock; the message names the holder."""

    exit_code = EXIT_LOCKED

    def __init__(self, error: LockHeld):
        super().__init__(f"{error}; not starting a second one")


@contextmanager
def translated(ctx: click.Context) -> Iterator[None]:
    """Domain errors raised in the block leave it as click exceptions with their exit codes."""
    try:
        yield
    except ConfigError as exc:
        raise ConfigFailure(exc) from None
    except LockHeld as exc:
        raise LockedFailure(exc) from None
    except QueryError as exc:  # a usage error (2), shown with the command's usage line
        raise click.BadParameter(
            f"bad search query {exc.query!r}: {exc}", ctx=ctx, param_hint="QUERY"
        ) from None


class Command(click.Command):
    """A wirewatch command: domain errors become exit codes, and so does what the callback returns."""

    def invoke(self, ctx: click.Context) -> Any:
        with translated(ctx):
            code = super().invoke(ctx)
        if code:
            ctx.exit(code)
        return code


class Group(Command, click.Group):
    """A wirewatch command group; the commands and groups it declares are wirewatch ones too."""

    command_class = Command
    group_class = type
