"""Regroup the fork's work as one upstream pull request per problem: `make upstream-pr`.

For every group declared in upstream-pr/groups.toml this writes dist/upstream-pr/<name>/:

  series/   format-patch files, to `git am` onto upstream: one commit adding the fork's modules at their
            upstream paths (litellm/...), the group's patches from patches/ (their commits as they are,
            calling into those modules), one commit adding the tests (tests/test_litellm/...), one adding
            the docs page at upstream's docs-site path with Docusaurus front matter
  PR.md     the pull-request description (from the group's template; benchmark numbers from the newest
            bench/results/*/report.md, else from README's "## Benchmarks")

A group whose files are not all present yet is skipped with a message naming what is missing.

Then, unless --no-verify, each group is verified on its own: a fresh git repository is made from the
pristine pinned wheel, the group's series is applied with `git am` (it must apply cleanly, without any
other group's patches), and the group's unit tests run against that tree (its `litellm` first on the
path, checked). Any failure stops the command with exit status 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
SKIP_PARTS = {"__pycache__", ".pytest_cache", ".hypothesis"}


def _load_forkbuild() -> ModuleType:
    spec = importlib.util.spec_from_file_location("forkbuild", Path(__file__).with_name("forkbuild.py"))
    if spec is None or spec.loader is None:
        raise ImportError("tools/forkbuild.py cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("forkbuild", module)  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


fb = _load_forkbuild()
BuildError = fb.BuildError


def log(message: str) -> None:
    print(f"upstream-pr: {message}", flush=True)


@dataclass
class Group:
    name: str
    branch: str
    title: str
    template: str
    patch_group: str
    modules: list[str]
    tests: list[str]
    docs_source: str
    docs_target: str
    docs_title: str
    docs_sidebar_label: str
    docs_description: str
    commit_modules: str
    commit_tests: str
    commit_docs: str
    docs_drop: list[str] = field(default_factory=list)
    docs_drop_sections: list[str] = field(default_factory=list)
    docs_replace: list[list[str]] = field(default_factory=list)
    benchmarks: list[str] = field(default_factory=list)
    benchmark_sections: list[str] = field(default_factory=list)
    verify_pristine_copy: str | None = None
    depends_on: list[str] = field(default_factory=list)


@dataclass
class Resolved:
    """A group's files in a checkout: patches in series order, the rest relative to the checkout."""

    group: Group
    patches: list[Path]
    modules: list[Path]
    tests: list[Path]
    docs: Path
    missing: list[str]


def load_groups(path: Path) -> tuple[list[Group], dict, dict]:
    """The groups in dependency order, the [verify] settings, and [not_upstream] (work kept in the fork)."""
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise BuildError(f"{path}: {e}") from e
    groups = []
    for raw in data.get("group", []):
        try:
            groups.append(Group(**raw))
        except TypeError as e:
            raise BuildError(f"{path}: group {raw.get('name', '?')!r}: {e}") from e
    names = [g.name for g in groups]
    if len(set(names)) != len(names):
        raise BuildError(f"{path}: group names must be unique: {names}")
    by_name = {g.name: g for g in groups}
    ordered: list[Group] = []

    def visit(group: Group, chain: tuple[str, ...]) -> None:
        if group in ordered:
            return
        if group.name in chain:
            raise BuildError(f"{path}: depends_on makes a cycle: {' -> '.join((*chain, group.name))}")
        for dep in group.depends_on:
            if dep not in by_name:
                raise BuildError(f"{path}: group {group.name!r} depends on unknown group {dep!r}")
            visit(by_name[dep], (*chain, group.name))
        ordered.append(group)

    for group in groups:
        visit(group, ())
    return ordered, data.get("verify", {}), data.get("not_upstream", {})


def with_dependencies(groups: list[Group], wanted: list[str]) -> set[str]:
    by_name = {g.name: g for g in groups}
    names: set[str] = set()
    todo = list(wanted)
    while todo:
        name = todo.pop()
        if name not in names:
            names.add(name)
            todo.extend(by_name[name].depends_on)
    return names


def series_names(source: Path) -> list[str]:
    series = source / "patches" / "series"
    if not series.exists():
        return []
    names = [line.strip() for line in series.read_text().splitlines()]
    return [n for n in names if n and not n.startswith("#")]


