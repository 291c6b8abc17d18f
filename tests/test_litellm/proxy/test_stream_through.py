"""The stream-through lane's pure parts: which events the fast lane takes, how a run is handed to the wrapper. The
served text is folded by ServedStreamTexts (its tests: test_served_stream_texts.py). The lane itself is checked end to
end against upstream: tests/e2e/test_stream_parity.py."""

from __future__ import annotations

import pytest

import litellm
from litellm.proxy import stream_through
from litellm.proxy.stream_through import _pieces, _plain_content, _with_content, _without_content

EVENT = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "model": "m",
    "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}],
}


def test_a_plain_text_event_has_its_content_and_every_other_event_none():
    assert _plain_content(EVENT) == "hi"
    assert _plain_content({**EVENT, "choices": []}) is None
    assert _plain_content({**EVENT, "choices": [EVENT["choices"][0]] * 2}) is None  # n > 1
    assert _plain_content({**EVENT, "choices": [{"index": 0, "delta": {"tool_calls": []}}]}) is None
    assert _plain_content({**EVENT, "choices": [{"index": 0, "delta": {"content": None}}]}) is None
    assert _plain_content({**EVENT, "choices": [{"index": 0, "delta": "x"}]}) is None


def test_two_events_share_a_template_when_only_their_content_differs():
    other = _with_content(EVENT, "there")
    assert _plain_content(other) == "there"
    assert _without_content(other) == _without_content(EVENT)
    assert _without_content({**other, "usage": {"prompt_tokens": 1}}) != _without_content(EVENT)
    assert EVENT["choices"][0]["delta"]["content"] == "hi"  # the event itself is left alone


@pytest.mark.parametrize(
    ("run", "previous", "pieces"),
    [
        (["a"], None, ["a"]),
        (["one ", "two ", "three "], "zero ", ["one two ", "three "]),
        (["one ", "two ", "three "], "one two ", ["one ", "two ", "three "]),  # the head would repeat the chunk before
        (["ab", "cd", "abcd"], None, ["ab", "cd", "abcd"]),  # the head would equal the last event
    ],
)
def test_a_run_is_handed_over_so_that_no_piece_repeats_the_one_before(run, previous, pieces):
    assert _pieces(run, previous) == pieces
    assert "".join(pieces) == "".join(run)


@pytest.mark.parametrize("value", ["false", "0", "off", "no"])
def test_the_environment_turns_the_lane_off(monkeypatch, value):
    monkeypatch.setenv(stream_through.ENV, value)
    assert not stream_through.enabled()


def test_the_setting_turns_the_lane_off(monkeypatch):
    monkeypatch.delenv(stream_through.ENV, raising=False)
    assert stream_through.enabled()
    monkeypatch.setattr(litellm, stream_through.SETTING, False, raising=False)
    assert not stream_through.enabled()


def test_anything_but_a_provider_stream_is_left_to_the_ordinary_path():
    async def agen():
        yield 1

    assert stream_through.stream_through(agen(), {}, proxy_logging_obj=None) is None
