"""Benchmark backend: the e2e fake LLM in its own process, so its CPU is not counted. Prints its URL."""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.fake_llm import FakeLLM  # noqa: E402

server = FakeLLM().start()
print(server.url, flush=True)
try:
    time.sleep(3600)
finally:
    server.stop()
