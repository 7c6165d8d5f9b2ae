#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run a shell command as root under another kernel, from a Debian kernel
# package, in QEMU: tests/kernels/boot.sh KVER 'COMMAND'
#
# The package is fetched with apt-get download and unpacked into a cache
# (never installed, nothing in /boot). The guest boots a busybox initramfs
# holding the kernel's own virtio/9p/overlay modules, mounts this machine's
# root read-only over 9p under a tmpfs overlay (the guest may write
# anywhere; nothing reaches the host), mounts proc, sys, dev, tracefs,
# bpffs and cgroup2 (memory and pids delegated), and runs COMMAND in the
# current directory. Prints the command's output; exits with its status,
# 124 when the guest ran out of time, 125 when it never reached the
# command or died before it ended (a panic), 77 when QEMU cannot run here (the
# reason on stderr: a skip, not a failure).
#
# Environment: MW_KCACHE (/var/cache/memwatch-kernels), MW_KMEM (4G),
# MW_KCPUS (2), MW_KTIMEOUT (seconds, 1800).
#
# 4G, not 2G: the guest's writes live in RAM (tmpfs overlay), and the
# hypotheses test grows ~11 MB/s for up to two minutes; at 2G a slow host
# pushed a 6.1 guest into reclaim thrash over 9p that never ended (CI,
# 2026-12-03). TCG allocates guest memory lazily, so 4G costs what is used.
#
# KVM cannot be used on this project's machines (/dev/kvm is a PVM device
# that aborts or hangs ordinary guests), so this is TCG: ~30 s to a shell.
set -euo pipefail

kver=${1:?usage: boot.sh KVER COMMAND}
cmd=${2:?usage: boot.sh KVER COMMAND}
cache=${MW_KCACHE:-/var/cache/memwatch-kernels}
kdir=$cache/$kver

skip() { echo "boot.sh: skip: $*" >&2; exit 77; }

need=()
for p in qemu-system-x86 busybox-static kmod cpio xz-utils zstd; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || skip "needs root to install ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
    >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
        >/dev/null 2>&1; } || skip "cannot install ${need[*]}"
fi
[ "$(uname -m)" = x86_64 ] || skip "guests are x86_64 and this machine is $(uname -m)"

# The kernel: unpacked once per version.
if [ ! -s "$kdir/boot/vmlinuz-$kver" ]; then
  mkdir -p "$cache/debs"
  deb=$(ls "$cache/debs/linux-image-${kver}_"*.deb 2>/dev/null | head -1 || true)
  if [ -z "$deb" ]; then
    (cd "$cache/debs" && apt-get download "linux-image-$kver" >/dev/null 2>&1) ||
      (apt-get update -qq >/dev/null 2>&1 && cd "$cache/debs" &&
        apt-get download "linux-image-$kver" >/dev/null 2>&1) ||
      { echo "boot.sh: apt-get download linux-image-$kver failed" >&2; exit 1; }
    deb=$(ls "$cache/debs/linux-image-${kver}_"*.deb | head -1)
  fi
  rm -rf "$kdir.tmp" && mkdir -p "$kdir.tmp"
  dpkg-deb -x "$deb" "$kdir.tmp"
  # Debian ships no modules.dep in the package: modprobe below needs one.
  depmod -b "$kdir.tmp" "$kver"
  rm -rf "$kdir" && mv "$kdir.tmp" "$kdir"
fi

# The initramfs: busybox, the modules 9p over virtio and overlayfs need, in load order.
initrd=$kdir/initrd-memwatch.gz
if [ ! -s "$initrd" ] || [ "$initrd" -ot "$0" ]; then
  t=$(mktemp -d)
  mkdir -p "$t"/{bin,mod,proc,sys,dev,lower,upper,root}
  cp /bin/busybox "$t/bin/"
  n=10
  for ko in $(modprobe -d "$kdir" -S "$kver" --show-depends -a virtio_pci 9pnet_virtio 9p overlay |
      awk '$1 == "insmod" && !seen[$2]++ { print $2 }'); do
    case $ko in
      *.xz) xz -dc "$ko" ;;
      *.zst) zstd -dcq "$ko" ;;
      *) cat "$ko" ;;
    esac >"$t/mod/$n-$(basename "${ko%.ko*}").ko"
    n=$((n + 1))
  done
  cat >"$t/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in /mod/*.ko; do insmod "$m" 2>/dev/null; done
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=524288,cache=loose host /lower || poweroff -f
mount -t tmpfs -o mode=755 upper /upper && mkdir -p /upper/u /upper/w
mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w root /root
r=/root
mount -t proc proc $r/proc; mount -t sysfs sys $r/sys; mount -t devtmpfs dev $r/dev
mkdir -p $r/dev/pts $r/dev/shm $r/run $r/tmp $r/mwk $r/dev/mqueue
ln -sf /proc/self/fd $r/dev/fd; mount -t devpts pts $r/dev/pts; mount -t tmpfs shm $r/dev/shm; mount -t tmpfs run $r/run
mount -t tmpfs tmp $r/tmp; mount -t mqueue mqueue $r/dev/mqueue
mount -t debugfs debugfs $r/sys/kernel/debug; mount -t tracefs tracefs $r/sys/kernel/tracing
mount -t bpf bpf $r/sys/fs/bpf
# cgroup v2, as most servers have it, with memory and pids delegated to children.
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup && echo '+memory +pids' > $r/sys/fs/cgroup/cgroup.subtree_control
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 mwk $r/mwk
# The checkout, when it lives where the guest mounts its own tmpfs (/tmp, /run):
# shared on its own and overlaid at the same path, writable like the rest.
if [ -s $r/mwk/workdir ]; then
  wd=$(cat $r/mwk/workdir)
  mkdir -p /work9p /upper/wu /upper/ww $r$wd
  mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=524288,cache=loose work /work9p &&
    mount -t overlay -o lowerdir=/work9p,upperdir=/upper/wu,workdir=/upper/ww work $r$wd
