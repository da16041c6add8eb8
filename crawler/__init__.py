"""wirewatch's crawler: what to fetch, how and when (config, discovery, fetch, runtime), and the CLI.

What happens to each fetched page is in `pipelines`, which never imports this package."""

__version__ = "0.1.0"
