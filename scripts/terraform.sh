#!/usr/bin/env bash
# Runs Terraform on terraform/ for one environment, keeping each environment's state apart.
#
#   scripts/terraform.sh local init            # offline when a provider mirror is found
#   scripts/terraform.sh local plan
#   scripts/terraform.sh aws apply
#   scripts/terraform.sh local output -json
#
# Per environment <env> (local | aws):
#   - TF_DATA_DIR = <LOCALAWS_HOME>/terraform/<env>/data (providers, backend settings);
#   - state file  = local: <LOCALAWS_HOME>/terraform/local/terraform.tfstate — it describes the
#                   emulation, which lives (and is reset) under the same directory;
#                   aws:   terraform/state/aws/terraform.tfstate — survives a reset of .local/.
#     `init` gets `-backend-config=path=<state file>`;
#   - plan/apply/destroy/import/refresh/console get `-var-file=env/<env>.tfvars`;
#   - local only: AWS_ENDPOINT_URL (default http://127.0.0.1:$LOCALSTACK_PORT, port 4566),
#     AWS_ENDPOINT_URL_GLUE (default http://127.0.0.1:$GLUE_PORT, port 4567),
#     AWS_S3_USE_PATH_STYLE=true and dummy credentials, unless already set;
#   - aws only: refuses to run while an AWS_ENDPOINT_URL* variable is set (it would send a
#     "real AWS" deployment to an emulator, or worse, the other way round);
#   - aws only, BACKEND_CONFIG=<file>: the state lives in S3 instead (an S3 backend file, see
#     terraform/env/aws.s3.tfbackend.example). A backend's type cannot be chosen at `init`, and
#     terraform/backend.tf declares "local" for both environments, so Terraform runs in an overlay
#     directory, <LOCALAWS_HOME>/terraform/aws-s3/root: symlinks to every terraform/*.tf except
#     backend.tf, plus a generated backend.tf declaring "s3" (partial: the file fills it in, given
#     to `init` as `-backend-config=<file> -reconfigure`). Same resources, same addresses, same
#     relative artifact paths, own TF_DATA_DIR; terraform/ itself is never changed.
#
# Provider installation: if a filesystem mirror holding hashicorp/aws is found (TF_PROVIDER_MIRROR,
# then /opt/tf-plugins, ~/.terraform.d/plugins, ~/.local/share/terraform/plugins,
# /usr/share/terraform/plugins), a CLI config using only that mirror is generated and exported as
# TF_CLI_CONFIG_FILE, so `init` never goes online. Otherwise `init` uses the registry as usual.
# The config is <LOCALAWS_HOME>/terraform/terraformrc, written by every run (even `version`): other
# Terraform wrappers (tflocal, README "One endpoint") can point TF_CLI_CONFIG_FILE at it.
#
# Env vars: LOCALAWS_HOME (default <repo>/.local), TF_DIR (default <repo>/terraform),
#           TF_PROVIDER_MIRROR, LOCALSTACK_PORT, GLUE_PORT, TERRAFORM (binary, default terraform),
#           BACKEND_CONFIG (aws only: S3 backend file; relative to the current directory).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TF_DIR="${TF_DIR:-$ROOT/terraform}"
LOCALAWS_HOME="${LOCALAWS_HOME:-$ROOT/.local}"
TERRAFORM="${TERRAFORM:-terraform}"

die() { printf '\033[31m[terraform] error:\033[0m %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 2 ] || usage
ENV_NAME="$1"; shift
case "$ENV_NAME" in
  local | aws) ;;
  *) die "unknown environment '$ENV_NAME': use 'local' (the emulation) or 'aws' (a real account)." ;;
esac
command -v "$TERRAFORM" >/dev/null 2>&1 \
  || die "'$TERRAFORM' not found. Install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install) or set TERRAFORM=/path/to/terraform."
