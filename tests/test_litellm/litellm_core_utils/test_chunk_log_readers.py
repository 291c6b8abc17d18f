"""Every upstream reader of ``.chunks`` is known: a pin move that adds or changes one fails here, by name.

``CustomStreamWrapper.chunks`` is a ``StreamChunkLog`` in the fork, a list façade that keeps three chunks and refuses
the list operations it cannot answer. A new upstream reader could need one of those (iterating the chunks, say), so
``upstream/chunk_log_readers.toml`` lists every line of the pinned upstream that touches an attribute named
``chunks``, with what it does with it, and this test compares the pristine upstream (``make upstream-ref``, or the
new release under ``make bump-pin``) with that list.
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter

from upstream_source import REPO_ROOT, AttributeRead, attribute_reads, fork_only, pristine_site

pytestmark = fork_only
KNOWN_READERS = REPO_ROOT / "upstream" / "chunk_log_readers.toml"


def _known() -> tuple[Counter[AttributeRead], list[dict[str, object]]]:
    entries = tomllib.loads(KNOWN_READERS.read_text(encoding="utf-8"))["reader"]
    known: Counter[AttributeRead] = Counter()
    for entry in entries:
        known[AttributeRead(str(entry["file"]), str(entry["scope"]), str(entry["code"]))] += int(entry.get("count", 1))
    return known, entries


def _stanza(read: AttributeRead, count: int) -> str:
    lines = ["[[reader]]", f"file = {json.dumps(read.file)}", f"scope = {json.dumps(read.scope)}"]
    lines.append(f"code = {json.dumps(read.code)}")
    if count > 1:
        lines.append(f"count = {count}")
    lines.append('reads = "<what it does with the chunks: which StreamChunkLog operations it needs>"')
    return "\n".join(lines)


def test_every_upstream_reader_of_chunks_is_a_known_one() -> None:
    known, _ = _known()
    found = attribute_reads("chunks")
    new = {read: count for read, count in found.items() if count > known.get(read, 0)}
    gone = {read: count for read, count in known.items() if count > found.get(read, 0)}
    report = []
    for read, count in sorted(new.items()):
        report.append(f"NEW reader of .chunks in {read.file} ({read.scope}): {read.code}\n{_stanza(read, count)}")
    for read in sorted(gone):
        report.append(f"GONE from {read.file} ({read.scope}): {read.code}")
    assert not report, (
        f"upstream in {pristine_site()} touches `.chunks` in places {KNOWN_READERS.relative_to(REPO_ROOT)} does not "
        "list. CustomStreamWrapper.chunks is a StreamChunkLog: check that each new reader uses only operations it "
        "answers (chunk_log.py's docstring), then update the list:\n\n" + "\n\n".join(report)
    )


def test_every_known_reader_says_what_it_reads() -> None:
    _, entries = _known()
    assert entries
    for entry in entries:
        assert set(entry) <= {"file", "scope", "code", "count", "reads"}, entry
        assert str(entry.get("reads", "")).strip() and "<" not in str(entry["reads"]), entry
