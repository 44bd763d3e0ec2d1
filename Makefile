# Filmregionerna bot. `make help` lists the targets.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
TEST_MODEL_DIR := var/test-model

.DEFAULT_GOAL := help
.PHONY: help setup setup-system train run shell test test-fast validate test-stories nlu-report conversations-report bench test-scale purge registry-check clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: ## create .venv (Python 3.10) and install what is missing
	@scripts/setup.sh

setup-system: ## install Debian packages the tests need (chromium, postgresql, redis, nginx) if missing
	@scripts/setup_system.sh

train: setup ## train models/current.tar.gz if training data, domain or config changed
	@scripts/train.sh

run: setup train ## start action server, Rasa (REST + socket.io) and the chat page; Ctrl-C stops all
	@scripts/run.sh

shell: setup train ## action server + `rasa shell`, for staff testing answers
	@scripts/run.sh --shell

registry-check: setup ## validate registry/registry.yaml
	@$(PY) -m bot registry check

validate: setup ## rasa data validate (warnings fail)
	@scripts/validate.sh

test: setup setup-system ## run every test: pytest, validation, a training run, end-to-end tests
	@scripts/test.sh

nlu-report: setup ## held-out NLU test set: accuracy, entity F1 and every miss
	@scripts/train.sh --out $(TEST_MODEL_DIR)
	@$(PY) -m bot nlu-report --model $(TEST_MODEL_DIR)/current.tar.gz

conversations-report: setup ## conversation cases end to end: pass rates, centre figures, failing chats (ARGS="--url URL --only X")
	@scripts/conversations_report.sh $(ARGS)

bench: setup setup-system ## benchmarks (speed, memory, accuracy vs Rasa's default config); writes BENCHMARKS.md
	@scripts/bench.sh

test-scale: setup setup-system ## two Rasa instances on PostgreSQL + Redis behind nginx
	@scripts/test_scale.sh

purge: setup ## delete conversations older than the retention period from the tracker store
	@$(PY) -m bot purge

clean: ## remove trained models and runtime state (keeps .venv)
	rm -rf models var results test-output
