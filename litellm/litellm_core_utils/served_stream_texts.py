"""The text a streamed response served to the caller, folded chunk by chunk instead of kept as a list.

``ProxyLogging.async_post_call_streaming_iterator_hook`` records, at the end of a stream, the assistant
text the client actually received (a guardrail may have rewritten it), through upstream's
``served_stream_output_texts(chunks)``. Upstream kept every chunk served for that, about 4 KB each.
``ServedStreamTexts`` is fed each chunk as it is served and answers ``texts()`` with what
``served_stream_output_texts`` returns for the same chunks, keeping only the text:

- chat streams (every chunk a ``ModelResponseStream``): the content strings of each choice, joined in
  blocks (``RunningText``) so a long stream costs about its text, not a list slot per chunk;
- any other stream: only its raw ``str``/``bytes`` frames matter (the Anthropic ``/v1/messages`` SSE
  events), appended to one ``bytearray`` and handed to upstream's assembler at the end.

A chunk is folded one step late, when the next one arrives or when ``texts()`` is called, so edits that
the proxy makes to a chunk after it was yielded (the per-chunk hooks run on it before it is sent) are
seen exactly as upstream saw them when it read the list at the end.

``add_text`` takes text served for one choice without a chunk (the stream-through lane writes most of a
chat stream's text to the client directly): it counts as a chat chunk holding only that text, after the
chunk before it.
"""

from __future__ import annotations

from typing import Final

from litellm.litellm_core_utils.running_text import RunningText
from litellm.litellm_core_utils.served_output_texts import ServedTexts, served_stream_output_texts
from litellm.types.utils import ModelResponseStream

_NOTHING: Final = object()


class _ChoiceText:
    __slots__ = ("text", "saw_text")

    def __init__(self) -> None:
        self.text = RunningText()
        self.saw_text = False


class ServedStreamTexts:
    """``served_stream_output_texts`` over every chunk ``add``-ed, without holding the chunks."""

    __slots__ = ("_held", "_seen", "_all_chat", "_choices", "_choice_count", "_raw")

    def __init__(self) -> None:
        self._held: object = _NOTHING
        self._seen = False
        self._all_chat = True
        self._choices: dict[int, _ChoiceText] = {}
        self._choice_count = 0
        self._raw = bytearray()

    def add(self, chunk: object) -> None:
        """Take one served chunk; the previous one is folded now."""
        self._fold_held()
        self._held = chunk

    def add_text(self, index: int, text: str) -> None:
        """Take ``text`` served for choice ``index`` that never was a chunk, as a chat chunk holding only it.

        The chunk before it is folded first (the text follows it); the text itself cannot change, so it is
        folded now.
        """
        self._fold_held()
        self._seen = True
        if self._all_chat:
            self._fold_choice(index, text)

    def texts(self) -> ServedTexts | None:
        """What ``served_stream_output_texts(chunks)`` returns for every chunk added so far."""
        self._fold_held()
        if not self._seen:
            return None
        if not self._all_chat:
            return served_stream_output_texts((bytes(self._raw),))
        texts: Final = tuple(
            (str(choice.text) if choice.saw_text else None) if (choice := self._choices.get(index)) else None
            for index in range(self._choice_count)
        )
        return texts if any(text is not None for text in texts) else None

    def _fold_held(self) -> None:
        held: Final = self._held
        self._held = _NOTHING
        if held is not _NOTHING:
            self._fold(held)

    def _fold(self, chunk: object) -> None:
        self._seen = True
        if not isinstance(chunk, ModelResponseStream):
            if self._all_chat:
                self._all_chat = False
                self._choices = {}
            if isinstance(chunk, bytes):
                self._raw += chunk
            elif isinstance(chunk, str):
                self._raw += chunk.encode("utf-8")
            return
        if not self._all_chat:
            return
        for choice in chunk.choices:
            content = choice.delta.content
            self._fold_choice(choice.index, content if isinstance(content, str) else None)

    def _fold_choice(self, index: int, content: str | None) -> None:
        """One choice of a chat chunk: it counts towards the choices, and its text (even "") is appended."""
        if index >= self._choice_count:
            self._choice_count = index + 1
        if content is None:
            return
        state = self._choices.get(index)
        if state is None:
            state = self._choices[index] = _ChoiceText()
        state.saw_text = True
        state.text.add(content)
