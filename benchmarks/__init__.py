"""Benchmarks kept in the repository so a slowdown shows: `python -m benchmarks` (train_speed.py)."""
