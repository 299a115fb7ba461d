#!/bin/bash
# test-cli.sh: every `tern` command's table, json and value output and each
# error path, against tests/integration/cli-peer.py (Python oslo.messaging
# serving tern_admin on a real RabbitMQ, as tern-conductor does). Needs
# TERN_TEST_TRANSPORT_URL. Output of a run without a terminal: the
# migration progress comes as lines, one per status change or 10 %.
. "$TERN_SRCDIR/tests/tap.sh"
if [ -z "${TERN_TEST_TRANSPORT_URL:-}" ]; then
    echo "ok 1 # SKIP TERN_TEST_TRANSPORT_URL is not set (scripts/services start rabbitmq)"
    echo "1..1"; exit 0
fi
B=$TERN_BUILDDIR
W=$(mktemp -d)
EXCH=tern-cli-test-$$   # own exchange: a real tern-conductor may share the broker
exec 7> >(/usr/bin/python3 "$TERN_SRCDIR/tests/integration/cli-peer.py" "$TERN_TEST_TRANSPORT_URL" "$EXCH" \
              > "$W/peer.out" 2> "$W/peer.err")
PEER=$!
trap "exec 7>&-; wait $PEER 2>/dev/null; cp $W/err /tmp/cli/lasterr; rm -rf $W" EXIT
i=0; while [ $i -lt 100 ] && ! grep -q READY "$W/peer.out"; do sleep 0.1; i=$((i + 1)); done
check "the peer serves tern_admin" grep -q READY "$W/peer.out"

cat > "$W/tern.conf" <<CONF
[DEFAULT]
transport_url = $TERN_TEST_TRANSPORT_URL
control_exchange = $EXCH
CONF
chmod 600 "$W/tern.conf"
cp "$TERN_SRCDIR/etc/tern/flavors.ini" "$W/flavors.ini"
cat >> "$W/flavors.ini" <<'INI'

[needs.md-clear]
vcpus = 1
memory_mb = 128
root_gb = 1
hw:cpu_flags = +md-clear
INI
cat > "$W/images.ini" <<'INI'
[busybox-ppc64le]
hw_architecture = ppc64le
os_distro = debian12
INI
export TERN_CONFIG_FILE=$W/tern.conf
unset TERN_TRANSPORT_URL
T="$B/tern -t 10"

# run CMD...: stdout in $W/out, stderr in $W/err, exit code in $RC
run() { "$@" > "$W/out" 2> "$W/err"; RC=$?; }
# jcheck DESC PYTHON-EXPR: the expression over d (the json of $W/out) is true
jcheck() {
    check "$1" /usr/bin/python3 -c "import json,sys; d=json.load(open('$W/out')); sys.exit(0 if ($2) else 1)"
}
has() { grep -q -- "$1" "$W/$2"; }   # has TEXT out|err

# --- hosts -----------------------------------------------------------------
run $T host list
check "host list: exit 0" [ $RC = 0 ]
check "host list: table header" has "^| Host   | Arch    | Virt Type | State | Status  | CPU Model " out
check "host list: a row per host" [ "$(grep -c '^| host\|^| power9' "$W/out")" = 3 ]
check "host list: usage as used/total" has "| 0/16 " out
run $T host list -f json
jcheck "host list -f json: three hosts keyed by header" \
    'len(d) == 3 and d[2]["Host"] == "power9" and d[2]["Arch"] == "ppc64le" and d[0]["Status"] == "enabled" and d[0]["vCPUs Used"] == "0/4"'
run $T host list -f value -c Host -c Arch
check "host list -f value -c: bare values" [ "$(cat "$W/out")" = "$(printf 'hosta x86_64\nhostb x86_64\npower9 ppc64le')" ]
run $T host show hosta
check "host show: Field/Value table" has "^| Field  *| Value  *|$" out
check "host show: CPU model row" has "^| cpu_model  *| Skylake-Client-IBRS  *|$" out
check "host show: features joined" has "| features  *| avx2, md-clear, ssbd  *|$" out
check "host show: nested objects as key='value' without xml" \
    sh -c "grep -q \"guest_cpu .*mode='host-model'\" '$W/out' && ! grep -q '<cpu/>' '$W/out'"
run $T host show hosta -f json
jcheck "host show -f json: the conductor's object (xml kept)" \
    'd["host_cpu"]["model"] == "Skylake-Client-IBRS" and d["guest_cpu"]["xml"] == "<cpu/>" and d["mitigations"] == ["md-clear"] and d["status"] == "enabled"'
run $T host disable hostb --reason "disk swap" -f json
jcheck "host disable: disabled with the reason" 'd["disabled"] is True and d["disabled_reason"] == "disk swap" and d["status"] == "disabled"'
run $T host list -f value -c Host -c Status
check "host list shows hostb disabled" has "^hostb disabled$" out
run $T host enable hostb
check "host enable: table" has "| status  *| enabled  *|" out

