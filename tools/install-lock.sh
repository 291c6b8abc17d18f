#!/usr/bin/env bash
# Install exactly the files a hash-pinned lock names, never resolving, then check the result.
#
#   tools/install-lock.sh PYTHON LOCK [pip install options...]
#
# --no-deps: the lock is complete, so pip installs the locked files and nothing else. Without it
# pip would resolve each package's requirements (extras included) against the newest releases on
# the index, and any day's release could change or break an install from an unchanged lock.
# `pip check` then proves the locked set is consistent.
set -euo pipefail
python=$1 lock=$2
shift 2
"$python" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps "$@" -r "$lock"
"$python" -m pip check
