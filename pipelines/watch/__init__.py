"""Flag: watchlists score an article's title and text and say why.

Rules over terms, gazetteer entities and (optionally) spaCy NER; `evaluate` measures a watchlist."""

from pipelines.watch.watchlist import Watchlist, load_watchlists, split_sentences

__all__ = ["Watchlist", "load_watchlists", "split_sentences"]