# --- servers ---------------------------------------------------------------
run $T server create vm-x86 --image busybox --flavor m1.nano --arch x86_64 --wait
check "server create --wait: exit 0" [ $RC = 0 ]
check "server create --wait: ACTIVE" has "^| status  *| ACTIVE  *|$" out
check "server create --wait: says it waits" has "Waiting for vm-x86" err
run $T server create vm-p9 --image busybox-ppc64le --flavor m1.tiny -f json
jcheck "server create -f json: BUILD on the ppc64le host, images.ini properties sent" \
    'd["status"] == "BUILD" and d["host"] == "power9" and d["image"]["properties"] == {"hw_architecture": "ppc64le", "os_distro": "debian12"} and d["flavor"]["memory_mb"] == 512'
run $T server create vm-big --image busybox --flavor m1.nano --vcpus 2 --ram 256 --property os_distro=alpine -f json
jcheck "server create overrides: vcpus/ram/property" \
    'd["flavor"]["vcpus"] == 2 and d["flavor"]["memory_mb"] == 256 and d["image"]["properties"]["os_distro"] == "alpine"'
sleep 1.2
run $T server list
check "server list: table header" has "^| ID  *| Name  *| Status  *| Task State | Power State | Host  *| Arch  *| Flavor  *| Image  *|$" out
check "server list: vm-p9 ACTIVE on power9" sh -c "grep 'vm-p9' '$W/out' | grep -q '| ACTIVE .*| Running .*| power9 .*| ppc64le '"
run $T server list -f json
jcheck "server list -f json: three servers, statuses" \
    'sorted(s["Name"] for s in d) == ["vm-big", "vm-p9", "vm-x86"] and all(s["Status"] == "ACTIVE" for s in d)'
run $T server list --host power9 -f value -c Name
check "server list --host" [ "$(cat "$W/out")" = vm-p9 ]
run $T server show vm-x86 -f json
jcheck "server show by name -f json" 'd["name"] == "vm-x86" and d["power_state_name"] == "Running"'
UUID=$(/usr/bin/python3 -c "import json; print(json.load(open('$W/out'))['uuid'])")
run $T server show "$UUID"
check "server show by uuid: table" has "^| name  *| vm-x86  *|$" out
run $T server show vm-x86 -f value -c status -c host
check "server show -f value -c" [ "$(cat "$W/out")" = "$(printf 'ACTIVE\nhosta')" ]
run $T server stop vm-x86
check "server stop: silent, exit 0" sh -c "[ $RC = 0 ] && [ ! -s '$W/out' ]"
run $T server list -f value -c Name -c Status
check "server stop: SHUTOFF" has "^vm-x86 SHUTOFF$" out
run $T server start vm-x86 --wait
check "server start --wait" [ $RC = 0 ]
run $T server reboot vm-x86 --hard
check "server reboot --hard" [ $RC = 0 ]
run $T server delete vm-big --wait
check "server delete --wait" [ $RC = 0 ]
run $T server list -f value -c Name
check "server delete: gone" sh -c "! grep -q vm-big '$W/out'"

# --- live migration --------------------------------------------------------
run $T server migrate vm-x86 --live --wait -f json
check "server migrate --wait: exit 0" [ $RC = 0 ]
jcheck "server migrate --wait -f json: completed hosta -> hostb" \
    'd["status"] == "completed" and d["source_compute"] == "hosta" and d["dest_compute"] == "hostb" and d["memory_remaining"] == 0'
check "progress bar: transferred/remaining" has "running  *\[#######-*\]  25%  128.0 MiB of 512.0 MiB transferred, 384.0 MiB remaining" err
check "progress bar: speed" grep -Eq "remaining, [0-9.]+ [KMG]iB/s$" "$W/err"
check "progress bar: completed" has "completed  *\[#*\] 100%" err
MIG=$(/usr/bin/python3 -c "import json; print(json.load(open('$W/out'))['uuid'])")
run $T server list -f value -c Name -c Host
check "migrated server on its new host" has "^vm-x86 hostb$" out
run $T server migrate vm-p9 --live
check "server migrate (no --wait): prints the migration" sh -c "[ $RC = 1 ] || grep -q status '$W/out'"
run $T migration list
check "migration list: table" has "^| ID  *| Server  *| Type  *| Status  *| Source  *| Destination | Progress | Created  *|$" out
check "migration list: progress %" has "| completed | hosta  | hostb  *| 100%  *|" out
run $T migration list --server vm-x86 -f json
jcheck "migration list --server -f json" 'len(d) == 1 and d[0]["ID"] == "'$MIG'" and d[0]["Progress"] == "100%"'
run $T migration show "$MIG"
check "migration show: table" has "^| memory_total  *| 536870912  *|$" out
run $T migration show "$MIG" -f json
jcheck "migration show -f json" 'd["downtime_ms"] == 12 and d["status"] == "completed"'

