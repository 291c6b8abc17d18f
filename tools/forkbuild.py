"""Build and maintain the fork: pinned upstream wheel + patch series + new modules.

Subcommands:
  fetch          download the pinned upstream wheel into the cache and verify its sha256
  wheel          build dist/litellm-<version>+<local>-...whl (series applied exactly, modules added)
  tree           make an editable upstream tree (build/tree): pristine commit, one commit per patch,
                 the fork's modules linked in
  link           link new fork modules into build/tree
  export         write the tree's commits back to patches/ (format-patch, byte-stable); refuses a tree behind patches/
  check-patches  fail if the series no longer applies, or if the tree is behind it or holds unexported edits
  upstream-files list tracked files under litellm/ that exist in the pinned wheel (must be none)
  release        dist/release/: the fork's wheel and requirements.lock (every runtime dependency and the
                 fork's wheel itself, hash-pinned), installable with one pip command
  requirement    print the pinned upstream as a requirement (`litellm[proxy]==<version>`), for the locks
  bump-pin V     point upstream/pin.toml at upstream version V (downloaded, hashed) and report whether the
                 series still applies, patch by patch

Everything runs outside the checkout or inside its own git repository, so `git apply` never meets
the project's repository (the silent "Skipped patch" trap).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATCH_DIR = ROOT / "patches"
MODULE_DIR = ROOT / "litellm"
CACHE_DIR = ROOT / ".cache" / "upstream"
DIST_DIR = ROOT / "dist"
RELEASE_DIR = DIST_DIR / "release"
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"
TREE_DIR = ROOT / "build" / "tree"
UPSTREAM_TAG = "upstream"
SOURCE_DATE_EPOCH = "1700000000"
GIT_IDENTITY = ("-c", "user.name=fork-build", "-c", "user.email=fork-build@localhost")


class BuildError(Exception):
    """A build step failed; the message says what and why."""


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    wheel: str
    sha256: str
    local_version: str

    @classmethod
    def load(cls, path: Path) -> Pin:
        data = tomllib.loads(path.read_text())
        upstream, fork = data["upstream"], data["fork"]
        pin = cls(
            name=upstream["name"],
            version=upstream["version"],
            wheel=upstream["wheel"],
            sha256=upstream["sha256"].lower(),
            local_version=fork["local_version"],
        )
        if not pin.wheel.startswith(f"{pin.name}-{pin.version}-"):
            raise BuildError(f"pin {path}: wheel {pin.wheel!r} is not version {pin.version} of {pin.name}")
        return pin

    @property
    def fork_version(self) -> str:
        return f"{self.version}+{self.local_version}"

    @property
    def fork_wheel(self) -> str:
        tags = self.wheel[len(f"{self.name}-{self.version}-") :]
        return f"{self.name}-{self.fork_version}-{tags}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(cwd.parent)}
    return run(["git", *GIT_IDENTITY, *args], cwd=cwd, env=env)


def download(name: str, version: str, into: Path) -> Path:
    """The upstream wheel of ``version`` for this platform, downloaded without dependencies."""
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(into),
            f"{name}=={version}",
        ]
    )
    wheels = sorted(into.glob(f"{name}-{version}-*.whl"))
    if len(wheels) != 1:
        got = ", ".join(sorted(p.name for p in into.iterdir())) or "nothing"
        raise BuildError(f"expected one {name} {version} wheel from the package index, got {got}")
    return wheels[0]


def fetch(pin: Pin) -> Path:
    """The pinned wheel, downloaded once into the cache; refuses any file whose hash differs."""
    target = CACHE_DIR / pin.wheel
    if not target.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            downloaded = download(pin.name, pin.version, Path(tmp))
            if downloaded.name != pin.wheel:
                raise BuildError(f"expected {pin.wheel} from the package index, got {downloaded.name}")
            shutil.move(str(downloaded), target)
    actual = sha256_of(target)
    if actual != pin.sha256:
        raise BuildError(
            f"REFUSING TO BUILD: {target.name} has sha256 {actual}, but the pin says {pin.sha256}. "
            "The upstream wheel is not the one this fork was reviewed against."
        )
    return target


GROUP_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")


def series_entries(ungrouped_ok: bool = False) -> list[str]:
    """The series as written in patches/series: ``<group>/<file>.patch`` entries in application order.

    ``ungrouped_ok``: also accept a bare ``<file>.patch`` (export files it into a group by its commit's trailer).
    """
    lines = [line.strip() for line in (PATCH_DIR / "series").read_text().splitlines()]
    entries = [line for line in lines if line and not line.startswith("#")]
    misplaced = [e for e in entries if len(e.split("/")) != 2 or not GROUP_NAME.fullmatch(e.split("/")[0])]
    if ungrouped_ok:
        misplaced = [e for e in misplaced if "/" in e]
    if misplaced:
        groups = sorted({e.split("/")[0] for e in entries if e not in misplaced}) or ["<group>"]
        raise BuildError(
            f"patches/series entries must be <group folder>/<file>.patch: {misplaced}. Move each patch into its "
            f"feature group's folder (`git mv patches/NAME patches/GROUP/NAME`) and write its line in patches/series "
            f'as GROUP/NAME; groups: {", ".join(groups)} (docs/maintaining.md, "Patch names and groups")'
        )
    return entries


def series(ungrouped_ok: bool = False) -> list[Path]:
    patches = [PATCH_DIR / entry for entry in series_entries(ungrouped_ok)]
    missing = [patch_name(p) for p in patches if not p.exists()]
    if missing:
        raise BuildError(f"patches/series names missing patches: {missing}")
    return patches


def patch_name(patch: Path) -> str:
    """A patch of the series as the series names it (``<group>/<file>``); a patch elsewhere by its file name."""
    return patch.relative_to(PATCH_DIR).as_posix() if patch.is_relative_to(PATCH_DIR) else patch.name


def fork_modules() -> list[Path]:
    """The fork's own files under litellm/, relative to the repository root."""
    return sorted(
        p.relative_to(ROOT)
        for p in MODULE_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def upstream_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def check_no_upstream_files(wheel: Path) -> None:
    clashes = [str(p) for p in fork_modules() if str(p) in upstream_names(wheel)]
    if clashes:
        raise BuildError(f"these files exist in the upstream wheel and must not be in the fork: {clashes}")


def unpack(wheel: Path, into: Path, pin: Pin) -> Path:
    run([sys.executable, "-m", "wheel", "unpack", "--dest", str(into), str(wheel)])
    return into / f"{pin.name}-{pin.version}"


def apply_patch(tree: Path, patch: Path) -> str | None:
    """Apply one patch exactly to ``tree`` (a git repository): None, or git's report of why it did not apply."""
    out = subprocess.run(
        ["git", "apply", "--verbose", "--whitespace=nowarn", str(patch)],
        cwd=tree,
        env={**os.environ, "GIT_CEILING_DIRECTORIES": str(tree.parent)},
        capture_output=True,
        text=True,
    )
    report = out.stdout + out.stderr
    if out.returncode != 0 or "Skipped patch" in report or "Applied patch" not in report:
        return report.strip()
    return None


def apply_series(tree: Path, patches: list[Path] | None = None) -> None:
    """Apply every patch exactly: no fuzz, no reject, no silent skip."""
    git("init", "--quiet", cwd=tree)
    for patch in series() if patches is None else patches:
        report = apply_patch(tree, patch)
        if report is not None:
            raise BuildError(f"patch {patch_name(patch)} does not apply exactly to the pinned upstream:\n{report}")
    shutil.rmtree(tree / ".git")


def add_new_files(rels: list[Path], source: Path, tree: Path) -> None:
    """Copy files into an upstream tree; the fork only adds files, so one that exists there is an error."""
    for rel in rels:
        dest = tree / rel
        if dest.exists():
            raise BuildError(f"{rel} would overwrite an upstream file")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, dest)
        dest.chmod(0o644)


def add_modules(tree: Path) -> None:
    add_new_files(fork_modules(), ROOT, tree)


def build_wheel(pin: Pin) -> Path:
    base = fetch(pin)
    check_no_upstream_files(base)
    DIST_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="forkbuild-") as tmp:
        tree = unpack(base, Path(tmp), pin)
        apply_series(tree)
        add_modules(tree)
        env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
        run(
            [
                sys.executable,
                "-m",
                "wheel",
                "pack",
                "--dest-dir",
                str(DIST_DIR),
                "--local-version",
                pin.local_version,
                str(tree),
            ],
            env=env,
        )
    out = DIST_DIR / pin.fork_wheel
    if not out.exists():
        raise BuildError(f"wheel pack did not write {out.name}")
    return out


