"""Unit tests for litellm/buffered_stream/client.py: BufferingAsyncClient over an httpx.MockTransport."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from litellm.buffered_stream.assemblers import AnthropicMessageAssembler, OllamaChatAssembler, OpenAIChatAssembler
from litellm.buffered_stream.client import BufferingAsyncClient, buffering, in_buffered_call

Json = dict[str, Any]

CHAT_URL = "http://backend.test/v1/chat/completions"
CHAT_BODY: Json = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def sse(*events: Json | str) -> bytes:
    return "".join(f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events).encode()


def oa_chunk(delta: Json | None = None, finish_reason: str | None = None, usage: Json | None = None) -> Json:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
    doc: Json = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": choices}
    if usage is not None:
        doc["usage"] = usage
    return doc


OPENAI_STREAM = sse(
    oa_chunk({"role": "assistant", "content": "Hel"}),
    oa_chunk({"content": "lo 🎉"}),
    oa_chunk({}, finish_reason="stop"),
    oa_chunk(usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}),
    "[DONE]",
)


def assembled(assembler: Any, data: bytes) -> Json:
    assembler.feed(data)
    return assembler.finish()


class Backend:
    """A MockTransport handler that records what it was sent and answers with a fixed response."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response]) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    @property
    def last_json(self) -> Json:
        return json.loads(self.requests[-1].content)


def streaming(data: bytes | list[bytes], content_type: str = "text/event-stream", **headers: str) -> Backend:
    chunks = data if isinstance(data, list) else [data]

    async def body() -> AsyncIterator[bytes]:
        for piece in chunks:
            yield piece

    return Backend(
        lambda request: httpx.Response(
            200, headers={"content-type": content_type, "x-request-id": "req-1", **headers}, content=body()
        )
    )


def client(backend: Backend) -> BufferingAsyncClient:
    return BufferingAsyncClient(transport=httpx.MockTransport(backend))


def check_length(response: httpx.Response) -> None:
    assert "transfer-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(response.content))


# ---------------------------------------------------------------------------------------------
# Outside buffering(): plain httpx.AsyncClient
# ---------------------------------------------------------------------------------------------


async def test_outside_buffering_requests_pass_through_untouched() -> None:
    backend = streaming(OPENAI_STREAM)
    async with client(backend) as http:
        response = await http.post(CHAT_URL, json=CHAT_BODY)
    assert backend.last_json == CHAT_BODY
    assert response.headers["content-type"] == "text/event-stream"
    assert response.content == OPENAI_STREAM


# ---------------------------------------------------------------------------------------------
# Inside buffering(): served from a stream
# ---------------------------------------------------------------------------------------------


async def test_openai_request_is_streamed_and_assembled() -> None:
    backend = streaming([OPENAI_STREAM[:17], OPENAI_STREAM[17:60], OPENAI_STREAM[60:]])
    with buffering() as call:
        async with client(backend) as http:
            response = await http.post(CHAT_URL, json={**CHAT_BODY, "stream_options": {"other": 1}})
    sent = backend.last_json
    assert sent["stream"] is True
    assert sent["stream_options"] == {"other": 1, "include_usage": True}
    assert sent["messages"] == CHAT_BODY["messages"]
    assert backend.requests[-1].headers["content-length"] == str(len(backend.requests[-1].content))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "req-1"
    check_length(response)
    assert response.json() == assembled(OpenAIChatAssembler(), OPENAI_STREAM)
    assert response.json()["choices"][0]["message"]["content"] == "Hello 🎉"
    assert call.served == 1


async def test_stream_false_is_turned_into_stream_true() -> None:
    backend = streaming(OPENAI_STREAM)
    with buffering():
        async with client(backend) as http:
            response = await http.post(CHAT_URL, json={**CHAT_BODY, "stream": False})
    assert backend.last_json["stream"] is True
    assert response.json()["object"] == "chat.completion"