[ -f "$TF_DIR/env/$ENV_NAME.tfvars" ] || die "missing $TF_DIR/env/$ENV_NAME.tfvars"
if [ "$ENV_NAME" = aws ] \
    && endpoint_vars="$(env | grep -o '^AWS_ENDPOINT_URL[A-Z0-9_]*' | paste -sd ' ' -)" && [ -n "$endpoint_vars" ]; then
  die "environment 'aws' targets a real account, but emulator endpoints are set (${endpoint_vars}). Unset them (and AWS_S3_USE_PATH_STYLE) first."
fi
# An endpoint_url in ~/.aws/config (or a profile's services section) must not redirect a real deployment.
if [ "$ENV_NAME" = aws ]; then export AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true; fi

# --- state and working data, one set per environment -------------------------------------------
# BACKEND_CONFIG concerns aws only (it may stay exported while working locally): the local state
# describes the emulation and always stays under LOCALAWS_HOME.
BACKEND_CONFIG="${BACKEND_CONFIG:-}"
[ "$ENV_NAME" = aws ] || BACKEND_CONFIG=""
if [ -n "$BACKEND_CONFIG" ]; then
  [ -f "$BACKEND_CONFIG" ] || die "BACKEND_CONFIG=$BACKEND_CONFIG: no such file (copy terraform/env/aws.s3.tfbackend.example)."
  BACKEND_CONFIG="$(cd "$(dirname "$BACKEND_CONFIG")" && pwd)/$(basename "$BACKEND_CONFIG")"  # -chdir moves
  # Every endpoint key: endpoint(s), sts_endpoint, iam_endpoint, dynamodb_endpoint, ...
  if grep -Eq '^[[:space:]]*([a-z_]*endpoints?[a-z_]*|use_path_style|force_path_style)[[:space:]]*[={]' "$BACKEND_CONFIG"; then
    die "$BACKEND_CONFIG sets an endpoint or path-style access: the AWS state must live in AWS."
  fi
fi

ENV_HOME="$LOCALAWS_HOME/terraform/$ENV_NAME"
if [ -n "$BACKEND_CONFIG" ]; then
  ENV_HOME="$LOCALAWS_HOME/terraform/aws-s3"  # its own data dir: switching backends never prompts
fi
export TF_DATA_DIR="$ENV_HOME/data"
STATE_FILE=""
if [ "$ENV_NAME" = local ]; then
  STATE_FILE="$ENV_HOME/terraform.tfstate"
elif [ -z "$BACKEND_CONFIG" ]; then
  STATE_FILE="$TF_DIR/state/aws/terraform.tfstate"  # scripts/aws_preflight.py reads the same file
fi
mkdir -p "$TF_DATA_DIR" ${STATE_FILE:+"$(dirname "$STATE_FILE")"}

