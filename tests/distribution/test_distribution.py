"""The built and installed wheel is what users get: check it, and the build's refusals."""

import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = tomllib.loads((ROOT / "upstream" / "pin.toml").read_text())
UPSTREAM_VERSION = PIN["upstream"]["version"]
FORK_VERSION = f"{UPSTREAM_VERSION}+{PIN['fork']['local_version']}"
BIN = Path(sys.executable).parent


def load_forkbuild():
    spec = importlib.util.spec_from_file_location("forkbuild", ROOT / "tools" / "forkbuild.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["forkbuild"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def forkbuild(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "forkbuild.py"), *args], capture_output=True, text=True, timeout=300
    )


def test_installed_version_is_the_fork():
    assert importlib.metadata.version("litellm") == FORK_VERSION
    assert FORK_VERSION.startswith(f"{UPSTREAM_VERSION}+buffered.")


def test_litellm_cli_reports_version():
    out = subprocess.run([str(BIN / "litellm"), "--version"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert FORK_VERSION in out.stdout + out.stderr


def test_proxy_server_imports():
    out = subprocess.run(
        [sys.executable, "-c", "import litellm.proxy.proxy_server"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr


def test_fork_modules_are_in_the_installed_wheel():
    import litellm

    installed = Path(litellm.__file__).parent.parent
    for rel in load_forkbuild().fork_modules():
        assert (installed / rel).read_bytes() == (ROOT / rel).read_bytes(), rel


def test_no_tracked_file_under_litellm_exists_upstream():
    tracked = subprocess.run(["git", "ls-files", "litellm"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    fb = load_forkbuild()
    upstream = fb.upstream_names(fb.fetch(fb.Pin.load(ROOT / "upstream" / "pin.toml")))
    assert tracked, "the fork has modules of its own"
    assert [name for name in tracked if name in upstream] == []


def test_tampered_pin_refuses_to_build(tmp_path):
    text = (ROOT / "upstream" / "pin.toml").read_text().replace(PIN["upstream"]["sha256"], "0" * 64)
    (tmp_path / "pin.toml").write_text(text)
    out = forkbuild("wheel", "--pin", str(tmp_path / "pin.toml"))
    assert out.returncode == 1
    assert "REFUSING TO BUILD" in out.stderr and "sha256" in out.stderr


def test_pin_of_another_version_is_refused(tmp_path):
    other = UPSTREAM_VERSION + "9"
    text = (
        (ROOT / "upstream" / "pin.toml").read_text().replace(f'version = "{UPSTREAM_VERSION}"', f'version = "{other}"')
    )
    (tmp_path / "pin.toml").write_text(text)
    out = forkbuild("fetch", "--pin", str(tmp_path / "pin.toml"))
    assert out.returncode == 1
    assert f"is not version {other}" in out.stderr


def test_patch_that_does_not_apply_exactly_fails(tmp_path):
    fb = load_forkbuild()
    tree = tmp_path / "tree"
    (tree / "litellm").mkdir(parents=True)
    (tree / "litellm" / "a.py").write_text("one\ntwo\nthree\n")
    bad = tmp_path / "0001-bad.patch"
    bad.write_text("--- a/litellm/a.py\n+++ b/litellm/a.py\n@@ -1,3 +1,3 @@\n one\n-TWO\n+2\n three\n")
    with pytest.raises(fb.BuildError, match="does not apply exactly"):
        fb.apply_series(tree, [bad])
    missing = tmp_path / "0002-missing.patch"
    missing.write_text("--- a/litellm/b.py\n+++ b/litellm/b.py\n@@ -1 +1 @@\n-x\n+y\n")
    with pytest.raises(fb.BuildError, match="does not apply exactly"):
        fb.apply_series(tree, [missing])


def test_series_applies_to_the_pinned_wheel():
    out = forkbuild("check-patches")
    assert out.returncode == 0, out.stderr


def test_wheel_build_is_byte_identical():
    fb = load_forkbuild()
    pin = fb.Pin.load(ROOT / "upstream" / "pin.toml")
    hashes = []
    for _ in range(2):
        out = forkbuild("wheel")
        assert out.returncode == 0, out.stderr
        hashes.append(fb.sha256_of(ROOT / "dist" / pin.fork_wheel))
    assert hashes[0] == hashes[1]


@pytest.mark.skipif((ROOT / "build" / "tree").exists(), reason="build/tree is in use; make check-patches covers it")
def test_tree_and_export_round_trip_byte_identical(tmp_path):
    fb = load_forkbuild()
    pin = fb.Pin.load(ROOT / "upstream" / "pin.toml")
    try:
        fb.make_tree(pin)
        exported = fb.format_series(tmp_path)
        names = fb.series_names(exported)
        assert names == [p.name for p in fb.series()]
        for patch, name in zip(exported, names, strict=True):
            assert patch.read_bytes() == (ROOT / "patches" / name).read_bytes(), name
    finally:
        shutil.rmtree(ROOT / "build" / "tree", ignore_errors=True)


def test_upstream_version_is_written_only_in_the_pin():
    """A pin move edits upstream/pin.toml alone: every other file derives the version or does not need it.

    docs/maintaining.md says why this version is pinned (and so names it); benchmark reports record
    the version they were measured on.
    """
    tracked = subprocess.run(
        ["git", "grep", "-l", "-F", UPSTREAM_VERSION], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    allowed = {"upstream/pin.toml", "docs/maintaining.md"}
    assert [name for name in tracked if name not in allowed and not name.startswith("bench/results/")] == []


def test_bump_pin_to_the_pinned_version_changes_nothing(tmp_path):
    pin = tmp_path / "pin.toml"
    pin.write_text((ROOT / "upstream" / "pin.toml").read_text())
    out = forkbuild("bump-pin", UPSTREAM_VERSION, "--pin", str(pin))
    assert out.returncode == 0, out.stderr
    assert "already" in out.stdout and "patches apply exactly" in out.stdout
    assert pin.read_text() == (ROOT / "upstream" / "pin.toml").read_text()


def test_bump_pin_reports_every_conflicting_patch(tmp_path, monkeypatch):
    """Each patch that does not apply is named with git's report, not only the first one."""
    fb = load_forkbuild()
    pin = fb.Pin.load(ROOT / "upstream" / "pin.toml")
    patches = tmp_path / "patches"
    patches.mkdir()
    good = sorted((ROOT / "patches").glob("*.patch"))
    broken = []
    for patch in good[:2]:
        text = patch.read_text()
        # Same file and hunk, but context that is not in upstream: a real conflict.
        lines = text.splitlines(keepends=True)
        hunk = next(i for i, line in enumerate(lines) if line.startswith("@@ "))
        first_context = next(i for i in range(hunk, len(lines)) if lines[i].startswith(" ") and lines[i].strip())
        lines[first_context] = " this line is not in upstream at all\n"
        (patches / patch.name).write_text("".join(lines))
        broken.append(patch.name)
    for patch in good[2:]:
        shutil.copyfile(patch, patches / patch.name)
    (patches / "series").write_text("".join(f"{p.name}\n" for p in good))
    monkeypatch.setattr(fb, "PATCH_DIR", patches)
    conflicts = fb.series_conflicts(pin)
    assert [c.split(":", 1)[0] for c in conflicts] == broken
    assert all("patch does not apply" in c or "patch failed" in c for c in conflicts)


SERIES = ["0001-a.patch", "0002-b.patch", "0005-e.patch", "0101-x.patch", "0102-y.patch"]


@pytest.mark.parametrize(
    ("exported", "expected"),
    [
        pytest.param(["a", "b", "e", "x", "y"], SERIES, id="unchanged"),
        pytest.param(
            ["a", "b", "e", "new", "x", "y"],
            ["0001-a.patch", "0002-b.patch", "0005-e.patch", "0006-new.patch", "0101-x.patch", "0102-y.patch"],
            id="inserted-after-the-first-group-stays-in-it",
        ),
        pytest.param(["a", "b", "e", "x", "y", "z"], [*SERIES, "0103-z.patch"], id="appended"),
        pytest.param(
            ["a", "b2", "e", "x", "y"],
            ["0001-a.patch", "0002-b2.patch", "0005-e.patch", "0101-x.patch", "0102-y.patch"],
            id="subject-changed",
        ),
        pytest.param(
            ["a", "b", "x", "y"], ["0001-a.patch", "0002-b.patch", "0101-x.patch", "0102-y.patch"], id="dropped"
        ),
    ],
)
def test_export_keeps_each_patch_in_its_group(monkeypatch, exported, expected):
    fb = load_forkbuild()
    monkeypatch.setattr(fb, "series", lambda: [Path(name) for name in SERIES])
    fresh = [Path(f"{i:04d}-{slug}.patch") for i, slug in enumerate(exported, 1)]
    assert fb.series_names(fresh) == expected


def test_export_refuses_a_new_patch_whose_number_is_taken(monkeypatch):
    fb = load_forkbuild()
    monkeypatch.setattr(fb, "series", lambda: [Path(name) for name in SERIES])
    fresh = [Path(f"{i:04d}-{slug}.patch") for i, slug in enumerate(["a", "new", "b", "e", "x", "y"], 1)]
    with pytest.raises(fb.BuildError, match="would take number 0002, which 0002-b.patch has"):
        fb.series_names(fresh)
