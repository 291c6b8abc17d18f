"""`make release` and the one command a user installs it with, in a fresh virtual environment.

This is the README's "Install" section run as written: `tools/forkbuild.py release` (what
`make release` runs) writes dist/release/, then

    pip install --require-hashes --no-deps --find-links dist/release -r dist/release/requirements.lock

in a new venv must give a consistent environment (`pip check`), a `litellm` that names the fork's
version, and a proxy that starts and answers.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.e2e.fake_llm import FakeLLM
from tests.e2e.processes import MASTER_KEY, ProxyProcess

ROOT = Path(__file__).resolve().parents[2]
PIN = tomllib.loads((ROOT / "upstream" / "pin.toml").read_text())
FORK_VERSION = f"{PIN['upstream']['version']}+{PIN['fork']['local_version']}"
RELEASE = ROOT / "dist" / "release"


@pytest.fixture(scope="module")
def release() -> Path:
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "forkbuild.py"), "release"], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    return RELEASE


@pytest.fixture(scope="module")
def installed(release: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("release") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    out = subprocess.run(
        [*pip, "install", "--quiet", "--require-hashes", "--no-deps", "--find-links", str(release)]
        + ["-r", str(release / "requirements.lock")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return venv


def test_release_lock_pins_the_fork_wheel_by_hash(release):
    wheels = sorted(release.glob("*.whl"))
    assert [w.name for w in wheels] == [f"litellm-{FORK_VERSION}-cp310-abi3-manylinux_2_28_x86_64.whl"]
    lock = (release / "requirements.lock").read_text()
    digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
    assert f"litellm=={FORK_VERSION} \\\n    --hash=sha256:{digest}\n" in lock
    pinned = re.findall(r"(?m)^([A-Za-z0-9_.\-]+)==(\S+) \\$", lock)
    assert len(pinned) > 50
    assert all(re.search(rf"(?m)^{re.escape(n)}=={re.escape(v)} \\\n    --hash=sha256:", lock) for n, v in pinned)
    assert "://" not in lock


def test_release_install_is_consistent(installed):
    out = subprocess.run(
        [str(installed / "bin" / "python"), "-m", "pip", "check"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout
    assert "No broken requirements found" in out.stdout


def test_release_install_is_the_fork(installed):
    out = subprocess.run(
        [str(installed / "bin" / "litellm"), "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"LITELLM_LOCAL_MODEL_COST_MAP": "True", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    assert FORK_VERSION in out.stdout + out.stderr


def test_release_install_serves_a_buffered_call(installed, tmp_path):
    backend = FakeLLM().start()
    config = {
        "model_list": [
            {
                "model_name": "slow",
                "litellm_params": {
                    "model": "openai/text+tokens=20+delay=0.05",
                    "api_base": f"{backend.url}/v1",
                    "api_key": "sk-test",
                    "timeout": 0.5,
                    "buffered_stream": True,
                },
            }
        ]
    }
    try:
        proxy = ProxyProcess(config, tmp_path, name="release", python=installed / "bin" / "python")
        try:
            proxy.wait_ready()
            response = httpx.post(
                f"{proxy.url}/v1/chat/completions",
                headers={"Authorization": f"Bearer {MASTER_KEY}"},
                json={"model": "slow", "messages": [{"role": "user", "content": "hi"}]},
                timeout=60,
            )
        finally:
            proxy.stop()
    finally:
        backend.stop()
    assert response.status_code == 200, response.text
    assert response.headers["x-litellm-buffered-stream"] == "true"
    assert response.json()["choices"][0]["message"]["content"].startswith("w0c0 ")
