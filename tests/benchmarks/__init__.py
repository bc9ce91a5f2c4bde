"""Benchmarks: scripts that print figures, not tests (pytest does not collect ``bench_*.py``)."""
