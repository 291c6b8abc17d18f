"""The built and installed wheel is what users get: check it, and the build's refusals."""

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
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
        assert names == fb.series_entries()
        for patch, name in zip(exported, names, strict=True):
            assert patch.path.read_bytes() == (ROOT / "patches" / name).read_bytes(), name

        # a new commit at the end joins the group its trailer names, whatever group the last patch is in
        tree = ROOT / "build" / "tree"
        (tree / "litellm" / "_version.py").write_text((tree / "litellm" / "_version.py").read_text() + "# new\n")
        message = ["-m", "feat(x): a new patch", "-m", "Why.", "-m", "Patch-Group: bounded-memory"]
        fb.git("commit", "--quiet", "--no-verify", "-a", *message, cwd=tree)
        fresh = fb.format_series(tmp_path / "fresh")
        group_last = max(fb._number(n) for n in names if n.startswith("bounded-memory/"))
        assert fb.series_names(fresh) == [*names, f"bounded-memory/{group_last + 1:04d}-feat-x-a-new-patch.patch"]
        text = fresh[-1].path.read_text()
        assert "Patch-Group" not in text and "Why.\n\ndiff --git" in text
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
    entries = fb.series_entries()
    broken = []
    for entry in entries:
        (patches / entry).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "patches" / entry, patches / entry)
    for entry in entries[:2]:
        text = (ROOT / "patches" / entry).read_text()
        # Same file and hunk, but context that is not in upstream: a real conflict.
        lines = text.splitlines(keepends=True)
        hunk = next(i for i, line in enumerate(lines) if line.startswith("@@ "))
        first_context = next(i for i in range(hunk, len(lines)) if lines[i].startswith(" ") and lines[i].strip())
        lines[first_context] = " this line is not in upstream at all\n"
        (patches / entry).write_text("".join(lines))
        broken.append(entry)
    (patches / "series").write_text("".join(f"{entry}\n" for entry in entries))
    monkeypatch.setattr(fb, "PATCH_DIR", patches)
    conflicts = fb.series_conflicts(pin)
    assert [c.split(":", 1)[0] for c in conflicts] == broken
    assert all("patch does not apply" in c or "patch failed" in c for c in conflicts)


# Two groups interleaved, as in the real series: a group's patches need not be next to each other.
SERIES = [
    "buffered-stream/0001-a.patch",
    "buffered-stream/0002-b.patch",
    "bounded-memory/0101-x.patch",
    "buffered-stream/0005-e.patch",
    "bounded-memory/0102-y.patch",
]
BS, BM = "buffered-stream", "bounded-memory"


def exported_commits(fb, commits: list[str | tuple[str, str]]) -> list:
    """format-patch's view of build/tree: ``slug`` or ``(slug, Patch-Group trailer)`` per commit, in order."""
    out = []
    for i, commit in enumerate(commits, 1):
        slug, group = commit if isinstance(commit, tuple) else (commit, None)
        out.append(fb.Exported(Path(f"{i:04d}-{slug}.patch"), group, f"c{i:06d} feat: {slug}"))
    return out


