"""Every command documents itself (`--help` with an example, the exit codes, a README line) and
maps errors to exit codes the same way."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import run_cli

from crawler.cli import main
from crawler.cli.errors import Command
from crawler.runtime import exits

README = Path(__file__).resolve().parent.parent / "README.md"


def _commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    """Every command and subcommand of ``group``, by its path (``alerts send``)."""
    out = {}
    for name, command in group.commands.items():
        out[prefix + name] = command
        if isinstance(command, click.Group):
            out.update(_commands(command, f"{prefix}{name} "))
    return out


COMMANDS = _commands(main)


def test_the_walk_finds_nested_commands():
    assert {"run", "sources", "sources probe", "alerts", "alerts send", "status"} <= set(COMMANDS)


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_has_help_with_an_example(path):
    command = COMMANDS[path]
    assert command.help and command.help.strip(), f"{path}: no docstring"
    shown = CliRunner().invoke(main, [*path.split(), "--help"], prog_name="wirewatch")
    assert shown.exit_code == 0, shown.output
    lines = [line.strip() for line in shown.output.splitlines()] + [""]
    examples = [i for i, line in enumerate(lines) if line.startswith("Example:")]
    assert examples, f"{path}: its --help has no line starting with 'Example:'"
    for i in examples:
        # Whole on its line, to copy: click rewraps a paragraph unless a line of "\b" precedes it.
        assert not lines[i + 1], f"{path}: --help wraps its example; put a line of \\b before it"
    assert any(f"wirewatch {path}" in lines[i] for i in examples), f"{path}: the example runs another command"


def test_every_command_maps_errors_to_exit_codes():
    # crawler/cli/errors.py does it in Command.invoke: a plain click command would let a
    # ConfigError out as a traceback (exit 1) instead of exit 3.
    assert not [path for path, command in COMMANDS.items() if not isinstance(command, Command)]


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_is_in_the_readme(name):
    assert f"| `wirewatch {name}" in README.read_text(), f"README's command table lacks {name}"


def test_main_help_documents_exit_codes():
    result = run_cli("--help")
    assert result.returncode == 0
    for code in ("0  success", "3  configuration error", "4  one or more sources", "6  interrupted"):
        assert code in result.stdout
    codes = {value for name, value in vars(exits).items() if name.startswith("EXIT_")}
    assert codes == set(range(9))
    for code in codes:  # each EXIT_ constant is explained in the epilog
        assert re.search(rf"^\s+{code}  \S", result.stdout, re.MULTILINE), code
