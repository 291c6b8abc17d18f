"""An install from a lock never resolves: a newer release on the index cannot change or break it.

The trap this guards against (it broke a fresh machine once): a locked package requires another
locked package through an extra (``fastapi-sso`` -> ``pydantic[email]``). pip's resolver, even in
``--require-hashes`` mode, looks the extra up on the index, picks the newest release, and then
refuses it because it is not the pinned file. ``tools/install-lock.sh`` (used by ``make deps``;
the image and the release install the same way) installs with ``--no-deps``, then runs ``pip check``.

Everything here is local: two tiny wheels made by the test, in a find-links folder that also holds
a newer release of the required package, installed with ``--no-index``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL_LOCK = ROOT / "tools" / "install-lock.sh"


def make_wheel(folder: Path, name: str, version: str, requires: list[str] = (), extras: list[str] = ()) -> Path:
    """A minimal pure-Python wheel: one module, METADATA with its requirements, WHEEL and RECORD."""
    dist = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{name.replace('-', '_')}.py": f"VERSION = {version!r}\n",
        f"{dist}.dist-info/METADATA": "".join(
            [
                f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
                *(f"Provides-Extra: {extra}\n" for extra in extras),
                *(f"Requires-Dist: {req}\n" for req in requires),
            ]
        ),
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}\n")
    files[f"{dist}.dist-info/RECORD"] = "".join(record) + f"{dist}.dist-info/RECORD,,\n"
    wheel = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


def lock_entry(wheel: Path, name: str, version: str) -> str:
    return f"{name}=={version} \\\n    --hash=sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A find-links folder (the locked files plus a newer release), the lock, and a fresh venv."""
    tmp = tmp_path_factory.mktemp("lock-install")
    links = tmp / "links"
    links.mkdir()
    app = make_wheel(links, "lockprobe-app", "1.0", requires=["lockprobe-lib[email]>=1.0"])
    lib = make_wheel(links, "lockprobe-lib", "1.0", extras=["email"])
    # Published "the next day": a newer lib whose extra needs something that does not exist.
    make_wheel(links, "lockprobe-lib", "1.1", requires=['lockprobe-missing; extra == "email"'], extras=["email"])
    lock = tmp / "probe.lock"
    lock.write_text(lock_entry(app, "lockprobe-app", "1.0") + lock_entry(lib, "lockprobe-lib", "1.0"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    return {"links": links, "lock": lock, "python": venv / "bin" / "python"}


def isolated_env() -> dict[str, str]:
    """No pip configuration of this machine (extra indexes, find-links, constraints) takes part."""
    return {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INPUT": "1"}


def installed_version(python: Path, name: str) -> str:
    out = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip()


def install_lock(python: Path, lock: Path, links: Path) -> subprocess.CompletedProcess:
    """``tools/install-lock.sh`` with only the local find-links folder as a source."""
    return subprocess.run(
        [str(INSTALL_LOCK), str(python), str(lock), "--no-index", "--find-links", str(links)],
        capture_output=True,
        text=True,
        env=isolated_env(),
        timeout=300,
    )


def test_resolving_install_is_broken_by_a_newer_release(world):
    """The control: a hash-checked install that still resolves, with the newer release present."""
    out = subprocess.run(
        [str(world["python"]), "-m", "pip", "install", "--require-hashes", "--no-index"]
        + ["--find-links", str(world["links"]), "-r", str(world["lock"])],
        capture_output=True,
        text=True,
        env=isolated_env(),
        timeout=300,
    )
    assert out.returncode != 0
    assert "must have their versions pinned" in out.stderr and "lockprobe_lib-1.1" in out.stderr


def test_lock_install_takes_exactly_the_locked_files(world):
    out = install_lock(world["python"], world["lock"], world["links"])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "No broken requirements found" in out.stdout
    assert installed_version(world["python"], "lockprobe-lib") == "1.0"
    assert installed_version(world["python"], "lockprobe-app") == "1.0"


def test_lock_install_fails_when_the_lock_is_incomplete(tmp_path, world):
    """pip check catches a lock that misses a requirement, which --no-deps alone would not."""
    partial = tmp_path / "partial.lock"
    partial.write_text(world["lock"].read_text().split("lockprobe-lib")[0])
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    out = install_lock(venv / "bin" / "python", partial, world["links"])
    assert out.returncode != 0
    assert "lockprobe-lib" in out.stdout + out.stderr


def test_every_lock_install_in_the_project_skips_the_resolver():
    """Each place that installs from a lock (Makefile, image) does so without resolving."""
    makefile = (ROOT / "Makefile").read_text()
    assert "tools/install-lock.sh $(PY) requirements/dev.lock" in makefile
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert "--require-hashes --no-deps -r /wheelhouse/runtime.lock" in dockerfile
    assert "check" in dockerfile.split("runtime.lock", 1)[1].split("RUN", 1)[0]
    wheelhouse = (ROOT / "docker" / "wheelhouse.sh").read_text()
    assert "--no-deps" in wheelhouse
