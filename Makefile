# cripto-ml-pipeline — the front door. `make` (or `make help`) lists what you can do.
#
# Everything local runs against a Docker-less emulation on this machine (LocalStack on the host +
# a Glue-compatible service); `*-aws` targets run the very same Terraform and code against AWS.

SHELL := /bin/bash
comma := ,
space := $(subst ,, )
.DEFAULT_GOAL := help

# ---- settings (override on the command line: `make up LOCALSTACK_PORT=4577`) -------------------
LOCALSTACK_PORT ?= 4566
GLUE_PORT       ?= 4567
AWS_REGION      ?= us-east-1
LOCALAWS_HOME   ?= $(CURDIR)/.local
VENVS           ?= $(CURDIR)/.venvs
PYTEST_ARGS     ?=
MODE            ?= auto

TOOLS_PY := $(VENVS)/tools/bin/python
LOCALAWS := $(VENVS)/tools/bin/localaws

# How the emulation is started: which interpreter runs what. Read by `localaws` (see its --help).
export LOCALAWS_HOME LOCALSTACK_PORT GLUE_PORT
export LOCALAWS_MODE := $(MODE)
export LOCALAWS_COMPOSE_FILE := $(CURDIR)/docker-compose.yml
export LOCALAWS_LOCALSTACK_PYTHON   := $(VENVS)/localstack/bin/python
export LOCALAWS_GLUE_SERVICE_PYTHON := $(TOOLS_PY)
# One python3.x runtime per boto3-only environment bootstrap built (.venvs/lambda-python3.x, one for each
# interpreter it found): `python3.10=<venvs>/lambda-python3.10/bin/python,...`. Recursive (=) with $(shell),
# so it is computed when a recipe runs: after `up`'s bootstrap prerequisite has created the environments.
LAMBDA_PYTHONS = $(shell ls -d $(VENVS)/lambda-python3.*/bin/python 2>/dev/null)
export LOCALAWS_LAMBDA_RUNTIMES = $(subst $(space),$(comma),$(strip \
	$(foreach python,$(LAMBDA_PYTHONS),$(patsubst $(VENVS)/lambda-%/bin/python,%,$(python))=$(python))))
export LOCALAWS_GLUE_RUNTIMES       := 3.9=$(VENVS)/glue-pythonshell-3.9/bin/python,spark-5.0=$(VENVS)/glue-spark-5.0/bin/python

# The only place local endpoints and dummy credentials are set: prefixed to local commands, never
# exported, so nothing AWS-bound can inherit them.
LOCAL_AWS := env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
	AWS_ENDPOINT_URL=http://127.0.0.1:$(LOCALSTACK_PORT) AWS_ENDPOINT_URL_GLUE=http://127.0.0.1:$(GLUE_PORT) \
	AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=$(AWS_REGION) \
	AWS_S3_USE_PATH_STYLE=true

.PHONY: help bootstrap glue-modules up down ps emulator-logs build deploy-local e2e plan-aws deploy-aws destroy-aws status run \
	logs report dashboard alarms test test-unit test-integration bench mutation clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "; printf "Usage: make <target> [VAR=value]\n\nTargets:\n"} \
		/^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@printf "\nSettings: LOCALSTACK_PORT=$(LOCALSTACK_PORT) GLUE_PORT=$(GLUE_PORT) LOCALAWS_HOME=$(LOCALAWS_HOME)\n"

# ---- local AWS ------------------------------------------------------------------------------------
bootstrap: ## Create the Python environments under .venvs/ (once; re-run is a no-op)
	@scripts/bootstrap.sh

glue-modules: bootstrap ## Install the Glue job's --additional-python-modules into the emulation's cache (once; `up` runs it)
	@$(TOOLS_PY) scripts/prepare_glue_modules.py

up: bootstrap glue-modules ## Start the local AWS (LocalStack + Glue-compatible service) and wait until healthy
	@$(LOCALAWS) up

down: ## Stop the local AWS: exactly the processes `make up` started
	@if [ -x $(LOCALAWS) ]; then $(LOCALAWS) down; else echo "nothing to stop (no environments yet)"; fi

ps: ## Show the local AWS services, their endpoints and state
	@$(LOCALAWS) ps

emulator-logs: ## Print an emulator process log: make emulator-logs SERVICE=localstack|glue [FOLLOW=1]
	@$(LOCALAWS) logs $(or $(SERVICE),localstack) $(if $(FOLLOW),--follow)

