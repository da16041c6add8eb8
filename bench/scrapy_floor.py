"""The floor under a crawl's CPU per page: Scrapy fetching the article pages and doing nothing
with them, next to trafilatura's extraction of the same pages.

    python bench/scrapy_floor.py [--pages 3000] [--dir /tmp/wirewatch-floor]

Generates the site bench/perf.py uses, then in two child processes (a fresh interpreter
each, so neither pays for the other's imports): a bare Scrapy spider (Scrapy's default
components, robots.txt off, 16 requests at a time) that requests every article page and
drops the response, and trafilatura's extraction alone over the pages read from disk. The
ratio of the two is the share of extraction that downloading alone costs, before wirewatch
decodes, filters, hands over, scores or stores anything.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import news_site

from crawler.demo.server import DemoSite

SPIDER = """
import sys, time
import scrapy
from scrapy.crawler import CrawlerProcess

urls = sys.stdin.read().split()

class Bare(scrapy.Spider):
    name = "bare"

    async def start(self):
        for url in urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response):
        return None

process = CrawlerProcess({"LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": False, "CONCURRENT_REQUESTS": 16,
                          "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "TELNETCONSOLE_ENABLED": False})
process.crawl(Bare)
cpu = time.process_time()
process.start()
print(time.process_time() - cpu)
"""

EXTRACT = """
import sys, time
import trafilatura
from pipelines.extract.page import _DATE_PARAMS

pages = [open(path, encoding="utf-8").read() for path in sys.stdin.read().split()]
for page in pages[:20]:
    trafilatura.bare_extraction(page, with_metadata=True, include_comments=False, include_tables=False,
                                   date_extraction_params=_DATE_PARAMS)
cpu = time.process_time()
for page in pages:
    trafilatura.bare_extraction(page, with_metadata=True, include_comments=False, include_tables=False,
                                   date_extraction_params=_DATE_PARAMS)
print(time.process_time() - cpu)
"""


def child(code: str, stdin: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", code], input=stdin, capture_output=True, text=True, check=True
    )
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/wirewatch-floor"))
    args = parser.parse_args()
    with DemoSite(root=args.dir / "site", static=True) as site:
        files = news_site.build(args.dir / "site", site.base, args.pages, datetime.now(UTC))
        urls = "\n".join(f"{site.base}/{f.parent.parent.name}/{f.parent.name}/" for f in files)
        started = time.perf_counter()
        fetch = child(SPIDER, urls)
        wall = time.perf_counter() - started
        served = sum(1 for path, status in site.log if status == 200)
    extraction = child(EXTRACT, "\n".join(str(f) for f in files))
    print(f"{len(files)} pages; {served} fetched in {wall:.1f} s")
    print(f"Scrapy fetching alone: {fetch * 1000 / len(files):.2f} ms CPU per page")
    print(f"trafilatura alone:     {extraction * 1000 / len(files):.2f} ms CPU per page")
    print(f"fetching / extraction: {fetch / extraction:.2f}")


if __name__ == "__main__":
    main()
