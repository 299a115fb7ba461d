#!/bin/bash
# test-compute-manage.sh: `tern-manage compute probe` and `compute
# domain-xml` on libvirt's test driver with the simulated POWER9 host's facts
# (the quickstart's simulated host): facts, golden XML, a refusal.
. "$TERN_SRCDIR/tests/tap.sh"
M=$TERN_BUILDDIR/tern-manage
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat > "$T/tern.conf" <<CONF
[libvirt]
connection_uri = test:///default
host_facts_dir = $TERN_SRCDIR/tests/data/hosts/power9
virt_type = kvm
[compute]
instances_path = $T
CONF
"$M" --config-file "$T/tern.conf" compute probe > "$T/probe.json" 2> "$T/err"
check "probe succeeds" test $? = 0
check "probe: ppc64le host" grep -q '"arch": "ppc64le"' "$T/probe.json"
check "probe: 160 vCPUs from the NUMA cells" grep -q '"vcpus": 160' "$T/probe.json"
check "probe: simulated" grep -q '"simulated": true' "$T/probe.json"
check "probe: POWER9 models offered" grep -q '"POWER9"' "$T/probe.json"
D=$TERN_SRCDIR/tests/data/compute
"$M" --config-file "$T/tern.conf" compute domain-xml "$D/power9-rhel86-vscsi-compat.json" > "$T/out.xml"
check "domain-xml matches the golden file" cmp -s "$T/out.xml" "$D/power9-rhel86-vscsi-compat.xml"
"$M" --config-file "$T/tern.conf" compute domain-xml "$D/power9-err-ide.json" > "$T/out" 2> "$T/err"
check "IDE on pseries refused with exit 1" test $? = 1
check "refusal names the rule" grep -q "the pseries machine has no IDE" "$T/err"
check "nothing printed on stdout when refused" test ! -s "$T/out"
sed -i "s|hosts/power9|hosts/no-such-host|" "$T/tern.conf"
"$M" --config-file "$T/tern.conf" compute probe > /dev/null 2> "$T/err"
check "missing facts folder is an error" test $? = 1
check "error names capabilities.xml" grep -q "capabilities.xml" "$T/err"
tap_done
