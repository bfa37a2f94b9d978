#!/bin/bash
# The kernel matrix's virtual machine: Debian's own kernel packages of the
# series in KERNELS below, installed with dpkg into a copy of the system
# suite's bookworm root (tests/system/base.sh: nftables, the runtime
# libraries, iproute2, jq, conntrack, procps), one initrd each with what
# mounting the root takes, and the root as a raw ext4 image that every boot
# uses through a throwaway qemu overlay. Cached under $IAF_SYSTEM_CACHE
# (/var/cache/ipautofw-test) as kernels-KEY, KEY a hash of this script and
# of the base (whose own key covers the apt sources), built in a temporary
# directory and renamed into place only when complete. Prints its path:
#
#   DIR/root.img              the root file system
#   DIR/vmlinuz-V DIR/initrd.img-V
#   DIR/kernels               one line per series: SERIES V PACKAGE VERSION
#
# The kernel packages come through apt like every other dependency, from
# the mirrors the system's own apt sources name (as the base's
# /etc/apt/sources.list has them), each suite with a private apt state
# (sources list, lists, cache) so the system's apt configuration stays as
# it is; `apt-cache depends linux-image-amd64` names the versioned package.
#
# Exit 77 (with the reason) where it cannot be made (see base.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${IAF_SYSTEM_CACHE:-/var/cache/ipautofw-test}
# series and the Debian suite whose linux-image-amd64 is of that series
KERNELS="6.1:bookworm 5.10:bullseye"
# on top of the system base: what installing a kernel and making its
# initrd take
PACKAGES="initramfs-tools kmod linux-base"
# in the initrd: the root is ext4 on virtio-blk
INITRD_MODULES="virtio_pci virtio_blk ext4"

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

[ "$(id -u)" = 0 ] || skip "building the kernel matrix's image needs root"
command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 is not installed (scripts/deps.sh installs e2fsprogs)"
rc=0
base=$(bash "$here/../system/base.sh") || rc=$?
[ "$rc" = 0 ] || exit "$rc"
[ -f "$base/etc/apt/sources.list" ] || {
	echo "kernel image: $base has no etc/apt/sources.list" >&2
	exit 1
}

key=$( (cat "$0"; echo "$base") | sha256sum | cut -c1-16)
out="$CACHE/kernels-$key"

exec 9>"$CACHE/kernels.lock"
flock 9
if [ -f "$out/kernels" ]; then
	touch "$out"
	echo "$out"
	exit 0
fi
# we hold the lock: any kbuild.* left is from a build that was killed;
# images nobody used for 30 days go too
find "$CACHE" -mindepth 1 -maxdepth 1 \( -name 'kbuild.*' -o \( -name 'kernels-*' -mtime +30 \) \) \
	-exec rm -rf --one-file-system {} +

tmp=$(mktemp -d "$CACHE/kbuild.XXXXXX")
log="$tmp/log"
start=$(date +%s)
echo "kernel image: building $out from $base; log in $log while it runs" >&2
# the build writes to its log; a failure shows its end
exec 3>&1 4>&2 >"$log" 2>&1
trap 'rc=$?; exec >&3 2>&4; if [ "$rc" != 0 ]; then tail -40 "$log" >&2; echo "kernel image: build failed" >&2; fi; rm -rf --one-file-system "$tmp"' EXIT

# one private apt state per suite: the base's sources (this machine's
# mirrors, bookworm and its -updates and -security) with the suite's name
download() {
	local series=$1 suite=$2 apt="$tmp/apt-$2" pkg
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$tmp/debs"
	sed -n "s/^deb \([^ ]*\) bookworm\([^ ]*\) main\$/deb \1 $suite\2 main/p" \
		"$base/etc/apt/sources.list" >"$apt/sources.list"
	local o=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o Dir::Etc::sourceparts=/nonexistent
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -q)
	apt-get "${o[@]}" update
	pkg=$(apt-cache "${o[@]}" depends linux-image-amd64 |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -1)
	case $pkg in
	"linux-image-$series".*) ;;
	*)
		echo "$suite: linux-image-amd64 depends on '$pkg', not a $series kernel" >&2
		return 1
		;;
	esac
	(cd "$tmp/debs" && apt-get "${o[@]}" download "$pkg")
	echo "$series ${pkg#linux-image-} $pkg $(apt-cache "${o[@]}" show "$pkg" | sed -n 's/^Version: //p' | head -1)" \
		>>"$tmp/kernels"
}

