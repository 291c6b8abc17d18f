## bench-buffered: fork (buffered fast path, generic path) against the pinned upstream, on 127.0.0.1
bench-buffered: install upstream-ref
	$(PY) bench/buffered_cpu.py
