# sloguard — the commands a newcomer needs. `make demo` to see it work, `make test` to check it.
PYTHON ?= python3
export PYTHONUNBUFFERED := 1

.PHONY: help install lock crds check-crds lint test test-unit test-fast test-integration demo demo-down bench golden k8s-bin

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

install: ## install sloguard and its dev tools (editable); the same script the Dockerfile uses
	bash hack/install.sh dev

lock: ## re-lock the runtime dependencies with hashes (requirements.lock; --upgrade: LOCK_ARGS=--upgrade)
	bash hack/lock.sh $(LOCK_ARGS)

crds: ## regenerate crds/, the charts' copies, the policy-governance VAP, kustomize manifests and docs/reference.md, docs/settings.md
	$(PYTHON) -m sloguard.api.crdgen crds
	$(PYTHON) hack/gen-governance.py
	$(PYTHON) hack/gen_chart_values.py
	$(PYTHON) hack/sync_chart.py
	$(PYTHON) hack/gen-reference.py
	$(PYTHON) hack/gen_settings_doc.py

golden: ## regenerate tests/golden/*.out.yaml from tests/golden/*.in.yaml
	SLOGUARD_UPDATE_GOLDEN=1 $(PYTHON) -m pytest -q tests/golden

lint: ## ruff (with complexity rules), mypy (strict on the whole package), import-linter (layering), hadolint
	ruff check operator tests bench hack
	mypy
	lint-imports
	hadolint --failure-threshold info Dockerfile

k8s-bin: ## build (once) kube-apiserver, kube-controller-manager, etcd and helm into ~/.cache/sloguard
	bash hack/build-k8s.sh all

test-fast: ## unit, golden and promtool tests (no cluster, no Prometheus server)
	$(PYTHON) -m pytest -q tests/unit tests/golden tests/rules

test: lint ## everything: unit, golden, promtool, integration (Prometheus 3, then 2.42 and VictoriaMetrics) and e2e
	$(PYTHON) -m pytest -q tests
	# the figures again on 2.42 and VictoriaMetrics (the auth tests are about the client: once is enough)
	SLOGUARD_PROMETHEUS=2 $(PYTHON) -m pytest -q tests/integration --ignore=tests/integration/test_prometheus_auth.py
	SLOGUARD_PROMETHEUS=vm $(PYTHON) -m pytest -q tests/integration --ignore=tests/integration/test_prometheus_auth.py

test-integration: ## the integration suite on one server: make test-integration SERVER=2|3|vm (default 3)
	SLOGUARD_PROMETHEUS=$(or $(SERVER),3) $(PYTHON) -m pytest -q tests/integration

demo: ## local control plane + Prometheus + traffic + operator + examples, then `kubectl get slo -A`
	bash hack/demo.sh up

demo-down: ## stop everything the demo started
	bash hack/demo.sh down

bench: ## benchmarks; figures go to docs/PERFORMANCE.md
	$(PYTHON) bench/generate.py
	$(PYTHON) bench/budget_refresh.py
	$(PYTHON) bench/operator_scale.py
	$(PYTHON) bench/admission.py
