"""Storage: the one place that knows the database (SQLite, WAL), behind a narrow interface.

Schema and migrations in order; writers batch in savepoints, readers open read-only and never wait."""
