"""Test doubles of the outside world, for the tests and the benchmarks (never shipped)."""