@pytest.mark.parametrize(
    ("commits", "expected"),
    [
        pytest.param(["a", "b", "x", "e", "y"], SERIES, id="unchanged"),
        pytest.param(
            ["a", "b", "x", "e", ("new", BS), "y"],
            [*SERIES[:4], "buffered-stream/0006-new.patch", SERIES[4]],
            id="inserted-after-the-last-buffered-stream-patch-stays-in-it-whatever-follows",
        ),
        pytest.param(
            ["a", ("new", BS), "b", "x", "e", "y"],
            [SERIES[0], "buffered-stream/0006-new.patch", *SERIES[1:]],
            id="inserted-anywhere-takes-the-next-number-of-its-group",
        ),
        pytest.param(
            ["a", "b", "x", "e", ("new", BM), "y"],
            [*SERIES[:4], "bounded-memory/0103-new.patch", SERIES[4]],
            id="the-trailer-decides-not-the-neighbours",
        ),
        pytest.param(
            ["a", "b", "x", "e", "y", ("z", BM), ("w", BS)],
            [*SERIES, "bounded-memory/0103-z.patch", "buffered-stream/0006-w.patch"],
            id="appended",
        ),
        pytest.param(
            ["a", "b", "x", "e", "y", ("fix", "auth-fix")],
            [*SERIES, "auth-fix/0201-fix.patch"],
            id="a-new-group-starts-the-next-hundred",
        ),
        pytest.param(
            ["a", "b2", "x", "e", "y"],
            [SERIES[0], "buffered-stream/0002-b2.patch", *SERIES[2:]],
            id="subject-changed",
        ),
        pytest.param(
            ["a", ("new", BM), "b2", "x", "e", "y"],
            [SERIES[0], "bounded-memory/0103-new.patch", "buffered-stream/0002-b2.patch", *SERIES[2:]],
            id="subject-changed-behind-a-new-commit",
        ),
        pytest.param(["a", "b", "e", "y"], [SERIES[0], SERIES[1], SERIES[3], SERIES[4]], id="dropped"),
        pytest.param(
            ["a", "b", ("x", BS), "e", "y"],
            [SERIES[0], SERIES[1], "buffered-stream/0101-x.patch", *SERIES[3:]],
            id="a-trailer-moves-an-existing-patch",
        ),
    ],
)
def test_export_keeps_each_patch_in_its_group(monkeypatch, commits, expected):
    fb = load_forkbuild()
    monkeypatch.setattr(fb, "series_entries", lambda ungrouped_ok=False: list(SERIES))
    assert fb.series_names(exported_commits(fb, commits)) == expected


def test_export_refuses_a_new_commit_without_a_group(monkeypatch):
    """Export does not guess a new commit's group from its position: it stops and says how to name one."""
    fb = load_forkbuild()
    monkeypatch.setattr(fb, "series_entries", lambda ungrouped_ok=False: list(SERIES))
    commits = exported_commits(fb, ["a", "b", "x", "e", "y", "new", ("other", BS), "newer"])
    with pytest.raises(fb.BuildError) as refused:
        fb.series_names(commits)
    message = str(refused.value)
    assert message.startswith("2 commit(s) in build/tree have no patch group (new, or outside a group folder):")
    assert "c000006 feat: new\n" in message and "c000008 feat: newer\n" in message and "other" not in message
    assert "Groups: buffered-stream (3 patches), bounded-memory (2 patches)." in message
    assert "git commit --amend --no-edit --trailer 'Patch-Group: buffered-stream'" in message


def test_export_files_a_patch_from_before_the_group_folders_by_its_trailer(monkeypatch):
    """A branch made before the folders has bare entries (``0108-z.patch``): a trailer on the commit files it."""
    fb = load_forkbuild()
    monkeypatch.setattr(fb, "series_entries", lambda ungrouped_ok=False: [*SERIES, "0103-z.patch"])
    with pytest.raises(fb.BuildError, match="have no patch group") as refused:
        fb.series_names(exported_commits(fb, ["a", "b", "x", "e", "y", "z"]))
    assert "c000006 feat: z\n" in str(refused.value)
    filed = fb.series_names(exported_commits(fb, ["a", "b", "x", "e", "y", ("z", BM)]))
    assert filed == [*SERIES, "bounded-memory/0103-z.patch"]


def test_series_entries_must_be_in_a_group_folder(tmp_path, monkeypatch):
    fb = load_forkbuild()
    (tmp_path / "series").write_text("# comment\nbuffered-stream/0001-a.patch\n0002-b.patch\n")
    monkeypatch.setattr(fb, "PATCH_DIR", tmp_path)
    with pytest.raises(fb.BuildError, match=r"must be <group folder>/<file>.patch: \['0002-b.patch'\]") as refused:
        fb.series_entries()
    assert "git mv patches/NAME patches/GROUP/NAME" in str(refused.value)
    assert "groups: buffered-stream" in str(refused.value)