def files_matching(source: Path, patterns: list[str]) -> list[Path]:
    found: set[Path] = set()
    for pattern in patterns:
        for path in source.glob(pattern):
            rel = path.relative_to(source)
            if path.is_file() and not SKIP_PARTS & set(rel.parts) and path.suffix != ".pyc":
                found.add(rel)
    return sorted(found)


def in_patch_groups(entry: str, groups: list[str]) -> bool:
    """Whether a patches/series entry (``<group folder>/<file>``) lies in one of these group folders."""
    return entry.split("/", 1)[0] in groups


def resolve(group: Group, source: Path) -> Resolved:
    names = series_names(source)
    patches = [source / "patches" / n for n in names if in_patch_groups(n, [group.patch_group])]
    modules = files_matching(source, group.modules)
    tests = files_matching(source, group.tests)
    docs = Path(group.docs_source)
    missing = []
    if not patches:
        missing.append(f"no entry of patches/series is in patches/{group.patch_group}/")
    absent = [str(p.relative_to(source / "patches")) for p in patches if not p.exists()]
    if absent:
        missing.append(f"patches/series names missing files {absent}")
    if not modules:
        missing.append(f"no module matches {group.modules}")
    if not [t for t in tests if t.name.startswith("test_") and t.suffix == ".py"]:
        missing.append(f"no test_*.py matches {group.tests}")
    if not (source / docs).is_file():
        missing.append(f"no docs page {group.docs_source}")
    return Resolved(group, patches, modules, tests, docs, missing)


def check_ownership(resolved: list[Resolved], source: Path, not_upstream: dict | None = None) -> None:
    """Each patch and fork module belongs to at most one group; what belongs to none is reported.

    ``not_upstream`` (groups.toml's [not_upstream]: ``patch_groups`` folders, ``modules`` globs and a ``why``)
    names work deliberately kept in the fork for now: it is listed once, with its reason, not warned about.
    """
    kept = not_upstream or {}
    owners: dict[str, list[str]] = {}
    for r in resolved:
        for item in [str(p.relative_to(source)) for p in r.patches] + [str(m) for m in r.modules]:
            owners.setdefault(item, []).append(r.group.name)
    shared = {item: names for item, names in owners.items() if len(names) > 1}
    if shared:
        raise BuildError(f"files claimed by more than one group: {shared}")
    everything = [f"patches/{n}" for n in series_names(source)] + [
        str(m) for m in files_matching(source, ["litellm/**/*"])
    ]
    local_patches = {f"patches/{n}" for n in series_names(source) if in_patch_groups(n, kept.get("patch_groups", []))}
    local = local_patches | {str(m) for m in files_matching(source, kept.get("modules", []))}
    claimed = local & set(owners)
    if claimed:
        raise BuildError(f"[not_upstream] names files that a group also claims: {sorted(claimed)}")
    if local:
        log(f"kept in the fork, not sent upstream ({kept.get('why', 'no reason given')}): {sorted(local)}")
    orphans = [item for item in everything if item not in owners and item not in local]
    if orphans:
        log(f"warning: in no group (not sent upstream): {orphans}")


# --- git -------------------------------------------------------------------------------------------


def git(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    full = {**os.environ, "GIT_CEILING_DIRECTORIES": str(cwd.parent), **(env or {})}
    return fb.run(["git", *fb.GIT_IDENTITY, "-c", "core.autocrlf=false", *args], cwd=cwd, env=full)


def patch_header(patch: Path, name: str) -> str:
    """A mail header of a format-patch file, folded continuation lines joined."""
    lines = patch.read_text().splitlines()
    for i, line in enumerate(lines):
        if not line:
            break
        if line.startswith(f"{name}: "):
            value = line[len(name) + 2 :]
            for cont in lines[i + 1 :]:
                if not cont.startswith((" ", "\t")):
                    break
                value += " " + cont.strip()
            return value
    raise BuildError(f"{patch.name}: no {name}: header")


def touched_files(patches: list[Path]) -> list[str]:
    files: set[str] = set()
    for patch in patches:
        for line in patch.read_text().splitlines():
            m = re.match(r"^diff --git a/(\S+) b/(\S+)$", line)
            if m:
                files.update(m.groups())
    return sorted(files)


def commit_all(repo: Path, message: str, author: str, date: str) -> None:
    m = re.fullmatch(r"(.*?) *<(.*)>", author)
    if not m:
        raise BuildError(f"cannot read an author (name <email>) from {author!r}")
    name, email = m.groups()
    env = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }
    git("add", "--all", cwd=repo)
    with tempfile.NamedTemporaryFile("w", suffix=".msg", delete=False) as f:
        f.write(message.strip() + "\n")
    try:
        git("commit", "--quiet", "--no-verify", "--cleanup=strip", "-F", f.name, cwd=repo, env=env)
    finally:
        os.unlink(f.name)


