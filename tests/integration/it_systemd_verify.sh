#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The unit passes `systemd-analyze verify`, and its exposure score is printed
# (the figure the README quotes). Runs on the built unit with ExecStart
# pointed at the built daemon, since verify checks that the binary exists.
set -eu
command -v systemd-analyze >/dev/null 2>&1 || { echo "SKIP: systemd-analyze not installed"; exit 77; }
: "${UNIT:?UNIT must name the built memwatchd.service}"
: "${MEMWATCHD:?MEMWATCHD must name the built daemon}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|^ExecStart=[^ ]*|ExecStart=$MEMWATCHD|" "$UNIT" > "$dir/memwatchd.service"
grep -q '^Type=notify$' "$dir/memwatchd.service"
grep -q '^WatchdogSec=' "$dir/memwatchd.service"
# Man pages are checked by the install, not here (they are not installed yet).
if ! systemd-analyze verify --man=no "$dir/memwatchd.service" > "$dir/out" 2>&1; then
	cat "$dir/out"
	echo "FAIL: systemd-analyze verify"
	exit 1
fi
if [ -s "$dir/out" ]; then
	cat "$dir/out"
	echo "FAIL: systemd-analyze verify printed warnings"
	exit 1
fi
echo "systemd-analyze verify: ok"
if systemd-analyze security --offline=true "$dir/memwatchd.service" > "$dir/sec" 2>&1; then
	grep 'Overall exposure level' "$dir/sec"
else
	tail -1 "$dir/sec"
fi
