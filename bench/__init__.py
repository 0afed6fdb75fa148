"""Benchmarks that print ratios (not timed tests). `python -m bench <name> [options]`."""