def make_tree(pin: Pin) -> Path:
    """An editable upstream tree: pristine commit tagged `upstream`, one commit per patch."""
    base = fetch(pin)
    if TREE_DIR.exists():
        raise BuildError(f"{TREE_DIR.relative_to(ROOT)} exists: export your work, then remove it to start over")
    TREE_DIR.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=TREE_DIR.parent) as tmp:
        unpacked = unpack(base, Path(tmp), pin)
        unpacked.rename(TREE_DIR)
    git("init", "--quiet", cwd=TREE_DIR)
    git("add", "--all", cwd=TREE_DIR)
    git("commit", "--quiet", "--no-verify", "-m", f"{pin.name} {pin.version} (pristine wheel)", cwd=TREE_DIR)
    git("tag", UPSTREAM_TAG, cwd=TREE_DIR)
    patches = [str(p) for p in series(ungrouped_ok=True)]  # export then files a bare entry into its group
    if patches:
        git("am", "--quiet", "--keep-cr", *patches, cwd=TREE_DIR)
    record_series()
    link_modules()
    return TREE_DIR


def link_modules() -> None:
    """Symlink the fork's modules into the tree (a new folder as a whole) and hide them from git."""
    linked: set[Path] = set()
    for rel in fork_modules():
        for depth in range(1, len(rel.parts) + 1):
            part = Path(*rel.parts[:depth])
            dest = TREE_DIR / part
            if dest.is_symlink():
                break
            if not dest.exists():
                dest.symlink_to(ROOT / part)
                linked.add(part)
                break
        else:
            raise BuildError(f"fork module {rel} would shadow an upstream file")
    for stale in TREE_DIR.rglob("*"):
        if stale.is_symlink() and not stale.exists():
            stale.unlink()
    exclude = TREE_DIR / ".git" / "info" / "exclude"
    exclude.write_text("".join(f"/{part}\n" for part in sorted(linked | _excluded(exclude))))


