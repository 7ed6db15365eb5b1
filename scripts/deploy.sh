#!/usr/bin/env bash
# Builds the artifacts and deploys the stack to one environment, then prints its outputs.
#
#   scripts/deploy.sh local                  # the running emulation (`make up` first)
#   scripts/deploy.sh aws                    # a real account: shows the plan and asks first
#   scripts/deploy.sh aws -auto-approve      # extra arguments go to `terraform apply`
#
# Steps: scripts/build_artifacts.py -> terraform init -> terraform apply (which prints the outputs).
# Unchanged sources build byte-identical zips, so re-deploying without changes changes nothing.
#
# Env vars: TOOLS_PYTHON (default <repo>/.venvs/tools/bin/python), DEPLOY_WAIT_SECONDS (how long
#           `local` waits for the emulation to answer, default 30); for `local` also
#           AWS_ENDPOINT_URL / LOCALSTACK_PORT and AWS_ENDPOINT_URL_GLUE / GLUE_PORT, as read by
#           scripts/terraform.sh (which documents the rest).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_PYTHON="${TOOLS_PYTHON:-$ROOT/.venvs/tools/bin/python}"
DEPLOY_WAIT_SECONDS="${DEPLOY_WAIT_SECONDS:-30}"

say() { printf '\033[1m[deploy]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[deploy] error:\033[0m %s\n' "$*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: scripts/deploy.sh local|aws [terraform apply arguments...]"
ENV_NAME="$1"; shift
case "$ENV_NAME" in
  local | aws) ;;
  *) die "unknown environment '$ENV_NAME': use 'local' (the emulation) or 'aws' (a real account)." ;;
esac
[ -x "$TOOLS_PYTHON" ] || die "$TOOLS_PYTHON not found: run scripts/bootstrap.sh (or set TOOLS_PYTHON)."

# wait_for_http NAME URL: bounded wait until URL answers at all (any HTTP status), else exit 1.
wait_for_http() {
  local name="$1" url="$2" deadline=$((SECONDS + DEPLOY_WAIT_SECONDS))
  until curl --silent --output /dev/null --max-time 3 "$url"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "$name does not answer at $url after ${DEPLOY_WAIT_SECONDS} s. Start the emulation with \`make up\` (or point AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_GLUE at it)."
    fi
    sleep 1
  done
}

if [ "$ENV_NAME" = local ]; then
  # Same defaults as scripts/terraform.sh, resolved here too so the health checks see them.
  export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:${LOCALSTACK_PORT:-4566}}"
  export AWS_ENDPOINT_URL_GLUE="${AWS_ENDPOINT_URL_GLUE:-http://127.0.0.1:${GLUE_PORT:-4567}}"
  wait_for_http LocalStack "$AWS_ENDPOINT_URL/_localstack/health"
  wait_for_http "The Glue service" "$AWS_ENDPOINT_URL_GLUE/"
  APPLY_ARGS=(-auto-approve)
else
  APPLY_ARGS=()
fi

started=$SECONDS
say "building artifacts ..."
"$TOOLS_PYTHON" "$ROOT/scripts/build_artifacts.py" || die "the build failed (see above); nothing was deployed."
built=$SECONDS

say "terraform init ($ENV_NAME) ..."
"$ROOT/scripts/terraform.sh" "$ENV_NAME" init >/dev/null \
  || die "terraform init failed: re-run \`scripts/terraform.sh $ENV_NAME init\` to see why."
initialised=$SECONDS

say "terraform apply ($ENV_NAME) ..."
# apply ends by printing the outputs; scripts read them with `scripts/terraform.sh <env> output -json`.
"$ROOT/scripts/terraform.sh" "$ENV_NAME" apply ${APPLY_ARGS[@]+"${APPLY_ARGS[@]}"} "$@"
applied=$SECONDS
say "deployed to '$ENV_NAME' in $((applied - started)) s (build $((built - started)) s, init $((initialised - built)) s, apply $((applied - initialised)) s)"
