# framefleet — the two commands: `make demo` and `make test`. Needs only python3 (3.11) and make.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test test-unit test-integration soak clean frontend test-frontend chromium lint

install: $(STAMP)

$(STAMP): pyproject.toml requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -e '.[dev]'
	touch $@

# Generates a 60 s 1080p clip with sound, transcodes it through the full local stack, prints the summary.
demo: install
	$(PY) -m devstack.demo --dir .demo

test: install lint test-frontend
	$(PY) -m pytest -q -p no:cacheprovider tests

# Fails the build: ruff (rules in pyproject.toml), mypy --strict on the Lambda and worker code,
# and the import-linter contracts (runtime boundaries, no cycles; docs/ARCHITECTURE.md).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy chalicelib workers app.py tests/support/fakes.py
	$(VENV)/bin/lint-imports

test-unit: install
	$(PY) -m pytest -q tests/unit

test-integration: install
	$(PY) -m pytest -q tests/integration

# 20 jobs at once on 2 processors with random worker kills (also part of `make test`).
soak: install
	$(PY) -m pytest -q -p no:cacheprovider -m soak tests/integration

# Benchmarks against plain ffmpeg → docs/BENCHMARKS.md + docs/img/bench-*.png (~55 min on 2 cores:
# run it on a quiet machine). Needs the `bench` extra (matplotlib) and Debian's wrk (HTTP load).
.PHONY: bench
BENCH_STAMP := $(VENV)/.bench-stamp

$(BENCH_STAMP): pyproject.toml | $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $@

bench: install $(BENCH_STAMP)
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(PY) -m bench

# The browser app (frontend/): `npm ci` when the lock file changed, then a production build into
# frontend/dist, which `framefleet up` serves at /.
FRONTEND_DEPS := frontend/node_modules/.package-lock.json
CHROMIUM ?= /usr/bin/chromium

$(FRONTEND_DEPS): frontend/package-lock.json frontend/package.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend: $(FRONTEND_DEPS)
	cd frontend && npm run build --silent

# Debian's Chromium for the end-to-end test (Playwright cannot download browsers here).
chromium:
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Vitest unit tests, then the browser end to end: headless Chromium against `framefleet up`.
test-frontend: install frontend chromium
	cd frontend && npm test --silent && CHROMIUM=$(CHROMIUM) npm run test:e2e --silent

clean:
	rm -rf $(VENV) .demo .pytest_cache .hypothesis *.egg-info frontend/node_modules frontend/dist

# ---- AWS deployment: infra/, containers/, ffmpeg_layer/ (README "Deploying to AWS")
STAGE   ?= dev
CHECKOV := $(VENV)/checkov/bin/checkov
AWSCLI  := $(VENV)/awscli/bin/aws

.PHONY: infra-tools lint-infra test-infra layer deploy destroy

# checkov pins boto3 1.35 and the project 1.44, so it has its own venv.
infra-tools: $(CHECKOV)

$(CHECKOV): infra/requirements-checkov.txt | $(STAMP)
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/pip install --quiet -r infra/requirements-checkov.txt
	touch $@

# `make test` runs tests/infra too; there a missing lint tool fails instead of skipping.
test: infra-tools
test: export FRAMEFLEET_REQUIRE_INFRA_TOOLS := 1

lint-infra: install infra-tools
	$(VENV)/bin/cfn-lint infra/template.yaml infra/bootstrap.yaml
	$(CHECKOV) --quiet --compact --skip-download --framework cloudformation --file infra/template.yaml --file infra/bootstrap.yaml
	$(VENV)/bin/hadolint containers/Dockerfile

test-infra: install infra-tools
	FRAMEFLEET_REQUIRE_INFRA_TOOLS=1 $(PY) -m pytest -q -p no:cacheprovider tests/infra

# The ffmpeg Lambda layer zip: ffmpeg_layer/dist/ffmpeg-layer.zip
layer: install
	$(PY) ffmpeg_layer/build.py

# The AWS CLI pins its own botocore: its own venv, installed only for deploy/destroy.
$(AWSCLI): | $(STAMP)
	$(PYTHON) -m venv $(VENV)/awscli
	$(VENV)/awscli/bin/pip install --quiet 'awscli[crt]==1.46.3'  # [crt]: SigV4A, which CloudFront's key value store API needs

deploy: install $(AWSCLI)
	STAGE=$(STAGE) AWS=$(abspath $(AWSCLI)) PY=$(abspath $(PY)) bash infra/deploy.sh

destroy: install $(AWSCLI)
	STAGE=$(STAGE) AWS=$(abspath $(AWSCLI)) PY=$(abspath $(PY)) bash infra/destroy.sh
