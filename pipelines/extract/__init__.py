"""Extract: an article page's HTML in, a clean article (text, title, date) out.

trafilatura does the work (load this package where pages are: it is heavy); dates are timezone-aware."""

from pipelines.extract.page import ExtractionError, extract

__all__ = ["ExtractionError", "extract"]
