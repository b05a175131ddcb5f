# tools/debian-source.sh - fetch Debian source packages, checked; sourced by tools/build-*.sh.
#
#   . tools/debian-source.sh
#   debian_build_deps PKG...                   installs those binary packages if missing
#   debian_sources_init WORK "forky sid"      a private apt that knows only those source indexes
#   v=$(debian_pick_version PKG VERSION)       the pinned version, or another Debian revision of
#                                              the same upstream version when it left the archive
#   debian_fetch PKG "$v" DEST [orig]          the tarballs into DEST ("orig": upstream one only);
#                                              non-zero if one cannot be fetched
#   debian_unpack TARBALL DIR                  unpacked into DIR without its top-level folder
#   debian_patch DIR                           debian/patches applied in series order
#
# Only Debian is contacted. The system's sources list is left alone, and every tarball is
# checked by apt's own helper against the SHA-256 sum of the signed source index. The .dsc is
# skipped on purpose: some mirrors do not serve it for stable updates, and it adds nothing once
# the tarballs are verified.

debian_log() { echo "== ${DEBIAN_SOURCE_TAG:-debian-source}: $*" >&2; }

debian_build_deps() {
  local need=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
  done
  [ ${#need[@]} -gt 0 ] || return 0
  debian_log "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >&2
}

debian_sources_init() {
  local work="$1" suites="$2" suite
  DEBIAN_APT_DIR="$work/apt"
  mkdir -p "$DEBIAN_APT_DIR/lists/partial" "$DEBIAN_APT_DIR/parts"
  for suite in $suites; do
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main"
  done >"$DEBIAN_APT_DIR/sources.list"
  DEBIAN_APT_OPTS=(
    -o "Dir::Etc::SourceList=$DEBIAN_APT_DIR/sources.list"
    -o "Dir::Etc::SourceParts=$DEBIAN_APT_DIR/parts"
    -o "Dir::State::Lists=$DEBIAN_APT_DIR/lists"
    -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
    -o "APT::Sandbox::User=root" # the private lists belong to root
  )
  debian_log "reading the source indexes of Debian $suites"
  apt-get "${DEBIAN_APT_OPTS[@]}" update -q >&2
}

debian_pick_version() {
  local pkg="$1" version="$2" upstream available other
  upstream="${version%-*}"
  available="$(apt-cache "${DEBIAN_APT_OPTS[@]}" showsrc "$pkg" | sed -n 's/^Version: //p' | sort -uV)"
  if grep -qxF "$version" <<<"$available"; then
    echo "$version"
    return 0
  fi
  other="$(grep -E "^${upstream//./\\.}-" <<<"$available" | tail -n 1 || true)"
  if [ -z "$other" ]; then
    debian_log "$pkg $upstream is no longer in the archive (available: $(echo $available)); update its pinned version"
    return 1
  fi
  debian_log "note: $pkg $version has left the archive; taking $other (same upstream version)"
  echo "$other"
}

debian_fetch() {
  local pkg="$1" version="$2" dest="$3" only="${4:-}" url file _size hash
  mkdir -p "$dest"
  apt-get "${DEBIAN_APT_OPTS[@]}" source --print-uris -qq "$pkg=$version" >"$dest/.uris"
  while read -r url file _size hash; do
    case "$file" in *.dsc) continue ;; esac
    if [ "$only" = orig ]; then case "$file" in *.orig.tar.*) ;; *) continue ;; esac; fi
    /usr/lib/apt/apt-helper download-file "${url//\'/}" "$dest/$file" "$hash" >&2 || return 1
  done <"$dest/.uris"
}

debian_unpack() {
  local tarball="$1" dir="$2" tmp top
  tmp="$(mktemp -d "$dir.unpack.XXXXXX")"
  tar -xf "$tarball" -C "$tmp"
  mkdir -p "$dir"
  top=("$tmp"/*)
  if [ ${#top[@]} -eq 1 ] && [ -d "${top[0]}" ]; then
    cp -a "${top[0]}"/. "$dir/"
  else
    cp -a "$tmp"/. "$dir/"
  fi
  rm -rf "$tmp"
}

debian_patch() {
  local dir="$1" p patches
  [ -f "$dir/debian/patches/series" ] || return 0
  mapfile -t patches < <(grep -v '^[[:space:]]*\(#\|$\)' "$dir/debian/patches/series" | cut -d' ' -f1)
  for p in "${patches[@]}"; do
    patch -d "$dir" -p1 -s --batch --forward --no-backup-if-mismatch <"$dir/debian/patches/$p" >&2
  done
}
