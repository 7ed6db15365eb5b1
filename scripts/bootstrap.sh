#!/usr/bin/env bash
# Creates (once) the project's Python environments under .venvs/.
#
#   tools                 Python 3.12: tests, build/deploy scripts, the CLI, the emulator launcher
#                         and the Glue-compatible service.
#   localstack            Python 3.13: localstack-core (open source, runs on the host) + our
#                         Lambda executor plugin. Kept apart because LocalStack bundles its own
#                         `moto` and pins many libraries.
#   lambda-python3.x      One per python3.x Lambda runtime whose interpreter is found (pyenv or PATH;
#                         LAMBDA_PYTHON_VERSIONS lists the candidates), with only boto3/botocore
#                         (emulator/requirements/lambda-python.txt): what AWS's python3.x Lambda runtime
#                         provides. Functions run on it; their own code and layers add the rest. The
#                         Makefile serves every one of them (LOCALAWS_LAMBDA_RUNTIMES). In ONLY,
#                         `lambda-python` means all of them, `lambda-python3.11` one (required).
#   glue-pythonshell-3.9  Python 3.9 with AWS Glue Python shell's `analytics` library set.
#   checks                Python 3.12: checkov, bandit, hadolint (static security/lint gates).
#   glue-spark-5.0        Python 3.11 + PySpark 3.5.4 (AWS Glue 5.0 Spark jobs, `glueetl`), plus the S3A
#                         connector jars in .venvs/glue-spark-5.0/jars/ (hadoop-aws 3.3.1 and
#                         aws-java-sdk-bundle 1.11.901, taken from the PyPI sdist of sagemaker-pyspark
#                         1.4.5 because Maven Central is not a registry this project may use; sha256
#                         pinned in emulator/requirements/glue-spark-5.0-jars.sha256). Needs Java 17:
#                         installed with apt (openjdk-17-jre-headless) when `java` is missing.
#   mutation              Python 3.12: the tools environment's pins + mutmut, for `make mutation`
#                         only; not in the default set (ONLY=mutation builds it on demand).
#
# An environment is rebuilt only when its requirement files or interpreter change (a stamp
# file records their hash), so re-running is cheap.
#
# Env vars: PYTHON39, PYTHON310 ... PYTHON314 (interpreter of that version to use; found on PATH or under pyenv
#           otherwise), VENVS_DIR (default: <repo>/.venvs), ONLY (space-separated subset of environments),
#           LAMBDA_PYTHON_VERSIONS (the python3.x Lambda runtimes to look for).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENVS_DIR="${VENVS_DIR:-$ROOT/.venvs}"
ONLY="${ONLY:-tools localstack lambda-python glue-pythonshell-3.9 glue-spark-5.0 checks}"
# Lambda's python3.x runtimes (AWS's list of runtimes) from the oldest the pinned boto3 supports (3.9;
# AWS no longer lets anyone create python3.8 functions) to the newest.
LAMBDA_PYTHON_VERSIONS="${LAMBDA_PYTHON_VERSIONS:-3.9 3.10 3.11 3.12 3.13 3.14}"

