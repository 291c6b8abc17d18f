.PHONY: bench bench-buffered bench-proxy-stream

## bench: the full report (memory, CPU per chunk, slow backend, proxy overhead, one large event, proxy CPU per
## streamed chunk, proxy memory under long streams), fork against the pinned upstream, on 127.0.0.1, under 27
## minutes: bench/results/<date>/report.md and PNG plots (raw JSON in raw/, git-ignored); BENCH_ARGS='--sections 3'
## runs one section (into raw/sections-3, the day's report left alone), BENCH_ARGS=--quick a short run
BENCH_ARGS ?=
bench: install upstream-ref
	$(PY) bench/report.py $(BENCH_ARGS)

## bench-buffered: fork (buffered fast path, generic path) against the pinned upstream, on 127.0.0.1
bench-buffered: install upstream-ref
	$(PY) bench/buffered_cpu.py

## bench-proxy-stream: proxy CPU per streamed chunk (stream: true, 50- and 1,000-token answers), fork vs upstream;
## BENCH_PROXY_STREAM_ARGS='--tokens 400 --profile DIR' also records py-spy profiles (docs/streaming-cpu.md)
bench-proxy-stream: install upstream-ref
	$(PY) bench/proxy_stream_cpu.py $(BENCH_PROXY_STREAM_ARGS)
