#!/bin/sh
# test-manage-cpu.sh: `tern-manage cpu compare|baseline|show` table tests
# (bogus model, bogus feature, require/force/disable/forbid policies, arch
# mismatch, exit codes), and baselines checked against libvirt's own
# (virsh cpu-baseline on test:///default, no daemon needed).
. "$TERN_SRCDIR/tests/tap.sh"
M="$TERN_BUILDDIR/tern-manage"
D="$TERN_SRCDIR/tests/data/cpu"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

guest() { # guest FILE MODEL [POLICY NAME]
    f=$1; m=$2
    printf "<cpu mode='custom' match='exact'><model>%s</model>" "$m" > "$f"
    [ -n "${3:-}" ] && printf "<feature policy='%s' name='%s'/>" "$3" "$4" >> "$f"
    echo "</cpu>" >> "$f"
}
out() { "$M" "$@" 2>&1; }

guest $T/skl.xml Skylake-Client-IBRS require md-clear
r=$(out cpu compare $D/caps-broadwell.xml $T/skl.xml); rc=$?
check "Skylake-Client-IBRS +md-clear on Broadwell: incompatible, missing listed" \
    sh -c 'echo "$1" | grep -q "incompatible.*md-clear, xgetbv1, xsavec"' _ "$r"
check "incompatible exits 0 without --error (as virsh cpu-compare)" test $rc = 0
out cpu compare $D/caps-broadwell.xml $T/skl.xml --error > /dev/null
check "incompatible exits 1 with --error" test $? = 1

guest $T/bdw.xml Broadwell-noTSX
r=$(out cpu compare $D/caps-cascadelake.xml $T/bdw.xml); rc=$?
check "Broadwell-noTSX on Cascadelake: superset, exit 0" \
    sh -c 'echo "$1" | grep -q "superset" && [ "$2" = 0 ]' _ "$r" $rc

guest $T/forbid.xml Broadwell-noTSX forbid vme
check "forbid of a host feature: incompatible" \
    sh -c '"$1" cpu compare "$2" "$3" | grep -q "forbidden features: vme"' _ "$M" $D/caps-cascadelake.xml $T/forbid.xml
guest $T/force.xml Broadwell-noTSX force pcid
check "force of a host feature: superset" \
    sh -c '"$1" cpu compare "$2" "$3" | grep -q superset' _ "$M" $D/caps-cascadelake.xml $T/force.xml
guest $T/force2.xml Broadwell-noTSX force avx512f
check "force of a feature the host lacks: superset (the hypervisor gives it; as libvirt)" \
    sh -c '"$1" cpu compare "$2" "$3" | grep -q superset' _ "$M" $D/caps-broadwell.xml $T/force2.xml
guest $T/dis.xml Cascadelake-Server disable avx512f
check "disable: Cascadelake-Server -avx512f still needs more than Broadwell" \
    sh -c '"$1" cpu compare "$2" "$3" | grep -q "incompatible" && ! "$1" cpu compare "$2" "$3" | grep -q "avx512f,"' _ "$M" $D/caps-broadwell.xml $T/dis.xml
guest $T/bogusm.xml Pentium9000
r=$(out cpu compare $D/caps-broadwell.xml $T/bogusm.xml); rc=$?
check "bogus model: error naming it, exit 1" \
    sh -c 'echo "$1" | grep -q "Pentium9000" && [ "$2" = 1 ]' _ "$r" $rc
guest $T/bogusf.xml Broadwell require no-such-flag
r=$(out cpu compare $D/caps-broadwell.xml $T/bogusf.xml); rc=$?
check "bogus feature: error naming it, exit 1" \
    sh -c 'echo "$1" | grep -q "no-such-flag" && [ "$2" = 1 ]' _ "$r" $rc
echo "<cpu><arch>x86_64</arch><model>Broadwell-noTSX</model></cpu>" > $T/bdw-x86.xml
r=$(out cpu compare $D/caps-power9.xml $T/bdw-x86.xml)
check "x86 guest on a ppc64le host: incompatible (arch)" \
    sh -c 'echo "$1" | grep -q "incompatible.*arch x86_64 does not match host arch ppc64le"' _ "$r"
printf "<cpu mode='host-model'><model>power8</model></cpu>" > $T/p8.xml
check "power8 compat guest on a POWER9 host: superset" \
    sh -c '"$1" cpu compare "$2" "$3" | grep -q superset' _ "$M" $D/caps-power9.xml $T/p8.xml
check "missing file: exit 1" sh -c '! "$1" cpu compare /nonexistent "$2" 2>/dev/null' _ "$M" $T/bdw.xml
echo "<cpu><model>" > $T/broken.xml
check "broken XML: exit 1" sh -c '! "$1" cpu compare "$2" "$2" 2>/dev/null' _ "$M" $T/broken.xml

# Baselines against libvirt's own.
i=0
for set in "Haswell Broadwell Skylake-Client" "Broadwell-IBRS Skylake-Client-noTSX-IBRS" \
           "Cascadelake-Server Icelake-Server" "EPYC-Rome EPYC-Milan" "Westmere SandyBridge-IBRS"; do
    i=$((i + 1)); : > $T/set$i.xml
    for m in $set; do
        v=Intel; case $m in EPYC*) v=AMD ;; esac
        echo "<cpu><arch>x86_64</arch><model>$m</model><vendor>$v</vendor></cpu>" >> $T/set$i.xml
    done
    for flag in "" --features; do
        ours=$("$M" cpu baseline $T/set$i.xml $flag 2>&1 | grep -o "<model[^<]*>[^<]*\|name=.[^'\"]*" | sed "s/<model[^>]*>//; s/name=.//" | sort | tr '\n' ' ')
        theirs=$(virsh -q -c test:///default cpu-baseline $T/set$i.xml $flag 2>&1 | grep -o "<model[^<]*>[^<]*\|name=.[^'\"]*" | sed "s/<model[^>]*>//; s/name=.//" | sort | tr '\n' ' ')
        check "baseline $flag of $set equals libvirt's" test "$ours" = "$theirs"
        [ "$ours" = "$theirs" ] || diag "tern: $ours | libvirt: $theirs"
    done
done
cat $D/caps-this-host.xml $D/caps-broadwell.xml > $T/caps2.xml
r=$("$M" cpu baseline $T/caps2.xml 2>&1)
check "baseline of two capabilities files (topology <cpu id> ignored)" \
    sh -c 'echo "$1" | grep -q "<model fallback=.forbid.>"' _ "$r"
cat $D/caps-power8.xml $D/caps-power9.xml > $T/pset.xml
check "baseline of POWER8 + POWER9 hosts: power8 compat mode" \
    sh -c '"$1" cpu baseline "$2" | grep -q ">power8<"' _ "$M" $T/pset.xml

r=$(out cpu show $D/caps-this-host.xml $D/domcaps-qemu-x86_64.xml)
check "cpu show: host-model from domain capabilities, validation ok" \
    sh -c 'echo "$1" | grep -q "guest CPU: *host-model EPYC" && echo "$1" | grep -q "validation: *ok"' _ "$r"
printf '[libvirt]\ncpu_mode = custom\ncpu_models = Skylake-Client-IBRS\ncpu_model_extra_flags = +md-clear\n' > $T/t.conf
r=$("$M" --config-file $T/t.conf cpu show $D/caps-broadwell.xml 2>&1); rc=$?
check "cpu show: a custom model the host lacks fails validation, naming features" \
    sh -c 'echo "$1" | grep -q "FAILS.*md-clear" && [ "$2" = 1 ]' _ "$r" $rc
tap_done
