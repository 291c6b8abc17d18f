"""RunningText: appending keeps the pieces in order, whatever their number."""

from __future__ import annotations

from litellm.litellm_core_utils.running_text import RunningText


def test_appended_pieces_read_back_in_order() -> None:
    text = RunningText("start:")
    pieces = [f"p{i} " for i in range(2000)]
    for piece in pieces:
        text.add(piece)
    assert str(text) == "start:" + "".join(pieces)
    assert str(text) == str(text)


def test_empty() -> None:
    assert str(RunningText()) == ""
    text = RunningText()
    text.add("")
    assert str(text) == ""
