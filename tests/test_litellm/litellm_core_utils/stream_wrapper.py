"""The one set-up of litellm's stream wrapper for tests and benchmarks.

``stream_wrapper`` builds a ``CustomStreamWrapper`` over a given chunk source (an iterator, an async
iterator, or ``ModelResponseListIterator``) with a real ``Logging`` object, the way litellm builds one
for a streamed call. It imports only upstream litellm names, so the stream corpus runs it under the
pristine upstream as well (``stream_corpus.py`` as a script), and the benchmarks import it too.
"""

from __future__ import annotations

import time
import uuid
from typing import Any


def stream_wrapper(
    completion_stream: Any, *, model: str, messages: list[dict[str, Any]], call_type: str = "completion"
) -> tuple[Any, Any]:
    """A ``CustomStreamWrapper`` over ``completion_stream`` and its ``Logging`` object (``call_type``:
    ``completion`` for a sync stream, ``acompletion`` for an async one)."""
    from litellm.litellm_core_utils.litellm_logging import Logging
    from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper

    call_id = str(uuid.uuid4())
    logging_obj = Logging(
        model=model,
        messages=messages,
        stream=True,
        call_type=call_type,
        start_time=time.time(),
        litellm_call_id=call_id,
        function_id=call_id,
    )
    logging_obj.update_environment_variables(
        model=model, user=None, optional_params={}, litellm_params={"litellm_call_id": call_id}
    )
    wrapper = CustomStreamWrapper(
        completion_stream=completion_stream,
        model=model,
        custom_llm_provider="cached_response",
        logging_obj=logging_obj,
    )
    return wrapper, logging_obj