def _excluded(exclude: Path) -> set[Path]:
    if not exclude.exists():
        return set()
    return {Path(line.lstrip("/")) for line in exclude.read_text().splitlines() if line and not line.startswith("#")}


GROUP_TRAILER = "Patch-Group"
_TRAILER_LINE = re.compile(rf"^{GROUP_TRAILER}:[ \t]*(.*?)[ \t]*$", re.IGNORECASE)
_START = "(upstream)"


@dataclass(frozen=True)
class Exported:
    """One commit of build/tree as format-patch wrote it, with its ``Patch-Group:`` trailer taken out."""

    path: Path
    group: str | None
    commit: str  # abbreviated id and subject, to name the commit in a message

    @property
    def slug(self) -> str:
        return _slug(self.path.name)


def take_group_trailer(text: str) -> tuple[str, str | None]:
    """A format-patch file without its ``Patch-Group:`` lines, and the group they name (None: no such line).

    The trailer only tells export where a new commit belongs; the patch file does not keep it (the folder
    records the group), so a patch reads the same whether or not its commit carried one.
    """
    # format-patch --no-stat writes: mail headers, a blank line, the message body, a blank line, the diff
    lines = text.split("\n")
    head_end = lines.index("")
    body_end = next((i for i, line in enumerate(lines) if line.startswith("diff --git ")), len(lines)) - 1
    body = lines[head_end + 1 : body_end]
    values = [m.group(1) for m in map(_TRAILER_LINE.match, body) if m]
    if not values:
        return text, None
    if len(set(values)) != 1 or not GROUP_NAME.fullmatch(values[0]):
        subject = next((line for line in lines if line.startswith("Subject: ")), "")
        raise BuildError(
            f"{subject!r}: {GROUP_TRAILER}: must name one group folder (lowercase letters, digits, '-'), got {values}"
        )
    kept = [line for line in body if not _TRAILER_LINE.match(line)]
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join([*lines[: head_end + 1], *kept, *lines[body_end:]]), values[0]