async def test_chunked_backend_response_becomes_content_length_response() -> None:
    backend = streaming(OPENAI_STREAM, **{"transfer-encoding": "chunked"})
    with buffering():
        async with client(backend) as http:
            response = await http.post(CHAT_URL, json=CHAT_BODY)
    check_length(response)
    assert response.json()["choices"][0]["finish_reason"] == "stop"


async def test_anthropic_request_is_streamed_without_stream_options() -> None:
    events = [
        {"type": "message_start", "message": {"id": "m", "role": "assistant", "content": [], "usage": {}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}},
        {"type": "message_stop"},
    ]
    stream = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()
    backend = streaming(stream)
    with buffering() as call:
        async with client(backend) as http:
            response = await http.post("http://backend.test/v1/messages", json={**CHAT_BODY, "max_tokens": 5})
    assert backend.last_json["stream"] is True
    assert "stream_options" not in backend.last_json
    assert response.json() == assembled(AnthropicMessageAssembler(), stream)
    assert call.served == 1


async def test_ollama_request_is_streamed() -> None:
    lines = [
        {"model": "l", "message": {"role": "assistant", "content": "hi"}, "done": False},
        {"model": "l", "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"},
    ]
    stream = "".join(json.dumps(line) + "\n" for line in lines).encode()
    backend = streaming(stream, content_type="application/x-ndjson")
    with buffering() as call:
        async with client(backend) as http:
            response = await http.post("http://backend.test/api/chat", json=CHAT_BODY)
    assert backend.last_json["stream"] is True
    assert response.json() == assembled(OllamaChatAssembler(), stream)
    assert call.served == 1


async def test_served_counts_each_served_request() -> None:
    backend = streaming(OPENAI_STREAM)
    with buffering() as call:
        async with client(backend) as http:
            await http.post(CHAT_URL, json=CHAT_BODY)
            await http.post(CHAT_URL, json=CHAT_BODY)
            await http.get("http://backend.test/v1/models")
    assert call.served == 2


async def test_buffering_context_is_reset_on_exit() -> None:
    backend = streaming(OPENAI_STREAM)
    with buffering():
        pass
    async with client(backend) as http:
        await http.post(CHAT_URL, json=CHAT_BODY)
    assert "stream" not in backend.last_json


# ---------------------------------------------------------------------------------------------
# Inside buffering(): requests that pass through
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "content"),
    [
        pytest.param("POST", CHAT_URL, json.dumps({**CHAT_BODY, "stream": True}).encode(), id="already-streaming"),
        pytest.param("GET", CHAT_URL, None, id="get"),
        pytest.param("POST", "http://backend.test/v1/embeddings", json.dumps(CHAT_BODY).encode(), id="non-chat-path"),
        pytest.param("POST", CHAT_URL, b"not json at all", id="non-json-body"),
        pytest.param("POST", CHAT_URL, b"[1, 2]", id="json-not-object"),
        pytest.param("POST", CHAT_URL, json.dumps({"model": "m", "prompt": "x"}).encode(), id="no-messages"),
    ],
)
async def test_requests_that_pass_through(method: str, url: str, content: bytes | None) -> None:
    backend = streaming(OPENAI_STREAM)
    with buffering() as call:
        async with client(backend) as http:
            response = await http.request(method, url, content=content)
    sent = backend.requests[-1]
    assert sent.method == method
    assert sent.content == (content or b"")
    assert response.content == OPENAI_STREAM
    assert response.headers["content-type"] == "text/event-stream"
    assert call.served == 0


async def test_caller_streaming_response_passes_through() -> None:
    backend = streaming(OPENAI_STREAM)
    with buffering() as call:
        async with client(backend) as http:
            async with http.stream("POST", CHAT_URL, json={**CHAT_BODY, "stream": True}) as response:
                body = await response.aread()
    assert body == OPENAI_STREAM
    assert call.served == 0