fi
ip link set lo up 2>/dev/null; hostname memwatch-guest
# A heartbeat on the console: when the guest runs out of time, the host prints
# its tail, and memory left says whether it was thrashing.
# Near the deadline it also lists the processes and the blocked tasks' kernel stacks, once.
echo 1 > /proc/sys/kernel/sysrq
dump_at=$(sed -n 's/.*mwk_dump=\([0-9]*\).*/\1/p' /proc/cmdline); dump_at=${dump_at:-0}
(n=0; while sleep 30; do
  up=$(cut -d. -f1 /proc/uptime)
  echo "mwk: up $up s, $(grep MemAvailable /proc/meminfo | tr -s ' ')" >/dev/console
  if [ "$dump_at" -gt 0 ] && [ "$up" -ge "$dump_at" ] && [ $n -eq 0 ]; then
    n=1; ps -o pid,stat,rss,args >/dev/console 2>&1; echo 8 > /proc/sys/kernel/printk
    echo w > /proc/sysrq-trigger
  fi
done) &
cut -d' ' -f1 /proc/uptime > $r/mwk/ready
HOME=/root TERM=xterm chroot $r /bin/sh /mwk/cmd > $r/mwk/out 2>&1
echo $? > $r/mwk/rc
sync; umount $r/mwk; poweroff -f
INIT
  chmod +x "$t/init"
  (cd "$t" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  rm -rf "$t"
fi

w=$(mktemp -d /var/tmp/mw-kernel.XXXXXX)
trap 'rm -rf "$w"' EXIT
printf 'cd %q || exit 97\n%s\n' "$PWD" "$cmd" >"$w/cmd"
work=()
case $PWD/ in
  /tmp/* | /run/* | /dev/shm/*)
    printf '%s' "$PWD" >"$w/workdir"
    work=(-fsdev "local,id=work,path=$PWD,security_model=none,readonly=on,multidevs=remap"
      -device virtio-9p-pci,fsdev=work,mount_tag=work) ;;
esac
echo 124 >"$w/rc"
start=$(date +%s)
qemu-system-x86_64 -accel tcg -cpu max -smp "${MW_KCPUS:-2}" -m "${MW_KMEM:-4G}" \
  -nodefaults -no-user-config -display none -no-reboot -serial "file:$w/console" \
  -kernel "$kdir/boot/vmlinuz-$kver" -initrd "$initrd" \
  -append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init random.trust_cpu=on mwk_dump=$(( ${MW_KTIMEOUT:-1800} - 60 ))" \
  -fsdev local,id=host,path=/,security_model=none,readonly=on,multidevs=remap \
  -device virtio-9p-pci,fsdev=host,mount_tag=host \
  -fsdev local,id=mwk,path="$w",security_model=none -device virtio-9p-pci,fsdev=mwk,mount_tag=mwk \
  "${work[@]}" \
  >"$w/qemu.log" 2>&1 &
qpid=$!
# The guest powers off when the command ends; past the deadline it is stopped.
deadline=$((start + ${MW_KTIMEOUT:-1800})) timed_out=0
while kill -0 "$qpid" 2>/dev/null; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    kill "$qpid" 2>/dev/null || true
    timed_out=1
    echo "boot.sh: $kver: no end after ${MW_KTIMEOUT:-1800} s; the console's tail:" >&2
    tail -150 "$w/console" >&2 2>/dev/null || true
    break
  fi
  sleep 1
done
wait "$qpid" 2>/dev/null || true
if [ ! -s "$w/ready" ]; then
  tail -20 "$w/console" >&2 2>/dev/null || true
  cat "$w/qemu.log" >&2
  if grep -qiE 'could not|failed to|cannot' "$w/qemu.log"; then
    skip "QEMU could not start a guest here"
  fi
  echo "boot.sh: $kver: the guest never reached its command" >&2
  exit 125
fi
cat "$w/out" 2>/dev/null || true
# Powered off before the command wrote its status, yet in time: the guest
# died (a panic; 6.12 under TCG, 2026-12-07). Its console says why; 125 is
# "never finished", which matrix.sh boots once more.
if [ "$timed_out" -eq 0 ] && [ "$(cat "$w/rc")" = 124 ]; then
  echo "boot.sh: $kver: the guest stopped before its command ended; the console's tail:" >&2
  tail -80 "$w/console" >&2 2>/dev/null || true
  exit 125
fi
echo "boot.sh: $kver: shell after $(cat "$w/ready") s, done after $(($(date +%s) - start)) s wall, rc $(cat "$w/rc")" >&2
exit "$(cat "$w/rc")"
