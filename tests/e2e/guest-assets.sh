#!/bin/bash
# guest-assets.sh: the real Linux guests of tern's e2e boot tests, made from
# Debian's own packages and cached outside the work tree:
#   $TERN_TEST_ASSETS/x86_64/vmlinuz   $TERN_TEST_ASSETS/x86_64/initrd.gz
#   $TERN_TEST_ASSETS/ppc64le/vmlinux  $TERN_TEST_ASSETS/ppc64le/initrd.gz
# (TERN_TEST_ASSETS defaults to /var/cache/tern-test-assets). Kernels are
# Debian's current linux-image for amd64 and ppc64el, fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` (nothing installed);
# each initramfs holds that arch's busybox-static and an /init that prints
# "TERN-GUEST-BOOTED $(uname -m)" on the console, then "TERN-GUEST-COUNT n"
# every second. ppc64el packages need `dpkg --add-architecture ppc64el` and
# an `apt-get update`, done here once when missing.
#
# Idempotent: a second run with the assets in place does nothing. Prints the
# assets folder on success. Needs root (apt-get update, /var/cache).
set -euo pipefail
D=${TERN_TEST_ASSETS:-/var/cache/tern-test-assets}
STAMP=$D/assets.done
if [ -f "$STAMP" ] && [ -s "$D/x86_64/vmlinuz" ] && [ -s "$D/x86_64/initrd.gz" ] &&
   [ -s "$D/ppc64le/vmlinux" ] && [ -s "$D/ppc64le/initrd.gz" ]; then
    echo "$D"; exit 0
fi
log() { echo "guest-assets: $*" >&2; }
mkdir -p "$D/debs" "$D/x86_64" "$D/ppc64le"

if ! dpkg --print-foreign-architectures | grep -qx ppc64el; then
    log "adding the ppc64el architecture to dpkg"
    dpkg --add-architecture ppc64el
    apt-get -q update -o DPkg::Lock::Timeout=300 >&2 || log "apt-get update reported errors (a mirror syncing?); going on with the indexes it got"
elif ! apt-cache show linux-image-powerpc64le:ppc64el > /dev/null 2>&1; then
    apt-get -q update -o DPkg::Lock::Timeout=300 >&2 || log "apt-get update reported errors (a mirror syncing?); going on with the indexes it got"
fi

# The kernel package the meta package points at, e.g. linux-image-6.1.0-56-amd64.
kernel_of() {
    apt-cache depends "$1" | awk '/Depends: linux-image-/ { print $2; exit }'
}
KX=$(kernel_of linux-image-amd64)
KP=$(kernel_of linux-image-powerpc64le:ppc64el)
KP=${KP%:ppc64el}
[ -n "$KX" ] && [ -n "$KP" ] || { log "cannot find Debian's current kernels"; exit 1; }
log "kernels $KX (amd64) and $KP (ppc64el)"

cd "$D/debs"
want() { # package [arch]
    local name=$1 arch=$2
    ls ${name}_*_${arch}.deb > /dev/null 2>&1 || apt-get -q download "$name:$arch" >&2
    ls ${name}_*_${arch}.deb | tail -1
}
X_KDEB=$(want "$KX" amd64)
P_KDEB=$(want "$KP" ppc64el)
X_BDEB=$(want busybox-static amd64)
P_BDEB=$(want busybox-static ppc64el)

build() { # arch kernel.deb busybox.deb kernel-glob kernel-name
    local arch=$1 kdeb=$2 bdeb=$3 glob=$4 kname=$5
    local t; t=$(mktemp -d "$D/build.XXXXXX")
    dpkg-deb -x "$kdeb" "$t/k"
    cp $t/k/boot/$glob "$D/$arch/$kname.tmp"
    dpkg-deb -x "$bdeb" "$t/b"
    mkdir -p "$t/root/bin" "$t/root/proc" "$t/root/sys" "$t/root/dev"
    cp "$t/b/bin/busybox" "$t/root/bin/busybox"
    cat > "$t/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
echo "TERN-GUEST-BOOTED $(/bin/busybox uname -m)" > /dev/console
i=0
while true; do
    i=$((i + 1))
    echo "TERN-GUEST-COUNT $i" > /dev/console
    /bin/busybox sleep 1
done
INIT
    chmod 755 "$t/root/init"
    (cd "$t/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$D/$arch/initrd.gz.tmp"
    mv "$D/$arch/$kname.tmp" "$D/$arch/$kname"
    mv "$D/$arch/initrd.gz.tmp" "$D/$arch/initrd.gz"
    chmod 644 "$D/$arch/$kname" "$D/$arch/initrd.gz"
    rm -rf "$t"
}
build x86_64 "$X_KDEB" "$X_BDEB" "vmlinuz-*" vmlinuz
build ppc64le "$P_KDEB" "$P_BDEB" "vmlinux-*" vmlinux
chmod 755 "$D" "$D/x86_64" "$D/ppc64le"
echo "$KX $KP" > "$STAMP"
log "ready in $D"
echo "$D"
