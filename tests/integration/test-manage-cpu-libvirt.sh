#!/bin/sh
# test-manage-cpu-libvirt.sh: `tern-manage cpu compare` agrees with libvirt
# on every table case libvirt itself can answer here. libvirt compares a
# guest CPU only with the host it runs on, so the host is the private
# libvirtd's (TERN_TEST_LIBVIRT_URI; skipped when unset): its capabilities
# go to tern-manage as HOST.xml and each guest XML to both `tern-manage cpu
# compare` and `virsh cpu-compare`. The cases are the compare table of
# tests/unit/test-manage-cpu.sh made for this host: identical (the host's
# own <cpu>), superset, a required feature, forbid / disable / force of a
# feature the host has and of features it may lack, a bogus model, a bogus
# feature and an arch mismatch. Both must give the same answer
# (identical / superset / incompatible / error) and the same exit code with
# --error.
. "$TERN_SRCDIR/tests/tap.sh"
if [ -z "${TERN_TEST_LIBVIRT_URI:-}" ]; then
    echo "1..0 # SKIP TERN_TEST_LIBVIRT_URI is not set (scripts/services start libvirt)"
    exit 0
fi
if [ "$(uname -m)" != x86_64 ]; then
    echo "1..0 # SKIP the table is x86_64's; this host is $(uname -m)"
    exit 0
fi
M="$TERN_BUILDDIR/tern-manage"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
virsh -q -c "$TERN_TEST_LIBVIRT_URI" capabilities > $T/caps.xml ||
    { echo "1..0 # SKIP cannot read the capabilities of $TERN_TEST_LIBVIRT_URI"; exit 0; }

guest() { # guest NAME MODEL [POLICY FEATURE]
    gf=$T/$1.xml
    printf "<cpu mode='custom' match='exact'><model>%s</model>" "$2" > "$gf"
    [ -n "${3:-}" ] && printf "<feature policy='%s' name='%s'/>" "$3" "$4" >> "$gf"
    echo "</cpu>" >> "$gf"
}
# the host's own <cpu> (the first one: the host section's)
sed -n '/<host>/,/<\/host>/p' $T/caps.xml | sed -n '/<cpu>/,/<\/cpu>/p' |
    grep -v "<topology\|<cache\|<maxphysaddr\|<pages\|<microcode\|<signature\|<counter\|<migration_features\|</migration_features\|<uri_transport\|<live/>" > $T/host.xml
guest superset Westmere
guest require-md-clear Skylake-Client-IBRS require md-clear
guest forbid-has Westmere forbid sse2
guest disable-has Westmere disable sse2
guest force-has Westmere force sse2
for feat in avx512f amx-tile 3dnow svm; do
    guest require-$feat Westmere require $feat
    guest forbid-$feat Westmere forbid $feat
    guest force-$feat Westmere force $feat
    guest disable-$feat Westmere disable $feat
done
guest bogus-model Pentium9000
guest bogus-feature Westmere require no-such-flag
echo "<cpu><arch>ppc64le</arch><model>POWER9</model></cpu>" > $T/arch-mismatch.xml

answer() { # answer TEXT: identical | superset | incompatible | error
    case "$1" in
        *error*|tern-manage:*) echo error ;;
        *incompatible*) echo incompatible ;;
        *superset*) echo superset ;;
        *identical*) echo identical ;;
        *) echo "unknown: $1" ;;
    esac
}
seen=""
for f in host superset require-md-clear forbid-has disable-has force-has \
         require-avx512f forbid-avx512f force-avx512f disable-avx512f \
         require-amx-tile forbid-amx-tile force-amx-tile disable-amx-tile \
         require-3dnow forbid-3dnow force-3dnow disable-3dnow \
         require-svm forbid-svm force-svm disable-svm \
         bogus-model bogus-feature arch-mismatch; do
    ours=$(answer "$("$M" cpu compare $T/caps.xml $T/$f.xml 2>&1)")
    "$M" cpu compare $T/caps.xml $T/$f.xml --error > /dev/null 2>&1; ours_rc=$?
    theirs=$(answer "$(virsh -q -c "$TERN_TEST_LIBVIRT_URI" cpu-compare $T/$f.xml 2>&1)")
    virsh -q -c "$TERN_TEST_LIBVIRT_URI" cpu-compare --error $T/$f.xml > /dev/null 2>&1
    theirs_rc=$?
    check "$f: tern-manage cpu compare says $ours (exit $ours_rc with --error), as libvirt" \
        test "$ours/$ours_rc" = "$theirs/$theirs_rc"
    [ "$ours/$ours_rc" = "$theirs/$theirs_rc" ] || diag "$(cat $T/$f.xml): libvirt $theirs/$theirs_rc"
    seen="$seen $ours"
done
# the table reaches every kind of answer libvirt gives
for a in identical superset incompatible error; do
    check "the table has a case libvirt answers $a" sh -c 'echo "$1" | grep -qw "$2"' _ "$seen" $a
done
tap_done
