# Repository Archiver — every target runs the project's own scripts; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
STACK ?= dev
export STACK

.PHONY: help deps start stop status logs urls migrate build-apps test test-unit lint format build bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

deps: ## install everything (Debian packages, Node 24, npm, MinIO, Keycloak, Gitea, Prometheus, kustomize, kubeconform) into .local/
	@bash scripts/deps.sh

start: deps ## start the whole stack natively and print its URLs
	@bash scripts/stack.sh start

stop: ## stop what make start started
	@bash scripts/stack.sh stop

status: ## show which processes of the stack run
	@bash scripts/stack.sh status

logs: ## follow the logs (make logs S=worker for one)
	@bash scripts/stack.sh logs $(S)

urls: ## print the stack's URLs and logins
	@bash scripts/stack.sh urls

migrate: ## apply Prisma migrations to the stack's database
	@source scripts/env.sh && node scripts/migrate.mjs

test: deps ## run unit and integration tests on an isolated test stack
	@source scripts/env.sh && node --test bench/lib/*.test.mjs
	@bash scripts/test.sh

test-unit: ## unit tests only (no services)
	@source scripts/env.sh && node --test bench/lib/*.test.mjs
	@source scripts/env.sh && npm run --silent test:unit

lint: ## ESLint and Prettier
	@source scripts/env.sh && npx eslint . && npx prettier --check .

format: ## rewrite files with Prettier
	@source scripts/env.sh && npx prettier --write .

build: ## build and start the Docker Compose stack (needs a Docker engine)
	@bash scripts/compose-env.sh && docker compose --env-file .local/compose.env up -d --build

bench: deps ## benchmarks on an isolated stack (bench/README.md)
	@bash bench/run.sh

clean: stop ## stop and delete the dev stack's data
	@rm -rf .local/state/$(STACK)
