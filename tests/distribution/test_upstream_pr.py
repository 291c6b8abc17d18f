"""`make upstream-pr` (tools/upstream_pr.py): one verified pull request per group of upstream-pr/groups.toml."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "upstream_pr.py"
GROUPS = tomllib.loads((ROOT / "upstream-pr" / "groups.toml").read_text())["group"]
CONVENTIONAL = re.compile(r"^(feat|fix|perf|refactor|docs|test|build|chore|ci|style)(\([\w./-]+\))?!?: \S")


def kit(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=timeout)


def series_names() -> list[str]:
    lines = (ROOT / "patches" / "series").read_text().splitlines()
    return [n.strip() for n in lines if n.strip() and not n.startswith("#")]


def group_patches(group: dict) -> list[str]:
    """The group's entries of patches/series: those in its folder, in series order."""
    return [n for n in series_names() if n.split("/", 1)[0] == group["patch_group"]]


def present(group: dict) -> bool:
    has_patch = bool(group_patches(group))
    has_modules = any(f.is_file() for p in group["modules"] for f in ROOT.glob(p))
    has_tests = any(f.name.startswith("test_") for p in group["tests"] for f in ROOT.glob(p))
    return has_patch and has_modules and has_tests and (ROOT / group["docs_source"]).is_file()


def subject(patch: Path) -> str:
    text = patch.read_text()
    m = re.search(r"^Subject: \[PATCH \d+/\d+\] (.*(?:\n .*)*)", text, re.M)
    assert m, patch.name
    return " ".join(m.group(1).split())


def added_files(patch: Path) -> list[str]:
    text = patch.read_text()
    return re.findall(r"^diff --git a/\S+ b/(\S+)\nnew file mode 100644", text, re.M)