def format_series(into: Path) -> list[Exported]:
    """build/tree's commits as patch files in ``into`` (byte-stable), each with the group its trailer names."""
    out = git(
        "format-patch",
        "--zero-commit",
        "--no-signature",
        "--no-stat",
        "--no-numbered",
        "--output-directory",
        str(into),
        f"{UPSTREAM_TAG}..HEAD",
        cwd=TREE_DIR,
    )
    paths = [Path(line) for line in out.split()]
    commits = git("log", "--reverse", "--format=%h %s", f"{UPSTREAM_TAG}..HEAD", cwd=TREE_DIR).splitlines()
    if len(commits) != len(paths):
        raise BuildError(f"build/tree's history after `{UPSTREAM_TAG}` must be linear (no merge commits)")
    exported = []
    for path, commit in zip(paths, commits, strict=True):
        text, group = take_group_trailer(path.read_text())
        path.write_text(text)
        exported.append(Exported(path, group, commit))
    return exported


def group_of(entry: str) -> str:
    """The group folder of a series entry ("" for a bare file name: a patch not filed into a group yet)."""
    return entry.split("/", 1)[0] if "/" in entry else ""


def _number(entry: str) -> int:
    return int(entry.rsplit("/", 1)[-1].split("-", 1)[0])


def _slug(name: str) -> str:
    return name.rsplit("/", 1)[-1].split("-", 1)[1]


def series_names(exported: list[Exported]) -> list[str]:
    """Series entries (``<group>/<file>``) for freshly exported patches: every patch stays in its group.

    - A patch whose subject (format-patch's slug) is in the series keeps its entry.
    - A patch whose subject changed (and whose commit has no trailer) keeps the folder and number of the
      entry it replaces: the entry whose subject is gone and that followed the same patch (or the upstream
      base) in the series.
    - A new patch goes to the folder its commit's ``Patch-Group: <group>`` trailer names, numbered after
      that folder's last patch (a new folder starts the next free hundred). A new commit without the
      trailer stops the export, with a message that lists the groups: its position does not decide.
    - A trailer on an existing patch's commit moves the patch (its file name unchanged) to that folder.
    """
    current = series_entries(ungrouped_ok=True)
    unclaimed = list(current)
    exported_slugs = {patch.slug for patch in exported}
    names: list[str] = []
    origins: list[str | None] = []
    ungrouped: list[Exported] = []
    for patch in exported:
        entry = next((e for e in unclaimed if _slug(e) == patch.slug), None)
        renamed = None
        if entry is None and patch.group is None:
            before = next((origin for origin in reversed(origins) if origin is not None), _START)
            entry = next(
                (e for e in unclaimed if _slug(e) not in exported_slugs and _entry_before(current, e) == before),
                None,
            )
            renamed = entry
        if entry is not None:
            unclaimed.remove(entry)
            origins.append(entry)
            name = entry.rsplit("/", 1)[-1]
            if entry is renamed:
                name = f"{_number(entry):04d}-{patch.slug}"
            group = patch.group or group_of(entry)
            if not group:  # a bare file name in the series (made before the group folders): its trailer files it
                ungrouped.append(patch)
            names.append(f"{group}/{name}" if group else "")
            continue
        origins.append(None)
        if patch.group is None:
            ungrouped.append(patch)
            names.append("")
            continue
        names.append(f"{patch.group}/{next_number(patch.group, [*current, *names]):04d}-{patch.slug}")
    if ungrouped:
        raise BuildError(ungrouped_message(ungrouped, current))
    return names


def _entry_before(entries: list[str], entry: str) -> str:
    index = entries.index(entry)
    return entries[index - 1] if index else _START


def next_number(group: str, entries: list[str]) -> int:
    """The number of a new patch in ``group``: after the group's last one, or the next free hundred."""
    numbers = [_number(e) for e in entries if e and group_of(e) == group]
    if numbers:
        return max(numbers) + 1
    highest = max((_number(e) for e in entries if e), default=None)
    return 1 if highest is None else highest // 100 * 100 + 101


