#!/bin/sh
# test-sample.sh: etc/tern/tern.conf.sample is exactly what
# `tern-manage config sample` prints. TERN_REGENERATE=1 rewrites it.
. "$TERN_SRCDIR/tests/tap.sh"
sample="$TERN_SRCDIR/etc/tern/tern.conf.sample"
out=$(mktemp); trap 'rm -f "$out"' EXIT
"$TERN_BUILDDIR/tern-manage" config sample > "$out"
if [ -n "${TERN_REGENERATE:-}" ]; then cp "$out" "$sample"; fi
if diff -u "$sample" "$out" > /dev/null; then
    ok "etc/tern/tern.conf.sample is current"
else
    diff -u "$sample" "$out" | head -20 | sed 's/^/# /'
    not_ok "etc/tern/tern.conf.sample is stale: run TERN_REGENERATE=1 make check TESTS=tests/unit/test-sample.sh"
fi
check "sample declares [DEFAULT] transport_url" grep -q '^#transport_url = rabbit://' "$out"
check "sample declares [libvirt] cpu_mode choices" grep -q '^#   host-passthrough' "$out"
tap_done
