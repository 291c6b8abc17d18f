# Upstream pull requests (docs/maintaining.md, "Sending the work upstream"). Included by the Makefile.
.PHONY: upstream-pr

## upstream-pr: dist/upstream-pr/<name>/ (series/ + PR.md) per group of upstream-pr/groups.toml, verified
## against the pristine pinned wheel; UPSTREAM_PR_FLAGS=--no-verify skips the verification
UPSTREAM_PR_FLAGS ?=
upstream-pr: deps
	$(PY) tools/upstream_pr.py $(UPSTREAM_PR_FLAGS)
