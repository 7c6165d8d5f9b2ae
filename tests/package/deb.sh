#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package, end to end on this machine: build it from a copy of the
# checkout (scripts/build-deb.sh), lintian (no E:), dpkg -i, the installed
# layout, start memwatchd as the unit does, `memwatch status` sees it
# recording, stop it, dpkg --purge, and nothing of the package is left.
#
# A source install (/usr/local, setup.sh) shares some paths with the package
# (the unit, the sysusers/tmpfiles snippets, /etc/memwatch, /var/lib/memwatch,
# the group): they are put aside first and put back at exit, whatever happens.
# Binaries are called by absolute path so /usr/local/bin does not shadow them.
set -euo pipefail
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-nocheck parallel=2}
export DEBIAN_FRONTEND=noninteractive
PKG=memwatch

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

[ "$(id -u)" -eq 0 ] || skip "dpkg -i needs root"
for t in dpkg-buildpackage dh lintian setpriv; do
  command -v "$t" >/dev/null || fail "$t is missing (scripts/install-deps.sh installs it)"
done
# Installed, or its configuration left after a remove (not purged).
known() { dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -qv 'not-installed'; }
if known; then
  skip "the $PKG package is installed here ($(dpkg-query -W -f='${Version}' "$PKG")): this test would purge it"
