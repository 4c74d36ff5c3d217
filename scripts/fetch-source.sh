#!/usr/bin/env bash
# Make a Debian kernel source package's tarball available; print its path.
# Usage: scripts/fetch-source.sh SERIES   (6.12, 7.3, ...)
#
# The host's own series (linux-source-6.12 on bookworm) is installed by
# `make setup`. A newer one is downloaded as a package from the Debian suite
# that carries it, with a private apt configuration (its own sources list,
# lists, cache and status under the cache directory), so the host's package
# set and apt state are untouched, and unpacked into the cache once.
set -euo pipefail
. "$(dirname "$0")/common.sh"

series=${1:?usage: fetch-source.sh SERIES}
host_tar=/usr/src/linux-source-$series.tar.xz
if [ -f "$host_tar" ]; then
	echo "$host_tar"
	exit 0
fi
suite=$(nfw_series_suite "$series") || nfw_die "no Debian suite known for linux-source-$series"

dir=$NFW_CACHE/debs/linux-source-$series
tar=$dir/linux-source-$series.tar.xz
if [ -f "$tar" ] && [ -f "$dir/version" ]; then
	echo "$tar"
	exit 0
fi

mkdir -p "$NFW_CACHE"
exec 8>"$NFW_CACHE/.fetch.lock"
flock 8
if [ -f "$tar" ] && [ -f "$dir/version" ]; then
	echo "$tar"
	exit 0
fi

apt=$NFW_CACHE/apt/$suite
mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/etc/preferences.d" "$apt/etc/apt.conf.d"
: >"$apt/status"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
	>"$apt/etc/sources.list"
aptopt=(
	-o Dir::Etc::SourceList="$apt/etc/sources.list"
	-o Dir::Etc::SourceParts=/nonexistent
	-o Dir::Etc::Preferences="$apt/etc/preferences"
	-o Dir::Etc::PreferencesParts="$apt/etc/preferences.d"
	-o Dir::State::Lists="$apt/lists"
	-o Dir::State::status="$apt/status"
	-o Dir::Cache="$apt"
	-o Dir::Cache::Archives="$apt/archives"
	-o APT::Get::List-Cleanup=0
	-o Debug::NoLocking=1
	-o APT::Sandbox::User=root
)
echo "kernel: fetching linux-source-$series from Debian $suite" >&2
apt-get "${aptopt[@]}" -qq update >&2 || nfw_die "apt-get update of $suite failed"
ver=$(apt-cache "${aptopt[@]}" policy "linux-source-$series" | awk '/Candidate:/ {print $2}')
[ -n "$ver" ] && [ "$ver" != "(none)" ] || nfw_die "linux-source-$series not found in Debian $suite"
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
(cd "$dir.tmp" && apt-get "${aptopt[@]}" -qq download "linux-source-$series=$ver" >&2) ||
	nfw_die "download of linux-source-$series $ver failed"
dpkg-deb --fsys-tarfile "$dir.tmp"/linux-source-"${series}"_*.deb |
	tar -C "$dir.tmp" -x "./usr/src/linux-source-$series.tar.xz"
mv "$dir.tmp/usr/src/linux-source-$series.tar.xz" "$dir.tmp/"
rm -rf "$dir.tmp/usr" "$dir.tmp"/*.deb
echo "$ver" >"$dir.tmp/version"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "$tar"
