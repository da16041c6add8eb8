"""`python -m crawler` and the `wirewatch` command.

Extraction workers are spawned processes, and a spawned process imports its parent's main
module again: this one imports the CLI (Scrapy, Twisted, sqlite-utils) only when it is the
real entry, so a worker starts with what extraction needs and nothing else.
"""


def main() -> None:
    from crawler.cli import main as cli

    cli(prog_name="wirewatch")


if __name__ == "__main__":
    main()
