"""Stage 1, extract: an article page's HTML in, a clean article (text, title, date) out.

trafilatura does the work; the publication time is the page's own, timezone-aware."""