def ungrouped_message(ungrouped: list[Exported], current: list[str]) -> str:
    counts: dict[str, int] = {}
    for group in filter(None, map(group_of, current)):
        counts[group] = counts.get(group, 0) + 1
    groups = ", ".join(f"{g} ({n} patch{'es' if n > 1 else ''})" for g, n in counts.items()) or "none yet"
    commits = "\n".join(f"  {p.commit}" for p in ungrouped)
    example = next(iter(counts), "my-feature")
    return (
        f"{len(ungrouped)} commit(s) in build/tree have no patch group (new, or outside a group folder):\n{commits}\n"
        f"Each patch lives in its feature group's folder under patches/; a new commit names its group with a "
        f"trailer line at the end of its message, e.g. `{GROUP_TRAILER}: {example}`.\n"
        f"Groups: {groups}. A new name starts a new group (claim its folder in upstream-pr/groups.toml).\n"
        f"The last commit: cd build/tree && git commit --amend --no-edit --trailer '{GROUP_TRAILER}: {example}'\n"
        f"An earlier one: cd build/tree && git rebase -i {UPSTREAM_TAG} (mark it `reword`, add the line).\n"
        'Then run `make export` again (docs/maintaining.md, "Patch names and groups").'
    )


def pr_kit_groups() -> set[str]:
    """The patch folders upstream-pr/groups.toml claims (a pull request's, or kept in the fork)."""
    path = ROOT / "upstream-pr" / "groups.toml"
    data = tomllib.loads(path.read_text()) if path.exists() else {}
    return {g["patch_group"] for g in data.get("group", [])} | set(data.get("not_upstream", {}).get("patch_groups", []))


def export() -> list[Path]:
    require_tree()
    require_clean_tree()
    with tempfile.TemporaryDirectory() as tmp:
        new = format_series(Path(tmp))
        require_tree_not_behind(new)
        names = series_names(new)
        header = [line for line in (PATCH_DIR / "series").read_text().splitlines() if line.startswith("#")]
        for old in [*PATCH_DIR.glob("*.patch"), *PATCH_DIR.glob("*/*.patch")]:
            old.unlink()
        for patch, name in zip(new, names, strict=True):
            (PATCH_DIR / name).parent.mkdir(exist_ok=True)
            shutil.copyfile(patch.path, PATCH_DIR / name)
        for folder in PATCH_DIR.iterdir():
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    (PATCH_DIR / "series").write_text("".join(f"{line}\n" for line in [*header, *names]))
    record_series()
    return [PATCH_DIR / name for name in names]


def require_tree() -> None:
    if not (TREE_DIR / ".git").exists():
        raise BuildError("no editable tree: run `make tree` first")


def require_clean_tree() -> None:
    dirty = git("status", "--porcelain", "--untracked-files=no", cwd=TREE_DIR).strip()
    if dirty:
        raise BuildError(f"build/tree has uncommitted edits to upstream files; commit them there first:\n{dirty}")


def check_patches(pin: Pin) -> None:
    """The series applies exactly to the pinned wheel, and any editable tree has been exported."""
    base = fetch(pin)
    check_no_upstream_files(base)
    with tempfile.TemporaryDirectory(prefix="forkcheck-") as tmp:
        apply_series(unpack(base, Path(tmp), pin))
    if (TREE_DIR / ".git").exists():
        check_tree_exported()


def check_tree_exported() -> None:
    """build/tree holds the series as it is in patches/: not behind it, no edit or commit left to export."""
    require_clean_tree()
    with tempfile.TemporaryDirectory() as tmp:
        exported = format_series(Path(tmp))
        require_tree_not_behind(exported)
        names = series_names(exported)
        entries = series_entries()
        differing = [
            (patch, name)
            for patch, name in zip(exported, names, strict=True)
            if not (PATCH_DIR / name).exists() or patch.path.read_bytes() != (PATCH_DIR / name).read_bytes()
        ]
        lacking = [entry for entry in entries if entry not in names]
        if lacking and recorded_series() is None:  # a tree made before trees recorded their series: behind it
            unexported = [patch.commit for patch, _ in differing]
            commits = [patch.commit for patch in exported]
            raise BuildError(behind_message([f"{entry} (new)" for entry in lacking], unexported, commits))
        if differing or names != entries:
            differs = [name for _, name in differing]
            dropped = f"; it has no commit for {lacking}, which export takes out of the series" if lacking else ""
            raise BuildError(
                f"build/tree has commits that are not exported to patches/ ({differs}){dropped}: run `make export`"
            )


def series_record() -> Path:
    """Where build/tree keeps the series it was made from or last exported to (inside .git: git never sees it)."""
    return TREE_DIR / ".git" / "fork-series"


def series_digests() -> dict[str, str]:
    """Each patch of patches/series by its entry: the sha256 of its file."""
    return {
        entry: sha256_of(PATCH_DIR / entry)
        for entry in series_entries(ungrouped_ok=True)
        if (PATCH_DIR / entry).exists()
    }


