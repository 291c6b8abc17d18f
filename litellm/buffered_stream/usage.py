"""Usage for a buffered answer whose backend stream carried none.

Some servers ignore ``stream_options.include_usage``, and some providers cannot ask for it. A
buffered answer must still be counted and costed (a client may switch buffering on per request,
so a count of 0 would let it zero its own spend): the tokenizer estimates it the way upstream
estimates a stream's usage in ``stream_chunk_builder`` (``token_counter`` over the prompt, the
answer's text and tool calls, plus its reasoning). An estimated count is marked in the call's
logged metadata with ``ESTIMATED_FIELD``.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

import litellm
from litellm.litellm_core_utils.prompt_templates.common_utils import get_content_from_model_response
from litellm.types.utils import CompletionTokensDetailsWrapper, ModelResponse, Usage

ESTIMATED_FIELD = "buffered_stream_usage_estimated"


def lacks_usage(usage: Any) -> bool:
    """No usage, or one that counts nothing: a non-empty answer always costs tokens."""
    if usage is None:
        return True
    total = usage.get("total_tokens") if isinstance(usage, dict) else getattr(usage, "total_tokens", None)
    return not total


def estimate(model: str, messages: Sequence[Any] | None, response: ModelResponse) -> Usage:
    """The tokenizer's count of the prompt and of the answer (text, tool calls, reasoning)."""
    try:
        prompt = litellm.token_counter(model=model, messages=list(messages or ()))
    except Exception:  # as upstream: a prompt the tokenizer cannot read counts 0, the answer still counts
        prompt = 0
    completion = litellm.token_counter(
        model=model, text=get_content_from_model_response(response), count_response_tokens=True
    )
    reasoning = _reasoning_tokens(response)
    answer = completion + reasoning
    usage = Usage(prompt_tokens=prompt, completion_tokens=answer, total_tokens=prompt + answer)
    if reasoning:
        usage.completion_tokens_details = CompletionTokensDetailsWrapper(
            reasoning_tokens=reasoning, text_tokens=completion
        )
    return usage


def estimate_body(request: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """``estimate`` for an assembled OpenAI ``chat.completion`` document and the request that asked for it."""
    model = str(body.get("model") or request.get("model") or "")
    return estimate(model, request.get("messages"), ModelResponse(**body)).model_dump(exclude_none=True)


def mark_estimated(metadata: MutableMapping[str, Any] | None) -> None:
    if metadata is not None:
        metadata[ESTIMATED_FIELD] = True


def _reasoning_tokens(response: ModelResponse) -> int:
    texts = [getattr(choice.message, "reasoning_content", None) for choice in response.choices]
    return sum(litellm.token_counter(text=text, count_response_tokens=True) for text in texts if text)
