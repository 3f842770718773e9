#!/usr/bin/env bash
# Installs the pinned Deno from npm when `deno` is missing or not 2.9.x.
# The npm package `deno` carries the Linux binary (through its optional dependency
# @deno/linux-x64-glibc), so nothing is downloaded from anywhere but the npm registry.
set -euo pipefail

DENO_VERSION="2.9.6"
WANT_SERIES="2.9."

current_version() {
  deno --version 2>/dev/null | awk 'NR == 1 { print $2 }'
}

if command -v deno >/dev/null 2>&1 && [[ "$(current_version)" == "$WANT_SERIES"* ]]; then
  echo "deno $(current_version) is installed ($(command -v deno))"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install_deno.sh: npm is needed to install deno@${DENO_VERSION}" >&2
  exit 1
fi

echo "installing deno@${DENO_VERSION} with npm (found: $(current_version || true))"
npm install -g --no-fund --no-audit "deno@${DENO_VERSION}"

npm_bin="$(npm prefix -g)/bin"
if ! command -v deno >/dev/null 2>&1 || [[ "$(current_version)" != "$WANT_SERIES"* ]]; then
  export PATH="${npm_bin}:${PATH}"
fi
if [[ "$(current_version)" != "$WANT_SERIES"* ]]; then
  echo "install_deno.sh: deno ${DENO_VERSION} did not install into ${npm_bin}" >&2
  exit 1
fi
echo "deno $(current_version) is installed ($(command -v deno)); add ${npm_bin} to PATH if needed"