# ---- the pipeline, locally ------------------------------------------------------------------------
build: bootstrap ## Build the Lambda packages, the layer and the Glue job files into build/
	@$(TOOLS_PY) scripts/build_artifacts.py

deploy-local: up build ## Deploy the Terraform stack to the local AWS
	@$(LOCAL_AWS) scripts/deploy.sh local

e2e: deploy-local ## Upload the BTC sample and follow it through the pipeline to a trained model
	@$(LOCAL_AWS) $(TOOLS_PY) scripts/e2e.py

# ---- the pipeline, on AWS (your credentials; never $(LOCAL_AWS)) -----------------------------------
# scripts/deploy.sh runs scripts/aws_preflight.py first: no credentials, a taken bucket name or an
# emulator endpoint in the environment stop it before anything is built. [BACKEND_CONFIG=file.tfbackend]
plan-aws: bootstrap ## Preflight, build, and show what deploy-aws would change in your AWS account
	@scripts/deploy.sh aws --plan-only

deploy-aws: bootstrap ## Deploy the same stack to your AWS account: plan, confirm, apply [AUTO_APPROVE=1]
	@scripts/deploy.sh aws

destroy-aws: bootstrap ## Delete the AWS deployment (shows what goes and asks first) [AUTO_APPROVE=1]
	@scripts/deploy.sh aws --destroy

# ---- operating the pipeline (the `cripto` CLI; STACK_ENV=aws points it at the AWS deployment) -----
CRIPTO = $(if $(filter aws,$(STACK_ENV)),,$(LOCAL_AWS)) $(TOOLS_PY) -m cripto_ops.cli

status: ## Recent runs per dataset (state, model vs baselines, total time), then alarm states [DATASET=name] [RUN=run_id] [WIDE=1] [FORMAT=json]
	@$(CRIPTO) status $(if $(DATASET),--dataset $(DATASET)) $(if $(RUN),--run $(RUN)) $(if $(WIDE),--wide) \
		$(if $(FORMAT),--format $(FORMAT))

run: ## Upload a file and follow its run: make run FILE=prices.csv [DATASET=name]
	@test -n "$(FILE)" || { echo "usage: make run FILE=path/to/prices.csv [DATASET=name]"; exit 2; }
	@$(CRIPTO) run "$(FILE)" $(if $(DATASET),--dataset $(DATASET))

logs: ## Pipeline logs from CloudWatch: make logs [COMPONENT=feature|trigger|training|spark] [FOLLOW=1] [SINCE=1h]
	@$(CRIPTO) logs $(COMPONENT) $(if $(FOLLOW),--follow) --since $(or $(SINCE),1h)

report: ## Download the latest run's HTML report: make report [DATASET=default]
	@$(CRIPTO) report $(or $(DATASET),default)

dashboard: ## Render the CloudWatch dashboard into reports/dashboard.{html,png}: make dashboard [SINCE=3h]
	@$(CRIPTO) dashboard --since $(or $(SINCE),3h)

alarms: ## State of every alarm of the stack (ALARM first) and what each watches [FORMAT=json]
	@$(CRIPTO) alarms $(if $(FORMAT),--format $(FORMAT))

# ---- quality --------------------------------------------------------------------------------------
test: up ## Run every test: unit, then integration against the local AWS (what CI runs)
	@$(LOCAL_AWS) $(TOOLS_PY) -m pytest tests $(PYTEST_ARGS)

test-unit: bootstrap ## Run the unit tests only (no emulation needed)
	@$(TOOLS_PY) -m pytest tests/unit $(PYTEST_ARGS)

test-integration: up ## Run the integration tests only
	@$(LOCAL_AWS) $(TOOLS_PY) -m pytest tests/integration $(PYTEST_ARGS)

bench: build ## Run every benchmark (restarts the emulation, redeploys); writes bench/results.{json,md}
	@$(LOCAL_AWS) $(TOOLS_PY) scripts/bench.py

mutation: ## Mutation testing (mutmut) of core, handlers, Glue service -> bench/mutation.{json,md} [MUTATION_SCOPE=core,handlers,emulator] [MUTATION_MODULES=globs]
	@ONLY=mutation scripts/bootstrap.sh
	@nice -n 10 $(VENVS)/mutation/bin/python scripts/mutation.py

clean: down ## Stop everything and remove build output and local state (keeps .venvs/)
	rm -rf build $(LOCALAWS_HOME)
