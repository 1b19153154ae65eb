"""Benchmark harness: how each metering stage scales on a generated provider (issue 8).

Run ``python -m bench --size small`` from the repository root; see docs/benchmarks.md.
"""