# --- errors: remote failures ----------------------------------------------
run $T server create x --image busybox --flavor m1.nano --arch s390x
check "NoValidHost: exit 1, actionable" sh -c "[ $RC = 1 ] && grep -q '^tern server create: no host can run this server: No valid host was found. no enabled s390x host. See .tern host list.' '$W/err'"
run $T server create x --image busybox-ppc64le --flavor needs.md-clear
check "NoValidHost: the scheduler's reason" has "no host can run this CPU: missing md-clear on all 1 ppc64le hosts" err
run $T server migrate vm-p9 --live --host hosta
check "MigrationPreCheckError: refused, reason, nothing moved" sh -c "[ $RC = 1 ] && grep -q 'live migration refused: Migration pre-check error: host hosta is x86_64, the server is ppc64le. Nothing was moved' '$W/err'"
run $T server show nope
check "InstanceNotFound: points to server list" sh -c "[ $RC = 1 ] && grep -q 'Instance nope could not be found. See .tern server list.' '$W/err'"
run $T server delete nope
check "server delete unknown: exit 1" [ $RC = 1 ]
run $T host show nope
check "ComputeHostNotFound: points to host list" has "Compute host nope could not be found. See .tern host list." err
run $T host disable nope
check "host disable unknown host: exit 1" [ $RC = 1 ]
run $T migration show 0000
check "MigrationNotFound: points to migration list" has "Migration 0000 could not be found. See .tern migration list." err
run $T server start vm-x86
check "InstanceInvalidState: the state and where to look" has "in vm_state active. Cannot start while the instance is in this state. See the server's state" err

# --- errors: transport ------------------------------------------------------
printf '[DEFAULT]\ntransport_url = %s\ncontrol_exchange = nobody-here\n' "$TERN_TEST_TRANSPORT_URL" > "$W/none.conf"
chmod 600 "$W/none.conf"
run $B/tern -t 2 --config-file "$W/none.conf" host list
check "timeout: is tern-conductor running? check transport_url" sh -c "[ $RC = 1 ] && grep -q 'no answer from tern-conductor within 2 s: is tern-conductor running? check transport_url (rabbit://guest:\*\*\*@' '$W/err'"
check "timeout: names the config file" has "from \[DEFAULT\] transport_url in $W/none.conf" err
TERN_TRANSPORT_URL=rabbit://u:Secret-9@127.0.0.1:1/ run $B/tern -t 2 host list
check "unreachable broker: says so, from TERN_TRANSPORT_URL" sh -c "[ $RC = 1 ] && grep -q 'cannot reach RabbitMQ at rabbit://u:\*\*\*@127.0.0.1:1/.*check TERN_TRANSPORT_URL' '$W/err'"
check "unreachable broker: password not shown" sh -c "! grep -q Secret-9 '$W/err'"
TERN_TRANSPORT_URL=http://x/ run $B/tern -t 2 host list
check "bad transport_url: exit 1, says fix it" sh -c "[ $RC = 1 ] && grep -q \"transport_url 'http://x/' is not usable\" '$W/err'"

# --- errors: usage ------------------------------------------------------------
run $T server list -f xml
check "unknown format: exit 2" sh -c "[ $RC = 2 ] && grep -q 'use table, json or value' '$W/err'"
run $T server list -c Foo
check "unknown column: exit 1, lists the columns" sh -c "[ $RC = 1 ] && grep -q \"no column 'Foo'; the columns are 'ID', 'Name'\" '$W/err'"
run $T server create x --flavor m1.nano
check "create without --image: exit 2" sh -c "[ $RC = 2 ] && grep -q 'image and --flavor are required' '$W/err'"
run $T server create x --image busybox --flavor m9.huge
check "unknown flavor: lists the flavors and the file" has "no flavor 'm9.huge' in $W/flavors.ini; its flavors are: m1.nano, m1.tiny" err
run $T server create x --image busybox --flavor m1.nano --property novalue
check "bad --property: says KEY=VALUE" has "property novalue: write KEY=VALUE" err
run $T server migrate vm-x86
check "migrate without --live: exit 2" [ $RC = 2 ]
run $T server show
check "missing argument: exit 2" [ $RC = 2 ]
run $T server frobnicate
check "unknown command: exit 2, lists commands" sh -c "[ $RC = 2 ] && grep -q 'server migrate SERVER --live' '$W/err'"
run $T server list --help
check "command --help: exit 0 with options" sh -c "[ $RC = 0 ] && grep -q -- '--format=FORMAT' '$W/out'"
run $B/tern --help
check "tern --help lists every command" sh -c "[ \$(grep -c '^  \(server\|host\|migration\) ' '$W/out') = 16 ]"
tap_done
