"""Unit tests for litellm/buffered_stream/endpoints.py: the switch on /v1/messages, /v1/responses, text completions."""

from __future__ import annotations

from typing import Any

import pytest

from litellm.buffered_stream.client import in_buffered_call, mark_served
from litellm.buffered_stream.endpoints import RESPONSE_HEADER, buffered_endpoint, stamp
from litellm.buffered_stream.wires import Endpoint
from litellm.exceptions import BadRequestError
from litellm.types.llms.base import HiddenParams


class Answer:
    def __init__(self) -> None:
        self._hidden_params: Any = {}


class Recorder:
    """An async endpoint that records how it was called; ``serve`` says whether a stream served it."""

    def __init__(self, serve: bool = True) -> None:
        self.serve = serve
        self.calls: list[tuple[dict[str, Any], bool]] = []

    async def __call__(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append((dict(kwargs), in_buffered_call()))
        if self.serve and in_buffered_call():
            mark_served()
        return {"content": "answer"}


def headers(response: Any) -> dict[str, Any]:
    hidden = response["_hidden_params"] if isinstance(response, dict) else response._hidden_params
    return hidden.get("additional_headers") or {}


@pytest.mark.parametrize("response", [{"id": "msg"}, Answer()], ids=["dict", "object"])
def test_stamp_sets_the_response_header_and_the_hidden_flag(response: Any) -> None:
    stamped = stamp(response)
    assert headers(stamped) == {RESPONSE_HEADER: "true"}
    hidden = stamped["_hidden_params"] if isinstance(stamped, dict) else stamped._hidden_params
    assert hidden["buffered_stream"] is True


def test_stamp_keeps_existing_headers_and_writes_hidden_params_objects() -> None:
    answer = Answer()
    answer._hidden_params = HiddenParams(additional_headers={"x-other": "1"})
    assert stamp(answer)._hidden_params.get("additional_headers") == {"x-other": "1", RESPONSE_HEADER: "true"}


async def test_without_the_switch_the_endpoint_is_called_as_it_was() -> None:
    endpoint = Recorder()
    response = await buffered_endpoint("litellm_metadata", Endpoint.MESSAGES)(endpoint)(model="m", stream=False)
    assert endpoint.calls == [({"model": "m", "stream": False}, False)]
    assert "_hidden_params" not in response


async def test_switch_on_runs_the_call_inside_buffering_and_marks_it() -> None:
    endpoint = Recorder()
    response = await buffered_endpoint("litellm_metadata", Endpoint.MESSAGES)(endpoint)(
        model="m", buffered_stream=True, litellm_metadata={"user": "u"}
    )
    [(kwargs, buffered)] = endpoint.calls
    assert buffered
    assert "buffered_stream" not in kwargs
    assert kwargs["litellm_metadata"] == {"user": "u", "buffered_stream": True}
    assert headers(response) == {RESPONSE_HEADER: "true"}
    assert not in_buffered_call()


async def test_a_call_no_stream_served_is_not_marked() -> None:
    response = await buffered_endpoint("metadata", Endpoint.TEXT_COMPLETION)(Recorder(serve=False))(
        model="m", buffered_stream=True
    )
    assert "_hidden_params" not in response


@pytest.mark.parametrize(
    "kwargs", [{"buffered_stream": False}, {"buffered_stream": None}, {"buffered_stream": True, "stream": True}]
)
async def test_switch_off_or_streaming_call_is_not_buffered(kwargs: dict[str, Any]) -> None:
    endpoint = Recorder()
    response = await buffered_endpoint("metadata", Endpoint.TEXT_COMPLETION)(endpoint)(model="m", **kwargs)
    [(sent, buffered)] = endpoint.calls
    assert not buffered and "buffered_stream" not in sent and "metadata" not in sent
    assert "_hidden_params" not in response


async def test_client_cannot_send_the_operator_override() -> None:
    endpoint = Recorder()
    await buffered_endpoint("metadata", Endpoint.TEXT_COMPLETION)(endpoint)(
        model="m", allow_client_buffered_stream_override=False
    )
    [(sent, _)] = endpoint.calls
    assert "allow_client_buffered_stream_override" not in sent


@pytest.mark.parametrize("value", ["yes", 1])
async def test_non_boolean_value_is_a_bad_request_naming_the_field(value: object) -> None:
    endpoint = Recorder()
    with pytest.raises(BadRequestError) as raised:
        await buffered_endpoint("metadata", Endpoint.TEXT_COMPLETION)(endpoint)(model="m", buffered_stream=value)
    assert "buffered_stream" in str(raised.value)
    assert endpoint.calls == []
