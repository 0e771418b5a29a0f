"""A faithful fake of the LiveAgent API v1, for tests, benchmarks and the demo."""
