# Fursa — the two commands a newcomer needs: `make up` and `make test`.
# Only Python 3.11+, make and git are assumed: uv is bootstrapped into .tools/ and the
# environment is built from uv.lock.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
RUN := $(VENV)/bin

.PHONY: up test test-fast lint typecheck pytest generated manifests bench clean system-deps

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml shared/pyproject.toml $(wildcard services/*/pyproject.toml)
	$(UV) sync --frozen --all-packages --quiet
	touch $@

up: $(VENV)/.synced system-deps
	$(RUN)/fursa up

test: $(VENV)/.synced system-deps lint typecheck generated manifests pytest

# Debian packages the diplomas and their tests need, installed only when missing: Amiri and
# Noto fonts (Arabic glyphs for the PDF and the browser), poppler-utils (pdftotext, pdfinfo)
# and Chromium (the verification page's browser test; Playwright never downloads a browser).
# Node.js and npm (the Node.js tools' runtime) only when no npm is on the PATH: NodeSource's
# nodejs package carries its own npm, which Debian's npm package would conflict with.
SYSTEM_PACKAGES := fonts-hosny-amiri fonts-noto-core poppler-utils chromium
# The Redis and RabbitMQ that the Jasmin SMS gateway (the SMSC of notify's SMPP tests) needs;
# the tests start instances of their own, the system services are not used.
SYSTEM_PACKAGES += redis-server rabbitmq-server
# The carrier behind the SMSC of notify's SMPP tests: node-smpp's server, locked in its
# package-lock.json.
SMSC := services/notify/tests/smsc
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v npm >/dev/null || { echo "installing nodejs npm"; apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; }
	@test -d $(SMSC)/node_modules/smpp || npm ci --prefix $(SMSC) --no-audit --no-fund --silent

# The Node.js tools the tests use (the standard AsyncAPI parser), exactly as package-lock.json
# pins them; Node.js and npm come with system-deps. None of them needs an install script.
node_modules/.installed: package.json package-lock.json | system-deps
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

lint: $(VENV)/.synced
	$(RUN)/ruff check .
	$(RUN)/ruff format --check .

typecheck: $(VENV)/.synced
	$(RUN)/mypy shared/src services/*/src

# Generated files stay what the code generates: event schemas, NATS permissions, catalogs.
generated: $(VENV)/.synced
	$(RUN)/python -m fursa.shared.contracts.schemas --check
	$(RUN)/python -m fursa.shared.natsauth deploy/nats/auth.conf --check
	$(RUN)/python -m fursa.shared.catalog docs/events --check
	$(RUN)/python -m fursa.notify.partner_catalog docs/events/partner --check

# Deployment files checked offline: YAML style everywhere, compose against the compose spec,
# Kubernetes resources against their schemas (strict) and kustomize patches against targets.
manifests: $(VENV)/.synced
	$(RUN)/yamllint --strict -c deploy/.yamllint.yaml .
	$(RUN)/check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yaml
	$(RUN)/python deploy/k8s/check.py deploy/k8s

# One pytest-xdist worker per core; each worker has its own ports, stores and databases.
# `make test WORKERS=0` runs everything in one process; PYTEST_ARGS adds options (-k, -x).
# Every run prints its 30 slowest steps: where the suite's time goes is always in the log.
# The tests' files (nats-server stores, SQLite files, logs) live in memory where the machine
# has a tmpfs. The servers still fsync every write; what the tests kill is processes, whose
# writes survive in the kernel's page cache either way, and on this machine's disk the fsyncs
# made provisioning a test's streams take 29 ms instead of 11.
WORKERS ?= auto
TEST_TMPDIR ?= $(if $(wildcard /dev/shm),/dev/shm,$(or $(TMPDIR),/tmp))
PYTEST := TMPDIR=$(TEST_TMPDIR) $(RUN)/pytest --numprocesses $(WORKERS) --dist loadgroup --durations=30 $(PYTEST_ARGS)

# The SMSC of notify's SMPP tests: the Jasmin SMS gateway, in a virtualenv of its own (its
# Twisted stack stays out of uv.lock), exactly as the hashes of its requirements.txt pin it.
JASMIN := .tools/jasmin
$(JASMIN)/.installed: $(SMSC)/requirements.txt
	rm -rf $(JASMIN)
	$(PYTHON) -m venv $(JASMIN)
	$(JASMIN)/bin/pip install --quiet --require-hashes --no-deps -r $<
	touch $@

pytest: $(VENV)/.synced system-deps node_modules/.installed $(JASMIN)/.installed
	$(PYTEST)

# The inner loop: the kernel's and the services' own tests, without the fault-injection,
# crash and browser suites (marked slow) or the cross-service suites under tests/.
test-fast: $(VENV)/.synced
	$(PYTEST) -m "not slow" shared/tests services

# Sizes are knobs: make bench LEARNERS=2000 CLASS_SIZE=25 RATE=20 REQUESTS=2000 MARKS="10000 100000"
LEARNERS ?= 2000
CLASS_SIZE ?= 25
RATE ?= 20
REQUESTS ?= 2000
MARKS ?= 10000 100000
ROWS ?= 10000

bench: $(VENV)/.synced
	$(RUN)/python bench/relay.py
	$(RUN)/python bench/consumer.py
	$(RUN)/python bench/upsert.py
	$(RUN)/python bench/pipeline.py --learners $(LEARNERS) --class-size $(CLASS_SIZE)
	$(RUN)/python bench/pipeline.py --learners $(LEARNERS) --class-size $(CLASS_SIZE) --database postgres
	$(RUN)/python bench/pipeline.py --learners $(LEARNERS) --class-size $(CLASS_SIZE) --rate $(RATE)
	$(RUN)/python bench/api.py --requests $(REQUESTS)
	$(RUN)/python bench/memory.py --marks $(MARKS)
	$(RUN)/python bench/import.py --rows $(ROWS)

clean:
	rm -rf $(VENV) .tools var node_modules .pytest_cache .mypy_cache .ruff_cache