# --- the docs page ---------------------------------------------------------------------------------


def docs_page(group: Group, source: Path) -> str:
    text = (source / group.docs_source).read_text()
    for heading in group.docs_drop_sections:
        body = section(text, heading)
        if body is None:
            log(f"warning: {group.name}: docs_drop_sections {heading!r} is not a heading of {group.docs_source}")
            continue
        text = re.sub(rf"^#+ {re.escape(heading)}\n+" + re.escape(body) + r"\n*", "", text, count=1, flags=re.M)
    paragraphs = re.split(r"\n{2,}", text)
    kept = [p for p in paragraphs if not any(s in p for s in group.docs_drop)]
    for s in group.docs_drop:
        if not any(s in p for p in paragraphs):
            log(f"warning: {group.name}: docs_drop {s!r} matches nothing in {group.docs_source}")
    text = "\n\n".join(kept)
    for old, new in group.docs_replace:
        if old not in text:
            log(f"warning: {group.name}: docs_replace {old!r} matches nothing in {group.docs_source}")
        text = text.replace(old, new)
    front = "\n".join(
        [
            "---",
            f"title: {json.dumps(group.docs_title)}",
            f"sidebar_label: {json.dumps(group.docs_sidebar_label)}",
            f"description: {json.dumps(group.docs_description)}",
            "---",
        ]
    )
    return f"{front}\n\n{text.strip()}\n"


# --- building a group's series ---------------------------------------------------------------------


def add_files(r: Resolved, rels: list[Path], message: str, repo: Path, source: Path, author: str, date: str) -> None:
    try:
        fb.add_new_files(rels, source, repo)
    except fb.BuildError as e:
        raise BuildError(f"{r.group.name}: {e}") from e
    commit_all(repo, message, author, date)


def build_series(r: Resolved, wheel: Path, source: Path, out: Path) -> list[Path]:
    """The group's commits on a repository holding only the upstream files its patches touch."""
    author = patch_header(r.patches[0], "From")
    date = patch_header(r.patches[-1], "Date")
    with tempfile.TemporaryDirectory(prefix="upstream-pr-build-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        with zipfile.ZipFile(wheel) as zf:
            names = set(zf.namelist())
            for name in touched_files(r.patches):
                if name in names:
                    dest = repo / name
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(zf.read(name))
        git("init", "--quiet", cwd=repo)
        git("add", "--all", cwd=repo)
        git("commit", "--quiet", "--no-verify", "--allow-empty", "-m", "upstream (touched files)", cwd=repo)
        git("tag", "upstream", cwd=repo)
        # the modules first, so that no commit refers to a module that is not there yet, then the hunks
        # that call into them, the tests and the docs page
        add_files(r, r.modules, r.group.commit_modules, repo, source, author, date)
        try:
            git("am", "--quiet", "--keep-cr", *map(str, r.patches), cwd=repo)
        except BuildError as e:
            raise BuildError(f"{r.group.name}: the group's patches do not apply to the pinned upstream:\n{e}") from e
        add_files(r, r.tests, r.group.commit_tests, repo, source, author, date)
        target = repo / r.group.docs_target
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(docs_page(r.group, source))
        commit_all(repo, r.group.commit_docs, author, date)
        series_dir = out / "series"
        series_dir.mkdir(parents=True)
        git(
            "format-patch",
            "--quiet",
            "--zero-commit",
            "--no-signature",
            "--no-stat",
            "--output-directory",
            str(series_dir),
            "upstream..HEAD",
            cwd=repo,
        )
    return sorted(series_dir.glob("*.patch"))


# --- PR.md -----------------------------------------------------------------------------------------


def section(text: str, heading: str) -> str | None:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(#+) (.*)$", line)
        if m and m.group(2).strip() == heading:
            level = len(m.group(1))
            body = []
            in_code = False
            for rest in lines[i + 1 :]:
                if rest.startswith("```"):
                    in_code = not in_code
                h = re.match(r"^(#+) ", rest)
                if h and not in_code and len(h.group(1)) <= level:
                    break
                body.append(rest)
            return "\n".join(body).strip()
    return None


def demote(text: str, to: int = 3) -> str:
    """Headings of a quoted report shifted so that its top level is `to`, below the PR's own sections."""
    lines, in_code, levels = text.splitlines(), False, []
    for line in lines:
        if line.startswith("```"):
            in_code = not in_code
        m = re.match(r"^(#+) ", line)
        if m and not in_code:
            levels.append(len(m.group(1)))
    shift = max(0, to - min(levels)) if levels else 0
    out, in_code = [], False
    for line in lines:
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and re.match(r"^#+ ", line):
            line = "#" * shift + line
        out.append(line)
    return "\n".join(out)


TABLE_ROW = re.compile(r"^\|.*\|\s*$", re.M)
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s:]+)\)")


