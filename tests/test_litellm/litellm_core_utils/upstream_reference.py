"""Run the stream corpus through the pristine pinned upstream (``make upstream-ref``) in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
UPSTREAM_SITE = REPO_ROOT / ".cache" / "upstream-site"
CORPUS = Path(__file__).with_name("stream_corpus.py")


@cache
def upstream(request: str) -> dict[str, Any]:
    """Results of ``request`` (``"<case> ..."`` or ``"sync|async <case> ..."``) under pristine upstream."""
    if not (UPSTREAM_SITE / "litellm").is_dir():
        pytest.fail(
            f"pristine upstream not installed in {UPSTREAM_SITE}: run `make upstream-ref` (make test and make test-unit do)"
        )
    env = {**os.environ, "PYTHONPATH": str(UPSTREAM_SITE), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run(
        [sys.executable, str(CORPUS)], input=request, capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def scrub(value: Any, keys: frozenset[str]) -> Any:
    """Drop fields that differ between two runs of the same code (clock, racy cost stamping)."""
    if isinstance(value, dict):
        return {k: scrub(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [scrub(v, keys) for v in value]
    return value
