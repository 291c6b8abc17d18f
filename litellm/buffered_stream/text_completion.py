"""Assemble an OpenAI text completion stream into the body of a non-streaming ``/v1/completions`` call (sans-I/O).

The stream is ``data: {text_completion chunk}`` events, an optional usage-only chunk
(``stream_options.include_usage``) and ``data: [DONE]``. Per choice ``index``: ``text``
concatenates, ``logprobs`` lists (``tokens``, ``token_logprobs``, ``top_logprobs``,
``text_offset``) extend, ``finish_reason`` is the last one sent. A choice without a finish reason,
an event that is not JSON, or an error event fails the call (``StreamFailed``).
"""

from __future__ import annotations

from litellm.buffered_stream.assembly import (
    Json,
    SSEAssembler,
    StreamFailed,
    Text,
    event_handler,
    expect,
    finisher,
    joined,
    merge_delta,
    parse,
)
from litellm.litellm_core_utils.chat_chunk_merge import merge_usage


class TextCompletionAssembler(SSEAssembler):
    """``text_completion`` chunks into one ``text_completion`` document."""

    wire = "openai_text"
    event_names = False

    def __init__(self) -> None:
        super().__init__()
        self._top: Json = {}
        self._choices: dict[int, Json] = {}
        self._usage: Json | None = None

    @event_handler
    def _on_event(self, _event: str, payload: bytes) -> None:
        if payload.strip() == b"[DONE]":
            return
        chunk = parse(payload)
        if chunk.get("error") is not None and not chunk.get("choices"):
            error = chunk["error"]
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise StreamFailed(f"the backend reported an error mid-stream: {message}", body=chunk)
        for key, value in chunk.items():
            if key in ("choices", "usage", "object") or value is None:
                continue
            if key in ("id", "created") and self._top.get(key):
                continue
            self._top[key] = value
        if isinstance(chunk.get("usage"), dict):
            self._usage = merge_usage(self._usage, chunk["usage"])
        for choice in expect(chunk.get("choices") or [], list, "choices"):
            self._on_choice(expect(choice, dict, "choices[]"))

    def _on_choice(self, choice: Json) -> None:
        index = expect(choice.get("index", 0), int, "choices[].index")
        state = self._choices.setdefault(index, {"text": Text(), "logprobs": None, "finish_reason": None})
        text = choice.get("text")
        if text:
            state["text"].append(expect(text, str, "choices[].text"))
        logprobs = choice.get("logprobs")
        if isinstance(logprobs, dict):
            if state["logprobs"] is None:
                state["logprobs"] = {}
            merge_delta(state["logprobs"], logprobs)
        for key, value in choice.items():
            if key not in ("index", "text", "logprobs") and value is not None:
                state[key] = value

    @finisher
    def finish(self) -> Json:
        self._flush()
        if not self._choices:
            raise StreamFailed("buffered_stream: the backend stream ended without any choice")
        unfinished = sorted(i for i, c in self._choices.items() if not c["finish_reason"])
        if unfinished:
            raise StreamFailed(
                f"buffered_stream: the backend stream ended before choice(s) {unfinished} finished "
                "(no finish_reason): the answer would be truncated"
            )
        choices = [{"index": index, **joined(self._choices[index])} for index in sorted(self._choices)]
        body: Json = {**self._top, "object": "text_completion", "choices": choices}
        if self._usage is not None:
            body["usage"] = self._usage
        return body
