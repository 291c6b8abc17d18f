"""A small fake OpenAI-compatible chat backend for the multi-instance test and the image test.

It answers ``POST /v1/chat/completions`` (streaming and non-streaming) with ``tokens`` words, one
every ``gap`` seconds, so a non-streaming answer arrives only after ``tokens * gap`` seconds while a
stream has no silence longer than ``gap``. The model name may override both: ``...-t<N>-g<MS>``
(e.g. ``slow-t12-g300``: 12 tokens, 300 ms apart). ``GET /stats`` reports what was served.

Run standalone (only aiohttp is needed):  python _multi_instance_backend.py --port 8099
It prints ``READY <port>`` on stdout once it listens, and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web

MODEL_SHAPE = re.compile(r"-t(?P<tokens>\d+)-g(?P<gap>\d+)$")


@dataclass
class Backend:
    tokens: int = 5
    gap: float = 0.05
    requests: list[dict] = field(default_factory=list)

    def shape(self, model: str) -> tuple[int, float]:
        match = MODEL_SHAPE.search(model)
        if match is None:
            return self.tokens, self.gap
        return int(match["tokens"]), int(match["gap"]) / 1000

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_post("/chat/completions", self.chat)
        app.router.add_get("/v1/models", self.models)
        app.router.add_get("/stats", self.stats)
        return app

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "requests": len(self.requests),
                "streamed": sum(1 for r in self.requests if r["stream"]),
                "not_streamed": sum(1 for r in self.requests if not r["stream"]),
                "log": self.requests,
            }
        )

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake", "object": "model", "owned_by": "test"}]})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        model = str(body.get("model", "fake"))
        stream = bool(body.get("stream", False))
        tokens, gap = self.shape(model)
        self.requests.append({"model": model, "stream": stream, "at": time.time()})
        words = [f"w{i}" for i in range(tokens)]
        created = int(time.time())
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": tokens, "total_tokens": prompt_tokens + tokens}
        if not stream:
            await asyncio.sleep(tokens * gap)
            return web.json_response(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": " ".join(words)},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
            )

        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)

        async def send(delta: dict, finish_reason: str | None = None, **extra: object) -> None:
            chunk = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
                **extra,
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": ""})
        for i, word in enumerate(words):
            await asyncio.sleep(gap)
            await send({"content": word if i == 0 else f" {word}"})
        await send({}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            chunk = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}
            await response.write(f"data: {json.dumps({**chunk, 'choices': [], 'usage': usage})}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


async def serve(host: str, port: int, backend: Backend) -> None:
    runner = web.AppRunner(backend.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"READY {bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed as READY <port>)")
    parser.add_argument("--tokens", type=int, default=5)
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between tokens")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, Backend(tokens=args.tokens, gap=args.gap)))


if __name__ == "__main__":
    main()