def record_series() -> None:
    series_record().write_text("".join(f"{digest}  {entry}\n" for entry, digest in series_digests().items()))


def recorded_series() -> dict[str, str] | None:
    """The series build/tree was made from or last exported to; None for a tree made before it was recorded."""
    record = series_record()
    if not record.exists():
        return None
    return {entry: digest for digest, entry in (line.split("  ", 1) for line in record.read_text().splitlines())}


def require_tree_not_behind(exported: list[Exported]) -> None:
    """Stop when patches/ changed since build/tree was made or exported: the tree lacks those changes.

    Exporting such a tree would write its older series over them (a merge that brought new patches, a
    patch edited in patches/ by hand).
    """
    recorded = recorded_series()
    if recorded is None:
        return
    current = series_digests()
    changes = [f"{entry} (new)" for entry in current if entry not in recorded]
    changes += [f"{entry} (changed)" for entry in current if entry in recorded and current[entry] != recorded[entry]]
    changes += [f"{entry} (no longer in the series)" for entry in recorded if entry not in current]
    if changes:
        known = set(recorded.values())
        unexported = [patch.commit for patch in exported if sha256_of(patch.path) not in known]
        raise BuildError(behind_message(changes, unexported, [patch.commit for patch in exported]))


def behind_message(changes: list[str], unexported: list[str], commits: list[str]) -> str:
    """Why build/tree is behind patches/, what it lacks, and how to make it again (keeping ``unexported``, those of
    the tree's ``commits`` that are not in patches/).
    """
    listed = "".join(f"\n  {change}" for change in changes)
    message = (
        f"build/tree is behind patches/: the series changed since the tree was made (`make tree`) or last "
        f"exported, and the tree lacks these changes:{listed}\n"
        f"`make export` from this tree would undo that. Make the tree again: rm -rf build/tree && make tree"
    )
    if not unexported:
        return message
    listed_commits = "".join(f"\n  {commit}" for commit in unexported)
    last = commits[len(commits) - len(unexported) :] == unexported  # carried over as one range
    save = f"HEAD~{len(unexported)}" if last else "-1 <commit> --start-number <n>   (each commit, n = 1, 2, ...)"
    return (
        f"{message}\nbuild/tree also holds commits that are not in patches/; keep them before removing it:"
        f"{listed_commits}\n"
        f"  cd build/tree && git format-patch -o ../mine {save}\n"
        f"  then, after `make tree`: cd build/tree && git am ../mine/*.patch && cd ../.. && make export"
    )


RELEASE_LOCK_HEADER = """\
# The fork of {name} {version} and every runtime dependency, hash-pinned: exactly what its tests ran with.
# Install into a fresh virtual environment with this one command (no resolver runs, nothing newer sneaks in):
#
#   pip install --require-hashes --no-deps --find-links dist/release -r dist/release/requirements.lock
#
# The fork's wheel comes from this folder, every other file from the package index.
# Written by `make release` from requirements/runtime.lock.
{fork_name}=={fork_version} \\
    --hash=sha256:{fork_sha256}
"""


def release(pin: Pin) -> Path:
    """dist/release/: the fork's wheel next to a lock that pins it and every runtime dependency by hash."""
    wheel = build_wheel(pin)
    if RELEASE_DIR.exists():
        shutil.rmtree(RELEASE_DIR)
    RELEASE_DIR.mkdir(parents=True)
    shutil.copyfile(wheel, RELEASE_DIR / wheel.name)
    runtime = [line for line in RUNTIME_LOCK.read_text().splitlines(keepends=True) if not line.startswith("#")]
    header = RELEASE_LOCK_HEADER.format(
        name=pin.name,
        version=pin.version,
        fork_name=pin.name,
        fork_version=pin.fork_version,
        fork_sha256=sha256_of(wheel),
    )
    (RELEASE_DIR / "requirements.lock").write_text(header + "".join(runtime))
    return RELEASE_DIR


def requirement(pin: Pin) -> str:
    """The pinned upstream with the proxy extra: the one input of the locks that names its version."""
    return f"{pin.name}[proxy]=={pin.version}"


