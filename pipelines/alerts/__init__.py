"""Alert: who hears of a flagged story and when, the emails, and sending each once.

Policy (routes, quiet hours, backoff), the outbox, composition, transports (SMTP or .eml files)."""
