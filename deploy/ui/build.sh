#!/usr/bin/env bash
# Build-time vendor assets for the ops dashboard and the API docs: install the pinned packages from npm
# (package-lock.json) and copy its dist files into api/http/static/vendor/, which the API serves at
# /static/vendor/. Nothing is loaded from a CDN at run time. Idempotent; safe to run from `make setup`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/api/http/static/vendor"

if ! command -v npm >/dev/null 2>&1; then
  echo "deploy/ui/build.sh: npm not found; install Node.js 18+ to build the dashboard charts" >&2
  exit 1
fi
cd "$here"
npm ci --no-audit --no-fund --silent
mkdir -p "$out"
cp node_modules/uplot/dist/uPlot.iife.min.js "$out/uplot.iife.min.js"
cp node_modules/uplot/dist/uPlot.min.css "$out/uplot.min.css"
cp node_modules/uplot/LICENSE "$out/uplot.LICENSE" 2>/dev/null || true
# The API's own /docs (Swagger UI) and /redoc (ReDoc) pages: served from here, so they work offline.
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css "$out/"
cp node_modules/swagger-ui-dist/LICENSE "$out/swagger-ui.LICENSE"
cp node_modules/redoc/bundles/redoc.standalone.js "$out/redoc.standalone.js"
cp node_modules/redoc/LICENSE "$out/redoc.LICENSE" 2>/dev/null || true
echo "dashboard vendor assets -> ${out#"$root"/}: $(cd "$out" && ls | tr '\n' ' ')"
