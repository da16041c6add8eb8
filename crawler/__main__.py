"""`python -m crawler` is `wirewatch`."""

from crawler.cli import main

# Worker processes are spawned and re-import the main module: only the real entry runs the CLI.
if __name__ == "__main__":
    main(prog_name="wirewatch")