@pytest.fixture(scope="module")
def verified(tmp_path_factory):
    out = tmp_path_factory.mktemp("upstream-pr")
    done = kit("--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return out, done.stdout + done.stderr


@pytest.mark.timeout(900)
def test_every_present_group_is_written_and_verified(verified):
    out, report = verified
    groups = [g for g in GROUPS if present(g)]
    assert groups, "at least the buffered-stream group is present"
    for group in GROUPS:
        name = group["name"]
        if not present(group):
            assert f"skipping {name}: not present" in report
            assert not (out / name).exists()
            continue
        assert f"{name}: unit tests against the tree:" in report and "passed" in report
        written = sorted(p.name for p in (out / name).iterdir())
        assert [n for n in written if not n.endswith(".png")] == ["PR.md", "series"], written


@pytest.mark.timeout(900)
@pytest.mark.parametrize("group", [g for g in GROUPS if present(g)], ids=lambda g: g["name"])
def test_series_layout(verified, group):
    out, _ = verified
    ours = group_patches(group)
    series = sorted((out / group["name"] / "series").glob("*.patch"))
    assert len(series) == len(ours) + 3
    for patch in series:
        assert CONVENTIONAL.match(subject(patch)), subject(patch)
        assert patch.read_text().startswith("From 0000000000000000000000000000000000000000 ")

    # the upstream hunks: the fork's patches as they are, but for the [PATCH n/m] numbering (and so the
    # subject's folding), and blob ids and line numbers, which are against pristine upstream now (a later
    # group's patches in patches/ may have been made on top of an earlier group's)
    def body(text: str) -> str:
        header, _, rest = text.partition("\n\n")
        header = re.sub(r"\[PATCH[^]]*\] ", "", header.replace("\n ", " "))
        rest = re.sub(r"^index [0-9a-f]+\.\.[0-9a-f]+", "index", rest, flags=re.M)
        return header + "\n\n" + re.sub(r"^@@ -\d+(,\d+)? \+\d+(,\d+)? @@", "@@", rest, flags=re.M)

    modules, hunks, tests, docs = series[0], series[1:-2], series[-2], series[-1]
    for name, patch in zip(ours, hunks, strict=True):
        assert body(patch.read_text()) == body((ROOT / "patches" / name).read_text()), name

    module_files = sorted({str(f.relative_to(ROOT)) for p in group["modules"] for f in ROOT.glob(p) if f.is_file()})
    module_files = [f for f in module_files if "__pycache__" not in f]
    assert added_files(modules) == module_files
    assert all(f.startswith("litellm/") for f in added_files(modules))
    assert added_files(tests) and all(f.startswith("tests/test_litellm/") for f in added_files(tests))
    assert added_files(docs) == [group["docs_target"]]
    assert group["docs_target"].startswith("docs/my-website/docs/proxy/")
    assert re.search(r"^@@ .* @@\n\+---\n\+title: ", docs.read_text(), re.M), "Docusaurus front matter"
    assert "make run" not in docs.read_text()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("group", [g for g in GROUPS if present(g)], ids=lambda g: g["name"])
def test_pr_description(verified, group):
    out, _ = verified
    text = (out / group["name"] / "PR.md").read_text()
    assert text.startswith(f"# {group['title']}\n")
    for heading in ("## Problem", "## Design", "## Configuration", "## Tests", "## Benchmarks"):
        assert heading in text, heading
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (out / group["name"] / image).is_file(), f"PR.md shows {image}, not written beside it"
    assert "git am" in text and "pass against that tree" in text
    assert re.search(r"^\| .* \|$", text, re.M), "a benchmark table"
    assert str(ROOT) not in text


def test_a_group_whose_files_are_missing_is_skipped(tmp_path):
    groups = (ROOT / "upstream-pr" / "groups.toml").read_text()
    groups += """
[[group]]
name = "not-yet"
branch = "feat/not-yet"
title = "feat: not yet"
template = "upstream-pr/not-yet.md"
patch_group = "not-yet"
modules = ["litellm/not_yet/*"]
tests = ["tests/test_litellm/not_yet/*"]
docs_source = "docs/not-yet.md"
docs_target = "docs/my-website/docs/proxy/not_yet.md"
docs_title = "Not yet"
docs_sidebar_label = "Not yet"
docs_description = "Not yet"
commit_modules = "feat: x"
commit_tests = "test: x"
commit_docs = "docs: x"
"""
    (tmp_path / "groups.toml").write_text(groups)
    done = kit("--groups", str(tmp_path / "groups.toml"), "--out", str(tmp_path / "out"), "--no-verify")
    assert done.returncode == 0, done.stderr
    assert "skipping not-yet: not present in this checkout yet" in done.stdout
    assert "patches/not-yet/" in done.stdout and "docs/not-yet.md" in done.stdout
    assert not (tmp_path / "out" / "not-yet").exists()
    assert (tmp_path / "out" / "buffered-stream" / "PR.md").exists()
    assert "Not verified in this run" in (tmp_path / "out" / "buffered-stream" / "PR.md").read_text()


def test_output_is_byte_stable(tmp_path):
    first = kit("--out", str(tmp_path / "a"), "--no-verify", "--only", "buffered-stream")
    second = kit("--out", str(tmp_path / "b"), "--no-verify", "--only", "buffered-stream")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    for patch in (tmp_path / "a" / "buffered-stream" / "series").iterdir():
        assert patch.read_bytes() == (tmp_path / "b" / "buffered-stream" / "series" / patch.name).read_bytes()


def test_a_patch_that_does_not_apply_fails_loudly(tmp_path):
    source = tmp_path / "checkout"
    for part in ("upstream", "litellm", "tests/test_litellm", "docs", "upstream-pr"):
        (source / part).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-r", str(ROOT / part), str(source / part)], check=True)
    (source / "patches").mkdir()
    names = series_names()
    for name in names:
        text = (ROOT / "patches" / name).read_text()
        if name == names[0]:
            text = text.replace("     complete_response: bool | None = None\n", "     complete_response: int\n", 1)
        (source / "patches" / name).parent.mkdir(exist_ok=True)
        (source / "patches" / name).write_text(text)
    (source / "patches" / "series").write_text("".join(f"{n}\n" for n in names))
    done = kit("--source", str(source), "--out", str(tmp_path / "out"), "--no-verify", "--only", "buffered-stream")
    assert done.returncode == 1
    assert "do not apply to the pinned upstream" in done.stderr


def load_tool():
    spec = importlib.util.spec_from_file_location("upstream_pr", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("upstream_pr", module)
    spec.loader.exec_module(module)
    return module


def test_an_import_of_another_groups_module_is_named():
    tool = load_tool()
    owners = {"litellm/other/thing.py": "other-group", "litellm/mine/a.py": "mine"}
    hint = tool.missing_module_hint("ModuleNotFoundError: No module named 'litellm.other.thing'", owners, "mine")
    assert "not independent" in hint and "depends_on = ['other-group']" in hint
    assert tool.missing_module_hint("No module named 'litellm.mine.a'", owners, "mine") == ""
    assert tool.missing_module_hint("AssertionError", owners, "mine") == ""


def test_depends_on_stacks_a_pr_on_another(tmp_path):
    groups = re.sub(r"^depends_on = .*\n", "", (ROOT / "upstream-pr" / "groups.toml").read_text(), flags=re.M)
    names = [g["name"] for g in GROUPS]
    first, second = names[0], names[1]
    stacked = groups.replace(f'name = "{first}"\n', f'name = "{first}"\ndepends_on = ["{second}"]\n', 1)
    (tmp_path / "groups.toml").write_text(stacked)
    done = kit(
        "--groups", str(tmp_path / "groups.toml"), "--out", str(tmp_path / "out"), "--no-verify", "--only", first
    )
    assert done.returncode == 0, done.stderr
    if not present(GROUPS[1]):
        assert f"skipping {first}: it depends on ['{second}']" in done.stdout
        return
    assert done.stdout.index(f"{second}: ") < done.stdout.index(f"{first}: "), "the dependency is built first"
    assert f"Stacked on `{second}`" in (tmp_path / "out" / first / "PR.md").read_text()

    cyclic = stacked.replace(f'name = "{second}"\n', f'name = "{second}"\ndepends_on = ["{first}"]\n', 1)
    (tmp_path / "groups.toml").write_text(cyclic)
    done = kit("--groups", str(tmp_path / "groups.toml"), "--out", str(tmp_path / "out"), "--no-verify")
    assert done.returncode == 1 and "cycle" in done.stderr
