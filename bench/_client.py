"""One measurement in a fresh interpreter: which litellm it imports is decided by PYTHONPATH.

usage: _client.py MODE URL TOKENS REPEATS [memory]   (MODE: stream, buffered, generic, native)
Prints JSON: CPU seconds of this process for the calls, chunks consumed, and (with `memory`, which
slows everything down) the peak of traced allocations.
"""

import asyncio
import json
import sys
import time
import tracemalloc

import litellm

mode, url, tokens, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
trace_memory = sys.argv[5:] == ["memory"]
kwargs = {
    "model": f"openai/text+tokens={tokens}",
    "api_base": f"{url}/v1",
    "api_key": "sk-bench",
    "messages": [{"role": "user", "content": "hi"}],
}


async def call_async() -> int:
    if mode == "stream":
        stream = await litellm.acompletion(stream=True, **kwargs)
        return sum([1 async for _ in stream])
    if mode == "buffered":
        response = await litellm.acompletion(buffered_stream=True, **kwargs)
    else:
        response = await litellm.acompletion(**kwargs)
    return len(response.choices[0].message.content.split())


def call_sync() -> int:
    response = litellm.completion(buffered_stream=True, **kwargs)
    return len(response.choices[0].message.content.split())


def once() -> int:
    return call_sync() if mode == "generic" else asyncio.run(call_async())


once()  # warm up: imports, clients, cost map
if trace_memory:
    tracemalloc.start()
cpu = time.process_time()
chunks = sum(once() for _ in range(repeats))
cpu = time.process_time() - cpu
peak = tracemalloc.get_traced_memory()[1] if trace_memory else 0
print(json.dumps({"cpu_s": cpu, "chunks": chunks, "peak_bytes": peak}))
