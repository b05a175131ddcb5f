#!/usr/bin/env bash
# tests/deb.sh CPACK BUILD FIXTURES: the .deb as a user installs it, on a clean Debian 12.
# 1. `cpack -G DEB` makes cachet_<version>_<arch>.deb; its Depends name the image libraries.
# 2. debootstrap (from Debian's own package) makes a minimal bookworm root with the host's apt
#    sources; no container runtime. Its downloads are kept in ~/.cache/cachet-deb so a second
#    run fetches nothing, and the root reuses the host's apt archive cache.
# 3. In that root, as root: `apt-get install ./cachet_*.deb` (nothing else asked for), then
#    `cachet --version` and an image build from another folder, whose manifest must name it.
set -euo pipefail
cpack=$1 build=$(realpath "$2") fixtures=$(realpath "$3")
fail() { echo "deb: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "deb: needs root (debootstrap, chroot): skipped"; exit 77; }
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
cache=${CACHET_DEB_CACHE:-$HOME/.cache/cachet-deb}
mkdir -p "$cache/debs"
tmp=$(mktemp -d)
root=$tmp/root
cleanup() {
    for m in var/cache/apt/archives dev/pts dev proc; do
        mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$build" && "$cpack" -G DEB -B "$tmp/package" >"$tmp/cpack.log" 2>&1) || fail "cpack failed: $(tail -20 "$tmp/cpack.log")"
deb=$(ls "$tmp"/package/cachet_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libvips42 libavif15 libwebp7 libzstd1 libbrotli1 libcurl; do
    grep -q "$lib" <<<"$depends" || fail "Depends does not name $lib: $depends"
done
contents=$(dpkg-deb -c "$deb")
grep -q "\./usr/lib/cachet/cachet-images.so$" <<<"$contents" || fail "no /usr/lib/cachet/cachet-images.so in the package"
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes; Depends: $depends"

# A minimal Debian 12, from the mirror the host uses (the package's dependencies must be the
# versions it was built against: the host's suites, security updates included).
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
debootstrap --variant=minbase --cache-dir="$cache/debs" bookworm "$root" "${mirror:-http://deb.debian.org/debian}" \
    >"$tmp/debootstrap.log" 2>&1 || fail "debootstrap failed: $(tail -20 "$tmp/debootstrap.log")"
cp -a /etc/apt/sources.list.d/. "$root/etc/apt/sources.list.d/" 2>/dev/null || true
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root/etc/apt/sources.list"
rm -f "$root"/etc/apt/sources.list.d/*disabled*
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /var/cache/apt/archives "$root/var/cache/apt/archives"
cp "$deb" "$root/tmp/"
mkdir -p "$root/tmp/site/img" "$root/tmp/elsewhere"
cp "$fixtures/site/img/hero.jpg" "$root/tmp/site/img/hero.jpg"
cp "$fixtures/site/css/site.css" "$root/tmp/site/site.css"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
in_root apt-get update -qq >"$tmp/apt.log" 2>&1 || fail "apt-get update in the root failed: $(tail "$tmp/apt.log")"
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$deb")" \
    >>"$tmp/apt.log" 2>&1 || fail "apt-get install ./$(basename "$deb") failed: $(tail -20 "$tmp/apt.log")"
echo "installed in a clean bookworm root: $(in_root dpkg-query -W -f '${Package} ${Version}' cachet)"
version=$(in_root cachet --version) || fail "cachet --version failed in the root"
grep -q "libvips" <<<"$version" || fail "--version does not name libvips: $version"
grep -q "image libraries: not available" <<<"$version" && fail "the module is not found: $version"
in_root sh -c 'cd /tmp/elsewhere && cachet build ../site -o ../out --cache-dir /tmp/cache' >"$tmp/build.log" 2>&1 ||
    fail "cachet build failed in the root: $(tail -20 "$tmp/build.log")"
grep -q '"img/hero.jpg":{' "$root/tmp/out/cachet-manifest.json" || fail "the manifest does not name img/hero.jpg"
ls "$root"/tmp/out/img/hero-*.avif >/dev/null || fail "no AVIF of hero.jpg"
echo "built in the root: $(grep -c . "$root/tmp/out/cachet-manifest.json") manifest lines; $(head -1 <<<"$version")"
# libcurl is loaded only for a remote cache (not linked): the Depends must bring it. A server
# that is not listening answers "Couldn't connect", which only a loaded libcurl can say.
in_root sh -c 'mkdir -p /tmp/remote-site && echo "body { color: teal }" >/tmp/remote-site/a.css &&
    cachet build /tmp/remote-site -o /tmp/remote-out --cache-dir /tmp/remote-cache --remote-cache http://127.0.0.1:1/cache' \
    >"$tmp/remote.log" 2>&1 || fail "cachet build with a remote cache failed in the root: $(tail -20 "$tmp/remote.log")"
grep -q "connect" "$tmp/remote.log" && ! grep -q "libcurl cannot be loaded" "$tmp/remote.log" ||
    fail "libcurl was not loaded in the root: $(grep -i remote "$tmp/remote.log")"
echo "libcurl loaded in the root: $(grep -o "Couldn't connect[^;]*" "$tmp/remote.log" | head -1)"
