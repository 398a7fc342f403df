# The two commands a user needs: `make run` and `make test`. Both create/refresh .venv.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export SPARK_LOCAL_IP ?= 127.0.0.1
export PYTHONHASHSEED := 0

.PHONY: run test install system-deps lint bench mlflow-ui lock clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "error: $(PY) not found"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first (the local CPU wheel), then everything in one resolver call so numpy stays at 1.26.4
$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/python -c "import numpy, spacy, pandas, mlflow, sklearn, torch; assert numpy.__version__ == '1.26.4', numpy.__version__"
	touch $(STAMP)

install: $(STAMP)

# Java for Spark tests and Chromium for the browser tests (Debian packages; skipped when present)
system-deps:
	@command -v java >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; }
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

run: install
	$(BIN)/medcode models ensure
	$(BIN)/medcode serve --host 127.0.0.1 --port 8000

test: install system-deps
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy codesets validator evaluation

bench: install
	$(BIN)/python -m pytest benchmarks -q -p no:cacheprovider

mlflow-ui: install
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow ui --host 127.0.0.1 --port 5000 --workers 1 \
	  --backend-store-uri $${MLFLOW_TRACKING_URI:-sqlite:///mlflow.db}

# re-resolve the pinned set (maintainers): one pip call, torch first
lock:
	rm -rf /tmp/medcode-lock && $(PY) -m venv /tmp/medcode-lock
	/tmp/medcode-lock/bin/pip install -q torch==2.13.0 -r requirements.in
	/tmp/medcode-lock/bin/pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