def report_sections(text: str, wanted: list[str]) -> str | None:
    """A report's introduction (title dropped) and its level-2 sections whose heading matches `wanted`
    and that hold a table; None if no section qualifies."""
    parts = re.split(r"^(?=## )", text, flags=re.M)
    intro = "\n".join(line for line in parts[0].splitlines() if not line.startswith("# ")).strip()
    kept = [
        part.strip()
        for part in parts[1:]
        if any(re.search(w, part.splitlines()[0]) for w in wanted) and TABLE_ROW.search(part)
    ]
    if not kept:
        return None
    return "\n\n".join([intro, *kept]).strip()


def benchmarks(group: Group, source: Path, out: Path) -> str:
    """Numbers for PR.md from the first source that has them; images a report shows are copied beside PR.md."""
    for spec in group.benchmarks:
        pattern, _, heading = spec.partition("#")
        matches = [p for p in source.glob(pattern) if p.is_file()]
        if not matches:
            continue
        newest = max(matches, key=lambda p: (p.stat().st_mtime, str(p)))
        rel = newest.relative_to(source)
        text = newest.read_text()
        if heading:
            body = section(text, heading)
            if body is None or not TABLE_ROW.search(body):
                continue
            return f'From the fork\'s `{rel}` (section "{heading}"):\n\n{body}'
        body = report_sections(text, group.benchmark_sections) if group.benchmark_sections else text.strip()
        if body is None:
            continue
        for _, image in IMAGE.findall(body):
            picture = (newest.parent / image).resolve()
            if picture.is_file() and picture.is_relative_to(newest.parent.resolve()):
                shutil.copyfile(picture, out / picture.name)
        body = IMAGE.sub(lambda m: f"![{m.group(1)}]({Path(m.group(2)).name})", body)
        return f"From `{rel}`:\n\n{demote(body)}"
    return "No benchmark report or README benchmark section with a table was found."


def write_pr(
    r: Resolved, series: list[Path], out: Path, source: Path, pin, verification: str, deps: list[Group]
) -> Path:
    subjects = [re.sub(r"^\[PATCH [^]]*\] ", "", subject_of(p)) for p in series]
    test_files = [str(t) for t in r.tests]
    values = {
        "title": r.group.title,
        "name": r.group.name,
        "branch": r.group.branch,
        "upstream_version": pin.version,
        "series": "\n".join(f"{i}. `{s}`" for i, s in enumerate(subjects, 1)),
        "modules": "\n".join(f"- `{m}`" for m in r.modules),
        "tests": "\n".join(f"- `{t}`" for t in test_files),
        "docs_target": r.group.docs_target,
        "docs_page": "proxy/" + Path(r.group.docs_target).stem
        if "/docs/proxy/" in r.group.docs_target
        else r.group.docs_target,
        "test_command": test_command_text(r),
        "benchmarks": benchmarks(r.group, source, out),
        "verification": verification,
        "depends": (
            "Stacked on "
            + ", ".join(f'`{d.name}` (branch `{d.branch}`, "{d.title}")' for d in deps)
            + ": send that pull request first; this series applies on top of it."
            if deps
            else "Independent of this fork's other pull requests: the series applies to upstream on its own."
        ),
    }
    template_path = source / r.group.template
    if not template_path.exists():
        template_path = ROOT / r.group.template
    if template_path.exists():
        text = Template(template_path.read_text()).substitute(values)
    else:
        log(f"warning: {r.group.name}: no template {r.group.template}; writing a minimal PR.md")
        text = Template(DEFAULT_TEMPLATE).substitute(values)
    path = out / "PR.md"
    path.write_text(text.rstrip() + "\n")
    return path


DEFAULT_TEMPLATE = """# $title

$depends

## Changes

$series

## Tests

$tests

```shell
$test_command
```

$verification

## Benchmarks

$benchmarks
"""


