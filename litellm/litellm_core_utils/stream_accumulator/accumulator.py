"""``StreamAccumulator``: a chat completion stream folded chunk by chunk (sans-I/O: callers feed it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from litellm.litellm_core_utils import upstream_surface
from litellm.litellm_core_utils.chat_chunk_merge import AnswerIdentity
from litellm.litellm_core_utils.stream_accumulator.choice_fold import ChoiceState
from litellm.litellm_core_utils.stream_accumulator.chunk_fields import (
    DELTA_NON_TEXT_FIELD_SET,
    GENERATED_CONTENT_FIELDS,
    get_field,
    present_fields,
    provider_metadata_attr,
)
from litellm.litellm_core_utils.stream_accumulator.errors import StreamAssemblyError
from litellm.litellm_core_utils.stream_accumulator.response_build import build_folded, sorted_chunks
from litellm.litellm_core_utils.stream_accumulator.usage_fold import TotalUsageFold, UsageFold
from litellm.types.llms.vertex_ai import VERTEX_AI_PROVIDER_METADATA_FIELDS
from litellm.types.utils import TextChoices

if TYPE_CHECKING:
    from litellm.litellm_core_utils.litellm_logging import Logging
    from litellm.types.utils import ModelResponse, TextCompletionResponse, Usage


class StreamAccumulator:
    """Incremental assembly of a chat completion stream.

    ``add(chunk)`` folds one chunk; ``build(...)`` returns the assembled ``ModelResponse`` (or ``None``
    before the first chunk), equal to what upstream's ``stream_chunk_builder`` builds from the same chunks
    except for the deliberate differences in ``docs/bounded-memory-streaming.md``; ``total_usage()`` the
    running usage (``calculate_total_usage``); ``partial()`` is ``build()`` without cost stamping, for a look
    at a stream still in flight. ``has_generated_content`` says whether the first choice produced output.
    Building never changes the state, so it can be called any number of times.
    """

    def __init__(self, *, ordered: bool = False) -> None:
        # ordered: the chunks come in their final order (a sorted list, or a wrapper's creation order), so
        # created_at stamps never make it keep them for sorting.
        self._ordered = ordered
        self.count = 0
        self.first_chunk: object = None
        self.last_chunk: object = None
        self.identity = AnswerIdentity()
        self.service_tier: str | None = None
        self.provider_response_models: list[str] = []
        self.hidden_provider_fields_owner: object = None
        self.choices: dict[int, ChoiceState] = {}
        self.simple_text = True
        self.saw_finish_reason = False
        self.has_generated_content = False
        self.usage = UsageFold()
        self.total = TotalUsageFold()
        self.provider_metadata: dict[str, list[object]] = {}
        # Text completions and explicitly ordered (created_at) chunks keep the list: rare, upstream path.
        self.retained: list[object] | None = None
        self._error: BaseException | None = None

    # -- feeding ---------------------------------------------------------------------------------
    def add(self, chunk: object) -> None:
        """Fold one chunk. Never raises: a chunk that cannot be folded makes ``build()`` raise a
        ``StreamAssemblyError`` that names it and its error (the first such chunk; the stream goes on)."""
        self.count += 1
        if self.retained is not None:
            self.retained.append(chunk)
            return
        try:
            self._fold(chunk)
        except Exception as e:  # noqa: BLE001  # a logging problem must not fail the stream: build() raises it
            self._error = self._error or StreamAssemblyError.folding(self.count, e)

    def _fold(self, chunk: object) -> None:
        choices: Final = get_field(chunk, "choices") or ()
        if self.first_chunk is None:
            self.first_chunk = chunk
            if self._must_retain(chunk, choices):
                self.retained = [chunk]
                return
        elif choices and not self.choices and isinstance(choices[0], TextChoices):
            raise ValueError("text completion choices in a chat completion stream")
        self.last_chunk = chunk
        self.identity.add(
            get_field(chunk, "object"), get_field(chunk, "id"), get_field(chunk, "model"), get_field(chunk, "created")
        )
        if isinstance(tier := get_field(chunk, "service_tier"), str) and tier:
            self.service_tier = tier
        self._fold_hidden_params(upstream_surface.hidden_params_of(chunk))
        self._fold_provider_metadata(chunk)
        for position, choice in enumerate(choices):
            self._fold_choice(position, choice)
        self.usage.fold(chunk)
        self.total.fold(chunk)

    def _must_retain(self, first_chunk: object, choices: Sequence[object]) -> bool:
        """Upstream's order-dependent cases: chunks to sort by ``created_at``, or a text completion."""
        if choices and isinstance(choices[0], TextChoices):
            return True
        hidden: Final = upstream_surface.hidden_params_of(first_chunk)
        return not self._ordered and isinstance(hidden, dict) and bool(hidden.get("created_at"))

    def _fold_hidden_params(self, hidden_params: object) -> None:
        if not isinstance(hidden_params, Mapping):
            return
        model: Final = hidden_params.get("provider_response_model")
        if isinstance(model, str) and model and len(self.provider_response_models) < 2:
            if not self.provider_response_models or model != self.provider_response_models[0]:
                self.provider_response_models.append(model)
        if "provider_specific_fields" in hidden_params:
            self.hidden_provider_fields_owner = hidden_params

    def _fold_provider_metadata(self, chunk: object) -> None:
        for field in VERTEX_AI_PROVIDER_METADATA_FIELDS:
            if value := provider_metadata_attr(chunk, field):
                merged = self.provider_metadata.setdefault(field, [])
                if isinstance(value, list):
                    merged.extend(value)
                else:
                    merged.append(value)

    def _fold_choice(self, position: int, choice: object) -> None:
        index = get_field(choice, "index")
        index = index if isinstance(index, int) else position
        state = self.choices.get(index)
        if state is None:
            state = self.choices[index] = ChoiceState(index, upstream_surface.role_of_choice(choice))
        finish_reason: Final = get_field(choice, "finish_reason")
        if finish_reason is not None:
            state.finish_reason = finish_reason
            self.saw_finish_reason = True
        delta: Final = get_field(choice, "delta")
        if delta is None:
            return
        present: Final = present_fields(delta)
        if self.simple_text and any(key in DELTA_NON_TEXT_FIELD_SET for key, _ in present):
            self.simple_text = False
        if position == 0 and not self.has_generated_content:
            self.has_generated_content = any(key in GENERATED_CONTENT_FIELDS and v for key, v in present)
        state.fold(present)

    # -- reading ---------------------------------------------------------------------------------
    def total_usage(self) -> Usage:
        """The stream's usage so far, as ``calculate_total_usage`` computes it."""
        if self.retained is not None:
            return TotalUsageFold.of(self.retained).usage()
        return self.total.usage()

    def partial(self, messages: Sequence[Any] | None = None) -> ModelResponse | TextCompletionResponse | None:
        """What has arrived so far, assembled (no cost stamping)."""
        return self.build(messages=messages, stamp_cost=False)

    def build(
        self,
        messages: Sequence[Any] | None = None,
        logging_obj: Logging | None = None,
        count_prompt_tokens: Callable[[], int] | None = None,
        stamp_cost: bool = True,
    ) -> ModelResponse | TextCompletionResponse | None:
        """The assembled response, as upstream's ``stream_chunk_builder`` builds it from the same chunks."""
        if self._error is not None:
            raise self._error
        if self.count == 0:
            return None
        if self.retained is not None:
            return build_retained(self.retained, messages, logging_obj, count_prompt_tokens)
        try:
            return build_folded(self, messages, logging_obj, count_prompt_tokens, stamp_cost)
        except Exception as e:
            raise StreamAssemblyError.building(e) from e


def build_retained(
    chunks: list[object],
    messages: Sequence[Any] | None,
    logging_obj: Logging | None,
    count_prompt_tokens: Callable[[], int] | None,
) -> ModelResponse | TextCompletionResponse | None:
    """Upstream's order-dependent cases: chunks stamped with ``created_at`` are sorted, text completions
    go to ``stream_chunk_builder_text_completion``. Both keep the list; neither is a chat stream's path."""
    from litellm.main import stream_chunk_builder_text_completion

    ordered: Final = sorted_chunks(chunks, messages)
    first_with_choices: Final = next((c for c in ordered if get_field(c, "choices")), None)
    if first_with_choices is not None and isinstance(get_field(first_with_choices, "choices")[0], TextChoices):
        return stream_chunk_builder_text_completion(chunks=ordered, messages=messages)
    accumulator: Final = StreamAccumulator(ordered=True)
    for chunk in ordered:
        accumulator.add(chunk)
    return accumulator.build(messages=messages, logging_obj=logging_obj, count_prompt_tokens=count_prompt_tokens)
