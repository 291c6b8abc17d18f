"""Check the fork's assumptions about upstream internals against the pinned upstream release (run by make bump-pin).

The pinned wheel is unpacked as it is (no patches: they may not apply yet) with the fork's modules added, and the
drift tests run on that tree:

- tests/test_litellm/litellm_core_utils/test_upstream_surface.py: every private upstream name the fork uses
  (litellm/litellm_core_utils/upstream_surface.py) still exists, takes the same parameters and behaves as assumed;
  the source of every upstream function the fork mirrors is the one recorded, and both give the same answers;
- tests/test_litellm/litellm_core_utils/test_chunk_log_readers.py: every line of upstream that touches `.chunks`
  is listed in upstream/chunk_log_readers.toml (CustomStreamWrapper.chunks is the fork's StreamChunkLog).

Each broken assumption is reported by the name of its test, all at once. Exit status 1 when any fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import forkbuild  # noqa: E402

DRIFT_TESTS = (
    "tests/test_litellm/litellm_core_utils/test_upstream_surface.py",
    "tests/test_litellm/litellm_core_utils/test_chunk_log_readers.py",
)


def check(pin: forkbuild.Pin) -> int:
    """Run the drift tests on ``pin``'s pristine wheel with the fork's modules added: pytest's exit status."""
    with tempfile.TemporaryDirectory(prefix="forkdrift-") as tmp:
        tree = forkbuild.unpack(forkbuild.fetch(pin), Path(tmp), pin)
        forkbuild.add_modules(tree)
        env = {
            **os.environ,
            "PYTHONPATH": str(tree),
            "LITELLM_PRISTINE_SITE": str(tree),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", "--no-header", *DRIFT_TESTS]
        print(f"upstream-drift: the fork's assumptions about {pin.wheel} (pristine, fork modules added)", flush=True)
        return subprocess.run(command, cwd=forkbuild.ROOT, env=env).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pin", type=Path, default=forkbuild.ROOT / "upstream" / "pin.toml", help="the pin to check")
    args = parser.parse_args(argv)
    try:
        pin = forkbuild.Pin.load(args.pin)
        status = check(pin)
    except forkbuild.BuildError as e:
        print(f"upstream-drift: error: {e}", file=sys.stderr)
        return 1
    if status != 0:
        print(
            f"upstream-drift: {pin.version} breaks assumptions listed above (each FAILED line names one); "
            "docs/maintaining.md, 'Upstream internals the fork relies on', says what to do with each",
            file=sys.stderr,
        )
        return 1
    print(f"upstream-drift: ok, every assumption about upstream internals holds for {pin.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
