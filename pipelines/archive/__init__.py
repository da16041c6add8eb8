"""Pages kept as web archives (WARC): read from any WARC or ARC file, written by a crawl.

`read` yields the records of a file (HTML pages, other records, damaged ones by offset) and
reads one page back at its offset; `write` appends a crawl's pages to rotating gzipped WARC
files, one gzip member per record, so a file stays readable up to its last whole record."""

from pipelines.archive.read import ArchiveError, Damaged, Other, Page, page_at, records
from pipelines.archive.write import Archive, Capture, Location, close_archives, shared_archive

__all__ = [
    "Archive",
    "ArchiveError",
    "Capture",
    "Damaged",
    "Location",
    "Other",
    "Page",
    "close_archives",
    "page_at",
    "records",
    "shared_archive",
]
