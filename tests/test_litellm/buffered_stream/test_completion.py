"""Unit tests for litellm/buffered_stream/completion.py: ``litellm.completion`` and ``litellm.acompletion`` with the switch.

Real calls through the installed litellm to the fake backend (fake_llm.py) on 127.0.0.1: the wire
path (async, a provider of the registry), the generic path (sync calls, and providers outside the registry),
the calls served natively, and the sync generic path's backend connection on every way out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

import litellm
from litellm.buffered_stream.client import buffering, in_buffered_call
from litellm.buffered_stream.completion import RESPONSE_HEADER, IncompleteStreamError, _inherits_buffering
from litellm.buffered_stream.decision import forget_warnings
from litellm.buffered_stream.retry import failed_mid_stream
from litellm.exceptions import MidStreamFallbackError
from litellm.litellm_core_utils.stream_accumulator import StreamAccumulator
from tests.test_litellm.buffered_stream.fake_llm import FakeLLM

HI = [{"role": "user", "content": "hi"}]
TEXT = "w0c0 w1c0 w2c0 "


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    forget_warnings()
    yield
    forget_warnings()


def call(backend: FakeLLM, scenario: str, provider: str = "openai", **kwargs: Any) -> dict[str, Any]:
    return {
        "model": f"{provider}/{scenario}",
        "api_base": f"{backend.url}/v1",
        "api_key": "sk-fake",
        "messages": HI,
        "buffered_stream": True,
        **kwargs,
    }


def buffered(response: Any) -> bool:
    return (response._hidden_params.get("additional_headers") or {}).get(RESPONSE_HEADER) == "true"


def native_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "served natively" in r.getMessage()]


# --------------------------------------------------------------------------------------------------- wire path


async def test_wire_path_streams_from_the_backend_and_answers_plainly(backend: FakeLLM) -> None:
    response = await litellm.acompletion(**call(backend, "text+tokens=3"))
    assert response.choices[0].message.content == TEXT
    assert response.usage.completion_tokens == 3
    assert buffered(response) and response._hidden_params["buffered_stream"] is True
    [sent] = backend.requests
    assert sent.body["stream"] is True and sent.body["stream_options"] == {"include_usage": True}
    assert "buffered_stream" not in sent.body


async def test_wire_path_served_natively_warns_once_naming_why(
    backend: FakeLLM, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="LiteLLM"):
        for _ in range(2):
            response = await litellm.acompletion(**call(backend, "text+tokens=3+ignores_stream=1"))
            assert response.choices[0].message.content == TEXT and not buffered(response)
    [warning] = native_warnings(caplog)
    assert "ignored stream: true" in warning and "/v1/chat/completions" in warning


async def test_without_the_switch_nothing_changes(backend: FakeLLM) -> None:
    kwargs = call(backend, "text+tokens=3")
    del kwargs["buffered_stream"]
    response = await litellm.acompletion(**kwargs)
    assert not buffered(response)
    assert backend.requests[0].body.get("stream") is not True


# ------------------------------------------------------------------------------------------------ generic path


async def test_generic_path_assembles_litellms_chunks(backend: FakeLLM) -> None:
    response = await litellm.acompletion(**call(backend, "text+tokens=3", provider="nvidia_nim"))
    assert response.choices[0].message.content == TEXT
    assert buffered(response) and response.usage.completion_tokens > 0  # nvidia_nim is not asked for usage: estimated
    assert backend.requests[0].body["stream"] is True


def test_sync_calls_take_the_generic_path(backend: FakeLLM) -> None:
    response = litellm.completion(**call(backend, "tools+tokens=2"))
    assert buffered(response)
    calls = response.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert response.choices[0].finish_reason == "tool_calls"


def test_a_stream_without_usage_is_estimated_never_free(backend: FakeLLM) -> None:
    response = litellm.completion(**call(backend, "text+tokens=3+usage=none"))
    assert response.usage.completion_tokens > 0 and response.usage.prompt_tokens > 0
    assert response._hidden_params["response_cost"] is None or response._hidden_params["response_cost"] >= 0


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
async def test_a_stream_without_a_finish_reason_is_a_502_never_a_truncated_answer(backend: FakeLLM, sync: bool) -> None:
    kwargs = call(backend, "text+tokens=3+fault=nofinish", provider="nvidia_nim")
    with pytest.raises(IncompleteStreamError) as info:
        if sync:
            litellm.completion(**kwargs)
        else:
            await litellm.acompletion(**kwargs)
    assert info.value.status_code == 502 and failed_mid_stream(info.value)


@pytest.mark.parametrize("params", [{"n": 2}, {"logprobs": True}], ids=["n", "logprobs"])
async def test_several_choices_or_logprobs_on_the_generic_path_are_native_and_warned(
    backend: FakeLLM, caplog: pytest.LogCaptureFixture, params: dict[str, Any]
) -> None:
    with caplog.at_level(logging.WARNING, logger="LiteLLM"):
        response = await litellm.acompletion(
            **call(backend, "text+tokens=3", provider="nvidia_nim"), drop_params=True, **params
        )
    assert not buffered(response)
    assert backend.requests[0].body.get("stream") is not True
    [warning] = native_warnings(caplog)
    assert "n > 1 or logprobs" in warning


def test_sync_text_completion_is_native_and_warned(backend: FakeLLM, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="LiteLLM"):
        response = litellm.text_completion(
            model="text-completion-openai/text+tokens=3",
            api_base=f"{backend.url}/v1",
            api_key="sk-fake",
            prompt="hi",
            buffered_stream=True,
        )
    assert response.choices[0].text == TEXT
    assert "buffered_stream" not in backend.requests[0].body and backend.requests[0].body.get("stream") is not True
    [warning] = native_warnings(caplog)
    assert "/v1/completions" in warning and "sync" in warning


# ---------------------------------------------------------------------------------- inside another endpoint's call


@pytest.mark.parametrize(
    ("kwargs", "inside", "expected"),
    [
        ({}, False, False),
        ({}, True, True),
        ({"stream": True}, True, False),
        ({"buffered_stream": False}, True, False),
    ],
)
def test_a_chat_call_inherits_buffering_only_inside_a_buffered_call(
    kwargs: dict[str, Any], inside: bool, expected: bool
) -> None:
    if inside:
        with buffering():
            assert _inherits_buffering(kwargs) is expected
    else:
        assert _inherits_buffering(kwargs) is expected


async def test_a_chat_call_made_for_a_buffered_call_is_buffered_and_counted(backend: FakeLLM) -> None:
    kwargs = call(backend, "text+tokens=3")
    del kwargs["buffered_stream"]
    with buffering() as outer:
        response = await litellm.acompletion(**kwargs)
        assert in_buffered_call()
    assert outer.served == 1 and buffered(response)
    assert backend.requests[0].body["stream"] is True


async def test_inside_a_buffered_call_a_native_chat_call_is_reported_to_its_owner(
    backend: FakeLLM, caplog: pytest.LogCaptureFixture
) -> None:
    kwargs = call(backend, "text+tokens=3", provider="nvidia_nim", n=2, drop_params=True)
    del kwargs["buffered_stream"]
    with caplog.at_level(logging.WARNING, logger="LiteLLM"), buffering() as outer:
        await litellm.acompletion(**kwargs)
    assert outer.unserved is not None and outer.unserved.cause == "generic_choices"
    assert native_warnings(caplog) == []  # the owner (the other endpoint's wrapper) warns, if nothing served it


# ------------------------------------------------------------------- the sync generic path closes its backend stream


class Interrupt(KeyboardInterrupt):
    """The consumer stops: a BaseException raised while the stream is read."""


@pytest.fixture
def failing_fold(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[BaseException] | None]:
    """Make the fold (our code) raise at the second chunk: ``RuntimeError`` (a bug) or ``Interrupt``."""
    raised: list[type[BaseException]] = []
    add = StreamAccumulator.add

    def failing_add(self: StreamAccumulator, chunk: Any) -> None:
        if raised and getattr(self, "_test_seen", 0) >= 1:
            raise raised[0]("stopped while reading the stream")
        self._test_seen = getattr(self, "_test_seen", 0) + 1  # type: ignore[attr-defined]
        add(self, chunk)

    monkeypatch.setattr(StreamAccumulator, "add", failing_add)
    yield raised  # type: ignore[misc]


SLOW = "text+tokens=6+delay=0.2+linger=30"


def closes_connection(backend: FakeLLM) -> bool:
    """The backend saw its client close the connection while the response was still open (not at its end)."""
    return backend.wait_for(lambda: backend.disconnects == 1, timeout=5)


def test_closes_the_backend_stream_after_an_answer(backend: FakeLLM) -> None:
    response = litellm.completion(**call(backend, "text+tokens=3+linger=30"))
    assert buffered(response)
    assert closes_connection(backend)


@pytest.mark.parametrize("fault", ["malformed", "nofinish"])
def test_closes_the_backend_stream_after_a_backend_error(backend: FakeLLM, fault: str) -> None:
    with pytest.raises((MidStreamFallbackError, IncompleteStreamError)):
        litellm.completion(**call(backend, f"text+tokens=6+fault={fault}+at=2+linger=30"))
    assert closes_connection(backend)


@pytest.mark.parametrize("error", [RuntimeError, Interrupt], ids=["error_in_our_code", "consumer_stops"])
def test_closes_the_backend_stream_when_reading_stops_early(
    backend: FakeLLM, failing_fold: list[type[BaseException]], error: type[BaseException]
) -> None:
    failing_fold.append(error)
    with pytest.raises(error):
        litellm.completion(**call(backend, SLOW))
    # Still inside the test, the traceback holds the stream: only an explicit close releases it now.
    assert closes_connection(backend)
    assert backend.completed == 0
