"""Benchmarks of the LiveAgent connector against the fake API: `python -m benchmarks.run`."""
