"""`python -m crawler` is `wirewatch`."""

from crawler.cli import main

main(prog_name="wirewatch")
