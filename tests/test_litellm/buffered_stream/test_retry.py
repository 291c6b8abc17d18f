"""Unit tests for litellm/buffered_stream/retry.py and the router's use of it."""

from __future__ import annotations

import litellm
from litellm import Router
from litellm.buffered_stream.retry import failed_mid_stream, mark_failed_mid_stream


def test_mark_and_read() -> None:
    error = litellm.APIConnectionError(message="cut", llm_provider="openai", model="m")
    assert not failed_mid_stream(error)
    mark_failed_mid_stream(error)
    assert failed_mid_stream(error)


def deployment_error(status_code: int, mid_stream: bool) -> Exception:
    error = litellm.InternalServerError(message="cut", llm_provider="openai", model="m")
    error.status_code = status_code
    error.failed_deployment_id = "deployment-1"  # type: ignore[attr-defined]
    if mid_stream:
        mark_failed_mid_stream(error)
    return error


def test_router_skips_the_deployment_of_a_mid_stream_failure_on_retry() -> None:
    assert Router._deployment_ids_to_skip_on_retry(deployment_error(500, True), ()) == ("deployment-1",)
    assert Router._deployment_ids_to_skip_on_retry(deployment_error(500, True), ("other",)) == (
        "deployment-1",
        "other",
    )


def test_router_retries_other_retryable_failures_anywhere() -> None:
    assert Router._deployment_ids_to_skip_on_retry(deployment_error(500, False), ()) == ()
