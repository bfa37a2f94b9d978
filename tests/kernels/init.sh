#!/bin/bash
# PID 1 of a kernel matrix VM (tests/kernels/run puts it on the boot's own
# disk, mounted at /iaf; the image's /sbin/iaf-init hands over to it):
# mounts what a system has, copies the source tree and build onto the
# root (a throwaway overlay), runs the command as root and reports on the
# console, then powers off. Lines that start with $IAF_MARK are this
# script's: "MARK up SECONDS" (boot to here), "MARK exit STATUS".
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LC_ALL=C.UTF-8 TERM=dumb
# shellcheck disable=SC1091
. /iaf/env
poweroff() {
	sync
	echo o >/proc/sysrq-trigger
	# bounded: the kernel powers off at once; PID 1 must not exit first
	sleep 30
}
echo "$IAF_MARK up $(cut -d' ' -f1 /proc/uptime)"
mount -o remount,rw /
mkdir -p /dev/pts /dev/shm /run /tmp
mountpoint -q /dev/pts || mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mountpoint -q /dev/shm || mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mountpoint -q /run || mount -t tmpfs -o mode=755 tmpfs /run
mountpoint -q /tmp || mount -t tmpfs -o mode=1777 tmpfs /tmp
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
# the kernel's own warnings stay on the console; its chatter does not
echo 4 >/proc/sys/kernel/printk
hostname iaf-vm
ip link set lo up
cp -a /iaf/files/. /
cd "$IAF_CWD" || {
	echo "$IAF_MARK exit 125"
	poweroff
}
bash /iaf/cmd </dev/null
rc=$?
# on a line of its own even when the output's last line has no newline
echo
echo "$IAF_MARK exit $rc"
poweroff
