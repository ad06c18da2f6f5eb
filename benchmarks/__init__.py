"""Benchmarks and benchmark datasets (not part of the application)."""
