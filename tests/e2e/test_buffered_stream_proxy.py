"""buffered_stream through the real proxy, with the OpenAI SDK as the client."""

from __future__ import annotations

import pytest

PROVIDERS = ["oai", "vllm", "custom", "groq", "azure", "ollama", "claude"]


@pytest.mark.parametrize("prefix", PROVIDERS)
def test_buffered_call_streams_from_the_backend_and_answers_plainly(proxy, backend, prefix):
    response = proxy.client().chat.completions.with_raw_response.create(
        model=f"{prefix}/text+tokens=8",
        messages=[{"role": "user", "content": "hi"}],
        extra_body={"buffered_stream": True},
    )
    completion = response.parse()
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-litellm-buffered-stream") == "true"
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content.split() == [f"w{j}c0" for j in range(8)]
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.prompt_tokens == 11 and completion.usage.completion_tokens == 8
    [seen] = backend.requests
    assert seen.body["stream"] is True
    assert "buffered_stream" not in seen.body and "buffered_stream" not in (seen.body.get("options") or {})
