"""Stage 5, alert: who hears of a flagged story and when, the emails, and sending them once.

Policy (routes, quiet hours, backoff), composition, transports (SMTP or .eml folder), the outbox."""
