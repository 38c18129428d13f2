"""Long-form synthesis as durable jobs: sources, chunk plans, SQLite/Redis stores, the worker, webhooks, results."""
