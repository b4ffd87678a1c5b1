#!/usr/bin/env bash
# Install everything the tests need from this repo's own files, then run the whole suite.
#   .venv      the app's environment (requirements-dev.txt = requirements.txt + requirements-scale.txt (Ray) +
#              requirements-train.txt (datasets, accelerate) + test tools), at the exact versions of constraints.txt (the Docker image uses the same file)
#   .venv-ref  InstructorEmbedding 1.0.1 and its old library versions, for the fidelity test
#   chromium   Debian's browser, for the end-to-end browser tests (apt-get, when missing)
# Re-runs skip installs whose requirement files did not change. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False PIP_DISABLE_PIP_VERSION_CHECK=1

stamp() { echo "$1/.installed-$(cat "${@:2}" | sha256sum | cut -c1-16)"; }
fresh_venv() { rm -rf "$1" && "$PYTHON" -m venv "$1" && "$1/bin/pip" install -q --upgrade pip; }

if [[ ! -f $(stamp .venv requirements.txt requirements-scale.txt requirements-train.txt requirements-fast.txt requirements-dev.txt constraints.txt) ]]; then
  fresh_venv .venv
  .venv/bin/pip install -q -r requirements-dev.txt -c constraints.txt
  touch "$(stamp .venv requirements.txt requirements-scale.txt requirements-train.txt requirements-fast.txt requirements-dev.txt constraints.txt)"
fi
if [[ ! -f $(stamp .venv-ref tests/reference/requirements.txt) ]]; then
  fresh_venv .venv-ref
  .venv-ref/bin/pip install -q -r tests/reference/requirements.txt
  # Without --no-deps, sentence-transformers 2.2.2 would pull torchvision and a newer torch.
  .venv-ref/bin/pip install -q --no-deps sentence-transformers==2.2.2 InstructorEmbedding==1.0.1
  touch "$(stamp .venv-ref tests/reference/requirements.txt)"
fi
if ! command -v chromium >/dev/null; then
  SUDO=$([[ $(id -u) == 0 ]] && echo "" || echo sudo)
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
fi

mkdir -p test-output
echo "Test artefacts (screenshots, downloads): $(pwd)/test-output"
exec .venv/bin/python -m pytest "$@"