def pin_text(pin: Pin, path: Path) -> str:
    """``path``'s text with the upstream version, wheel and hash (and the local version) of ``pin``."""
    text = path.read_text()
    for key, value in (
        ("version", pin.version),
        ("wheel", pin.wheel),
        ("sha256", pin.sha256),
        ("local_version", pin.local_version),
    ):
        text, n = re.subn(rf'(?m)^{key} = "[^"]*"$', f'{key} = "{value}"', text, count=1)
        if n != 1:
            raise BuildError(f'{path}: no line `{key} = "..."` to rewrite')
    return text


def series_conflicts(pin: Pin) -> list[str]:
    """Every patch of the series that does not apply to ``pin``'s wheel, with git's words for why.

    Each patch is tried on the pristine tree with the patches before it applied, so a conflict in
    one patch does not hide the others (a patch that fails is skipped for the ones after it).
    """
    base = fetch(pin)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="forkbump-") as tmp:
        tree = unpack(base, Path(tmp), pin)
        git("init", "--quiet", cwd=tree)
        for patch in series():
            report = apply_patch(tree, patch)
            if report is not None:
                problems.append(f"{patch_name(patch)}:\n{report}")
    return problems


def bump_pin(pin: Pin, version: str, path: Path) -> tuple[Pin, bool]:
    """Point the pin file at ``version``: (the new pin, whether the file changed)."""
    with tempfile.TemporaryDirectory(prefix="forkbump-") as tmp:
        wheel = download(pin.name, version, Path(tmp))
        digest = sha256_of(wheel)
        if version == pin.version and wheel.name == pin.wheel and digest == pin.sha256:
            return pin, False
        if version == pin.version and digest != pin.sha256:
            raise BuildError(
                f"{wheel.name} on the package index has sha256 {digest}, but the pin says {pin.sha256} "
                "for the same version: refusing to repin a version whose file changed"
            )
        new = Pin(name=pin.name, version=version, wheel=wheel.name, sha256=digest, local_version="buffered.1")
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(wheel, CACHE_DIR / wheel.name)
    path.write_text(pin_text(new, path))
    Pin.load(path)
    return new, True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "command",
        choices=[
            "fetch",
            "wheel",
            "release",
            "tree",
            "link",
            "export",
            "check-patches",
            "upstream-files",
            "requirement",
            "bump-pin",
        ],
    )
    parser.add_argument("version", nargs="?", help="with bump-pin: the upstream version to pin")
    parser.add_argument("--pin", type=Path, default=ROOT / "upstream" / "pin.toml")
    args = parser.parse_args(argv)
    try:
        pin = Pin.load(args.pin)
        if args.command == "fetch":
            print(fetch(pin))
        elif args.command == "wheel":
            print(build_wheel(pin))
        elif args.command == "release":
            print(release(pin))
        elif args.command == "tree":
            print(f"editable tree at {make_tree(pin).relative_to(ROOT)}; put it first on PYTHONPATH to run it")
        elif args.command == "link":
            require_tree()
            link_modules()
        elif args.command == "export":
            for patch in export():
                print(patch.relative_to(ROOT))
            for group in sorted({group_of(entry) for entry in series_entries()} - pr_kit_groups()):
                print(f"patches/{group}/ is in no group of upstream-pr/groups.toml: claim it there", file=sys.stderr)
        elif args.command == "check-patches":
            check_patches(pin)
            print(f"ok: {len(series())} patches apply exactly to {pin.wheel}")
        elif args.command == "requirement":
            print(requirement(pin))
        elif args.command == "bump-pin":
            if not args.version:
                raise BuildError("bump-pin needs a version: tools/forkbuild.py bump-pin X.Y.Z")
            new, changed = bump_pin(pin, args.version, args.pin)
            print(f"{args.pin.name}: {'now ' if changed else 'already '}{new.wheel} sha256 {new.sha256}")
            conflicts = series_conflicts(new)
            if conflicts:
                print("\n\n".join(conflicts), file=sys.stderr)
                raise BuildError(
                    f"{len(conflicts)} of {len(series())} patches do not apply to {new.version}: "
                    "resolve them in `make tree` (docs/maintaining.md, 'Moving the pin')"
                )
            print(f"ok: {len(series())} patches apply exactly to {new.wheel}")
        elif args.command == "upstream-files":
            check_no_upstream_files(fetch(pin))
            print("ok: no tracked file under litellm/ exists in the upstream wheel")
    except BuildError as e:
        print(f"forkbuild: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
