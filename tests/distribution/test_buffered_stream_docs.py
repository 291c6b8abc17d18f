"""docs/buffered-stream.md's tables agree with the code: paths and routes with the registry
(litellm/buffered_stream/wires.py), the client-facing fields with their table (litellm/buffered_stream/options.py)."""

from __future__ import annotations

import re
from pathlib import Path

from litellm.buffered_stream.options import CLIENT_FIELDS
from litellm.buffered_stream.wires import (
    CHAT_WIRES,
    MESSAGES_WIRES,
    RESPONSES_WIRES,
    RUST_MESSAGES_PROVIDERS,
    TEXT_COMPLETION_WIRES,
    Endpoint,
    ServingPath,
    route,
    wire_for_path,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "buffered-stream.md"


def _table(heading: str) -> list[list[str]]:
    """The rows (cells) of the first table after ``heading`` in docs/buffered-stream.md."""
    text = DOC.read_text()
    rest = text[text.index(heading) :]
    lines = rest[rest.index("\n|") + 1 :].splitlines()
    rows = []
    for line in lines[2:]:  # past the header and its rule
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _providers(cell: str) -> list[str]:
    return re.findall(r"`([a-z0-9_-]+)/`", cell)


def test_the_docs_list_exactly_the_registrys_chat_wire_providers() -> None:
    rows = {row[0]: row for row in _table("## Which path serves a call")}
    listed = re.findall(r"`([a-z0-9_-]+)`", rows["**wire**"][1])
    assert sorted(listed) == sorted(CHAT_WIRES)


_DOC_PATHS = {
    "wire": {ServingPath.WIRE},
    "native": {ServingPath.NATIVE},
    "wire or generic": {ServingPath.WIRE, ServingPath.GENERIC},
}


def test_the_docs_endpoint_table_agrees_with_the_registry() -> None:
    rows = _table("### Endpoints and routes")
    documented: dict[Endpoint, set[str]] = {endpoint: set() for endpoint in Endpoint}
    for endpoint_cell, route_cell, asked_cell, path_cell in rows:
        endpoint = Endpoint(endpoint_cell.strip("`"))
        allowed = next(
            paths for words, paths in sorted(_DOC_PATHS.items(), reverse=True) if path_cell.startswith(words)
        )
        rust = "LITELLM_RUST" in route_cell
        for provider in _providers(route_cell):
            chosen = route(endpoint, provider, rust=rust)
            assert chosen.path in allowed, (endpoint, provider, chosen)
            asked_path = re.match(r"`(/[a-z0-9/_]+)`", asked_cell)
            if asked_path and chosen.wire is not None:
                assert wire_for_path(asked_path.group(1)) is chosen.wire, (endpoint, provider, asked_cell)
            documented[endpoint].add(provider if not rust else f"{provider}+rust")
    registered = {
        Endpoint.MESSAGES: set(MESSAGES_WIRES) | {f"{p}+rust" for p in RUST_MESSAGES_PROVIDERS},
        Endpoint.RESPONSES: set(RESPONSES_WIRES),
        Endpoint.TEXT_COMPLETION: set(TEXT_COMPLETION_WIRES),
    }
    for endpoint, providers in registered.items():
        assert providers <= documented[endpoint], (
            f"{endpoint.value}: the docs do not list {providers - documented[endpoint]}"
        )


def test_the_docs_fields_table_lists_every_client_facing_field_and_whose_it_is() -> None:
    rows = _table("### Where the fields may be")
    documented = {row[0].strip("`"): row[1].startswith("read") for row in rows}
    assert documented == dict(CLIENT_FIELDS)
