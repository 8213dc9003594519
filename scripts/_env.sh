# Shared by scripts/run and scripts/test: a project virtualenv with gennai installed.
# pip re-runs only when pyproject.toml changes; llama-cpp-python is built portably (no -march=native),
# because a native build dies with "Illegal instruction" on other CPUs; pip's cache keeps the wheel.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

ensure_venv() {
  local extras="$1"
  local python="${PYTHON:-python3}"
  if [ ! -x .venv/bin/python ]; then
    echo "gennai: creating .venv with $($python --version)"
    "$python" -m venv .venv
  fi
  local stamp=".venv/.installed${extras}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "gennai: installing Python packages (the first time builds llama.cpp: about 7 minutes)"
    .venv/bin/pip install --quiet --upgrade pip
    .venv/bin/pip install --quiet -e ".${extras}"
    touch "$stamp"
  fi
}
