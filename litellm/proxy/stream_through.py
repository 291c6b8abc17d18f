"""``stream: true`` chat completions through the proxy without a litellm object per chunk.

The proxy turns every event of an OpenAI-compatible backend stream into the OpenAI SDK's
``ChatCompletionChunk``, then ``CustomStreamWrapper``'s ``ModelResponseStream``, then serializes it
again: a few hundred microseconds of CPU per chunk (docs/streaming-cpu.md). Almost every event of a
long answer is a text delta that differs from the one before it only in its ``content``, and the
client's bytes for it differ only there too.

``stream_through`` reads the backend's bytes itself (the ``httpx.Response`` of the SDK's stream, or of
litellm's line reader for ``hosted_vllm``, before any of it was read) and decides event by event:

- **fast lane**: an event whose every field but ``choices[0].delta.content`` equals those of an event
  the real path already rendered (the *template*) is written to the client as that rendering with its
  content swapped, and its content is kept in a *run*;
- **real path**: every other event (the first ones, role, tool calls, reasoning, finish reasons,
  usage, logprobs, ``n > 1``, errors, anything new) is built by the SDK's own
  ``_process_response_data`` (or the line reader's handling of the line) and handed to the very
  ``CustomStreamWrapper`` the proxy would have
  read, whose chunk the proxy renders as always. Before it, the pending run is handed to the wrapper as
  text chunks whose output is not sent (the client already has those bytes; ``_pieces`` keeps the
  wrapper's repeated-chunk count), so the wrapper's state, the response logged at the end, usage, cost,
  cache and callbacks are the same as if each chunk had passed through it. A template is learnt (anew
  when the text events' other fields change) from a chunk the real path rendered, and only when that
  rendering is exactly ``prefix + json(content) + suffix``.

The end of the stream (finish chunk, usage chunk, logging, spend, cache) is the wrapper's own code.
Events that arrive in one backend read go to the client in one write. ``stream_through`` steps aside
(the proxy reads the stream the ordinary way) whenever it cannot prove the output identical: see
``_step_aside_reason`` and docs/streaming-cpu.md. The private names it relies on (the proxy's SSE writing, the
OpenAI SDK stream's ``_process_response_data``, what ``AsyncStream.__stream__`` calls per event) go through
``upstream_surface``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Final

import anyio
import httpx
from pydantic import BaseModel

import litellm
from litellm.buffered_stream.decoders import SSEDecoder, dumps, loads
from litellm.litellm_core_utils.litellm_logging import Logging
from litellm.litellm_core_utils.served_output_texts import record_served_output_texts
from litellm.litellm_core_utils.served_stream_texts import ServedStreamTexts
from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper
from litellm.litellm_core_utils.upstream_surface import (
    build_streamed_line,
    build_streamed_object,
    discard_deferred_stream_logging_for_failure,
    has_post_call_pipelines,
    stream_chunk_frame,
    unread_openai_chat_stream,
    unread_openai_compatible_line_stream,
    verbose_proxy_logger,
)
from litellm.proxy.hooks.responses_id_security import ResponsesIDSecurity
from litellm.proxy.utils import ProxyLogging

#: ``litellm_settings: {stream_through: false}`` (or ``LITELLM_STREAM_THROUGH=false``) turns the fast lane off.
SETTING: Final = "stream_through"
ENV: Final = "LITELLM_STREAM_THROUGH"
#: Providers whose chat streams litellm reads through the OpenAI SDK (``AsyncStream``). ``lm_studio``,
#: ``llamafile``, ``custom_openai`` and the other OpenAI-compatible providers are read by the same handler, whose
#: wrapper names the provider ``openai``.
PROVIDERS: Final = frozenset({"openai", "azure"})
#: Providers whose chat streams litellm reads line by line (``OpenAIChatCompletionStreamingHandler`` over the
#: response's ``aiter_lines()``).
LINE_PROVIDERS: Final = frozenset({"hosted_vllm"})
#: The name ``_events`` gives a line of a line-read stream (no SSE event name holds a newline).
_LINE: Final = "\n"
#: A run is handed to the wrapper at the latest after this many events (memory stays bounded).
MAX_RUN: Final = 256


def enabled() -> bool:
    if os.environ.get(ENV, "").strip().lower() in ("0", "false", "no", "off"):
        return False
    return getattr(litellm, SETTING, True) is not False


class _Slot:
    """Where the wrapper's chunk for one real-path event goes in the client's stream."""

    __slots__ = ("done", "output", "discard", "candidate", "after_first")

    def __init__(self, discard: bool = False) -> None:
        self.done = False
        self.output: object = None
        self.discard = discard
        #: A plain text event (event, content) whose rendering may become the template.
        self.candidate: tuple[dict[str, Any], str] | None = None
        #: The wrapper had served its first chunk before this event (so the role is not added to it).
        self.after_first = False


def _step_aside_reason(response: object, request_data: dict[str, Any], proxy_logging_obj: Any) -> str | None:
    """Why this stream must be read the ordinary way, or None when the fast lane may serve it."""
    if not enabled():
        return "turned off"
    wrapper = _provider_wrapper(response)
    if wrapper is None:
        return f"not a provider stream: {type(response).__name__}"
    if wrapper.custom_llm_provider not in PROVIDERS | LINE_PROVIDERS:
        return f"provider {wrapper.custom_llm_provider!r} is not read through the OpenAI SDK or litellm's line reader"
    if wrapper.sent_first_chunk or wrapper.chunks or getattr(response, "chunks", None):
        return "the stream was already read"
    if proxy_logging_obj.needs_per_chunk_streaming_hook():
        return "a callback or guardrail reads every chunk"
    if proxy_logging_obj.needs_iterator_wrap() and not _only_chat_neutral_iterator_hooks(request_data):
        return "a callback or guardrail wraps the stream of chunks"
    if request_data.get("_litellm_raw_sse_stream") or request_data.get("_litellm_skip_openai_stream_done"):
        return "not an OpenAI chat stream"
    if litellm.post_call_rules:
        return "litellm.post_call_rules"
    if getattr(litellm, "stream_chunk_retention", None) == "full":
        return "stream_chunk_retention is full"
    from litellm.constants import LITELLM_MAX_STREAMING_DURATION_SECONDS

    if LITELLM_MAX_STREAMING_DURATION_SECONDS is not None:
        return "LITELLM_MAX_STREAMING_DURATION_SECONDS is set"
    if _sdk_stream(wrapper) is None and _line_stream(wrapper) is None:
        return "not an unread OpenAI SDK chat stream or OpenAI-compatible line stream"
    return None


def _provider_wrapper(response: object) -> CustomStreamWrapper | None:
    """The ``CustomStreamWrapper`` that reads the provider: the response, or the one the router's fallback wrapper
    reads until it falls back (``inner``)."""
    if type(response) is CustomStreamWrapper:
        return response
    inner = getattr(response, "inner", None)
    if isinstance(response, CustomStreamWrapper) and type(inner) is CustomStreamWrapper:
        return inner
    return None


def _only_chat_neutral_iterator_hooks(request_data: dict[str, Any]) -> bool:
    """The stream's iterator hooks leave chat chunks alone: the built-in ``ResponsesIDSecurity`` only, no pipelines."""
    overrides: Final = ProxyLogging.callback_capabilities().iterator_overrides
    if not all(type(callback) is ResponsesIDSecurity and kind == "override" for callback, kind in overrides):
        return False
    return not has_post_call_pipelines(request_data)


