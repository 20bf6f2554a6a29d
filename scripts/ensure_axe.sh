#!/usr/bin/env bash
# axe-core (accessibility rules) for the browser tests, from the npm registry, pinned.
set -euo pipefail
VERSION=4.14.1
DEST="$(dirname "$0")/../build/node"
if [ -f "$DEST/node_modules/axe-core/axe.min.js" ] && grep -q "\"version\": \"$VERSION\"" "$DEST/node_modules/axe-core/package.json"; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: the accessibility tests need it (apt-get install npm)." >&2
  exit 1
fi
mkdir -p "$DEST"
npm install --silent --no-audit --no-fund --no-save --prefix "$DEST" "axe-core@$VERSION"
