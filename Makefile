# The fork's developer entry points. Everything installs itself into .venv from the hash-pinned lock.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIN := upstream/pin.toml
FORKBUILD := $(PY) tools/forkbuild.py
UPSTREAM_REF := .cache/upstream-site
export LITELLM_LOCAL_MODEL_COST_MAP := True
export SOURCE_DATE_EPOCH := 1700000000

.PHONY: install deps system-deps test test-unit test-e2e lint format wheel check-patches tree export run demo-backend \
	upstream-ref lock bump-pin release clean

## deps: the virtualenv with every runtime and development dependency, hash-checked
deps: $(VENV)/.deps-stamp
$(VENV)/.deps-stamp: requirements/dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	tools/install-lock.sh $(PY) requirements/dev.lock
	touch $@

## wheel: dist/litellm-<upstream>+buffered.N-...whl from the pinned wheel, the series and our modules
wheel: deps
	$(FORKBUILD) wheel

## install: the built wheel installed into .venv (what users get)
install: wheel
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall \
		$$($(FORKBUILD) wheel)
	touch $(INSTALLED)

# The installed upstream is current: built from this pin and series (what lint's mypy checks our modules against)
INSTALLED := $(VENV)/.installed-stamp
$(INSTALLED): $(PIN) patches/series $(wildcard patches/*/*.patch) $(VENV)/.deps-stamp
	$(MAKE) --no-print-directory install

## release: dist/release/ (the fork's wheel + requirements.lock pinning it and every runtime dependency by sha256);
## users install it with `pip install --require-hashes --no-deps --find-links dist/release -r dist/release/requirements.lock`
release: deps
	$(FORKBUILD) release

## upstream-ref: the pristine pinned upstream in $(UPSTREAM_REF), for side-by-side tests and benchmarks
## (its .stamp names the wheel, so a pin move replaces it)
upstream-ref: deps
	wheel=$$($(FORKBUILD) fetch) && test "$$(cat $(UPSTREAM_REF)/.stamp 2>/dev/null)" = "$$(basename $$wheel)" || ( \
		rm -rf $(UPSTREAM_REF) && \
		$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --target $(UPSTREAM_REF) $$wheel && \
		basename $$wheel > $(UPSTREAM_REF)/.stamp )

## system-deps: Debian packages the tests use (redis-server for the multi-instance test, nginx for the keepalive
## tests), when root. The tests start their own instances on 127.0.0.1 and stop them by PID.
SYSTEM_PACKAGES := redis-server nginx
system-deps:
	@missing="$$(for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null || [ -x /usr/sbin/$$p ] || echo $$p; done)"; \
	[ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; } || \
		echo "missing and not root: $$missing (the tests that need them will skip)"

## test: every test, against the installed wheel
test: install upstream-ref system-deps
	$(PY) -m pytest

test-unit: install upstream-ref
	$(PY) -m pytest tests/test_litellm tests/distribution

test-e2e: install upstream-ref system-deps
	$(PY) -m pytest tests/e2e

## lint: ruff (style, format), then mypy (pyproject.toml [tool.mypy]): the fork's modules under litellm/ strictly,
## checked against the installed pinned upstream with the series applied (installed first when the pin or the
## series changed), and tools/. Cached in .mypy_cache: a few seconds once warm, about a minute cold.
lint: deps $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-patches: deps
	$(FORKBUILD) check-patches

## tree: editable upstream tree in build/tree (series as commits, our modules linked in)
tree: deps
	$(FORKBUILD) tree

## export: build/tree's commits back to patches/
export: deps
	$(FORKBUILD) export

## run: the proxy with examples/config.yaml in front of the built-in demo backend (a slow fake LLM)
run: install
	$(PY) examples/run_demo.py

## lock: regenerate requirements/dev.lock (hashes, no index or download addresses). The upstream version comes
## from upstream/pin.toml alone (build/pin.in); uv keeps the versions already in the lock unless they must move.
lock: deps
	mkdir -p build
	$(FORKBUILD) requirement > build/pin.in
	$(VENV)/bin/uv pip compile --quiet --generate-hashes --no-emit-index-url --no-emit-find-links \
		--no-emit-package litellm --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		--custom-compile-command 'make lock' build/pin.in requirements/dev.in -o requirements/dev.lock

## bump-pin: move the pin to VERSION (make bump-pin VERSION=x.y.z): wheel + sha256 into upstream/pin.toml, the
## series checked patch by patch (every conflict reported), the fork's assumptions about upstream internals checked
## on the new release (tools/upstream_drift.py: every broken one reported), both locks regenerated when all hold.
## Same version: a no-op.
bump-pin: deps
	@test -n "$(VERSION)" || { echo "usage: make bump-pin VERSION=x.y.z" >&2; exit 2; }
	$(FORKBUILD) bump-pin $(VERSION); series=$$?; \
		$(PY) tools/upstream_drift.py; drift=$$?; \
		test $$series -eq 0 && test $$drift -eq 0
	$(MAKE) lock lock-runtime

clean:
	rm -rf dist build/tree $(UPSTREAM_REF)

# Further targets (container image, benchmarks) live in mk/*.mk.
-include mk/*.mk
