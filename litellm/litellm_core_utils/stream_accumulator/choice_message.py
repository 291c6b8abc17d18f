"""A folded choice written into the assembled response's message, field by field in upstream's order."""

from __future__ import annotations

import base64
import time
from typing import Any, Final

from litellm.litellm_core_utils.stream_accumulator.choice_fold import ChoiceState, ToolCallState
from litellm.types.utils import (
    ChatCompletionAudioResponse,
    ChatCompletionCustomToolCallPayload,
    ChatCompletionMessageCustomToolCall,
    ChatCompletionMessageToolCall,
    Function,
    FunctionCall,
)


def _built_tool_call(
    state: ToolCallState,
) -> ChatCompletionMessageToolCall | ChatCompletionMessageCustomToolCall | None:
    if state.id and state.custom_name:
        payload: Final = ChatCompletionCustomToolCallPayload(name=state.custom_name, input=state.input.text())
        return ChatCompletionMessageCustomToolCall(id=state.id, custom=payload)
    if not (state.id and state.name):
        return None  # upstream drops a call that never got an id and a name
    params: Final[dict[str, Any]] = {
        "id": state.id,
        "function": Function(arguments=state.arguments.text() or "{}", name=state.name),
        "type": state.type or "function",
    }
    if state.provider_specific_fields:
        params["provider_specific_fields"] = state.provider_specific_fields
    return ChatCompletionMessageToolCall(**params)


def tool_call_list(state: ChoiceState) -> list[ChatCompletionMessageToolCall | ChatCompletionMessageCustomToolCall]:
    """The choice's tool calls in order, each with every fragment it received."""
    return [built for call in state.tool_calls.ordered() if (built := _built_tool_call(call)) is not None]


def _audio(state: ChoiceState) -> ChatCompletionAudioResponse:
    return ChatCompletionAudioResponse(
        data=base64.b64encode(bytes(state.audio_data)).decode("utf-8"),
        expires_at=state.audio_expires_at or int(time.time() + 3600),
        transcript=state.audio_transcript.text(),
        id=state.audio_id,
    )


def _provider_fields(state: ChoiceState) -> dict[str, object]:
    from litellm.litellm_core_utils.upstream_surface import joined_streamed_citations

    citations: Final = {"citations": joined_streamed_citations(tuple(state.citations))} if state.citations else {}
    return {**citations, **state.provider_fields}


def apply_choice(state: ChoiceState, message: Any) -> None:
    """Set the message fields in upstream's order (later ones override ``content``)."""
    if state.saw_tool_calls:
        message.content = None
        message.tool_calls = tool_call_list(state)
    if state.saw_function_call:
        message.content = None
        message.function_call = FunctionCall(
            name=state.function_call_name, arguments=state.function_call_arguments.text()
        )
    if state.saw_content:
        message["content"] = state.content.text()
    if state.saw_thinking:
        message["thinking_blocks"] = [dict(block) for block in state.thinking_blocks] or None
    if state.saw_reasoning:
        message["reasoning_content"] = state.reasoning.text()
    if state.annotations is not None:
        message["annotations"] = list(state.annotations)
    if state.saw_audio:
        message.audio = _audio(state)
    if state.images is not None:
        message["images"] = list(state.images)
    if state.saw_provider_fields and (combined := _provider_fields(state)):
        message.provider_specific_fields = combined
