# tts-predictor: two commands on a fresh Linux machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HTTP_PORT ?= 8080
GRPC_PORT ?= 8081
# Container images (see docker/ and docs/deployment.md).
REGISTRY ?= ghcr.io/example
IMAGE ?= $(REGISTRY)/tts-predictor
TAG ?= $(shell $(PYTHON) -c "import re,pathlib;print(re.search(r'^version = \"(.+)\"', pathlib.Path('pyproject.toml').read_text(), re.M).group(1))")
PLATFORMS ?= linux/amd64,linux/arm64
# Extra flags for `make bench`, e.g. BENCH_ARGS="--experiments batching,threads,batching-coqui".
BENCH_ARGS ?=

.PHONY: help install install-light run test test-fast lint fmt typecheck docs bench bench-normalization clean image image-cuda image-multiarch image-test push

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 22

install: $(STAMP) ## Create .venv with everything (system packages ffmpeg + espeak-ng too)

$(STAMP): pyproject.toml clients/python/pyproject.toml scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[coqui,test,bench,ray]"
	$(BIN)/pip install --quiet -e "clients/python[ws]"
	touch $(STAMP)

install-light: ## .venv-light: the light install (Piper voices, every API, no torch; docs/edge.md)
	bash scripts/install-system-deps.sh
	$(PYTHON) -m venv .venv-light
	.venv-light/bin/pip install --quiet --upgrade pip
	.venv-light/bin/pip install --quiet .

run: install ## Serve the embedded English voice on :$(HTTP_PORT) (REST) and :$(GRPC_PORT) (gRPC)
	$(BIN)/python -m tts_predictor serve --http_port $(HTTP_PORT) --grpc_port $(GRPC_PORT)

test: install ## Run the whole test suite (installs redis-server and chromium for their tests when root)
	bash scripts/install-system-deps.sh --test
	if command -v npm >/dev/null; then npm ci --prefix clients/typescript --no-audit --no-fund --silent; fi
	$(BIN)/python -m pytest

test-fast: install ## The fast tier: tests/unit (no server, no model building, no containers; under a minute)
	$(BIN)/python -m pytest -q tests/unit

lint: install ## ruff format --check, ruff check, mypy (what CI runs before the tests)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python -m mypy

fmt: install ## Format and fix what ruff can (imports, pyupgrade)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install ## mypy on tts_predictor/ (the level is in pyproject.toml)
	$(BIN)/python -m mypy

docs: install ## Regenerate docs/settings.md and the chart's values table
	$(BIN)/python scripts/settings-docs.py
	$(BIN)/python scripts/chart-docs.py

bench: install ## Benchmarks (models + batching/threads experiments): JSON + PNG under bench-results/
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-normalization: install ## Only the normalization benchmark (service vs raw engine, Whisper WER, numbers read exactly)
	$(BIN)/python -m bench --only normalization $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache bench-results

# Without Docker, the images build with a rootful podman and a base bootstrapped from Debian (scripts/podman-*.sh).
image: ## CPU image for the host platform (Docker, else podman as root)
	if command -v docker >/dev/null 2>&1; then docker build -f docker/Dockerfile -t $(IMAGE):$(TAG) .; \
	else bash scripts/podman-build.sh $(IMAGE):$(TAG); fi

image-cuda: ## CUDA image (Docker, else podman as root)
	if command -v docker >/dev/null 2>&1; then docker build -f docker/Dockerfile.cuda -t $(IMAGE):$(TAG)-cuda .; \
	else DOCKERFILE=docker/Dockerfile.cuda bash scripts/podman-build.sh $(IMAGE):$(TAG)-cuda; fi

image-test: install ## Build the ONNX-only image with podman (root) and run it as the chart does (tests/deploy/test_container.py)
	bash scripts/install-system-deps.sh --test
	$(BIN)/python -m pytest -m container -v tests/deploy/test_container.py

image-multiarch: ## amd64 + arm64 CPU image with buildx, pushed to $(REGISTRY)
	docker buildx build --platform $(PLATFORMS) -f docker/Dockerfile -t $(IMAGE):$(TAG) --push .

push: ## Push the images built by `make image` / `make image-cuda`
	docker push $(IMAGE):$(TAG)
