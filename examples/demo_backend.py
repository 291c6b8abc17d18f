"""DEMO ONLY: a fake, slow OpenAI-compatible chat server for trying buffered_stream. Not a model.

It answers every chat request with the same demo text, one "token" every ``--delay`` seconds, the
way a slow self-hosted inference server (vLLM, llama.cpp, TGI) does:

- ``"stream": true``: server-sent events (``data: {chunk}`` ... ``data: [DONE]``), with a final
  usage chunk when ``stream_options.include_usage`` is set;
- ``"stream": false``: silence until the whole answer is generated, then one JSON document.

Run: ``python examples/demo_backend.py [--port 8090] [--tokens 300] [--delay 0.1]`` (127.0.0.1 only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid

from aiohttp import web

DEMO_WORDS = (
    "[demo] This is demo text from the buffered_stream demo backend, not a real model. "
    "It arrives one token at a time, slowly, like a self-hosted inference server under load."
).split()


def _tokens(count: int) -> list[str]:
    return [(" " if i else "") + DEMO_WORDS[i % len(DEMO_WORDS)] for i in range(count)]


def _usage(request_body: dict, completion_tokens: int) -> dict:
    prompt = sum(len(str(m.get("content") or "").split()) for m in request_body.get("messages") or [])
    return {"prompt_tokens": prompt, "completion_tokens": completion_tokens, "total_tokens": prompt + completion_tokens}


async def chat_completions(request: web.Request) -> web.StreamResponse:
    settings = request.app["settings"]
    try:
        body = await request.json()
    except json.JSONDecodeError:
        error = {"message": "demo backend: the body is not JSON", "type": "invalid_request_error"}
        return web.json_response({"error": error}, status=400)
    model = body.get("model") or "demo-model"
    completion_id, created = f"chatcmpl-demo-{uuid.uuid4().hex[:12]}", int(time.time())
    tokens = _tokens(settings.tokens)
    if not body.get("stream"):
        for _ in tokens:  # "generate" the whole answer before sending a single byte
            await asyncio.sleep(settings.delay)
        message = {"role": "assistant", "content": "".join(tokens)}
        return web.json_response(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": "length"}],
                "usage": _usage(body, len(tokens)),
            }
        )

    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)

    async def send(choices: list, **extra: object) -> None:
        chunk = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}
        chunk.update(choices=choices, **extra)
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

    await send([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
    for token in tokens:
        await asyncio.sleep(settings.delay)
        await send([{"index": 0, "delta": {"content": token}, "finish_reason": None}])
    await send([{"index": 0, "delta": {}, "finish_reason": "length"}])
    if (body.get("stream_options") or {}).get("include_usage"):
        await send([], usage=_usage(body, len(tokens)))
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def models(request: web.Request) -> web.Response:
    return web.json_response(
        {"object": "list", "data": [{"id": "demo-model", "object": "model", "created": 0, "owned_by": "demo"}]}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="DEMO ONLY: a fake, slow OpenAI-compatible chat server.")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--tokens", type=int, default=300, help="tokens per answer (default 300)")
    parser.add_argument("--delay", type=float, default=0.1, help="seconds per token (default 0.1)")
    settings = parser.parse_args()
    app = web.Application()
    app["settings"] = settings
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/models", models)
    print("=" * 78)
    print(" DEMO BACKEND: a fake, slow OpenAI-compatible server. Its answers are demo text,")
    seconds = settings.tokens * settings.delay
    print(f" not a model. {settings.tokens} tokens x {settings.delay:g} s = ~{seconds:g} s per answer.")
    print(f" Listening on http://127.0.0.1:{settings.port}/v1")
    print("=" * 78, flush=True)
    web.run_app(app, host="127.0.0.1", port=settings.port, print=None)


if __name__ == "__main__":
    main()
