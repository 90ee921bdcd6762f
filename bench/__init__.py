"""Benchmarks of framefleet against plain ffmpeg: `make bench` (full) or `python -m bench --smoke`.

Each bench (overhead, quality, scaling, control) measures, returns plain JSON-ready results, and
`bench.report` turns the results into docs/BENCHMARKS.md and the docs/img/bench-*.png plots.
"""
