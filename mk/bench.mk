.PHONY: bench bench-buffered

## bench: the full report (memory, CPU per chunk, slow backend, proxy overhead), fork against the pinned upstream,
## on 127.0.0.1, under 25 minutes: bench/results/<date>/report.md and PNG plots (raw JSON in raw/, git-ignored)
bench: install upstream-ref
	$(PY) bench/report.py

## bench-buffered: fork (buffered fast path, generic path) against the pinned upstream, on 127.0.0.1
bench-buffered: install upstream-ref
	$(PY) bench/buffered_cpu.py