if [ -n "$BACKEND_CONFIG" ]; then
  # The overlay (see the header). Rebuilt on every run, so added or removed .tf files follow.
  # The artifacts are found through <overlay>/../build, as terraform/../build: artifacts_dir and
  # path.module stay what they are in terraform/, and so do the paths Terraform records.
  OVERLAY="$ENV_HOME/root"
  mkdir -p "$OVERLAY"
  find "$OVERLAY" -maxdepth 1 -name '*.tf' -delete
  for tf_file in "$TF_DIR"/*.tf; do
    [ "$(basename "$tf_file")" = backend.tf ] || ln -s "$tf_file" "$OVERLAY/"
  done
  ln -sfn "$TF_DIR/env" "$OVERLAY/env"
  # The committed provider hashes apply to the overlay too.
  if [ -f "$TF_DIR/.terraform.lock.hcl" ]; then ln -sfn "$TF_DIR/.terraform.lock.hcl" "$OVERLAY/.terraform.lock.hcl"; fi
  ln -sfn "$(cd "$TF_DIR/.." && pwd)/build" "$ENV_HOME/build"
  cat >"$OVERLAY/backend.tf" <<'EOF'
# Generated by scripts/terraform.sh for BACKEND_CONFIG; do not edit. Filled in at `init`.
terraform {
  backend "s3" {}
}
EOF
  TF_DIR="$OVERLAY"
fi

# --- offline provider installation --------------------------------------------------------------
is_mirror() { [ -d "$1/registry.terraform.io/hashicorp/aws" ]; }

find_mirror() {
  local dir
  for dir in /opt/tf-plugins "$HOME/.terraform.d/plugins" "$HOME/.local/share/terraform/plugins" \
      /usr/share/terraform/plugins; do
    if is_mirror "$dir"; then printf '%s\n' "$dir"; return 0; fi
  done
  return 1
}

if [ -n "${TF_PROVIDER_MIRROR:-}" ]; then
  is_mirror "$TF_PROVIDER_MIRROR" \
    || die "TF_PROVIDER_MIRROR=$TF_PROVIDER_MIRROR holds no registry.terraform.io/hashicorp/aws: fix the path or unset it."
  MIRROR="$TF_PROVIDER_MIRROR"
else
  MIRROR="$(find_mirror || true)"
fi

if [ -n "$MIRROR" ]; then
  export TF_CLI_CONFIG_FILE="$LOCALAWS_HOME/terraform/terraformrc"
  # Rewritten on every run: the mirror may move between machines; nothing machine-specific is
  # committed. The mirror is the only installation method, so init never reaches the network.
  mkdir -p "$(dirname "$TF_CLI_CONFIG_FILE")"
  config_tmp="$(mktemp "$TF_CLI_CONFIG_FILE.XXXXXX")"  # concurrent runs must not share a temp file
  cat >"$config_tmp" <<EOF
# Generated by scripts/terraform.sh; do not edit.
provider_installation {
  filesystem_mirror {
    path = "$MIRROR"
  }
}
EOF
  mv "$config_tmp" "$TF_CLI_CONFIG_FILE"
elif [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then
  # A dangling TF_CLI_CONFIG_FILE only produces a warning on every command; the registry needs none.
  unset TF_CLI_CONFIG_FILE
fi

# --- endpoints -----------------------------------------------------------------------------------
if [ "$ENV_NAME" = local ]; then
  export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:${LOCALSTACK_PORT:-4566}}"
  export AWS_ENDPOINT_URL_GLUE="${AWS_ENDPOINT_URL_GLUE:-http://127.0.0.1:${GLUE_PORT:-4567}}"
  # Buckets by path (http://host:port/bucket): virtual-hosted names (bucket.localhost) need DNS that
  # is not there offline. (With an IP endpoint the SDK falls back to path style by itself.)
  export AWS_S3_USE_PATH_STYLE="${AWS_S3_USE_PATH_STYLE:-true}"
  # The emulation accepts any credentials; never pick up (or leak calls with) the host's real ones.
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  unset AWS_SESSION_TOKEN AWS_PROFILE
fi

# --- the command ---------------------------------------------------------------------------------
COMMAND="$1"; shift
ARGS=()
case "$COMMAND" in
  init)
    if [ -n "$BACKEND_CONFIG" ]; then
      # -reconfigure: the file may name another bucket than last time; the state stays where it is.
      ARGS=(-input=false "-backend-config=$BACKEND_CONFIG" -reconfigure)
    else
      ARGS=(-input=false "-backend-config=path=$STATE_FILE")
    fi ;;
  plan | apply | destroy | import | refresh | console)
    # A saved plan already holds its variables; Terraform rejects -var-file next to one.
    last="${*: -1}"
    if [ "$COMMAND" = apply ] && [ -n "$last" ] && [ "${last#-}" = "$last" ] && [ -f "$last" ]; then
      ARGS=(-input=false)
    else
      ARGS=("-var-file=env/$ENV_NAME.tfvars")
      [ "$COMMAND" = console ] || ARGS+=(-input=false)
    fi ;;
esac

exec "$TERRAFORM" -chdir="$TF_DIR" "$COMMAND" ${ARGS[@]+"${ARGS[@]}"} "$@"