def subject_of(patch: Path) -> str:
    return patch_header(patch, "Subject")


# --- verification ----------------------------------------------------------------------------------


def test_targets(r: Resolved) -> list[str]:
    return [str(t) for t in r.tests if t.name.startswith("test_") and t.suffix == ".py"]


def test_command_text(r: Resolved) -> str:
    dirs = sorted({str(Path(t).parent) for t in test_targets(r)})
    return f"LITELLM_LOCAL_MODEL_COST_MAP=True python -m pytest {' '.join(dirs)} -q"


def missing_module_hint(stderr: str, owners: dict[str, str], name: str) -> str:
    """When the tree lacks a module another group adds, say so: the groups are not independent."""
    m = re.search(r"No module named '([\w.]+)'", stderr)
    if not m:
        return ""
    stem = m.group(1).replace(".", "/")
    for path in (f"{stem}.py", f"{stem}/__init__.py"):
        if path in owners and owners[path] != name:
            return (
                f"\n{name} imports {m.group(1)}, which group {owners[path]!r} adds ({path}): the pull request is "
                f"not independent. Remove that dependency, or declare depends_on = [{owners[path]!r}] for "
                f"{name!r} in upstream-pr/groups.toml to send it stacked on {owners[path]!r}."
            )
    return ""


def verify(
    r: Resolved,
    series: list[Path],
    wheel: Path,
    pin,
    pytest_args: list[str],
    base: dict[str, list[Path]],
    owners: dict[str, str],
) -> str:
    """Fresh repository from the pristine wheel, `git am` the series (after those of the groups it depends
    on, if any), run the group's unit tests there."""
    name = r.group.name
    with tempfile.TemporaryDirectory(prefix="upstream-pr-verify-") as tmp:
        started = time.monotonic()
        tree = fb.unpack(wheel, Path(tmp), pin)
        git("init", "--quiet", cwd=tree)
        git("add", "--all", cwd=tree)
        git("commit", "--quiet", "--no-verify", "-m", f"{pin.name} {pin.version} (pristine wheel)", cwd=tree)
        for dep, dep_series in base.items():
            try:
                git("am", "--keep-cr", *map(str, dep_series), cwd=tree)
            except BuildError as e:
                raise BuildError(f"{name}: the series of {dep} (a dependency) does not apply:\n{e}") from e
        onto = " + ".join([f"pristine {pin.name} {pin.version}", *base])
        try:
            git("am", "--keep-cr", *map(str, series), cwd=tree)
        except BuildError as e:
            raise BuildError(f"{name}: the series does not apply to {onto}:\n{e}") from e
        dirty = git("status", "--porcelain", cwd=tree).strip()
        if dirty:
            raise BuildError(f"{name}: `git am` left the tree dirty:\n{dirty}")
        applied = len(git("rev-list", "HEAD", cwd=tree).split()) - 1
        expected = len(series) + sum(len(s) for s in base.values())
        if applied != expected:
            raise BuildError(f"{name}: {applied} commits applied, expected {expected}")
        log(f"{name}: {len(series)} patches applied to {onto} ({time.monotonic() - started:.0f} s)")
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONPATH": str(tree)}
        # bytecode in the throwaway tree: the import check compiles litellm once, pytest reuses it
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        started = time.monotonic()
        probe = subprocess.run(
            [sys.executable, "-c", "import litellm; print(litellm.__file__)"],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        imported = Path(probe.stdout.strip().splitlines()[-1]) if probe.stdout.strip() else None
        if probe.returncode != 0 or imported is None or not imported.resolve().is_relative_to(tree.resolve()):
            raise BuildError(
                f"{name}: the tree's litellm does not import, or is not what gets imported (got {imported}):\n"
                f"{probe.stderr[-3000:]}{missing_module_hint(probe.stderr, owners, name)}"
            )
        log(f"{name}: imports litellm from the tree ({time.monotonic() - started:.0f} s)")
        if r.group.verify_pristine_copy:
            # the parity tests compare with unpatched litellm: a pristine copy of the wheel, beside the tree
            reference = tree / r.group.verify_pristine_copy
            reference.mkdir(parents=True)
            with zipfile.ZipFile(wheel) as zf:
                zf.extractall(reference)
        targets = test_targets(r)
        cmd = [sys.executable, "-m", "pytest", *targets, "-q", "-p", "no:cacheprovider", *pytest_args]
        started = time.monotonic()
        tests = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=1800)
        report = tests.stdout + tests.stderr
        summary = next(
            (line.strip("= ") for line in reversed(report.splitlines()) if re.search(r"\d+ (passed|failed)", line)),
            "no summary",
        )
        summary = re.sub(r" in [\d.]+s( \([\d:]+\))?$", "", summary)
        if tests.returncode != 0:
            print(report[-20000:], file=sys.stderr)
            hint = missing_module_hint(report, owners, name)
            raise BuildError(f"{name}: unit tests failed against {onto} + the series: {summary}{hint}")
        log(f"{name}: unit tests against the tree: {summary} ({time.monotonic() - started:.0f} s)")
        started = time.monotonic()
    log(f"{name}: removed the tree ({time.monotonic() - started:.0f} s)")
    return summary