root="$tmp/root"
img="$tmp/out"
mkdir -p "$img"
for k in $KERNELS; do
	download "${k%%:*}" "${k#*:}"
done
cp -a --reflink=auto "$base" "$root"
mkdir -p "$root/tmp/debs"
cp "$tmp"/debs/*.deb "$root/tmp/debs/"
# only the listed modules, gzip (every series can unpack it), no resume device
mkdir -p "$root/etc/initramfs-tools/conf.d"
# shellcheck disable=SC2086
printf '%s\n' $INITRD_MODULES >"$root/etc/initramfs-tools/modules"
printf 'MODULES=list\nCOMPRESS=gzip\nRESUME=none\n' >"$root/etc/initramfs-tools/conf.d/ipautofw-test"
# PID 1 of the VM: runs the init its second disk brings (tests/kernels/run)
cat >"$root/sbin/iaf-init" <<'INIT'
#!/bin/sh
# PID 1 of the kernel matrix's VMs: mounts the boot's own disk (/dev/vdb,
# made by tests/kernels/run) and hands over to the init script on it
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /iaf
if mount -o ro /dev/vdb /iaf && [ -f /iaf/init ]; then
	exec /bin/bash /iaf/init
fi
echo "iaf-init: no /dev/vdb with an init script"
echo o >/proc/sysrq-trigger
INIT
chmod 755 "$root/sbin/iaf-init"
# shellcheck disable=SC2016
unshare --mount --propagation private bash -euc '
	root=$1 packages=$2
	printf "#!/bin/sh\nexit 101\n" >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	mount -t proc proc "$root/proc"
	mount --rbind /dev "$root/dev"
	mount -t sysfs sysfs "$root/sys"
	export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
	chroot "$root" apt-get update -q
	chroot "$root" apt-get install -y -q --no-install-recommends $packages
	# the kernels with dpkg: /lib/modules and the initrds (the
	# postinst hook runs update-initramfs) match the root
	chroot "$root" sh -c "dpkg -i /tmp/debs/*.deb"
	chroot "$root" apt-get clean
	rm -rf "$root"/var/lib/apt/lists/* "$root/usr/sbin/policy-rc.d" "$root/tmp/debs"
	chroot "$root" dpkg-query -W -f="\${Package} \${Version}\n" >"$root/etc/ipautofw-test-base"
' bash "$root" "$PACKAGES"
while read -r series v pkg ver; do
	if [ ! -f "$root/boot/vmlinuz-$v" ] || [ ! -f "$root/boot/initrd.img-$v" ]; then
		echo "$pkg $ver: no vmlinuz-$v and initrd.img-$v in /boot" >&2
		exit 1
	fi
	mv "$root/boot/vmlinuz-$v" "$root/boot/initrd.img-$v" "$img/"
	echo "$series $v $pkg $ver"
done <"$tmp/kernels" >"$img/kernels.tmp"
rm -rf "${root:?}"/boot/*
# the image: what the root holds and room for what a boot writes (its
# overlay takes the writes; the image itself is never written)
size=$(($(du -sm "$root" | cut -f1) * 5 / 4 + 512))
mkfs.ext4 -q -F -L iaf-root -d "$root" "$img/root.img" "${size}M"
mv "$img/kernels.tmp" "$img/kernels"
exec >&3 2>&4
rm -rf --one-file-system "$root"
mv "$img" "$out"
echo "kernel image: built in $(($(date +%s) - start)) s: $(awk '{ printf "%s%s %s", sep, $3, $4; sep = ", " }' "$out/kernels"); root.img $(du -sm "$out/root.img" | cut -f1) MB" >&2
echo "$out"
