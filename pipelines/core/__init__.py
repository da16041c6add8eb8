"""Words every stage shares: the article and verdict records, dates, URLs, config models and errors.

No stage logic lives here; anything may import it, and it imports nothing else of wirewatch."""
