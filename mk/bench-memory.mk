# Memory and CPU of a long stream, the fork against the pinned upstream (see bench/stream_memory.py).
.PHONY: bench-memory

## bench-memory: retained bytes per chunk, CPU per chunk and RSS at 1k/10k/100k chunks, fork vs upstream
bench-memory: install upstream-ref
	$(PY) bench/stream_memory.py $(BENCH_MEMORY_ARGS)
