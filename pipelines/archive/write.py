"""Writing fetched pages into rotating WARC files: `<folder>/wirewatch-YYYYMMDDHHMMSS-NNNNN.warc.gz`.

Each page is a response record (its HTTP status line and headers, then the body as the crawl
read it, decompressed) and the request record that asked for it, each record one gzip member,
written whole and flushed at once: a crawl killed at any point leaves a file readable up to its
last whole record, and the offsets the store remembers always point at whole records. A file
is rotated once it reaches ``max_bytes``; a writer continues the newest file when the last one
closed cleanly (its size is the one it recorded on closing), else it starts a new one.
"""

from __future__ import annotations

import io
import json
import logging
import os
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

logger = logging.getLogger(__name__)

LEVEL = 6  # gzip level: warcio's own writer uses 9, twice the CPU for a few per cent
STATE = "wirewatch-archive.json"  # the newest file and its size when it was last closed cleanly
# Dropped from the recorded headers: the body is stored as the crawl read it (decompressed,
# de-chunked), so these would misdescribe it to a reader.
_TRANSPORT = {"content-encoding", "transfer-encoding", "content-length"}


@dataclass(frozen=True)
class Capture:
    """A fetched page as the archive keeps it."""

    url: str
    fetched_at: datetime
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    request_headers: list[tuple[str, str]]


@dataclass(frozen=True)
class Location:
    """Where a page is: ``file`` (relative to the archive's base folder, or absolute) and the
    offset of its record."""

    file: str
    offset: int


class Archive:
    """Appends pages to the WARC files of one folder. One writer per folder at a time (the run
    lock sees to that)."""

    def __init__(self, folder: Path, base: Path, max_bytes: int = 1 << 30):
        self.folder, self.base, self.max_bytes = folder, base, max_bytes
        self._path: Path | None = None
        self._file: IO[bytes] | None = None
        self._writer = WARCWriter(io.BytesIO(), gzip=False, warc_version="1.1")
        self._serial = 0

    def write(self, page: Capture) -> Location:
        """Append a page's response and request records; where the response record starts."""
        response = self._record(page, "response")
        request = self._record(page, "request")
        request_id = response.rec_headers.get_header("WARC-Record-ID")
        request.rec_headers.add_header("WARC-Concurrent-To", request_id)
        out = self._open()
        offset = out.tell()
        out.write(self._gzipped(response) + self._gzipped(request))
        out.flush()  # in the OS's hands: a killed process loses nothing written
        return Location(self._relative(self._path), offset)

    def close(self) -> None:
        if self._file is None or self._path is None:
            return
        size = self._file.tell()
        self._file.close()
        self._file = None
        state = self.folder / STATE
        partial = state.with_suffix(".tmp")
        partial.write_text(json.dumps({"file": self._path.name, "size": size}))
        os.replace(partial, state)

    def _record(self, page: Capture, kind: str) -> Any:
        stamp = page.fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if kind == "request":
            http = StatusAndHeaders(
                f"GET {_path_of(page.url)} HTTP/1.1", page.request_headers, is_http_request=True
            )
            return self._writer.create_warc_record(
                page.url,
                "request",
                payload=io.BytesIO(b""),
                length=0,
                http_headers=http,
                warc_headers_dict={"WARC-Date": stamp},
            )
        headers = [(k, v) for k, v in page.headers if k.lower() not in _TRANSPORT]
        headers.append(("Content-Length", str(len(page.body))))
        http = StatusAndHeaders(f"{page.status} {_reason(page.status)}", headers, protocol="HTTP/1.1")
        return self._writer.create_warc_record(
            page.url,
            "response",
            payload=io.BytesIO(page.body),
            length=len(page.body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": stamp},
        )

    def _gzipped(self, record: Any) -> bytes:
        buffer = io.BytesIO()
        WARCWriter(buffer, gzip=False, warc_version="1.1").write_record(record)
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return compressor.compress(buffer.getvalue()) + compressor.flush()

    def _open(self) -> IO[bytes]:
        if self._file is not None and self._file.tell() < self.max_bytes:
            return self._file
        if self._file is not None:
            self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._continued() or self._new_path()
        self._file = path.open("ab")
        self._path = path
        return self._file

    def _continued(self) -> Path | None:
        """The newest file, if it was closed cleanly and has room."""
        if self._path is not None:  # rotating: always a new file
            return None
        try:
            state = json.loads((self.folder / STATE).read_text())
            path = self.folder / state["file"]
            size = path.stat().st_size
        except (OSError, ValueError, KeyError, TypeError):
            return None
        newest = max(self.folder.glob("wirewatch-*.warc.gz"), default=None)
        if newest != path or size != state["size"] or size >= self.max_bytes:
            return None  # a crash left it (readable to its last record, but not to append to)
        return path

    def _new_path(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        while True:
            self._serial += 1
            path = self.folder / f"wirewatch-{stamp}-{self._serial:05d}.warc.gz"
            if not path.exists():
                return path

    def _relative(self, path: Path | None) -> str:
        assert path is not None, "a file is open"
        try:
            return str(path.relative_to(self.base))
        except ValueError:
            return str(path)


def _path_of(url: str) -> str:
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    return rest[slash:] if slash != -1 else "/"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


_SHARED: dict[Path, Archive] = {}


def shared_archive(folder: Path, max_bytes: int = 1 << 30) -> Archive:
    """The writer of a crawl's archive folder, one per process (the crawlers of all sources
    write through it); the locations it returns are relative to the folder's parent, the
    database's folder."""
    key = folder.resolve()
    if key not in _SHARED:
        _SHARED[key] = Archive(key, key.parent, max_bytes)
    return _SHARED[key]


def close_archives() -> None:
    """Close the shared writers (at the end of a crawl, however it ended)."""
    while _SHARED:
        _SHARED.popitem()[1].close()