# ---------------------------------------------------------------------------------------------
# Inside buffering(): responses that pass through, and failures
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 429, 500, 503])
async def test_error_status_passes_through_with_backend_body(status: int) -> None:
    error = {"error": {"message": "backend says no", "type": "invalid_request_error"}}
    backend = Backend(lambda request: httpx.Response(status, json=error))
    with buffering() as call:
        async with client(backend) as http:
            response = await http.post(CHAT_URL, json=CHAT_BODY)
    assert response.status_code == status
    assert response.json() == error
    assert call.served == 0


async def test_error_status_with_event_stream_content_type_passes_through() -> None:
    backend = Backend(
        lambda request: httpx.Response(500, headers={"content-type": "text/event-stream"}, content=b"boom")
    )
    with buffering():
        async with client(backend) as http:
            response = await http.post(CHAT_URL, json=CHAT_BODY)
    assert (response.status_code, response.content) == (500, b"boom")


async def test_non_event_stream_200_passes_through_unchanged() -> None:
    body = {"id": "c", "object": "chat.completion", "choices": [{"index": 0, "message": {"content": "x"}}]}
    backend = Backend(lambda request: httpx.Response(200, json=body))
    with buffering() as call:
        async with client(backend) as http:
            response = await http.post(CHAT_URL, json=CHAT_BODY)
    assert response.status_code == 200
    assert response.json() == body
    assert call.served == 0


async def test_incomplete_stream_becomes_502_with_wire_error_body() -> None:
    backend = streaming(sse(oa_chunk({"role": "assistant", "content": "trunc"})))
    with buffering() as call:
        async with client(backend) as http:
            response = await http.post(CHAT_URL, json=CHAT_BODY)
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/json"
    check_length(response)
    error = response.json()["error"]
    assert error["code"] == "buffered_stream_incomplete"
    assert "finish_reason" in error["message"]
    assert call.served == 0


async def test_mid_stream_error_keeps_backend_error_body() -> None:
    error = {"error": {"message": "overloaded", "type": "server_error"}}
    backend = streaming(sse(oa_chunk({"content": "a"}), error))
    with buffering():
        async with client(backend) as http:
            response = await http.post(CHAT_URL, json=CHAT_BODY)
    assert response.status_code == 502
    assert response.json() == error


async def test_anthropic_overloaded_becomes_529() -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    backend = streaming(f"event: error\ndata: {json.dumps(error)}\n\n".encode())
    with buffering():
        async with client(backend) as http:
            response = await http.post("http://backend.test/v1/messages", json=CHAT_BODY)
    assert response.status_code == 529
    assert response.json() == error


async def test_malformed_event_becomes_502() -> None:
    backend = streaming(sse(oa_chunk({"content": "a"}), "{broken", oa_chunk({}, finish_reason="stop")))
    with buffering() as call:
        async with client(backend) as http:
            response = await http.post(CHAT_URL, json=CHAT_BODY)
    assert response.status_code == 502
    assert "unparseable" in response.json()["error"]["message"]
    assert call.served == 0


async def test_ollama_incomplete_stream_error_body_shape() -> None:
    stream = json.dumps({"message": {"content": "a"}, "done": False}).encode() + b"\n"
    backend = streaming(stream, content_type="application/x-ndjson")
    with buffering():
        async with client(backend) as http:
            response = await http.post("http://backend.test/api/chat", json=CHAT_BODY)
    assert response.status_code == 502
    assert set(response.json()) == {"error"}


async def test_event_hooks_see_the_streamed_exchange() -> None:
    seen: list[Json] = []

    async def on_request(request: httpx.Request) -> None:
        seen.append(json.loads(request.content))

    backend = streaming(OPENAI_STREAM)
    with buffering():
        async with BufferingAsyncClient(
            transport=httpx.MockTransport(backend), event_hooks={"request": [on_request]}
        ) as http:
            response = await http.post(CHAT_URL, json=CHAT_BODY)
    assert seen[-1]["stream"] is True
    assert response.status_code == 200


