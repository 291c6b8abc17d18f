"""buffered_stream through the SDK (litellm.completion / acompletion) and a Router, against fake backends."""

from __future__ import annotations

import pytest

import litellm
from tests.e2e.conftest import HI


def params(backend, scenario: str, provider: str = "openai") -> dict:
    """The litellm keywords of a call to the fake backend (a proxy deployment's ``litellm_params``)."""
    return backend.deployment("", scenario, provider)["litellm_params"]


def words(n: int) -> list[str]:
    return [f"w{j}c0" for j in range(n)]


@pytest.mark.parametrize("provider", ["openai", "hosted_vllm", "anthropic", "ollama_chat"])
async def test_async_sdk_call_is_served_from_a_stream(backend, provider):
    response = await litellm.acompletion(
        messages=HI, buffered_stream=True, **params(backend, "text+tokens=6", provider)
    )
    assert response.choices[0].message.content.split() == words(6)
    assert response._hidden_params["additional_headers"]["x-litellm-buffered-stream"] == "true"
    [seen] = backend.requests
    assert seen.body["stream"] is True and "buffered_stream" not in seen.body


@pytest.mark.parametrize("provider", ["openai", "hosted_vllm", "anthropic"])
def test_sync_sdk_call_is_served_from_a_stream(backend, provider):
    response = litellm.completion(messages=HI, buffered_stream=True, **params(backend, "tools+tokens=4", provider))
    calls = response.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert response.usage.prompt_tokens == 11
    [seen] = backend.requests
    assert seen.body["stream"] is True and "buffered_stream" not in seen.body


def test_sync_generic_path_refuses_a_stream_without_finish_reason(backend):
    with pytest.raises(litellm.APIError) as raised:
        litellm.completion(messages=HI, buffered_stream=True, **params(backend, "text+tokens=6+fault=nofinish"))
    assert raised.value.status_code == 502
    assert "truncated" in str(raised.value)


async def test_async_wire_path_refuses_a_stream_without_finish_reason(backend):
    with pytest.raises(litellm.exceptions.BadGatewayError, match="truncated"):
        await litellm.acompletion(messages=HI, buffered_stream=True, **params(backend, "text+tokens=6+fault=nofinish"))


@pytest.mark.parametrize("where", ["first", "last"])
@pytest.mark.parametrize("provider", ["openai", "azure"])
async def test_content_filter_event_does_not_rename_the_answer(backend, provider, where):
    """Azure's content-filter events (`"object": ""`, `"model": ""`) around the answer name no model."""
    call = params(backend, f"text+tokens=4+filter={where}", provider)
    if provider == "azure":
        call.update(api_base=backend.url, api_version="2024-10-21")
    native = await litellm.acompletion(messages=HI, **call)
    buffered = await litellm.acompletion(messages=HI, buffered_stream=True, **call)
    assert buffered.model == native.model == f"text+tokens=4+filter={where}"
    assert (buffered.id, buffered.created) == ("chatcmpl-stream", native.created)
    assert buffered.choices[0].message.content == native.choices[0].message.content


def test_sdk_rejects_a_non_boolean_switch(backend):
    with pytest.raises(litellm.BadRequestError, match="buffered_stream"):
        litellm.completion(messages=HI, buffered_stream="yes", **params(backend, "text"))
    assert backend.requests == []


@pytest.mark.parametrize("sync", [True, False])
async def test_router_with_several_deployments(backend, sync):
    router = litellm.Router(
        model_list=[
            {"model_name": "group", "litellm_params": {**params(backend, "text+tokens=5"), "buffered_stream": True}},
            {"model_name": "group", "litellm_params": {**params(backend, "text+tokens=5", "hosted_vllm")}},
        ]
    )
    for _ in range(4):
        if sync:
            response = router.completion(model="group", messages=HI, buffered_stream=True)
        else:
            response = await router.acompletion(model="group", messages=HI, buffered_stream=True)
        assert response.choices[0].message.content.split() == words(5)
    assert [r.body["stream"] for r in backend.requests] == [True] * 4


def answer(response) -> dict:
    """What a caller reads of a chat completion, from any of the three paths."""
    message = response.choices[0].message
    return {
        "content": message.content or None,
        "reasoning_content": getattr(message, "reasoning_content", None) or None,
        "tool_calls": [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or ()],
        "finish_reason": response.choices[0].finish_reason,
        "usage": (response.usage.prompt_tokens, response.usage.completion_tokens),
    }


@pytest.mark.parametrize(
    ("provider", "scenario"),
    [
        ("anthropic", "text+tokens=6"),
        ("anthropic", "tools+tokens=4"),
        ("anthropic", "reasoning+tokens=5"),
        ("ollama_chat", "text+tokens=6"),
        ("ollama_chat", "reasoning+tokens=5"),
    ],
)
async def test_wire_assembler_and_stream_accumulator_agree_with_the_native_answer(backend, provider, scenario):
    """The second engine for these wires: sync calls take the generic path (litellm's stream + accumulator)."""
    call = params(backend, scenario, provider)
    native = await litellm.acompletion(messages=HI, **call)
    wire = await litellm.acompletion(messages=HI, buffered_stream=True, **call)
    generic = litellm.completion(messages=HI, buffered_stream=True, **call)
    assert answer(wire) == answer(native)
    assert answer(generic) == answer(native)


# ------------------------------------------------------------------------------------------------ other endpoints


async def test_async_messages_responses_and_text_completions_are_served_from_streams(backend):
    answers = [
        await litellm.anthropic_messages(
            max_tokens=50, messages=HI, buffered_stream=True, **params(backend, "text+tokens=6", "anthropic")
        ),
        await litellm.aresponses(input="hi", buffered_stream=True, **params(backend, "text+tokens=6")),
        await litellm.atext_completion(prompt="hi", buffered_stream=True, **params(backend, "text+tokens=6")),
    ]
    messages, response, text = answers
    assert messages["content"][0]["text"].split() == words(6)
    assert messages["_hidden_params"]["additional_headers"]["x-litellm-buffered-stream"] == "true"
    assert response.output_text.split() == words(6)
    assert response._hidden_params["additional_headers"]["x-litellm-buffered-stream"] == "true"
    assert text.choices[0].text.split() == words(6)
    assert text._hidden_params["additional_headers"]["x-litellm-buffered-stream"] == "true"
    assert [(r.path, r.body["stream"]) for r in backend.requests] == [
        ("/v1/messages", True),
        ("/v1/responses", True),
        ("/v1/completions", True),
    ]
    assert not any("buffered_stream" in r.body for r in backend.requests)


@pytest.mark.parametrize("provider", ["openai", "hosted_vllm"])
def test_sync_text_completion_and_responses_are_served_natively(backend, provider):
    """Only the async entry points (every proxy call) are buffered; the switch is never sent to the backend."""
    text = litellm.text_completion(prompt="hi", buffered_stream=True, **params(backend, "text+tokens=4", provider))
    response = litellm.responses(input="hi", buffered_stream=True, **params(backend, "text+tokens=4", provider))
    assert text.choices[0].text.split() == words(4) and response.output_text.split() == words(4)
    assert [(r.path, bool(r.body.get("stream"))) for r in backend.requests] == [
        ("/v1/completions", False),
        ("/v1/responses", False),
    ]
    assert not any("buffered_stream" in r.body for r in backend.requests)
