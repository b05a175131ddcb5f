#!/usr/bin/env bash
# bench/real-sites.sh - the real-site comparison of tests/integration/realsites.py on more pages:
# every site of its catalogue (Sphinx, MkDocs, Doxygen and Javadoc documentation from Debian
# packages, two npm landing-page templates), PAGES pages each (default 40; a template has one),
# built by cachet with the defaults and loaded in headless Chromium from the original folder and
# from cachet's OUT behind nginx (negotiating and --no-negotiate) and Caddy. Prints the per-site
# report (pages, URLs answering, build time, bytes transferred) and writes it as JSON to
# REPORT (default bench/real-sites.json). Fails if any page is worse on cachet's side.
#
#   bash bench/real-sites.sh [PAGES] [REPORT]
#
# Needs what `bash tools/dev.sh test` installs (nginx, Caddy, Chromium, the npm drivers in
# build/integration) and build/cachet.
set -euo pipefail
cd "$(dirname "$0")/.."
PAGES=${1:-40}
REPORT=${2:-bench/real-sites.json}
echo "real sites, $PAGES pages a site, $(build/cachet --version | head -1), commit $(git rev-parse --short HEAD), $(date -u +%F)"
exec python3 tests/integration/realsites.py --cachet build/cachet --node-modules build/integration/node_modules \
    --pages "$PAGES" --report "$REPORT"
