#!/usr/bin/env bash
# Builds the artifacts and deploys the stack to one environment, then prints its outputs.
#
#   scripts/deploy.sh local                  # the running emulation (`make up` first)
#   scripts/deploy.sh aws                    # a real account: shows the plan and asks first
#   scripts/deploy.sh aws --plan-only        # a real account: only show the plan
#   scripts/deploy.sh aws --destroy          # a real account: show what goes, ask, delete it
#
# local: scripts/local_state.py (a state written for a previous emulation is moved aside: an
#        emulation starts empty) -> scripts/build_artifacts.py -> terraform init -> terraform apply
#        -auto-approve; extra arguments go to `terraform apply`.
# aws:   scripts/aws_preflight.py (credentials, region, bucket name, state; nothing is built,
#        initialised or applied unless it passes) -> build -> init -> `terraform plan -out` (shown)
#        -> confirmation (type "yes"; AUTO_APPROVE=1 skips it) -> `terraform apply` of exactly
#        that saved plan. Extra arguments go to `terraform plan` (e.g. -target=...); `-auto-approve`
#        is the same as AUTO_APPROVE=1. The plan file is deleted afterwards.
# Unchanged sources build byte-identical zips, so re-deploying without changes changes nothing.
#
# Env vars: TOOLS_PYTHON (default <repo>/.venvs/tools/bin/python), DEPLOY_WAIT_SECONDS (how long
#           `local` waits for the emulation to answer, default 30); for `local` also
#           AWS_ENDPOINT_URL / LOCALSTACK_PORT and AWS_ENDPOINT_URL_GLUE / GLUE_PORT; for `aws`
#           AUTO_APPROVE (1: apply without asking) and BACKEND_CONFIG (S3 state); all as read by
#           scripts/terraform.sh (which documents the rest). LOCALAWS_HOME holds the plan file.
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

ACTION=deploy
if [ "$ENV_NAME" = aws ]; then
  PASSED=()
  for arg in "$@"; do
    case "$arg" in
      --plan-only) ACTION=plan ;;
      --destroy) ACTION=destroy ;;
      -auto-approve | --auto-approve) AUTO_APPROVE=1 ;;
      *) PASSED+=("$arg") ;;
    esac
  done
  set -- ${PASSED[@]+"${PASSED[@]}"}
fi

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
  # The emulation starts empty after every restart: a state describing a previous one is moved aside
  # (kept), so Terraform creates everything again instead of failing on what is gone. The directory
  # is scripts/terraform.sh's local state directory.
  "$TOOLS_PYTHON" "$ROOT/scripts/local_state.py" --state-dir "${LOCALAWS_HOME:-$ROOT/.local}/terraform/local" \
    | sed 's/^/[deploy] /' >&2 || die "could not check which emulation the local Terraform state belongs to (see above)."
  # The emulation accepts any credentials; never use (or leak calls with) the host's real ones.
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  unset AWS_SESSION_TOKEN AWS_PROFILE
  APPLY_ARGS=(-auto-approve)
else
  # Before anything is built or initialised: without credentials (or with a taken bucket name,
  # an emulator endpoint in the environment, ...) stop here, with nothing half-done.
  say "preflight ($ACTION) ..."
  target="$("$TOOLS_PYTHON" "$ROOT/scripts/aws_preflight.py" --action "$ACTION" \
    ${BACKEND_CONFIG:+--backend-config "$BACKEND_CONFIG"})" || exit 1
fi

started=$SECONDS
say "building artifacts ..."
"$TOOLS_PYTHON" "$ROOT/scripts/build_artifacts.py" || die "the build failed (see above); nothing was deployed."
built=$SECONDS

say "terraform init ($ENV_NAME) ..."
"$ROOT/scripts/terraform.sh" "$ENV_NAME" init >/dev/null \
  || die "terraform init failed: re-run \`scripts/terraform.sh $ENV_NAME init\` to see why."
initialised=$SECONDS

if [ "$ACTION" = deploy ]; then
  # Glue's shared log groups may already exist (any Python shell job creates them): adopt them.
  "$TOOLS_PYTHON" "$ROOT/scripts/adopt_shared_log_groups.py" "$ENV_NAME" \
    || die "could not check or import the shared Glue log groups (see above)."
fi

if [ "$ENV_NAME" = local ]; then
  say "terraform apply ($ENV_NAME) ..."
  # apply ends by printing the outputs; scripts read them with `scripts/terraform.sh <env> output -json`.
  "$ROOT/scripts/terraform.sh" "$ENV_NAME" apply ${APPLY_ARGS[@]+"${APPLY_ARGS[@]}"} "$@"
else
  # Plan to a file, show it, confirm, apply exactly that file: what was read is what is done.
  plan_dir="${LOCALAWS_HOME:-$ROOT/.local}/terraform/aws-plans"
  mkdir -p "$plan_dir"
  plan_file="$(mktemp "$plan_dir/$ACTION.XXXXXX.tfplan")"
  trap 'rm -f "$plan_file"' EXIT  # a plan file holds resource values; never keep it around
  plan_args=(-out="$plan_file" -detailed-exitcode)
  [ "$ACTION" = destroy ] && plan_args+=(-destroy)
  say "terraform plan ($ENV_NAME, $ACTION) ..."
  plan_status=0
  "$ROOT/scripts/terraform.sh" aws plan "${plan_args[@]}" "$@" || plan_status=$?
  case "$plan_status" in
    0) say "nothing to change in $target."
       exit 0 ;;
    2) ;;  # changes to apply
    *) die "terraform plan failed (see above); nothing was changed in AWS." ;;
  esac
  if [ "$ACTION" = plan ]; then
    say "plan only: nothing was changed. \`make deploy-aws\` applies it (after asking)."
    exit 0
  fi
  if [ "${AUTO_APPROVE:-}" != 1 ]; then
    [ -t 0 ] || die "no terminal to confirm on: read the plan above, then re-run with AUTO_APPROVE=1 to apply it."
    verb=$([ "$ACTION" = destroy ] && echo "DESTROY these resources in" || echo "apply this plan to")
    read -r -p "$(printf '\033[1m[deploy]\033[0m %s %s? Only "yes" goes ahead: ' "$verb" "$target")" answer
    [ "$answer" = yes ] || die "not confirmed ('$answer'); nothing was changed in AWS."
  fi
  say "terraform apply ($ENV_NAME, the saved plan) ..."
  "$ROOT/scripts/terraform.sh" aws apply "$plan_file"
fi
applied=$SECONDS
[ "$ACTION" = destroy ] && { say "destroyed the '$ENV_NAME' stack in $((applied - started)) s"; exit 0; }
say "deployed to '$ENV_NAME' in $((applied - started)) s (build $((built - started)) s, init $((initialised - built)) s, apply $((applied - initialised)) s)"
