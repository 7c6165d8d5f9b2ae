#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One command from a fresh Debian 12 machine (as root) to a recording memwatch:
# install packages, build, install, start memwatchd, then show what it sees.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# Binaries under /usr/local; configuration in /etc/memwatch, the unit where systemd looks.
[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release \
  --prefix=/usr/local --sysconfdir=/etc >/dev/null
ninja -C build-release >/dev/null
meson install -C build-release --quiet >/dev/null

db=/var/lib/memwatch/memwatch.db
# Readers of the database (files 0640 root:memwatch); sysusers makes it under systemd too.
getent group memwatch >/dev/null || groupadd --system memwatch
if [ -d /run/systemd/system ] && [ -f /usr/lib/systemd/system/memwatchd.service ]; then
  systemd-sysusers /usr/lib/sysusers.d/memwatch.conf
  systemd-tmpfiles --create /usr/lib/tmpfiles.d/memwatch.conf
  systemctl daemon-reload
  systemctl enable --now memwatchd.service
elif /usr/local/bin/memwatch status --db "$db" 2>/dev/null | grep -q '^recording:  yes'; then
  echo "memwatchd is already recording into $db"
else
  # No systemd here (containers, CI): run it detached; it returns once the first tick is stored.
  mkdir -p /var/log
  /usr/local/sbin/memwatchd --db "$db" 2>>/var/log/memwatchd.log
  echo "memwatchd started (log: /var/log/memwatchd.log)"
fi

# Let it take a second sample so there is a change to show.
for _ in $(seq 1 30); do
  n=$(sqlite3 -readonly "$db" 'SELECT count(*) FROM ticks' 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 2 ] && break
  sleep 0.5
done
/usr/local/bin/memwatch status --db "$db"
echo
if /usr/local/bin/memwatch top --help >/dev/null 2>&1; then
  if [ -t 0 ] && [ -t 1 ]; then
    exec /usr/local/bin/memwatch top --db "$db"
  fi
  exec /usr/local/bin/memwatch top --db "$db" --batch --iterations 1
fi
busiest=$(ps -eo pid= --sort=-rss | head -1 | tr -d ' ')
exec /usr/local/bin/memwatch report "$busiest" --db "$db"
