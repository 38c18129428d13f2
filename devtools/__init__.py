"""Developer tools: random-weight models for tests and benchmarks (no downloads)."""
