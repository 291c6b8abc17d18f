"""litellm.llms.openai.chunk_parsing: streamed chat chunks built by pydantic are the SDK's, field by field.

Every event of the corpus goes through the SDK's own client and through the chunk-validating client; the two
results must be identical: same classes at every level, same values of the same types, same fields set, same
extras, same JSON. Events the fast build must not take (wrong types, unknown literals, logprobs) are in the corpus
too, and must come out of the SDK's construct unchanged.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from litellm.llms.openai.chunk_parsing import ChunkValidatingAsyncOpenAI, ChunkValidatingOpenAI, validated_chunk
from tests.e2e.fake_llm import Scenario, openai_chunks

RESPONSE = httpx.Response(200, request=httpx.Request("POST", "http://127.0.0.1/v1/chat/completions"))
BASE = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m"}


def event(*choices: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {**BASE, "choices": list(choices), **top}


def delta_choice(finish_reason: str | None = None, **delta: Any) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "finish_reason": finish_reason}


def fake_backend_events() -> list[dict[str, Any]]:
    """Every event the e2e fake backend streams, for every kind of answer it knows."""
    events = []
    for model in (
        "text+tokens=3",
        "text+tokens=2+usage=every",
        "text+tokens=2+cached=5",
        "text+tokens=2+finish=length",
        "text+tokens=2+finish=content_filter",
        "tools+tokens=3",
        "function_call+tokens=2",
        "reasoning+tokens=2",
    ):
        for body in ({"model": model}, {"model": model, "n": 2, "stream_options": {"include_usage": True}}):
            events += openai_chunks(Scenario.parse(model), body)
    return events


EDGE_EVENTS = [
    event(delta_choice(role="assistant", content="")),
    event(delta_choice(content='héllo ✓ 世界 \n\t"quoted" \\ \u2028')),
    event(delta_choice(content=None, role=None, tool_calls=None, function_call=None, refusal=None)),
    event(delta_choice(refusal="no")),
    event(delta_choice(finish_reason="stop")),
    event(delta_choice(finish_reason="eos")),  # outside the SDK's literals: the SDK builds it
    event(delta_choice(content="x"), system_fingerprint=None, service_tier=None, usage=None),
    event(
        delta_choice(
            tool_calls=[
                {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}},
                {"index": 1, "id": None, "type": None, "function": {"name": None, "arguments": '{"a": 1}'}},
                {"index": 2},
            ]
        )
    ),
    event(delta_choice(tool_calls=[{"index": 0, "type": "custom", "function": {"arguments": "x"}}])),
    event(delta_choice(function_call={"name": "f", "arguments": "{}"})),
    event(delta_choice(reasoning_content="think", thinking_blocks=[{"type": "thinking", "thinking": "t"}])),
    event(delta_choice(content="x", provider_specific_fields={"a": [1, {"b": None}]}), provider_specific_fields={}),
    event(delta_choice(content="x"), extra_top={"nested": {"deep": [1, 2.5, "s", None, True]}}),
    event(
        usage={
            "prompt_tokens": 1,
            "completion_tokens": 2,
            "total_tokens": 3,
            "prompt_tokens_details": {"cached_tokens": 1, "audio_tokens": None, "extra_detail": 4},
            "completion_tokens_details": None,
            "cost": 0.5,
        }
    ),
    event(usage={"prompt_tokens": 1.0, "completion_tokens": 2, "total_tokens": 3}),  # float for int: the SDK
    event(usage={"prompt_tokens": 1}),  # missing required fields: the SDK
    event(delta_choice(content="x"), created=1.7e9),  # float for int: the SDK
    event(delta_choice(content="x"), created="1700000000"),  # string for int: the SDK
    event(delta_choice(content="x"), object="chat.completion"),  # another literal: the SDK
    {**BASE, "choices": None},  # the SDK
    {**BASE},  # no choices: the SDK
    {"choices": [delta_choice(content="x")]},  # no id, created, model, object: the SDK
    event({"index": 0, "finish_reason": None}),  # no delta: the SDK
    event({"index": True, "delta": {"content": "x"}}),  # bool for int: the SDK
    event(delta_choice(content=5)),  # int for str: the SDK
    event(
        {
            "index": 0,
            "delta": {"content": "a"},
            "finish_reason": None,
            "logprobs": {"content": [{"token": "a", "logprob": 0, "bytes": [97], "top_logprobs": []}]},
        }
    ),  # logprobs: the SDK
    event(delta_choice(content="x"), moderation={"input": None}),  # moderation: the SDK
    event(delta_choice(content="a"), delta_choice(content="b") | {"index": 1}),
    event(),
]

CORPUS = fake_backend_events() + EDGE_EVENTS


def identical(fast: Any, sdk: Any, path: str = "chunk") -> None:
    """Same class, same value of the same type, same fields set and extras, at every level."""
    assert type(fast) is type(sdk), f"{path}: {type(fast)} != {type(sdk)}"
    if isinstance(sdk, pydantic.BaseModel):
        assert fast.model_fields_set == sdk.model_fields_set, path
        assert fast.__pydantic_private__ == sdk.__pydantic_private__, path
        assert list(fast.__dict__) == list(sdk.__dict__), path
        for name in sdk.__dict__:
            identical(fast.__dict__[name], sdk.__dict__[name], f"{path}.{name}")
        assert list(fast.model_extra or {}) == list(sdk.model_extra or {}), path
        for name in sdk.model_extra or {}:
            identical(fast.model_extra[name], sdk.model_extra[name], f"{path}.{name}")
    elif isinstance(sdk, dict):
        assert list(fast) == list(sdk), path
        for key in sdk:
            identical(fast[key], sdk[key], f"{path}[{key!r}]")
    elif isinstance(sdk, list):
        assert len(fast) == len(sdk), path
        for i, (a, b) in enumerate(zip(fast, sdk, strict=True)):
            identical(a, b, f"{path}[{i}]")
    else:
        assert fast == sdk, f"{path}: {fast!r} != {sdk!r}"


def built(client: Any, data: Any, cast_to: Any = ChatCompletionChunk) -> Any:
    return client._process_response_data(data=copy.deepcopy(data), cast_to=cast_to, response=RESPONSE)


CLIENTS = [
    (ChunkValidatingAsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1"), AsyncOpenAI),
    (ChunkValidatingOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1"), OpenAI),
]
SDK_CLIENTS = {kind: kind(api_key="sk-test", base_url="http://127.0.0.1:9/v1") for _, kind in CLIENTS}


@pytest.mark.parametrize("data", CORPUS, ids=[f"event{i}" for i in range(len(CORPUS))])
@pytest.mark.parametrize(("client", "kind"), CLIENTS, ids=["async", "sync"])
def test_every_event_is_built_exactly_as_the_sdk_builds_it(client, kind, data):
    fast = built(client, data)
    sdk = built(SDK_CLIENTS[kind], data)
    identical(fast, sdk)
    assert fast.model_dump_json() == sdk.model_dump_json()
    assert fast.model_dump_json(exclude_unset=True, exclude_none=True) == sdk.model_dump_json(
        exclude_unset=True, exclude_none=True
    )
    assert fast.model_dump() == sdk.model_dump()


def test_the_fast_build_takes_the_ordinary_events_and_leaves_the_rest_to_the_sdk():
    taken = [data for data in CORPUS if validated_chunk(copy.deepcopy(data)) is not None]
    # every event the fake backend sends without logprobs is plain: the fast build takes all of them
    assert all(validated_chunk(copy.deepcopy(data)) is not None for data in fake_backend_events())
    assert validated_chunk(event(delta_choice(finish_reason="eos"))) is None
    assert validated_chunk(event(delta_choice(content="x"), created=1.7e9)) is None
    assert validated_chunk(EDGE_EVENTS[-5]) is None  # logprobs
    assert validated_chunk(None) is None and validated_chunk([1]) is None
    assert len(taken) > len(CORPUS) // 2


def test_other_types_and_strict_clients_are_left_to_the_sdk(monkeypatch):
    client = ChunkValidatingAsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    calls = []
    monkeypatch.setattr("litellm.llms.openai.chunk_parsing.validated_chunk", lambda data: calls.append(data))
    completion = {**BASE, "object": "chat.completion", "choices": []}
    assert isinstance(built(client, completion, ChatCompletion), ChatCompletion)
    strict = ChunkValidatingAsyncOpenAI(
        api_key="sk-test", base_url="http://127.0.0.1:9/v1", _strict_response_validation=True
    )
    assert isinstance(built(strict, CORPUS[0]), ChatCompletionChunk)
    assert calls == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-2, 2) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)


def maybe(value: st.SearchStrategy) -> st.SearchStrategy:
    """A plausible value nine times in ten, anything JSON otherwise."""
    return st.integers(0, 9).flatmap(lambda draw: json_values if draw == 0 else value)


tool_calls = st.lists(
    st.fixed_dictionaries(
        {"index": maybe(st.integers(0, 3))},
        optional={
            "id": maybe(st.text(max_size=5)),
            "type": maybe(st.sampled_from(["function", None])),
            "function": maybe(
                st.fixed_dictionaries(
                    {}, optional={"name": maybe(st.text(max_size=5)), "arguments": maybe(st.text(max_size=5))}
                )
            ),
        },
    ),
    max_size=2,
)
deltas = st.fixed_dictionaries(
    {},
    optional={
        "role": maybe(st.sampled_from(["assistant", "user", None])),
        "content": maybe(st.text(max_size=6) | st.none()),
        "tool_calls": maybe(tool_calls),
        "reasoning_content": json_values,
        "function_call": maybe(st.fixed_dictionaries({}, optional={"arguments": st.text(max_size=4)})),
    },
)
choices = st.fixed_dictionaries(
    {"index": maybe(st.integers(0, 2)), "delta": maybe(deltas)},
    optional={"finish_reason": maybe(st.sampled_from(["stop", "length", "tool_calls", None])), "x": json_values},
)
usages = st.fixed_dictionaries(
    {
        "prompt_tokens": maybe(st.integers(0, 9)),
        "completion_tokens": st.integers(0, 9),
        "total_tokens": maybe(st.integers(0, 20)),
    },
    optional={
        "prompt_tokens_details": maybe(st.fixed_dictionaries({}, optional={"cached_tokens": maybe(st.integers())})),
    },
)
events = st.fixed_dictionaries(
    {
        "id": maybe(st.text(max_size=5)),
        "object": maybe(st.just("chat.completion.chunk")),
        "created": maybe(st.integers(0, 2**40)),
        "model": maybe(st.text(max_size=5)),
        "choices": maybe(st.lists(choices, max_size=2)),
    },
    optional={
        "usage": maybe(usages | st.none()),
        "system_fingerprint": maybe(st.text(max_size=3) | st.none()),
        "service_tier": maybe(st.sampled_from(["default", "auto", None])),
        "provider_specific_fields": json_values,
    },
)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic warns when it dumps the SDK's ill-typed objects
@settings(max_examples=400, deadline=None)
@given(data=events)
def test_generated_events_are_built_exactly_as_the_sdk_builds_them(data):
    fast = built(CLIENTS[0][0], data)
    sdk = built(SDK_CLIENTS[AsyncOpenAI], data)
    identical(fast, sdk)
    assert json.loads(fast.model_dump_json()) == json.loads(sdk.model_dump_json())


@pytest.fixture(scope="module")
def fake_backend():
    from tests.e2e.fake_llm import FakeLLM

    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    "params",
    [
        {"model": "openai/text+tokens=4", "api_base": "/v1"},
        {"model": "azure/text+tokens=4", "api_base": "", "api_version": "2024-10-21"},
    ],
    ids=["openai", "azure"],
)
async def test_litellm_chat_streams_build_their_chunks_with_the_validator(fake_backend, monkeypatch, params):
    import litellm
    from litellm.llms.openai import chunk_parsing

    built_here = []
    validate = chunk_parsing.validated_chunk

    def counting(data: object) -> ChatCompletionChunk | None:
        built_here.append(validate(data))
        return built_here[-1]

    monkeypatch.setattr(chunk_parsing, "validated_chunk", counting)
    stream = await litellm.acompletion(
        **{**params, "api_base": fake_backend.url + params["api_base"]},
        api_key="sk-test",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
    )
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
    assert text == "w0c0 w1c0 w2c0 w3c0 "
    assert len(built_here) == 5 and all(isinstance(c, ChatCompletionChunk) for c in built_here)
