# aksnet.networking — developer entry points. `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
LAB_DIR ?= .cache/lab
# Kubernetes back end of the lab: emulator (fast, no Go needed) or real (make lab-binaries)
LAB ?= emulator
DEMO_DIR ?= demo-output
PYTEST_ARGS ?=
# integration targets run in parallel, each worker with its own in-process lab
INTEGRATION_WORKERS ?= 2
# on the real control plane a test mostly waits for controllers, kwok and the scheduler: more workers than cores pay off
INTEGRATION_REAL_WORKERS ?= 3

.PHONY: help setup demo demo-fixed test sanity lint ruff ansible-lint units integration integration-real integration-real-core lab-binaries release-check changelog lab-up lab-down bench clean

help:
	@echo "make demo   - set up; on the local lab provision, configure, break and diagnose a cluster; print the summary and the report's path"
	@echo "make demo-fixed - the same without the faults: the diagnosis is clean"
	@echo "make test   - set up, then ruff, ansible-lint, ansible-test sanity, unit and integration tests"
	@echo "make setup | lint | sanity | units | integration | lab-up | lab-down | bench | clean"

$(VENV)/.aksnet-setup: requirements.txt tests/requirements.txt scripts/setup.sh
	bash scripts/setup.sh

setup: $(VENV)/.aksnet-setup
	@bash scripts/setup.sh >/dev/null

demo: setup
	LAB="$(LAB)" bash scripts/demo.sh "$(LAB_DIR)" "$(DEMO_DIR)" broken

demo-fixed: setup
	LAB="$(LAB)" bash scripts/demo.sh "$(LAB_DIR)" "$(DEMO_DIR)" fixed

test: setup lint sanity units integration integration-real release-check
	@echo "make test: all gates passed"

lint: ruff ansible-lint

ruff: setup
	$(VENV)/bin/ruff check .

ansible-lint: setup
	@dirs="$$(for d in roles playbooks; do [ -d $$d ] && echo $$d; done)"; \
	if [ -n "$$dirs" ]; then \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" ANSIBLE_COLLECTIONS_PATH="$(CURDIR)/$(VENV)/collections" \
	    $(VENV)/bin/ansible-lint --offline --profile production $$dirs; \
	else echo "ansible-lint: no roles or playbooks yet"; fi

sanity: setup
	bash scripts/ansible_test.sh sanity --requirements --python 3.11 --color no

units: setup
	$(PY) -m pytest -q -p no:cacheprovider tests/unit $(PYTEST_ARGS)

integration: setup
	$(PY) -m pytest -q -p no:cacheprovider -n $(INTEGRATION_WORKERS) --dist loadgroup tests/integration $(PYTEST_ARGS)

# The real control plane (kube-apiserver, etcd, kube-controller-manager, kube-scheduler, kwok, helm) built from Go
# modules into ~/.cache/aksnet-lab/<versions>; only what is missing is built (the first run prints times and peak memory).
lab-binaries:
	bash tests/lab/real/build.sh

# Part of make test: the whole integration suite against the real control plane instead of the emulator.
integration-real: setup lab-binaries
	AKSNET_LAB_KUBE=real $(PY) -m pytest -q -p no:cacheprovider -n $(INTEGRATION_REAL_WORKERS) --dist loadgroup tests/integration $(PYTEST_ARGS)

# A quick subset of integration-real: what only a real API server can judge (patch types and server-side apply conflicts, dry run,
# RBAC per kind, controller-written EndpointSlices, a real CoreDNS rollout, namespace deletion, the probe's debug
# pod), Kubernetes retries through the front proxy, the whole demo story and the Helm flavour of ingress_nginx (real
# helm, kubernetes.core from make setup), against the real control plane.
integration-real-core: setup lab-binaries
	AKSNET_LAB_KUBE=real $(PY) -m pytest -q -p no:cacheprovider -n $(INTEGRATION_REAL_WORKERS) --dist loadgroup \
	  tests/integration/test_real_control_plane.py tests/integration/test_demo.py "tests/integration/test_targets.py::test_target[kube_retries]" \
	  tests/integration/test_ingress_nginx_helm.py $(PYTEST_ARGS)

lab-up: setup
	$(PY) -m tests.lab up --dir "$(LAB_DIR)" --kube "$(LAB)"

lab-down:
	$(PY) -m tests.lab down --dir "$(LAB_DIR)"

# Build the tarball, install it into a fresh venv and an isolated collections path, list the
# modules and diagnose a snapshot with the installed collection; lint the changelog fragments.
release-check: setup
	bash scripts/release_check.sh

# CHANGELOG.rst for the version in galaxy.yml, from changelogs/fragments (re-run as fragments arrive).
changelog: setup
	bash scripts/changelog.sh

bench: setup
	@for b in tests/perf/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean: lab-down
	rm -rf .cache build $(DEMO_DIR) .pytest_cache .ruff_cache