@pytest.mark.parametrize(
    "message",
    [
        pytest.param("feat(x): one line", id="subject-only"),
        pytest.param("feat(x): with a body\n\nWhy it is needed.\n", id="body"),
        pytest.param("feat(x): with trailers\n\nWhy.\n\nSigned-off-by: A <a@example.com>\n", id="other-trailer"),
    ],
)
def test_the_group_trailer_leaves_no_trace_in_the_patch(tmp_path, message):
    """A commit with `Patch-Group:` exports to the same bytes as one without it: the folder records the group."""
    fb = load_forkbuild()
    repo = tmp_path / "repo"
    repo.mkdir()
    fb.git("init", "--quiet", cwd=repo)
    (repo / "a.txt").write_text("one\n")
    fb.git("add", "a.txt", cwd=repo)
    fb.git("commit", "--quiet", "-m", "base", cwd=repo)
    patches = {}
    for label, trailer in (("plain", []), ("grouped", ["--trailer", "Patch-Group: buffered-stream"])):
        (repo / "a.txt").write_text("one\ntwo\n")
        env = {"GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000"}
        fb.run(
            ["git", *fb.GIT_IDENTITY, "commit", "--quiet", "-a", "-m", message, *trailer],
            cwd=repo,
            env={**os.environ, **env},
        )
        out = fb.git("format-patch", "--zero-commit", "--no-signature", "--no-stat", "--stdout", "HEAD~1", cwd=repo)
        patches[label] = fb.take_group_trailer(out)
        fb.git("reset", "--quiet", "--hard", "HEAD~1", cwd=repo)
    (plain, no_group), (grouped, group) = patches["plain"], patches["grouped"]
    assert (no_group, group) == (None, "buffered-stream")
    assert "Patch-Group" not in grouped
    assert grouped == plain


def test_a_group_trailer_must_name_a_folder():
    fb = load_forkbuild()
    text = "From 0 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] x\n\nPatch-Group: Two Words\n---\n"
    with pytest.raises(fb.BuildError, match="must name one group folder"):
        fb.take_group_trailer(text)


# check-patches and export against a build/tree that is not in step with patches/: a small git repository stands in
# for the tree (two grouped commits on an `upstream` tag), exported to its own patches/ folder.


def commit_in(fb, repo: Path, subject: str, group: str | None = None) -> None:
    """A commit that appends a line to a.txt, its message ending in a `Patch-Group:` trailer when a group is given."""
    with (repo / "a.txt").open("a") as text:
        text.write(f"{subject}\n")
    trailer = ["-m", f"Patch-Group: {group}"] if group else []
    dates = {"GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000"}
    fb.run(
        ["git", *fb.GIT_IDENTITY, "commit", "--quiet", "--no-verify", "-a", "-m", subject, *trailer],
        cwd=repo,
        env={**os.environ, **dates},
    )


@pytest.fixture
def small_tree(tmp_path, monkeypatch):
    """forkbuild with build/tree and patches/ in tmp_path: the tree made and exported, so the two are in step."""
    fb = load_forkbuild()
    tree, patches = tmp_path / "tree", tmp_path / "patches"
    tree.mkdir()
    patches.mkdir()
    (patches / "series").write_text("# the series\n")
    monkeypatch.setattr(fb, "TREE_DIR", tree)
    monkeypatch.setattr(fb, "PATCH_DIR", patches)
    fb.git("init", "--quiet", cwd=tree)
    (tree / "a.txt").write_text("upstream\n")
    fb.git("add", "a.txt", cwd=tree)
    fb.run(["git", *fb.GIT_IDENTITY, "commit", "--quiet", "-m", "pristine"], cwd=tree)
    fb.git("tag", fb.UPSTREAM_TAG, cwd=tree)
    commit_in(fb, tree, "feat(x): one", BS)
    commit_in(fb, tree, "feat(y): two", BM)
    fb.export()
    assert fb.series_entries() == [f"{BS}/0001-feat-x-one.patch", f"{BM}/0101-feat-y-two.patch"]
    return fb