def _sdk_stream(wrapper: CustomStreamWrapper) -> Any:
    """The wrapper's SDK chat stream, if neither the SDK nor anyone else has read a byte of it."""
    stream: Final = wrapper.completion_stream
    if wrapper.custom_llm_provider not in PROVIDERS:
        return None
    return stream if unread_openai_chat_stream(stream) else None


def _line_stream(wrapper: CustomStreamWrapper) -> Any:
    """The wrapper's line-read chat stream (``hosted_vllm``), if nobody has read a byte of it."""
    stream: Final = wrapper.completion_stream
    if wrapper.custom_llm_provider not in LINE_PROVIDERS:
        return None
    return stream if unread_openai_compatible_line_stream(stream) else None


def stream_through(
    response: Any, request_data: dict[str, Any], proxy_logging_obj: Any, *, responses_stream_errors: bool = False
) -> AsyncIterator[object] | None:
    """The iterator ``async_data_generator`` reads instead of ``response``, or None when the fast lane steps aside.

    When the proxy would have wrapped the stream in ``async_post_call_streaming_iterator_hook`` (whose only
    hooks here leave chat chunks alone), the fast lane does what that wrapper does for a chat stream: it
    records the text served and, when the stream fails, settles the parked success logging.
    """
    try:
        reason = "a Responses API stream" if responses_stream_errors else None
        reason = reason or _step_aside_reason(response, request_data, proxy_logging_obj)
    except Exception as error:  # a check that fails leaves the stream to the ordinary path
        reason = f"could not check: {error!r}"
    if reason is not None:
        verbose_proxy_logger.debug("stream_through: steps aside (%s)", reason)
        return None
    served = ServedStreamTexts() if proxy_logging_obj.needs_iterator_wrap() else None
    wrapper = _provider_wrapper(response)
    assert wrapper is not None
    verbose_proxy_logger.debug("stream_through: serving the stream of %s", wrapper.model)
    return StreamThrough(response, wrapper, request_data, served).serve()


