"""The private upstream names the fork relies on still exist and behave as assumed; the upstream logic it mirrors is
unchanged and gives what the fork's version gives. Run by ``make test`` and, on a new release, by ``make bump-pin``
(``tools/upstream_drift.py``): each broken assumption fails by name.

``litellm.litellm_core_utils.upstream_surface`` is the one module that names them (``PRIVATE_NAMES``, ``MIRRORED``).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stream_corpus import CASES, build_chunks
from upstream_source import IN_FORK_REPOSITORY, REPO_ROOT, fork_only, pristine_site, source_sha256

from litellm.litellm_core_utils import upstream_surface
from litellm.litellm_core_utils.stream_accumulator import StreamChunkLog
from litellm.litellm_core_utils.stream_accumulator.chunk_fields import provider_metadata_attr
from litellm.litellm_core_utils.stream_accumulator.usage_fold import UsageFold
from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor
from litellm.litellm_core_utils.upstream_surface import (
    MIRRORED,
    PRIVATE_NAMES,
    PRIVATE_NAMES_OF_DEPENDENCIES,
    Mirror,
    PrivateName,
)
from litellm.types.utils import (
    Delta,
    ModelResponse,
    ModelResponseStream,
    PromptTokensDetailsWrapper,
    StreamingChoices,
    Usage,
)

pytestmark = fork_only


def _resolve(module: str, qualname: str) -> Any:
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        if isinstance(found, type) and not hasattr(found, part):
            if any(part in vars(cls).get("__annotations__", {}) for cls in found.__mro__):
                return None  # an instance attribute the class declares
        found = getattr(found, part)
    return found


# -- every private name: still there, same parameters ------------------------------------------------------------


@pytest.mark.parametrize(
    "name", PRIVATE_NAMES + PRIVATE_NAMES_OF_DEPENDENCIES, ids=lambda n: f"{n.module}.{n.qualname}"
)
def test_private_name_exists_with_its_parameters(name: PrivateName) -> None:
    try:
        found = _resolve(name.module, name.qualname)
    except (ImportError, AttributeError) as e:
        pytest.fail(f"upstream no longer has {name.module}.{name.qualname} ({e}); the fork relies on: {name.relied_on}")
    if name.parameters is not None:
        parameters = tuple(inspect.signature(found).parameters)
        assert parameters == name.parameters, (
            f"{name.module}.{name.qualname} now takes {parameters}, not {name.parameters}; "
            f"the fork relies on: {name.relied_on}"
        )


# -- and behave as assumed ---------------------------------------------------------------------------------------


def _stream_chunk(content: str | None = "x", **kwargs: Any) -> ModelResponseStream:
    return ModelResponseStream(
        id="c", created=1, model="m", choices=[StreamingChoices(index=0, delta=Delta(content=content))], **kwargs
    )


def test_loggers_are_upstreams() -> None:
    assert isinstance(upstream_surface.verbose_logger, logging.Logger)
    assert upstream_surface.verbose_logger.name == "LiteLLM"
    assert upstream_surface.verbose_proxy_logger.name == "LiteLLM Proxy"


def test_hidden_params_live_where_the_surface_says() -> None:
    from litellm.litellm_core_utils.hidden_params import _HIDDEN_PARAMS_ATTR, HIDDEN_PARAMS_ATTR

    assert upstream_surface.HIDDEN_PARAMS_ATTR == _HIDDEN_PARAMS_ATTR == HIDDEN_PARAMS_ATTR
    response = ModelResponse()
    assert isinstance(upstream_surface.hidden_params_of(response), dict)
    upstream_surface.replace_hidden_params(response, {"response_cost": 1.5})
    assert response._hidden_params == {"response_cost": 1.5}
    assert upstream_surface.hidden_params_of({"_hidden_params": {"a": 1}}) == {"a": 1}


def test_extract_usage_chunk_finds_usage_where_the_fold_looks() -> None:
    usage = Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7)
    assert upstream_surface.extract_usage_chunk(_stream_chunk(usage=usage)) == usage
    from_dict = upstream_surface.extract_usage_chunk({"usage": {"prompt_tokens": 1, "completion_tokens": 2}})
    assert isinstance(from_dict, Usage) and from_dict.completion_tokens == 2
    hidden = _stream_chunk()
    hidden._hidden_params = {"usage": usage}
    assert upstream_surface.extract_usage_chunk(hidden) == usage
    assert upstream_surface.extract_usage_chunk(_stream_chunk()) is None


def test_usage_summary_has_the_fields_the_fold_reads() -> None:
    usage = Usage(
        prompt_tokens=5,
        completion_tokens=2,
        total_tokens=7,
        prompt_tokens_details=PromptTokensDetailsWrapper(cached_tokens=3),
        cost=0.25,
    )
    summary = upstream_surface.usage_summary(upstream_surface.chunk_processor([_stream_chunk(usage=usage)]), usage)
    assert set(summary) == {
        "prompt_tokens",
        "completion_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "completion_tokens_details",
        "prompt_tokens_details",
        "cost",
    }
    assert (summary["prompt_tokens"], summary["completion_tokens"], summary["cost"]) == (5, 2, 0.25)
    assert summary["prompt_tokens_details"].cached_tokens == 3


def test_prompt_side_usage() -> None:
    summary = {"prompt_tokens": 0, "cache_creation_input_tokens": None, "cache_read_input_tokens": 0}
    assert upstream_surface.reports_prompt_side_usage(summary) is False
    assert upstream_surface.reports_prompt_side_usage({**summary, "cache_read_input_tokens": 4}) is True


def test_role_of_choice() -> None:
    assert upstream_surface.role_of_choice(StreamingChoices(index=0, delta=Delta(role="assistant"))) == "assistant"
    assert upstream_surface.role_of_choice({"delta": {"role": "tool"}}) == "tool"
    assert upstream_surface.role_of_choice(StreamingChoices(index=0, delta=Delta(content="x"))) == "assistant"


def test_coerce_token_details() -> None:
    details = upstream_surface.coerce_token_details(
        {"prompt_tokens_details": {"cached_tokens": 2}}, "prompt_tokens_details", PromptTokensDetailsWrapper
    )
    assert isinstance(details, PromptTokensDetailsWrapper) and details.cached_tokens == 2
    assert upstream_surface.coerce_token_details({}, "prompt_tokens_details", PromptTokensDetailsWrapper) is None


def test_joined_streamed_citations() -> None:
    assert upstream_surface.joined_streamed_citations((["a"], ["b"])) == [["a"], ["b"]]
    assert upstream_surface.joined_streamed_citations(("a", "b")) == [["a", "b"]]


def test_stream_cost_stamping_reads_the_logging_object() -> None:
    class Pricing:
        model_call_details: dict[str, Any] = {}

        def response_cost_calculator(self, result: object) -> float:
            return 0.5

    usage = Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2)
    response = ModelResponse(model="gpt-4o-mini", usage=usage)
    upstream_surface.stamp_stream_cost(usage, response, None)  # no logging object: nothing stamped
    assert getattr(usage, "cost", None) is None
    upstream_surface.stamp_stream_cost(usage, response, Pricing())  # type: ignore[arg-type]
    assert usage.cost == 0.5  # type: ignore[attr-defined]


def test_openai_sdk_builds_streamed_objects_through_process_response_data() -> None:
    import httpx
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletionChunk

    client = AsyncOpenAI(api_key="x")
    assert client._strict_response_validation is False
    data = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": []}
    response = httpx.Response(200, request=httpx.Request("POST", "http://127.0.0.1/v1/chat/completions"))
    built = client._process_response_data(data=data, cast_to=ChatCompletionChunk, response=response)
    assert isinstance(built, ChatCompletionChunk) and built.id == "c"


def test_the_line_reader_builds_one_line_as_stream_through_hands_it_over() -> None:
    import httpx

    from litellm.litellm_core_utils.upstream_surface import (
        build_streamed_line,
        unread_openai_compatible_line_stream,
    )
    from litellm.llms.openai.chat.gpt_transformation import OpenAIChatCompletionStreamingHandler
    from litellm.types.utils import ModelResponseStream

    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx.Response(200, stream=httpx.ByteStream(b""), request=request)
    reader = OpenAIChatCompletionStreamingHandler(streaming_response=response.aiter_lines(), sync_stream=False)
    assert not unread_openai_compatible_line_stream(reader)  # no response attached
    reader.http_response = response
    assert unread_openai_compatible_line_stream(reader)
    line = 'data: {"id":"c","created":1,"model":"m","choices":[{"index":0,"delta":{"reasoning":"r"}}]}'
    built = build_streamed_line(reader, line)
    assert isinstance(built, ModelResponseStream) and built.choices[0].delta.reasoning_content == "r"
    assert build_streamed_line(reader, "data: [DONE]")["is_finished"] is True


def test_calculate_usage_takes_its_summary_from_the_overridden_method() -> None:
    fold = UsageFold()
    fold.fold(_stream_chunk(usage=Usage(prompt_tokens=0, completion_tokens=9, total_tokens=9)))
    summary = fold.per_chunk(saw_finish_reason=True, first_chunk=_stream_chunk())
    summary["prompt_tokens"] = None  # unreported: calculate_usage estimates it
    usage = upstream_surface.calculate_usage_from_summary(
        summary,
        _stream_chunk(),
        model="gpt-4o-mini",
        completion_output="x",
        messages=[{"role": "user", "content": "hi"}],
        reasoning_tokens=None,
        count_prompt_tokens=lambda: 42,
    )
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (42, 9, 51)


# -- mirrored upstream logic: unchanged source, same answers ------------------------------------------------------


@pytest.mark.parametrize("mirror", MIRRORED, ids=lambda m: f"{m.module}.{m.qualname}")
def test_mirrored_upstream_source_is_the_recorded_one(mirror: Mirror) -> None:
    digest = source_sha256(mirror.module, mirror.qualname)
    assert digest is not None, f"upstream in {pristine_site()} no longer defines {mirror.module}.{mirror.qualname}"
    assert digest == mirror.source_sha256, (
        f"upstream changed {mirror.module}.{mirror.qualname}, which the fork mirrors in {mirror.mirrored_by}. "
        f"Read the change, carry it into the fork's version, run {mirror.diffed_by}, then record the new "
        f"source_sha256 {digest} in litellm/litellm_core_utils/upstream_surface.py (MIRRORED)"
    )


def _folded_per_chunk(chunks: list[Any]) -> dict[str, Any]:
    fold = UsageFold()
    for chunk in chunks:
        fold.fold(chunk)
    saw_finish = any(getattr(c, "finish_reason", None) for chunk in chunks for c in chunk.choices or ())
    return dict(fold.per_chunk(saw_finish, chunks[0]))


def _upstream_per_chunk(chunks: list[Any]) -> dict[str, Any]:
    return dict(ChunkProcessor(chunks)._calculate_usage_per_chunk(chunks))


def _assert_same_usage(chunks: list[Any]) -> None:
    """Equal, except the deliberate difference: a later report's unset ``prompt_tokens_details`` fields keep what
    an earlier one said (upstream replaces the whole object), so the fork's details hold every field upstream's do,
    with the same values, and possibly more."""
    folded, upstream = _folded_per_chunk(chunks), _upstream_per_chunk(chunks)
    folded_details, upstream_details = folded.pop("prompt_tokens_details"), upstream.pop("prompt_tokens_details")
    assert folded == upstream
    upstream_fields = upstream_details.model_dump(exclude_none=True) if upstream_details is not None else {}
    folded_fields = folded_details.model_dump(exclude_none=True) if folded_details is not None else {}
    assert {field: folded_fields.get(field) for field in upstream_fields} == upstream_fields


@pytest.mark.parametrize("name", sorted(CASES))
def test_usage_fold_equals_calculate_usage_per_chunk_on_the_corpus(name: str) -> None:
    _assert_same_usage(build_chunks(CASES[name]()))


_COUNTS = st.one_of(st.none(), st.integers(min_value=0, max_value=50))
_USAGE = st.fixed_dictionaries(
    {
        "prompt_tokens": _COUNTS,
        "completion_tokens": _COUNTS,
        "cache_creation_input_tokens": _COUNTS,
        "cache_read_input_tokens": _COUNTS,
        "cached": _COUNTS,
        "cost": st.one_of(st.none(), st.floats(min_value=0, max_value=1)),
        "speed": st.one_of(st.none(), st.sampled_from(["fast", "standard"])),
    }
)


def _usage_chunk(spec: dict[str, Any] | None, finish: bool, provider: str) -> ModelResponseStream:
    chunk = ModelResponseStream(
        id="c",
        created=1,
        model="m",
        choices=[StreamingChoices(index=0, delta=Delta(content="x"), finish_reason="stop" if finish else None)],
    )
    chunk._hidden_params = {"custom_llm_provider": provider}
    if spec is None:
        return chunk
    fields: dict[str, Any] = {k: v for k, v in spec.items() if v is not None and k not in ("cached", "speed")}
    if spec["cached"] is not None:
        fields["prompt_tokens_details"] = PromptTokensDetailsWrapper(cached_tokens=spec["cached"])
    usage = Usage(**fields)
    if spec["speed"] is not None:
        usage.speed = spec["speed"]  # type: ignore[attr-defined]
    chunk.usage = usage  # type: ignore[attr-defined]
    return chunk


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(st.one_of(st.none(), _USAGE), min_size=1, max_size=6),
    finish_at=st.one_of(st.none(), st.integers(min_value=0, max_value=5)),
    provider=st.sampled_from(["openai", "anthropic"]),
)
def test_usage_fold_equals_calculate_usage_per_chunk_on_generated_usage(
    specs: list[dict[str, Any] | None], finish_at: int | None, provider: str
) -> None:
    _assert_same_usage([_usage_chunk(spec, finish_at == i, provider) for i, spec in enumerate(specs)])


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_content_check_equals_the_routers(name: str) -> None:
    from litellm.router import _stream_chunks_have_generated_content  # a plain list takes upstream's own loop

    chunks = build_chunks(CASES[name]())
    log = StreamChunkLog()
    for chunk in chunks:
        log.append(chunk)
    assert log.has_generated_content == _stream_chunks_have_generated_content(chunks)
    empty_first = [_stream_chunk(None), *chunks[-1:]]
    log.clear()
    log.extend(empty_first)
    assert log.has_generated_content == _stream_chunks_have_generated_content(empty_first)


@pytest.mark.parametrize(
    "chunk",
    [
        {"vertex_ai_grounding_metadata": [{"a": 1}]},
        {"model_extra": {"vertex_ai_grounding_metadata": [{"b": 2}]}},
        {"_hidden_params": {"vertex_ai_grounding_metadata": [{"c": 3}]}},
        {"vertex_ai_grounding_metadata": None, "_hidden_params": {}},
        _stream_chunk(),
    ],
)
def test_provider_metadata_lookup_equals_vertexs(chunk: object) -> None:
    from litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini import VertexGeminiConfig

    for field in ("vertex_ai_grounding_metadata", "vertex_ai_url_context_metadata"):
        assert provider_metadata_attr(chunk, field) == VertexGeminiConfig._get_stream_chunk_attr(chunk, field)


# -- only the surface names them ---------------------------------------------------------------------------------


def _fork_modules() -> list[str]:
    """The fork's own modules (outside the fork's repository ``litellm/`` is all of upstream: none)."""
    if not IN_FORK_REPOSITORY:
        return []
    surface = "litellm/litellm_core_utils/upstream_surface.py"
    return sorted(
        str(p.relative_to(REPO_ROOT))
        for p in (REPO_ROOT / "litellm").rglob("*.py")
        if str(p.relative_to(REPO_ROOT)) != surface
    )


def _fork_module_names() -> frozenset[str]:
    names = {path.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for path in _fork_modules()}
    return frozenset({*names, "litellm.litellm_core_utils.upstream_surface"})


@pytest.mark.parametrize("path", _fork_modules())
def test_fork_modules_reach_private_upstream_names_only_through_the_surface(path: str) -> None:
    named = [name for name in PRIVATE_NAMES + PRIVATE_NAMES_OF_DEPENDENCIES if name.defined_in != path]
    last_parts = {name.qualname.rsplit(".", 1)[-1] for name in named}
    private_names = {part for part in last_parts if part.startswith("_")} | {upstream_surface.HIDDEN_PARAMS_ATTR}
    fork_modules = _fork_module_names()
    tree = ast.parse((REPO_ROOT / path).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "litellm":
            if node.module in fork_modules:
                continue
            if any(part.startswith("_") for part in node.module.split(".")):
                found.append(f"line {node.lineno}: from {node.module} import ... (a private upstream module)")
            found.extend(
                f"line {node.lineno}: imports {alias.name} from {node.module}"
                for alias in node.names
                if alias.name.startswith("_")
            )
        elif isinstance(node, ast.Attribute) and node.attr in private_names:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Constant) and node.value in private_names:
            found.append(f"line {node.lineno}: {node.value!r}")
    assert not found, (
        f"{path} names private upstream names itself; go through litellm/litellm_core_utils/upstream_surface.py "
        "(add the name to PRIVATE_NAMES with a probe in this test file):\n" + "\n".join(found)
    )