def add_patch_behind_the_trees_back(fb, subject: str, group: str) -> str:
    """patches/ gains a patch the tree never had (a merge brought it): its series entry."""
    tree = fb.TREE_DIR
    commit_in(fb, tree, subject, group)
    with tempfile.TemporaryDirectory() as tmp:
        exported = fb.format_series(Path(tmp))
        entry = fb.series_names(exported)[-1]
        shutil.copyfile(exported[-1].path, fb.PATCH_DIR / entry)
    with (fb.PATCH_DIR / "series").open("a") as series:
        series.write(f"{entry}\n")
    fb.git("reset", "--quiet", "--hard", "HEAD~1", cwd=tree)
    return entry


def refusal(call) -> str:
    with pytest.raises(Exception) as refused:
        call()
    assert type(refused.value).__name__ == "BuildError"
    return str(refused.value)


def test_a_tree_in_step_with_the_series_passes(small_tree):
    small_tree.check_tree_exported()


def test_a_tree_behind_the_series_is_named_as_such_with_what_it_lacks(small_tree):
    fb = small_tree
    entry = add_patch_behind_the_trees_back(fb, "feat(z): three", BM)
    assert entry == f"{BM}/0102-feat-z-three.patch"
    series_before = (fb.PATCH_DIR / "series").read_text()
    message = refusal(fb.check_tree_exported)
    assert message.startswith("build/tree is behind patches/"), message
    assert f"\n  {entry} (new)\n" in message
    assert "rm -rf build/tree && make tree" in message
    assert "not exported" not in message and "also holds commits" not in message
    # export would have written the tree's older series over the new patch: it refuses with the same message
    assert refusal(fb.export) == message
    assert (fb.PATCH_DIR / "series").read_text() == series_before and (fb.PATCH_DIR / entry).exists()


def test_a_patch_changed_in_patches_since_the_tree_was_made_is_named(small_tree):
    fb = small_tree
    patch = fb.PATCH_DIR / BS / "0001-feat-x-one.patch"
    patch.write_text(patch.read_text().replace("+feat(x): one", "+feat(x): one, as merged"))
    (fb.PATCH_DIR / "series").write_text(f"{BS}/0001-feat-x-one.patch\n")  # and the other patch was dropped
    message = refusal(fb.check_tree_exported)
    assert f"\n  {BS}/0001-feat-x-one.patch (changed)\n" in message
    assert f"\n  {BM}/0101-feat-y-two.patch (no longer in the series)\n" in message


def test_a_tree_behind_the_series_with_commits_of_its_own_names_them_to_keep(small_tree):
    fb = small_tree
    add_patch_behind_the_trees_back(fb, "feat(z): three", BM)
    commit_in(fb, fb.TREE_DIR, "feat(w): mine", BS)
    message = refusal(fb.check_tree_exported)
    assert message.startswith("build/tree is behind patches/")
    mine = fb.git("log", "-1", "--format=%h %s", cwd=fb.TREE_DIR).strip()
    assert f"also holds commits that are not in patches/; keep them before removing it:\n  {mine}\n" in message
    assert "cd build/tree && git format-patch -o ../mine HEAD~1\n" in message
    assert "git am ../mine/*.patch" in message


def test_a_commit_not_exported_keeps_its_message(small_tree):
    fb = small_tree
    commit_in(fb, fb.TREE_DIR, "feat(w): mine", BS)
    message = refusal(fb.check_tree_exported)
    assert message == (
        f"build/tree has commits that are not exported to patches/ (['{BS}/0002-feat-w-mine.patch']): run `make export`"
    )


def test_a_patch_dropped_in_the_tree_is_named(small_tree):
    fb = small_tree
    fb.git("reset", "--quiet", "--hard", "HEAD~1", cwd=fb.TREE_DIR)
    message = refusal(fb.check_tree_exported)
    assert f"it has no commit for ['{BM}/0101-feat-y-two.patch'], which export takes out of the series" in message


def test_a_tree_made_before_trees_recorded_their_series_is_still_named_behind(small_tree):
    fb = small_tree
    fb.series_record().unlink()
    entry = add_patch_behind_the_trees_back(fb, "feat(z): three", BM)
    message = refusal(fb.check_tree_exported)
    assert message.startswith("build/tree is behind patches/") and f"\n  {entry} (new)\n" in message
