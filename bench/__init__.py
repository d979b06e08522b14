"""Benchmarks and load runs (issue 8): not part of `make test`."""
