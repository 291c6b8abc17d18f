#!/usr/bin/env bash
# Prepare the image's build context: the fork's wheel, every wheel of requirements/runtime.lock
# (hash-checked, for CPython 3.11 on glibc x86_64) and the lock itself. The image build then
# installs from this folder with --no-index: no network is needed while building the image.
#
#   docker/wheelhouse.sh FORK_WHEEL LOCK OUT_DIR
set -euo pipefail
fork_wheel=$1 lock=$2 out=$3
python=${PYTHON:-python3}

# glibc 2.36 (Debian bookworm, also the base of the official slim images): every manylinux tag up to it.
platforms=()
for minor in $(seq 36 -1 5); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done
platforms+=(--platform manylinux2014_x86_64 --platform manylinux2010_x86_64 --platform manylinux1_x86_64)

rm -rf "$out.tmp"
mkdir -p "$out.tmp/wheelhouse"
# No dependency resolution here: the lock is complete and has no environment markers, so every
# pinned wheel is fetched and the image's own pip checks the hashes again when it installs.
"$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes --implementation cp --python-version 3.11 --abi cp311 \
    "${platforms[@]}" --dest "$out.tmp/wheelhouse" -r "$lock"
cp "$fork_wheel" "$out.tmp/wheelhouse/"
cp "$lock" "$out.tmp/runtime.lock"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out: $(ls "$out/wheelhouse" | wc -l) wheels, $(du -sh "$out" | cut -f1)"
