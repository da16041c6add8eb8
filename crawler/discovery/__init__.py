"""Discovery: which article URLs a source offers (feeds, sitemaps, listings), the spider, probe.

The same code serves `wirewatch run` and `wirewatch sources probe`."""
