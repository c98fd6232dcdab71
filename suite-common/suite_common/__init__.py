"""Shared by the suite's taps: rate limiting, backoff waits, one-line errors."""
