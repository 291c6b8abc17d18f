"""One choice of a stream, folded delta by delta: what each delta field contributes to the final message."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any, Final

from litellm.litellm_core_utils.chat_chunk_merge import ToolCallHead, ToolCalls
from litellm.litellm_core_utils.stream_accumulator.chunk_fields import get_field
from litellm.litellm_core_utils.stream_accumulator.text_parts import TextParts


class ToolCallState(ToolCallHead):
    """One tool call: its head (index, id, name: ``chat_chunk_merge``) and the rest of its fragments."""

    __slots__ = ("type", "custom_name", "provider_specific_fields", "arguments", "input")

    def __init__(self, tool_index: int) -> None:
        super().__init__(tool_index)
        self.type: str | None = None
        self.custom_name: str | None = None
        self.provider_specific_fields: dict[str, object] | None = None
        self.arguments = TextParts()
        self.input = TextParts()

    def fold(self, tool_call: object, function: object, custom: object) -> None:
        """The fragment's fields after the head (``ToolCalls.fragment`` took id and name)."""
        if fragment_type := get_field(tool_call, "type"):
            self.type = fragment_type
        if custom_name := get_field(custom, "name"):
            self.custom_name = custom_name
        provider_fields: Final = get_field(tool_call, "provider_specific_fields") or get_field(
            function, "provider_specific_fields"
        )
        if provider_fields:
            if self.provider_specific_fields is None:
                self.provider_specific_fields = {}
            if isinstance(provider_fields, dict):
                self.provider_specific_fields.update(provider_fields)
        if arguments := get_field(function, "arguments"):
            self.arguments.add(arguments)
        if custom_input := get_field(custom, "input"):
            self.input.add(custom_input)


class ChoiceState:
    """Everything one choice's deltas contributed, folded. ``fold(present_fields(delta))`` per delta."""

    def __init__(self, index: int, role: str) -> None:
        self.index = index
        self.role = role
        self.finish_reason: str | None = None
        self.content = TextParts()
        self.saw_content = False
        self.reasoning = TextParts()
        self.saw_reasoning = False
        self.saw_tool_calls = False
        self.tool_calls: ToolCalls[ToolCallState] = ToolCalls(ToolCallState)
        self.saw_function_call = False
        self.function_call_name: str | None = None
        self.function_call_arguments = TextParts()
        self.saw_thinking = False
        self.thinking_blocks: list[dict[str, str]] = []
        self.thinking_parts: list[str] = []
        self.annotations: list[object] | None = None
        self.images: list[object] | None = None
        self.saw_audio = False
        self.audio_data = bytearray()
        self.audio_transcript = TextParts()
        self.audio_expires_at: int | None = None
        self.audio_id: str | None = None
        self.saw_provider_fields = False
        self.citations: list[object] = []
        self.provider_fields: dict[str, object] = {}

    def fold(self, present: list[tuple[str, Any]]) -> None:
        """Fold a delta's set fields (``present_fields(delta)``); fields no rule names are ignored."""
        for key, value in present:
            if (rule := _FIELD_RULES.get(key)) is not None:
                rule(self, value)

    def _fold_content(self, value: object) -> None:
        self.saw_content = True
        if isinstance(value, str):
            self.content.add(value)

    def _fold_tool_calls(self, value: list[object]) -> None:
        self.saw_tool_calls = True
        for tool_call in value:
            if tool_call:
                self._fold_tool_call(tool_call)

    def _fold_tool_call(self, tool_call: object) -> None:
        function: Final = get_field(tool_call, "function")
        custom: Final = get_field(tool_call, "custom")
        if function is None and custom is None:
            return
        tool_index: Final = tool_call.get("index", 0) if isinstance(tool_call, dict) else getattr(tool_call, "index", 0)
        # Deliberate differences (chat_chunk_merge): upstream merges by index alone, so parallel calls sent
        # complete at one index fuse into one call, and an id or name split across fragments keeps only its tail.
        head_text: Final = get_field(function, "arguments") or get_field(custom, "input")
        state: Final = self.tool_calls.fragment(
            tool_index, get_field(tool_call, "id"), get_field(function, "name"), head_text
        )
        state.fold(tool_call, function, custom)

    def _fold_function_call(self, value: Any) -> None:
        if not self.saw_function_call:
            self.function_call_name = value.name
        self.saw_function_call = True
        self.function_call_arguments.add(value.arguments)

    def _fold_thinking_blocks(self, value: object) -> None:
        self.saw_thinking = True
        if isinstance(value, list):
            for block in value:
                self._fold_thinking_block(block)

    def _fold_thinking_block(self, block: Mapping[str, Any]) -> None:
        if block.get("type", None) == "redacted_thinking":
            self.thinking_parts = []
            if data := block.get("data", None):
                self.thinking_blocks.append({"type": "redacted_thinking", "data": data})
            return
        if text := block.get("thinking", None):
            self.thinking_parts.append(text)
        if signature := block.get("signature", None):
            self.thinking_blocks.append(
                {"type": "thinking", "thinking": "".join(self.thinking_parts), "signature": signature}
            )
            self.thinking_parts = []

    def _fold_reasoning(self, value: str) -> None:
        self.saw_reasoning = True
        self.reasoning.add(value)

    def _fold_annotations(self, value: list[object]) -> None:
        self.annotations = [*(self.annotations or ()), *value]

    def _fold_images(self, value: list[object]) -> None:
        self.images = [*(self.images or ()), *value]

    def _fold_audio(self, audio: Mapping[str, Any]) -> None:
        self.saw_audio = True
        for key, value in audio.items():
            if key == "data" and isinstance(value, str):
                self.audio_data += base64.b64decode(value)
            elif key == "transcript" and isinstance(value, str):
                self.audio_transcript.add(value)
            elif key == "expires_at" and isinstance(value, int):
                self.audio_expires_at = value
            elif key == "id" and isinstance(value, str):
                self.audio_id = value

    def _fold_provider_fields(self, value: object) -> None:
        self.saw_provider_fields = True
        if isinstance(value, dict):
            if value.get("citation") is not None:
                self.citations.append(value["citation"])
            self.provider_fields.update((k, v) for k, v in value.items() if k != "citation")


_FIELD_RULES: Final[Mapping[str, Callable[[ChoiceState, Any], None]]] = {
    "content": ChoiceState._fold_content,
    "tool_calls": ChoiceState._fold_tool_calls,
    "function_call": ChoiceState._fold_function_call,
    "thinking_blocks": ChoiceState._fold_thinking_blocks,
    "reasoning_content": ChoiceState._fold_reasoning,
    "annotations": ChoiceState._fold_annotations,
    "audio": ChoiceState._fold_audio,
    "images": ChoiceState._fold_images,
    "provider_specific_fields": ChoiceState._fold_provider_fields,
}
"""Which delta field is folded by which rule."""
