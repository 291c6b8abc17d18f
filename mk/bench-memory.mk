# Memory and CPU of a long stream, the fork against the pinned upstream (see bench/stream_memory.py), and the
# proxy's RSS under long concurrent streams (bench/proxy_memory.py).
.PHONY: bench-memory bench-proxy-memory

## bench-memory: retained bytes per chunk, CPU per chunk and RSS at 1k/10k/100k chunks, fork vs upstream
bench-memory: install upstream-ref
	$(PY) bench/stream_memory.py $(BENCH_MEMORY_ARGS)

## bench-proxy-memory: proxy RSS growth per concurrent 20,000-chunk stream (1, 4, 16) and 10 s after, plus 200
## concurrent buffered calls, fork proxy vs upstream proxy; BENCH_PROXY_MEMORY_ARGS="--chunks 5000" is quicker
bench-proxy-memory: install upstream-ref
	$(PY) bench/proxy_memory.py --plot build/proxy_memory.png $(BENCH_PROXY_MEMORY_ARGS)
