#!/usr/bin/env bash
# Install the Debian packages whose programs the tests (or, with arguments COMMAND:PACKAGE…, the benchmarks)
# drive, when missing and running as root. Without root the tests that need them skip with a message naming
# the package; with REQUIRE_SYSTEM_TOOLS=1 (CI) they fail instead.
set -euo pipefail

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(chromium:chromium litmus:litmus rclone:rclone)
missing=()
for pair in "${wanted[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%:*}" ] || missing+=("${pair##*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing Debian packages: ${missing[*]} (not root: what needs them will skip)" >&2
fi