say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[bootstrap] error:\033[0m %s\n' "$*" >&2; exit 1; }

# find_python VERSION -> path of an interpreter for that minor version
find_python() {
  local version="$1" candidate
  for candidate in "python$version" \
      "$(command -v pyenv >/dev/null 2>&1 && pyenv root || echo "$HOME/.pyenv")"/versions/"$version".*/bin/"python$version"; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import venv' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

# python_for VERSION -> $PYTHON<major><minor> if set, else an interpreter found for VERSION (or nothing)
python_for() {
  local variable="PYTHON${1//./}"
  printf '%s' "${!variable:-$(find_python "$1" || true)}"
}

PY312="$(python_for 3.12)"
PY39="$(python_for 3.9)"
PY313="$(python_for 3.13)"
PY311="$(python_for 3.11)"

# make_venv NAME PYTHON REQUIREMENT_FILE... [-- EXTRA_PIP_ARGS...]
make_venv() {
  local name="$1" python="$2"; shift 2
  local reqs=() extra=()
  while [ $# -gt 0 ]; do
    if [ "$1" = "--" ]; then shift; extra=("$@"); break; fi
    reqs+=("$1"); shift
  done
  local dir="$VENVS_DIR/$name"
  local stamp
  # Editable installs (-e DIR) count with their pyproject.toml: new entry points need a reinstall.
  local arg editable=()
  for arg in "${extra[@]+"${extra[@]}"}"; do
    if [ -f "$arg/pyproject.toml" ]; then editable+=("$arg/pyproject.toml"); fi
  done
  stamp="$( { "$python" -VV; cat "${reqs[@]}" "${editable[@]+"${editable[@]}"}"; printf '%s\n' "${extra[@]+"${extra[@]}"}"; } | sha256sum | cut -c1-16)"
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then
    return 0
  fi
  say "creating $name ($("$python" -V 2>&1)) in ${dir#"$ROOT"/} ..."
  local started=$SECONDS
  rm -rf "$dir"
  "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade 'pip==25.3' 2>&1 \
    | grep -v "is ignored: it is neither a file nor a directory" >&2 || true
  local args=()
  for r in "${reqs[@]}"; do args+=(-r "$r"); done
  if ! "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "${args[@]}" \
        "${extra[@]+"${extra[@]}"}" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); then
    rm -rf "$dir"
    die "installing $name failed (see pip's message above). Check the network to the package index and re-run."
  fi
  echo "$stamp" > "$dir/.stamp"
  say "$name ready in $((SECONDS - started)) s"
}

# Java 17 for Spark 3.5 / Glue 5.0: install Debian's JRE when no `java` is on PATH.
ensure_java17() {
  if ! command -v java >/dev/null 2>&1; then
    say "no java on PATH: installing Debian's openjdk-17-jre-headless (Glue 5.0 runs Java 17) ..."
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo -n)
    if ! command -v apt-get >/dev/null 2>&1 \
        || ! "${sudo[@]+"${sudo[@]}"}" apt-get install -y --no-install-recommends openjdk-17-jre-headless >&2; then
      die "Java 17 is needed for Glue Spark jobs and could not be installed. Install it yourself (Debian/Ubuntu: 'sudo apt-get install openjdk-17-jre-headless'; elsewhere any JDK/JRE 17) and re-run."
    fi
  fi
  local version
  version="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
  [ "$version" = 17 ] || say "warning: java is version '${version:-unknown}', Glue 5.0 runs Java 17 (Spark 3.5 also runs on 8/11/21)."
}

# S3A jars for the glue-spark-5.0 environment, from the sagemaker-pyspark sdist on PyPI, checksum-verified.
SPARK_JARS=(hadoop-aws-3.3.1.jar aws-java-sdk-bundle-1.11.901.jar)
ensure_spark_jars() {
  local dir="$VENVS_DIR/glue-spark-5.0/jars" sums="$ROOT/emulator/requirements/glue-spark-5.0-jars.sha256"
  if [ -d "$dir" ] && (cd "$dir" && sha256sum --check --quiet --status "$sums") 2>/dev/null; then
    return 0
  fi
  say "fetching the S3A jars (${SPARK_JARS[*]}) from the sagemaker-pyspark==1.4.5 sdist (181 MB) ..."
  local tmp; tmp="$(mktemp -d)"
  if ! "$VENVS_DIR/glue-spark-5.0/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
        --no-binary :all: 'sagemaker-pyspark==1.4.5' -d "$tmp" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); then
    rm -rf "$tmp"; die "downloading the sagemaker-pyspark==1.4.5 sdist failed. Check the network to PyPI and re-run."
  fi
  local members=()
  for jar in "${SPARK_JARS[@]}"; do members+=("sagemaker_pyspark-1.4.5/deps/jars/$jar"); done
  tar -xzf "$tmp"/sagemaker_pyspark-1.4.5.tar.gz -C "$tmp" "${members[@]}" || { rm -rf "$tmp"; die "the sdist has no ${SPARK_JARS[*]}"; }
  if ! (cd "$tmp/sagemaker_pyspark-1.4.5/deps/jars" && sha256sum --check --quiet "$sums" >&2); then
    rm -rf "$tmp"; die "checksum mismatch for the S3A jars (see above): not installing them. Compare with $sums."
  fi
  rm -rf "$dir"; mkdir -p "$dir"
  mv "$tmp"/sagemaker_pyspark-1.4.5/deps/jars/*.jar "$dir"/
  rm -rf "$tmp"
  say "S3A jars verified and stored in ${dir#"$ROOT"/}"
}

need() { [ -n "$2" ] || die "Python $1 not found. Install it (e.g. 'pyenv install $1') or set PYTHON${1//./}=/path/to/python$1."; }

LAMBDA_REQUIREMENTS="$ROOT/emulator/requirements/lambda-python.txt"

# lambda_runtimes: a boto3-only environment for every candidate version whose interpreter exists.
lambda_runtimes() {
  local version python found=() missing=()
  for version in $LAMBDA_PYTHON_VERSIONS; do
    python="$(python_for "$version")"
    if [ -z "$python" ]; then missing+=("python$version"); continue; fi
    make_venv "lambda-python$version" "$python" "$LAMBDA_REQUIREMENTS"
    found+=("python$version")
  done
  [ ${#found[@]} -gt 0 ] || die "no Python for any Lambda runtime (${LAMBDA_PYTHON_VERSIONS}) was found. Install one (e.g. 'pyenv install 3.12') and re-run."
  say "Lambda runtimes: ${found[*]}${missing[*]:+ (no interpreter for ${missing[*]}: install one, e.g. 'pyenv install <version>', and re-run to add it)}"
}

for env in $ONLY; do
  case "$env" in
    tools)
      need 3.12 "$PY312"
      make_venv tools "$PY312" "$ROOT/requirements/tools.txt" "$ROOT/emulator/requirements/glue-service.txt" -- -e "$ROOT/emulator" -e "$ROOT" ;;
    localstack)
      need 3.13 "$PY313"
      make_venv localstack "$PY313" "$ROOT/emulator/requirements/localstack.txt" -- -e "$ROOT/emulator" ;;
    lambda-python)
      lambda_runtimes ;;
    lambda-python3.*)
      version="${env#lambda-python}"
      python="$(python_for "$version")"
      need "$version" "$python"
      make_venv "$env" "$python" "$LAMBDA_REQUIREMENTS" ;;
    glue-pythonshell-3.9)
      need 3.9 "$PY39"
      make_venv glue-pythonshell-3.9 "$PY39" "$ROOT/emulator/requirements/glue-pythonshell-3.9.txt" ;;
    glue-spark-5.0)
      need 3.11 "$PY311"
      ensure_java17
      make_venv glue-spark-5.0 "$PY311" "$ROOT/emulator/requirements/glue-spark-5.0.txt"
      ensure_spark_jars ;;
    checks)
      need 3.12 "$PY312"
      make_venv checks "$PY312" "$ROOT/requirements/checks.txt" ;;
    mutation)
      need 3.12 "$PY312"
      make_venv mutation "$PY312" "$ROOT/requirements/mutation.txt" ;;
    *) die "unknown environment '$env'" ;;
  esac
done