# --- main ------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    source = args.source.resolve()
    groups, verify_cfg, not_upstream = load_groups(args.groups)
    unknown = set(args.only or []) - {g.name for g in groups}
    if unknown:
        raise BuildError(f"no such group: {sorted(unknown)}")
    pin = fb.Pin.load(source / "upstream" / "pin.toml")
    wheel = fb.fetch(pin)
    resolved = [resolve(g, source) for g in groups]
    check_ownership(resolved, source, not_upstream)
    owners = {str(m): r.group.name for r in resolved for m in r.modules}
    if args.only:
        wanted = with_dependencies(groups, args.only)
        resolved = [r for r in resolved if r.group.name in wanted]
    by_name = {r.group.name: r for r in resolved}
    out_root = args.out.resolve()
    out_root.mkdir(parents=True, exist_ok=True)
    done: list[str] = []
    failed: dict[str, str] = {}
    built: dict[str, list[Path]] = {}
    for r in resolved:
        out = out_root / r.group.name
        if out.exists():
            shutil.rmtree(out)
        if r.missing:
            log(f"skipping {r.group.name}: not present in this checkout yet ({'; '.join(r.missing)})")
            continue
        absent = [dep for dep in r.group.depends_on if dep not in built]
        if absent:
            why = "failed" if set(absent) & set(failed) else "not present in this checkout yet"
            log(f"skipping {r.group.name}: it depends on {absent} ({why})")
            continue
        started = time.monotonic()
        try:
            series = build_series(r, wheel, source, out)
            log(f"{r.group.name}: {len(series)} patches in {out.relative_to(out_root.parent)}/series")
            base = {dep: built[dep] for dep in order_of(r.group.depends_on, by_name)}
            onto = " + ".join([f"pristine {pin.name} {pin.version}", *(f"the series of `{dep}`" for dep in base)])
            if args.no_verify:
                verification = "Not verified in this run (`--no-verify`)."
            else:
                summary = verify(r, series, wheel, pin, list(verify_cfg.get("pytest_args", [])), base, owners)
                alone = " on its own" if not base else ""
                verification = (
                    f"Checked by `make upstream-pr`: the series applies with `git am` to {onto}{alone}, "
                    f"and these tests then pass against that tree: {summary}."
                )
            write_pr(r, series, out, source, pin, verification, [by_name[d].group for d in base])
        except BuildError as e:
            # no half-written pull request is left behind; the other groups still run
            shutil.rmtree(out, ignore_errors=True)
            print(f"upstream-pr: error: {e}", file=sys.stderr, flush=True)
            failed[r.group.name] = str(e).splitlines()[0]
            continue
        built[r.group.name] = series
        log(f"{r.group.name}: done in {time.monotonic() - started:.0f} s")
        done.append(r.group.name)
    if failed:
        raise BuildError(f"{len(failed)} group(s) failed, their output removed: {sorted(failed)}")
    if not done:
        log("no group is present: nothing written")
    return 0


def order_of(deps: list[str], by_name: dict[str, Resolved]) -> list[str]:
    """The groups a group depends on, directly or not, dependencies first."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        for dep in by_name[name].group.depends_on:
            visit(dep)
        if name not in ordered:
            ordered.append(name)

    for dep in deps:
        visit(dep)
    return ordered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=Path, default=ROOT / "upstream-pr" / "groups.toml")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "upstream-pr")
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout to read (default: this one)")
    parser.add_argument("--only", action="append", metavar="NAME", help="only this group (repeatable)")
    parser.add_argument("--no-verify", action="store_true", help="skip applying to pristine upstream and testing")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except BuildError as e:
        print(f"upstream-pr: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
