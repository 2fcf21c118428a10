#!/usr/bin/env bash
# Installs redis-server from Debian's packages when it is missing. The stack never uses the system
# service it may start on 6379: devstack runs its own redis-server on its own port.
set -euo pipefail
if command -v redis-server >/dev/null; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Installing redis-server from Debian's packages ..."
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
redis-server --version
