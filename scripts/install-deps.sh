#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Install the Debian 12 packages memwatch builds, runs and tests with.
# Idempotent and quiet when everything is already there.
set -euo pipefail

BUILD_PKGS=(
  build-essential meson ninja-build pkg-config
  libproc2-dev libsqlite3-dev libncurses-dev
  libbpf-dev bpftool clang llvm libelf-dev zlib1g-dev
  libdw-dev
)
TEST_PKGS=(
  python3 sqlite3 tmux procps util-linux
  bash-completion  # it_completion: completions/memwatch under its _init_completion
  chromium  # it_report_html renders the HTML report headless (skips without it)
  libclang-rt-14-dev  # libFuzzer and the sanitizer runtimes for clang's build-fuzz (tests/fuzz)
  prometheus  # promtool: it_daemon_metrics and it_metrics_flood check the text exposition
  python3-prometheus-client  # its strict OpenMetrics parser checks /metrics in that format
  libjemalloc2 libgoogle-perftools4  # it_callsite_names: cpp_leak under LD_PRELOADed jemalloc and tcmalloc
  golang-go  # it_callsite_go builds tests/workloads/goleak (Go call sites through the runtime)
  postgresql  # it_postgres_shm: a throwaway PostgreSQL 15 cluster warming shared_buffers (shm_anon)
  openjdk-17-jre-headless  # it_corpus_jvm, it_thread_stacks: a JVM sizing its own thread stacks (-Xss)
  redis-server  # it_corpus_redis: a throwaway redis (jemalloc) filled, then FLUSHALLed
  nginx-light memcached  # it_corpus_idle: real servers that must raise nothing
  smem  # it_pss: PSS and USS compared with smem's (skips without it)
)
# scripts/build-deb.sh and tests/package/deb.sh: build, check and install the .deb.
PKG_PKGS=(debhelper dpkg-dev lintian
  systemd  # Build-Depends: its systemd.pc names the unit directory (/lib/systemd/system)
)

missing=()
for p in "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${PKG_PKGS[@]}" ${MEMWATCH_EXTRA_PKGS:-}; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
