"""Words every stage shares: the article record, dates, URLs and config errors.

No stage logic lives here; anything may import it, and it imports nothing of wirewatch."""