async def test_gzip_encoded_stream_is_decoded_and_encoding_header_dropped() -> None:
    backend = streaming(gzip.compress(OPENAI_STREAM), **{"content-encoding": "gzip"})
    with buffering() as call:
        async with client(backend) as http:
            response = await http.post(CHAT_URL, json=CHAT_BODY)
    assert "content-encoding" not in response.headers
    check_length(response)
    assert response.json() == assembled(OpenAIChatAssembler(), OPENAI_STREAM)
    assert call.served == 1


async def test_event_stream_content_type_with_parameters_is_a_stream() -> None:
    backend = streaming(OPENAI_STREAM, content_type="Text/Event-Stream; charset=utf-8")
    with buffering() as call:
        async with client(backend) as http:
            response = await http.post(CHAT_URL, json=CHAT_BODY)
    assert response.json()["object"] == "chat.completion"
    assert call.served == 1


# ---------------------------------------------------------------------------------------------
# Usage, mid-stream failures, bounded error bodies
# ---------------------------------------------------------------------------------------------

USAGELESS_STREAM = sse(
    oa_chunk({"role": "assistant", "content": "Hello there, how are you"}),
    oa_chunk({}, finish_reason="stop"),
    "[DONE]",
)


async def test_stream_without_usage_gets_an_estimate_marked_in_the_metadata() -> None:
    metadata: Json = {"buffered_stream": True}
    with buffering(metadata):
        async with client(streaming(USAGELESS_STREAM)) as http:
            response = await http.post(CHAT_URL, json=CHAT_BODY)
    usage = response.json()["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] >= 5
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert metadata["buffered_stream_usage_estimated"] is True


async def test_stream_usage_is_kept_and_not_marked_estimated() -> None:
    metadata: Json = {}
    with buffering(metadata):
        async with client(streaming(OPENAI_STREAM)) as http:
            response = await http.post(CHAT_URL, json=CHAT_BODY)
    assert response.json()["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert metadata == {}


@pytest.mark.parametrize(
    "data",
    [
        sse(oa_chunk({"role": "assistant", "content": "Hel"})),  # ends without a finish reason
        sse(oa_chunk({"role": "assistant", "content": "Hel"})) + b"data: {not json\n\n",
    ],
)
async def test_failure_after_the_stream_started_is_noted(data: bytes) -> None:
    with buffering() as call:
        async with client(streaming(data)) as http:
            response = await http.post(CHAT_URL, json=CHAT_BODY)
    assert response.status_code == 502
    assert call.failed_mid_stream and call.served == 0


async def test_error_status_is_not_a_mid_stream_failure() -> None:
    backend = Backend(lambda request: httpx.Response(500, json={"error": {"message": "boom"}}))
    with buffering() as call:
        async with client(backend) as http:
            await http.post(CHAT_URL, json=CHAT_BODY)
    assert not call.failed_mid_stream


async def test_huge_backend_error_event_is_replaced_by_a_bounded_one() -> None:
    huge = {"error": {"message": "x" * 100_000, "type": "server_error"}}
    with buffering():
        async with client(streaming(sse(oa_chunk({"content": "a"}), huge))) as http:
            response = await http.post(CHAT_URL, json=CHAT_BODY)
    assert response.status_code == 502
    assert len(response.content) < 1_000
    assert response.json()["error"]["message"].startswith("the backend reported an error mid-stream: xxx")


# ---------------------------------------------------------------------------------------------
# Responses and text completions; buffered calls inside buffered calls
# ---------------------------------------------------------------------------------------------

RESPONSE: Json = {"id": "resp_1", "object": "response", "status": "completed", "output": [], "usage": {}}


async def test_responses_request_is_streamed_and_the_terminal_response_returned() -> None:
    stream = (
        b'event: response.created\ndata: {"type": "response.created", "response": {"status": "in_progress"}}\n\n'
        + f"event: response.completed\ndata: {json.dumps({'type': 'response.completed', 'response': RESPONSE})}\n\n".encode()
    )
    backend = streaming(stream)
    with buffering() as call:
        async with client(backend) as http:
            response = await http.post("http://backend.test/v1/responses", json={"model": "m", "input": "hi"})
    assert backend.last_json["stream"] is True
    assert "stream_options" not in backend.last_json
    assert response.json() == RESPONSE
    assert call.served == 1


async def test_responses_stream_without_terminal_event_is_a_502() -> None:
    backend = streaming(b'event: response.created\ndata: {"type": "response.created", "response": {}}\n\n')
    with buffering() as call:
        async with client(backend) as http:
            response = await http.post("http://backend.test/openai/responses", json={"model": "m", "input": "hi"})
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "buffered_stream_incomplete"
    assert call.served == 0


async def test_text_completion_request_is_streamed_with_usage() -> None:
    chunk = {"id": "c", "object": "text_completion", "created": 1, "model": "m"}
    stream = sse(
        {**chunk, "choices": [{"index": 0, "text": "hi", "logprobs": None, "finish_reason": "stop"}]},
        {**chunk, "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}},
        "[DONE]",
    )
    backend = streaming(stream)
    with buffering() as call:
        async with client(backend) as http:
            response = await http.post("http://backend.test/v1/completions", json={"model": "m", "prompt": "x"})
    assert backend.last_json["stream"] is True
    assert backend.last_json["stream_options"] == {"include_usage": True}
    assert response.json()["choices"][0]["text"] == "hi"
    assert response.json()["usage"]["total_tokens"] == 2
    assert call.served == 1


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("http://backend.test/v1/responses", {"model": "m", "previous_response_id": "r"}),
        ("http://backend.test/v1/completions", {"model": "m", "messages": []}),
        ("http://backend.test/v1/responses/resp_1/cancel", {"model": "m", "input": "x"}),
    ],
    ids=["responses-without-input", "completions-without-prompt", "responses-subpath"],
)
async def test_requests_of_the_new_wires_without_their_body_field_pass_through(url: str, body: Json) -> None:
    backend = streaming(OPENAI_STREAM)
    with buffering() as call:
        async with client(backend) as http:
            await http.post(url, json=body)
    assert backend.last_json == body
    assert call.served == 0


async def test_buffering_inside_buffering_counts_towards_the_outer_call() -> None:
    backend = streaming(OPENAI_STREAM)
    with buffering() as outer:
        assert in_buffered_call()
        with buffering() as inner:
            async with client(backend) as http:
                await http.post(CHAT_URL, json=CHAT_BODY)
        assert inner is outer
        assert in_buffered_call()
    assert outer.served == 1
    assert not in_buffered_call()


# ------------------------------------------------------------------ why a buffered call was not served from a stream


async def test_a_backend_that_ignores_stream_true_is_named_as_the_reason() -> None:
    backend = Backend(lambda request: httpx.Response(200, json={"choices": []}))
    with buffering() as call:
        async with client(backend) as http:
            await http.post(CHAT_URL, json=CHAT_BODY)
    assert call.served == 0
    reason = call.native_reason()
    assert reason.cause == "not_a_stream" and "application/json" in reason.detail and "stream: true" in reason.detail


async def test_a_request_whose_path_is_no_wire_is_named_as_the_reason() -> None:
    backend = streaming(OPENAI_STREAM)
    with buffering() as call:
        async with client(backend) as http:
            await http.post("http://backend.test/v1/generate", json=CHAT_BODY)
    reason = call.native_reason()
    assert reason.cause == "path" and "/v1/generate" in reason.detail


def test_a_call_whose_requests_never_reached_the_buffering_client_says_so() -> None:
    with buffering() as call:
        pass
    assert call.native_reason().cause == "client"


async def test_an_error_status_is_not_a_reason_to_warn_about() -> None:
    backend = Backend(lambda request: httpx.Response(500, json={"error": {"message": "boom"}}))
    with buffering() as call:
        async with client(backend) as http:
            await http.post(CHAT_URL, json=CHAT_BODY)
    assert call.unserved is None
