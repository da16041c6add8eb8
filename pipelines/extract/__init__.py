"""Extract: an article page's HTML in, a clean article (text, title, date) out.

trafilatura does the work (`page`: load it where pages are, it is heavy); dates are
timezone-aware. `modes` learns per source whether trafilatura's fallback is worth its CPU
(light: the importing or crawling process uses it)."""

from __future__ import annotations

from typing import Any

__all__ = ["ExtractionError", "extract"]


def __getattr__(name: str) -> Any:  # `page` only when asked for: `modes` must not load trafilatura
    if name in __all__:
        from pipelines.extract import page

        return getattr(page, name)
    raise AttributeError(name)
