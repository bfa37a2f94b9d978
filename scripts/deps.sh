# Install what building, testing and the lab need, on Debian 12, as root.
# Skips apt entirely when everything is already there.

DEPS="gcc libc6-dev meson ninja-build pkg-config libnftnl-dev libmnl-dev
libnetfilter-log-dev nftables iproute2 jq conntrack scdoc groff-base bash-completion
systemd valgrind clang libclang-rt-14-dev
qemu-system-x86 e2fsprogs
build-essential debhelper dpkg-dev lintian
debootstrap debian-archive-keyring systemd-container
prometheus prometheus-node-exporter curl
shellcheck musl-tools keepalived conntrackd"

install_deps() {
	local missing=
	local p
	for p in $DEPS "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages:$missing (run as root to install them)" >&2
		return 1
	fi
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null
}
