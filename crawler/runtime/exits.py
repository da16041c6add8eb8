"""The exit codes of every `wirewatch` command (README "Exit codes", `wirewatch --help`).

A module of its own, importing nothing, so a command that only reads loads no crawler to know them;
crawler/cli/errors.py turns the errors behind 3 and 5 into them.
"""

EXIT_OK = 0  # every source crawled without error
EXIT_INTERNAL = 1  # a bug: an unexpected exception (the traceback is printed)
EXIT_USAGE = 2  # bad command-line arguments
EXIT_CONFIG = 3  # a config, seed or watchlist file is invalid: nothing was crawled
EXIT_SOURCES_FAILED = 4  # one or more sources had errors; the others' stories are stored
EXIT_LOCKED = 5  # another run holds the lock (pipelines/store/lock.py); nothing was done
EXIT_INTERRUPTED = 6  # stopped by Ctrl-C or SIGTERM; what was stored is kept
EXIT_FAILING = 7  # `wirewatch status`: a source failed its last --failing-after runs
EXIT_ATTENTION = 8  # `wirewatch status`: a source is blocked, silent or degraded (none failing)
