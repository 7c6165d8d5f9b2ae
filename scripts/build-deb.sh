#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the Debian package from this checkout: scripts/build-deb.sh [OUTDIR]
# (default deb/). The sources (git's tracked and untracked-but-not-ignored
# files, as they are in the work tree; the whole tree less build dirs
# outside git) are copied to a temporary directory first, so the checkout's
# own build trees are neither used nor touched. DEB_BUILD_OPTIONS is passed
# through (nocheck skips the unit suite, parallel=N). Prints the .deb's path.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$src/deb}" && cd "${1:-$src/deb}" && pwd)

tmp=$(mktemp -d /tmp/memwatch-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/memwatch"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # --cached lists deleted-but-unstaged files too: keep those that exist.
  git -C "$src" ls-files -z --cached --others --exclude-standard |
    (cd "$src" && xargs -0 -I{} sh -c '[ -e "$1" ] && printf "%s\0" "$1"' _ {}) |
    tar -C "$src" --null -T - -cf - | tar -C "$tmp/memwatch" -xf -
else
  tar -C "$src" --exclude='./build*' --exclude=./deb --exclude=./.git -cf - . |
    tar -C "$tmp/memwatch" -xf -
fi

log="$out/build.log"
if ! (cd "$tmp/memwatch" && dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
  tail -40 "$log" >&2
  echo "build-deb: dpkg-buildpackage failed (full log: $log)" >&2
  exit 1
fi
for f in "$tmp"/*.deb "$tmp"/*.buildinfo "$tmp"/*.changes; do
  [ -e "$f" ] && mv "$f" "$out/"
done
ls "$out"/memwatch_*.deb | grep -v dbgsym
