"""Unit tests for litellm/buffered_stream/quoting.py: input quoted in error messages stays bounded."""

from __future__ import annotations

import pytest

from litellm.buffered_stream.quoting import QUOTE_LIMIT, clip_message, clipped, quoted


@pytest.mark.parametrize("value", [True, 1, "yes", b"data", {"on": True}, [1, 2]])
def test_small_values_are_quoted_whole(value: object) -> None:
    assert quoted(value) == repr(value)


@pytest.mark.parametrize(
    "value",
    ["y" * 2_000_000, b"y" * 2_000_000, ["y" * 1000] * 2000, {"k": "y" * 100_000}, {"a": {"b": {"c": {"d": 1}}}}],
)
def test_huge_values_are_cut(value: object) -> None:
    assert len(quoted(value)) < QUOTE_LIMIT + 50


def test_cut_string_gives_its_length() -> None:
    assert quoted("y" * 1000).endswith("... (1000 characters)")
    assert quoted(b"y" * 1000).endswith("... (1000 bytes)")


def test_clipped_keeps_a_message_as_text() -> None:
    assert clipped("model crashed") == "model crashed"
    assert clipped("x" * 500) == "x" * QUOTE_LIMIT + "... (500 characters)"
    assert clipped(None) == "None"


def test_clip_message_cuts_message_and_args_in_place() -> None:
    error = RuntimeError("x" * 10_000)
    error.message = "y" * 10_000  # type: ignore[attr-defined]
    clip_message(error)
    assert len(str(error)) < 1_000 and len(error.message) < 1_000  # type: ignore[attr-defined]


def test_clip_message_leaves_short_messages_alone() -> None:
    error = RuntimeError("short", 2)
    clip_message(error)
    assert error.args == ("short", 2)


def test_clip_message_cuts_the_exceptions_it_wraps() -> None:
    inner = ValueError("z" * 10_000)
    outer = RuntimeError("short")
    outer.original_exception = inner  # type: ignore[attr-defined]
    try:
        raise outer from KeyError("k" * 10_000)
    except RuntimeError as error:
        clip_message(error)
        assert len(str(inner)) < 1_000 and len(str(error.__cause__)) < 1_000
