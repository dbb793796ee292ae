#!/usr/bin/env bash
# chromium.sh prints the path of the Chromium that the browser tests (chromedp, headless) drive:
# Debian's chromium package at /usr/bin/chromium. When it is missing, it installs the package
# as root (measured: 53 s for the install, 155 MB downloaded, 480 MB on disk, after a 2 s
# apt-get update); as another user it says what to run and exits 1. make tools runs it, and
# so .ci/run does.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CHROMIUM=/usr/bin/chromium
if [ ! -x "${CHROMIUM}" ]; then
	if [ "$(id -u)" != 0 ]; then
		log "${CHROMIUM} is missing, and only root can install it: sudo apt-get install -y chromium"
		exit 1
	fi
	log "installing Debian's chromium for the browser tests (about 1 min; 155 MB downloaded)"
	start=$(date +%s)
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -q chromium >/dev/null
	log "installed chromium in $(($(date +%s) - start)) s"
fi
echo "${CHROMIUM}"