class StreamThrough:
    """One stream: the backend's bytes in, the client's bytes and the wrapper's chunks out, in order."""

    def __init__(
        self,
        driver: AsyncIterator[Any],
        wrapper: CustomStreamWrapper,
        request_data: dict[str, Any],
        served: ServedStreamTexts | None = None,
    ) -> None:
        #: What the proxy would have read (the router's fallback wrapper, or ``wrapper`` itself).
        self._driver = driver
        #: The wrapper that reads the provider stream: its ``completion_stream`` becomes ``_feed``.
        self._wrapper = wrapper
        self._request_data = request_data
        self._served = served
        #: Where the backend's events come from: the OpenAI SDK's stream, or litellm's line reader.
        self._sdk: Any = _sdk_stream(wrapper)
        self._lines: Any = None if self._sdk is not None else _line_stream(wrapper)
        source: Final[Any] = self._sdk if self._sdk is not None else self._lines
        self._http: httpx.Response = source.response if self._sdk is not None else source.http_response
        self._reader: AsyncIterator[Any] | None = None
        self._decoder = SSEDecoder()
        #: Nothing more will be read from the backend (end of body, ``[DONE]``, a failure).
        self._eof = False
        #: Events read and not yet taken: (event name, data), or (None, the read's failure).
        self._events: deque[tuple[str | None, Any]] = deque()
        #: Client output in order: a fast-lane event (frame, choice index, content), or the slot of a real-path event.
        self._items: deque[tuple[bytes, int, str] | _Slot] = deque()
        #: Real-path events not yet handed to the wrapper: (slot, build the SDK chunk or raise).
        self._queue: deque[tuple[_Slot, Callable[[], Any]]] = deque()
        self._given: _Slot | None = None
        #: A template candidate handed to the wrapper and not answered yet: taking more events waits for it.
        self._learning: _Slot | None = None
        self._run: list[str] = []
        self._run_event: dict[str, Any] | None = None
        #: (the event without its content, the frame before the content's JSON, after it, the choice index)
        self._template: tuple[dict[str, Any], bytes, bytes, int] | None = None
        self._previous_content: object = None
        self._last_given_content: object = None

    # -- the iterator the proxy reads -------------------------------------------------------------

    async def serve(self) -> AsyncIterator[object]:
        self._wrapper.completion_stream = self._feed()
        try:
            while True:
                while self._events and self._learning is None:
                    self._take(*self._events.popleft())
                for item in self._ready():
                    yield item
                if self._queue or self._learning is not None:
                    if not await self._advance():
                        break
                elif self._events:
                    continue
                elif self._eof:
                    self._flush_run()
                    if not self._queue and not await self._advance():
                        break
                else:
                    await self._pump()
            for item in self._ready():
                yield item
        except (GeneratorExit, asyncio.CancelledError):
            self._record_served()
            await self._hand_over_sent_text()
            raise
        except Exception as error:
            self._record_served()
            if self._served is not None and not discard_deferred_stream_logging_for_failure(self._request_data, error):
                ProxyLogging.fire_deferred_stream_logging(self._request_data)
            raise
        else:
            self._record_served()
        finally:
            await self._http.aclose()

    async def _hand_over_sent_text(self) -> None:
        """The client went away: give the wrapper the text it was already sent, nothing more.

        The proxy bills a disconnected stream from the chunks the wrapper kept; upstream's wrapper had made a chunk
        for everything sent. Text sent from the fast lane is in the pending run (and in runs handed over but not yet
        read by the wrapper) unless a real-path event is still waiting before it, in which case it was not sent.
        """
        sent: deque[tuple[_Slot, Callable[[], Any]]] = deque()
        for entry in self._queue:
            if not entry[0].discard:
                break
            sent.append(entry)
        else:
            self._flush_run()
            sent = deque(entry for entry in self._queue if entry[0].discard)
        self._queue, self._events, self._eof = sent, deque(), True
        with anyio.CancelScope(shield=True):
            while self._queue:
                try:
                    await self._wrapper.__anext__()
                except BaseException:  # noqa: BLE001  # the client is gone: nothing to report it to
                    return

    def _record_served(self) -> None:
        """What ``async_post_call_streaming_iterator_hook`` records: the text the client was sent."""
        logging_obj: Final = self._request_data.get("litellm_logging_obj")
        if self._served is not None and isinstance(logging_obj, Logging):
            record_served_output_texts(logging_obj.model_call_details, self._served.texts())

    async def _advance(self) -> bool:
        """One ``__anext__`` of what the proxy reads; its chunk goes to the slot of the event it came from."""
        try:
            chunk = await self._driver.__anext__()
        except StopAsyncIteration:
            self._resolve_given()
            return False
        slot = self._given
        self._given = None
        if slot is None:  # the wrapper's own end-of-stream chunks (finish reason, usage), or a fallback's
            slot = _Slot()
            self._items.append(slot)
        slot.done, slot.output = True, chunk
        self._learn(slot)
        return True

    def _ready(self) -> list[object]:
        """The output at the head of the stream that is known: frames joined per read, chunks as they are."""
        out: list[object] = []
        pending: list[bytes] = []
        items: Final = self._items
        served: Final = self._served
        while items:
            head = items[0]
            if isinstance(head, tuple):
                pending.append(head[0])
                if served is not None:
                    served.add_text(head[1], head[2])
            elif head.done:
                if head.output is not None and not head.discard:
                    if pending:
                        out.append(b"".join(pending))
                        pending = []
                    out.append(head.output)
                    if served is not None:
                        served.add(head.output)
            else:
                break
            items.popleft()
        if pending:
            out.append(b"".join(pending))
        return out

    # -- what the wrapper reads -----------------------------------------------------------------

    async def _feed(self) -> AsyncIterator[Any]:
        """The wrapper's provider stream: the real-path events, read from the backend when it needs more."""
        while True:
            if self._queue:
                self._resolve_given()
                slot, build = self._queue.popleft()
                slot.after_first = bool(self._wrapper.sent_first_chunk)
                self._given = slot
                yield build()
                continue
            self._resolve_given()
            if self._events:
                self._take(*self._events.popleft())
            elif self._eof:
                self._flush_run()
                if not self._queue:
                    return
            else:
                await self._pump()

    def _resolve_given(self) -> None:
        """The wrapper took the last event and asks for the next: that event served nothing."""
        slot = self._given
        if slot is not None:
            slot.done = True
            self._given = None
            if self._learning is slot:
                self._learning = None

    # -- the backend's bytes --------------------------------------------------------------------

    async def _pump(self) -> None:
        """Read once from the backend. A read that fails reaches the wrapper where the SDK would have raised it."""
        if self._lines is not None:
            await self._pump_line()
            return
        if self._reader is None:
            self._reader = self._http.aiter_bytes().__aiter__()
        try:
            data = await self._reader.__anext__()
        except StopAsyncIteration:
            self._eof = True  # an event without its blank line is dropped, as the SDK's decoder does
            return
        except Exception as error:
            self._eof = True
            self._events.append((None, error))
            return
        self._events.extend(self._decoder.feed(data))

    async def _pump_line(self) -> None:
        """Read one line, from the same ``aiter_lines()`` decoding the line reader would have read."""
        if self._reader is None:
            self._reader = self._http.aiter_lines().__aiter__()
        try:
            line = await self._reader.__anext__()
        except StopAsyncIteration:
            self._eof = True
            return
        except ValueError as error:  # as the line reader's __anext__ reports it
            self._eof = True
            self._events.append((None, RuntimeError(f"Error receiving chunk from stream: {error}")))
            return
        except Exception as error:
            self._eof = True
            self._events.append((None, error))
            return
        self._events.append((_LINE, line))

    def _take(self, event: str | None, payload: Any) -> None:
        if event is None:
            self._fail(payload)
            return
        if event is _LINE:
            self._take_line(payload)
            return
        if payload.startswith(b"[DONE]"):
            self._eof = True
            self._events.clear()
            return
        data: Any
        try:
            data = loads(payload)
        except ValueError:
            try:  # the SDK parses with json.loads: what it refuses fails there, what it accepts takes the real path
                data = json.loads(payload.decode("utf-8"))
            except ValueError as error:
                self._fail(error)
                return
            self._flush_run()
            self._real(lambda: self._build(data))
            return
        if isinstance(data, dict) and data.get("error"):
            self._flush_run()
            self._real(lambda: _raise_error_as_sdk(self._http, data))
            self._eof = True
            self._events.clear()
            return
        content = self._fast_content(data) if not event else None
        if content is not None:
            self._fast(data, content)
            return
        self._flush_run()
        sdk_data: object = {"data": data, "event": event} if event.startswith("thread.") else data
        self._after_real(self._real(lambda: self._build(sdk_data)), data, may_learn=not event)

    def _take_line(self, line: str) -> None:
        """One line of a line-read stream: the fast lane for a ``data: `` line the template fits, else the line
        reader's own handling of the line (blank lines skipped, ``[DONE]`` anywhere, errors, anything else)."""
        if not line.strip():
            return
        data: Any = None
        if "[DONE]" not in line and line.startswith("data:"):
            try:
                data = loads((line[6:] if line.startswith("data: ") else line[5:]).encode())
            except ValueError:
                data = None  # the line reader's json.loads decides
        if isinstance(data, dict) and data.get("error"):
            self._flush_run()
            self._real(lambda: build_streamed_line(self._lines, line))
            self._eof = True
            self._events.clear()
            return
        content = self._fast_content(data)
        if content is not None:
            self._fast(data, content)
            return
        self._flush_run()
        self._after_real(self._real(lambda: build_streamed_line(self._lines, line)), data, may_learn=True)

    def _fast(self, data: dict[str, Any], content: str) -> None:
        template = self._template
        assert template is not None
        self._items.append((template[1] + dumps(content) + template[2], template[3], content))
        if not self._run:
            self._run_event = data
        self._run.append(content)
        self._previous_content = content
        if len(self._run) >= MAX_RUN:
            self._flush_run()

    def _after_real(self, slot: _Slot, data: object, may_learn: bool) -> None:
        """A real-path event (``data``: its parsed event, if any) was queued."""
        content = _plain_content(data) if isinstance(data, dict) else None
        self._previous_content = content
        self._last_given_content = content
        if content and may_learn and isinstance(data, dict) and "role" not in data["choices"][0]["delta"]:
            # A text event the template does not fit (the first, or one whose other fields changed): learn anew.
            slot.candidate = (data, content)
            self._learning = slot

    def _fail(self, error: Exception) -> None:
        """Nothing after this reaches the client; the wrapper receives the error after the text before it."""
        self._flush_run()
        self._eof = True
        self._events.clear()
        self._real(lambda: _raise(error))

    def _real(self, build: Callable[[], Any], discard: bool = False) -> _Slot:
        slot = _Slot(discard=discard)
        if not discard:
            self._items.append(slot)
        self._queue.append((slot, build))
        return slot

    def _build(self, data: object) -> Any:
        if self._lines is not None:
            return self._lines.chunk_parser(chunk=data)
        return build_streamed_object(self._sdk, data)

    # -- the fast lane --------------------------------------------------------------------------

    def _fast_content(self, data: object) -> str | None:
        """The event's content when the event is the template's with another content, else None."""
        template = self._template
        if template is None or not isinstance(data, dict):
            return None
        content = _plain_content(data)
        if not content or content == self._previous_content:
            return None  # empty deltas and repeats (the wrapper counts repeated chunks) take the real path
        if _without_content(data) != template[0]:
            return None
        return content

    def _flush_run(self) -> None:
        """Hand the pending run to the wrapper as text chunks whose output is not sent."""
        run: Final = self._run
        if not run:
            return
        event = self._run_event
        assert event is not None
        self._run, self._run_event = [], None
        for piece in _pieces(run, self._last_given_content):
            self._real(functools.partial(self._build, _with_content(event, piece)), discard=True)
        self._last_given_content = run[-1]

    def _learn(self, slot: _Slot) -> None:
        """Learn the template from the chunk the real path made for a plain text event, if it renders as one."""
        if self._learning is slot:
            self._learning = None
        candidate = slot.candidate
        if candidate is None or not slot.after_first:
            return
        data, content = candidate
        if not isinstance(slot.output, BaseModel):
            return
        rendered = stream_chunk_frame(slot.output, self._request_data)
        if rendered is None:
            return
        needle = dumps(content)
        if rendered.count(needle) != 1:
            return
        prefix, suffix = rendered.split(needle)
        index = data["choices"][0].get("index")
        if type(index) is not int:
            return
        self._template = (_without_content(data), prefix, suffix, index)


