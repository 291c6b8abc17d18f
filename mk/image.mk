# Container image targets (docs/deployment.md). Included by the Makefile (`-include mk/*.mk`).
IMAGE_NAME ?= localhost/litellm-buffered
IMAGE_DIR := build/image

.PHONY: lock-runtime wheelhouse image image-test image-clean

## lock-runtime: requirements/runtime.lock (the image's dependencies), pinned to the versions of dev.lock
lock-runtime: deps
	mkdir -p build
	$(FORKBUILD) requirement > build/pin.in
	grep -E '^[A-Za-z0-9_.-]+==' requirements/dev.lock | sed 's/ *\\$$//' > build/runtime-constraints.txt
	$(VENV)/bin/uv pip compile --quiet --generate-hashes --no-emit-index-url --no-emit-find-links \
		--no-emit-package litellm --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		--custom-compile-command 'make lock-runtime' -c build/runtime-constraints.txt \
		build/pin.in -o requirements/runtime.lock

## wheelhouse: the image's build context (build/image/context): fork wheel, locked wheels, no network needed later
wheelhouse: wheel
	PYTHON=$(PY) docker/wheelhouse.sh $$($(FORKBUILD) wheel) requirements/runtime.lock $(IMAGE_DIR)/context

## image: the container image, built with buildah from a local Debian bookworm base, saved as an archive in dist/
image: wheelhouse
	IMAGE_NAME=$(IMAGE_NAME) docker/build-image.sh

## image-test: run the saved image against a fake backend on 127.0.0.1 (podman + runc, private storage)
image-test:
	IMAGE_NAME=$(IMAGE_NAME) PYTHON=$(PY) docker/image-test.sh

image-clean:
	rm -rf $(IMAGE_DIR)
