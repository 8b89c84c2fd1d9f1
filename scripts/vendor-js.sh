#!/usr/bin/env bash
# Copies the page's npm dependencies (pinned in package.json / package-lock.json) into
# static/vendor, where the binary embeds them. `make deps` installs node_modules with `npm ci`;
# run this after changing a pin, and commit the result (a test checks the copy matches).
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --ignore-scripts --no-audit --no-fund --silent
cp node_modules/tus-js-client/dist/tus.min.js static/vendor/tus.min.js
cp node_modules/tus-js-client/LICENSE static/vendor/tus-js-client.LICENSE