def _pieces(run: list[str], previous: object) -> list[str]:
    """The run as few chunks as keeps the wrapper's count of repeated chunks what it would have been.

    The wrapper counts a chunk whose content equals the one before it (``REPEATED_STREAMING_CHUNK_LIMIT``). In a run
    no event equals the one before it (the fast lane leaves those to the real path), so the count after each event
    was 1. Handed over as the run less its last event, then the last event, the count stays 1 when neither piece
    equals the chunk before it, and the event after the run is compared with the same content as upstream compared
    it with. Otherwise every event is handed over alone.
    """
    if len(run) == 1:
        return run
    head = "".join(run[:-1])
    if head == previous or head == run[-1]:
        return run
    return [head, run[-1]]


def _plain_content(data: Mapping[str, Any]) -> str | None:
    choices = data.get("choices")
    if type(choices) is not list or len(choices) != 1:
        return None
    choice = choices[0]
    if type(choice) is not dict:
        return None
    delta = choice.get("delta")
    if type(delta) is not dict:
        return None
    content = delta.get("content")
    return content if type(content) is str else None


def _without_content(data: Mapping[str, Any]) -> dict[str, Any]:
    choice = data["choices"][0]
    return {**data, "choices": [{**choice, "delta": {**choice["delta"], "content": None}}]}


def _with_content(data: Mapping[str, Any], content: str) -> dict[str, Any]:
    choice = data["choices"][0]
    return {**data, "choices": [{**choice, "delta": {**choice["delta"], "content": content}}]}


def _raise(error: Exception) -> Any:
    raise error


def _raise_error_as_sdk(http: httpx.Response, data: dict[str, Any]) -> Any:
    from openai import APIError

    error = data.get("error")
    message = error.get("message") if isinstance(error, dict) else None
    if not message or not isinstance(message, str):
        message = "An error occurred during streaming"
    raise APIError(message=message, request=http.request, body=data["error"])
