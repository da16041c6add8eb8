"""`python -m crawler` and the `wirewatch` command."""


def main() -> None:
    from crawler.cli import main as cli

    cli(prog_name="wirewatch")


if __name__ == "__main__":
    main()
