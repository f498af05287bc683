"""Benchmarks: `editloop bench system` and `editloop bench learning` (see docs/benchmarks.md)."""
