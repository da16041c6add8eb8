"""What happens to each page: extraction, watchlist matching, storage.

Each stage is a plain module of pure functions; ``pipelines.scrapy_stages`` holds the thin
Scrapy pipeline classes that call them.
"""
