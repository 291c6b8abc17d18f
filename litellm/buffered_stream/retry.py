"""Retries of a buffered call that failed mid-stream go to another deployment.

A backend that cuts, stalls or garbles its stream has already shown it cannot serve this answer,
but the failure carries a retryable status (500, 502, 408), so upstream's retry loop would pick
among all deployments again and may land on the same one each time. The buffered call marks such
an exception; the router's retry loop then skips that deployment for the rest of the request, as it
already does for a deployment that answered with a non-retryable status (and, as there, only while
another deployment is left).
"""

from __future__ import annotations

_MARK = "buffered_stream_failed_mid_stream"


def mark_failed_mid_stream(exception: BaseException) -> None:
    try:
        setattr(exception, _MARK, True)
    except (AttributeError, TypeError):  # an exception type without a __dict__: retried as before
        pass


def failed_mid_stream(exception: BaseException) -> bool:
    """Did this exception end a buffered call whose backend stream had started?"""
    return getattr(exception, _MARK, False) is True