fi
db_holder() {
  local fd
  for fd in /proc/[0-9]*/fd/*; do
    case $(readlink "$fd" 2>/dev/null) in /var/lib/memwatch/memwatch.db*)
      fd=${fd#/proc/}; echo "${fd%%/*}"; return 0 ;;
    esac
  done
  return 1
}
if pid=$(db_holder); then
  skip "process $pid ($(cat /proc/"$pid"/comm)) has /var/lib/memwatch open: this test needs that directory"
fi

work=$(mktemp -d /tmp/memwatch-debtest.XXXXXX)
aside=.memwatch-debtest.$$ # renamed in place: same file system, atomic
group_before=$(getent group memwatch || true)
daemon_pid=
installed=

restore() {
  local rc=$?
  set +e
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid"
    for _ in $(seq 1 60); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$daemon_pid" 2>/dev/null
  fi
  if [ -n "$installed" ] && known; then
    [ -d /run/systemd/system ] && systemctl stop memwatchd.service 2>/dev/null
    dpkg --purge "$PKG" >/dev/null 2>&1
  fi
  # The group as it was: gone if the test made it, back (same GID and
  # members) if the purge took one that was there before.
  if [ -z "$group_before" ]; then
    getent group memwatch >/dev/null && groupdel memwatch
  elif ! getent group memwatch >/dev/null; then
    IFS=: read -r _ _ gid members <<<"$group_before"
    groupadd --system -g "$gid" memwatch
    [ -n "$members" ] && gpasswd -M "$members" memwatch >/dev/null
  fi
  for d in /etc/memwatch /var/lib/memwatch; do
    if [ -e "$(dirname "$d")/$aside.$(basename "$d")" ]; then
      rm -rf "$d"
      mv "$(dirname "$d")/$aside.$(basename "$d")" "$d"
    fi
  done
  [ -s "$work/aside.tar" ] && tar -C / -xpf "$work/aside.tar"
  rm -rf "$work"
  exit "$rc"
}
trap restore EXIT
trap 'exit 130' INT TERM

echo "building the package (DEB_BUILD_OPTIONS='$DEB_BUILD_OPTIONS')"
start=$(date +%s)
deb=$("$SRCDIR/scripts/build-deb.sh" "$work/out") || fail "scripts/build-deb.sh failed"
ok "built $(basename "$deb") in $(($(date +%s) - start)) s"
[ "$(dpkg-deb -f "$deb" Recommends)" = "bash-completion" ] || fail "Recommends is not bash-completion"

lintian "$work"/out/*.changes >"$work/lintian.txt" 2>&1 || true
{ grep -v 'running with root privileges' "$work/lintian.txt" || true; } | sed 's/^/lintian: /'
grep -q '^E: ' "$work/lintian.txt" && fail "lintian reports errors"
ok "lintian: no errors ($(grep -c '^W: ' "$work/lintian.txt") warnings)"

# Put aside what a source install left where the package goes.
dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./|/|' | grep -v '/$' >"$work/files"
extra=(/etc/systemd/system/multi-user.target.wants/memwatchd.service
       /var/lib/systemd/deb-systemd-helper-enabled/memwatchd.service.dsh-also
       /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/memwatchd.service)
printf '%s\n' "${extra[@]}" >>"$work/files"
while read -r f; do
  if [ -e "$f" ] || [ -L "$f" ]; then echo "${f#/}"; fi
done <"$work/files" >"$work/present"
if [ -s "$work/present" ]; then
  tar -C / -cpf "$work/aside.tar" -T "$work/present"
  sed 's|^|/|' "$work/present" | xargs rm -f
  echo "put aside (restored at exit): $(tr '\n' ' ' <"$work/present")"
fi
for d in /etc/memwatch /var/lib/memwatch; do
  [ -e "$d" ] && mv "$d" "$(dirname "$d")/$aside.$(basename "$d")" && echo "put aside: $d"
done
if [ -n "$group_before" ]; then
  echo "note: group memwatch existed before ($group_before); the purge must remove it, restored at exit"
fi

installed=1
dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1 || { cat "$work/dpkg-i.log"; fail "dpkg -i failed"; }
ok "dpkg -i"

owner() { dpkg -S "$1" 2>/dev/null | cut -d: -f1; }
for f in /usr/sbin/memwatchd /usr/bin/memwatch \
         /usr/share/man/man1/memwatch.1.gz /usr/share/man/man8/memwatchd.8.gz \
         /usr/share/man/man5/memwatchd.conf.5.gz \
         /usr/share/bash-completion/completions/memwatch \
         /usr/share/bash-completion/completions/memwatchd \
         /usr/lib/sysusers.d/memwatch.conf /usr/lib/tmpfiles.d/memwatch.conf; do
  [ "$(owner "$f")" = "$PKG" ] || fail "dpkg -S $f does not name $PKG"
  [ -e "$f" ] || fail "$f is missing"
done
ok "dpkg -S: binaries, man pages, completion, sysusers and tmpfiles snippets"
for m in /usr/share/man/man1/memwatch.1.gz /usr/share/man/man8/memwatchd.8.gz \
         /usr/share/man/man5/memwatchd.conf.5.gz; do
  zcat "$m" | grep -q '^\.TH' || fail "$m is not a man page"
done
bash -n /usr/share/bash-completion/completions/memwatch || fail "completion does not parse"
ver=$(dpkg-query -W -f='${Version}' "$PKG")
/usr/bin/memwatch --version | grep -qF "${ver%%-*}" || fail "memwatch --version is not $ver"
/usr/sbin/memwatchd --version | grep -qF "${ver%%-*}" || fail "memwatchd --version is not $ver"
ok "man pages, completion, versions ($ver)"

unit=$(dpkg -L "$PKG" | grep -E '/systemd/system/memwatchd\.service$') || fail "no unit in the package"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
read -r -a argv <<<"$exec_start"
[ "${argv[0]}" = /usr/sbin/memwatchd ] || fail "ExecStart=$exec_start does not run /usr/sbin/memwatchd"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
fi
dpkg-query -W -f='${Conffiles}' "$PKG" | grep -q '^ /etc/memwatch/memwatchd.conf ' ||
  fail "/etc/memwatch/memwatchd.conf is not a conffile"
/usr/sbin/memwatchd --check-config | grep -q '^/etc/memwatch/memwatchd.conf: ok' ||
  fail "memwatchd does not read the installed /etc/memwatch/memwatchd.conf"
ok "unit $unit (ExecStart=$exec_start), conffile read by memwatchd --check-config"

getent group memwatch >/dev/null || fail "group memwatch was not created"
[ "$(stat -c '%a %U %G' /var/lib/memwatch)" = "750 root memwatch" ] ||
  fail "/var/lib/memwatch is $(stat -c '%a %U %G' /var/lib/memwatch), not 750 root memwatch"
ok "group memwatch ($(getent group memwatch)), /var/lib/memwatch 0750 root:memwatch"

pid1=$(cat /proc/1/comm)
if [ -d /run/systemd/system ]; then
  systemctl start memwatchd.service || fail "systemctl start memwatchd"
  daemon_pid=$(systemctl show -p MainPID --value memwatchd.service)
  echo "started by systemctl (PID 1 is systemd): pid $daemon_pid"
else
  # What the unit's [Service] gives it: Group=memwatch, UMask=0027, ExecStart.
  (umask 0027; exec setpriv --regid memwatch --clear-groups "${argv[@]}") \
    >"$work/memwatchd.log" 2>&1 &
  daemon_pid=$!
  echo "PID 1 is $pid1, not systemd, so deb-systemd-invoke started nothing:" \
       "ran ExecStart from $unit by hand as the unit would (Group=memwatch, UMask=0027): pid $daemon_pid"
fi

status_json() { /usr/bin/memwatch status --json 2>/dev/null || true; }
deadline=$(($(date +%s) + 90))
while :; do
  js=$(status_json)
  if python3 -c '
import json, sys
s = json.loads(sys.argv[1])
sys.exit(0 if s["recording"] and s["writer_pid"] == int(sys.argv[2]) and s["ticks"] >= 2 else 1)
' "$js" "$daemon_pid" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$daemon_pid" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
    [ -f "$work/memwatchd.log" ] && tail -20 "$work/memwatchd.log"
    echo "last status: $js"
    fail "memwatch status does not see pid $daemon_pid recording two ticks within 90 s"
  fi
  sleep 0.5
done
/usr/bin/memwatch status | sed 's/^/status: /'
ok "/usr/bin/memwatch status: recording, writer pid $daemon_pid"
perm=$(stat -c '%G %A' /var/lib/memwatch/memwatch.db)
[ "${perm%% *}" = memwatch ] && [ "${perm: -3}" = "---" ] ||
  fail "database is $perm: not group memwatch, or readable by others"
ok "database group memwatch, not readable by others ($perm)"

if [ -d /run/systemd/system ]; then
  systemctl stop memwatchd.service || fail "systemctl stop memwatchd"
else
  kill -TERM "$daemon_pid"
  rc=0
  wait "$daemon_pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "memwatchd exited $rc on SIGTERM"
fi
daemon_pid=
ok "stopped memwatchd"

dpkg --purge "$PKG" >"$work/dpkg-purge.log" 2>&1 || { cat "$work/dpkg-purge.log"; fail "dpkg --purge failed"; }
installed=
known && fail "dpkg still knows $PKG after the purge"
left=()
while read -r f; do
  if [ -e "$f" ] || [ -L "$f" ]; then left+=("$f"); fi
done <"$work/files"
for d in /etc/memwatch /var/lib/memwatch /usr/share/doc/memwatch; do
  [ -e "$d" ] && left+=("$d")
done
[ ${#left[@]} -eq 0 ] || fail "left after the purge: ${left[*]}"
getent group memwatch >/dev/null && fail "group memwatch is left after the purge"
ok "dpkg --purge: no file, no /etc/memwatch, no /var/lib/memwatch, no group left"
