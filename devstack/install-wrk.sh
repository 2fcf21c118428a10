#!/usr/bin/env bash
# Installs wrk (the HTTP load generator the benchmark's peak measurement drives, benchmarks/servers.py)
# from Debian's packages when it is missing.
set -euo pipefail
if command -v wrk >/dev/null; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Installing wrk from Debian's packages ..."
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null
wrk --version 2>&1 | head -1 || true
