#!/bin/bash
# test-bench-smoke.sh: the benchmarks still run and print what they promise
# (bench/scheduler's table against Nova's own filters and weighers,
# bench/rpc's tern / oslo.messaging / raw AMQP rows and ratios, bench/cpu's
# and bench/db's ratios, bench/compute's split), at sizes that take seconds:
# it checks that they work, never a figure. Needs RabbitMQ and PostgreSQL
# (scripts/services). bench/migration needs the namespaced hosts: the e2e
# tests cover its path.
. "$TERN_SRCDIR/tests/tap.sh"
if [ -z "${TERN_TEST_TRANSPORT_URL:-}" ] || [ -z "${TERN_TEST_DB_URL:-}" ]; then
    echo "ok 1 # SKIP needs RabbitMQ and PostgreSQL (scripts/services start rabbitmq postgresql)"
    echo "1..1"; exit 0
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
num='[0-9]+(\.[0-9]+)?'

TERN_BENCH_CALLS=100 "$TERN_SRCDIR/bench/scheduler" 150 > "$W/sched" 2> "$W/sched.err"
rc=$?
check "bench/scheduler 150 exits 0" [ $rc = 0 ]
[ $rc = 0 ] || sed 's/^/# /' "$W/sched.err" | tail -20
check "it prints the 150-host row: decisions/s, p50, p99 for 1 and 4 clients, Nova's ms per decision and the ratio" \
    grep -Eq "^ +150 \| +$num \| +$num/s +$num ms +$num ms +\| +$num/s +$num ms +$num ms +\| +$num \| +$num""x$" "$W/sched"
check "every decision placed: no errors, no NoValidHost, in both runs" \
    grep -q "errors: 0 / 0, NoValidHost: 0 / 0" "$W/sched"
check "Nova's filters pass some of the same hosts" \
    grep -Eq "hosts passing Nova's filters: [1-9][0-9]*;" "$W/sched"
check "it prints the split inside tern-scheduler and the hypervisor's steal" \
    sh -c "grep -Eq 'filters\+weighers p50 $num ms p99 $num ms, claim p50 $num ms' '$W/sched' && grep -Eq 'CPU steal by the hypervisor during the timed runs: 1 client $num %, 4 clients $num %' '$W/sched'"
[ -s "$W/sched" ] && sed 's/^/# /' "$W/sched" | grep -v '^# $'

"$TERN_SRCDIR/bench/rpc" 200 > "$W/rpc" 2> "$W/rpc.err"
rc=$?
check "bench/rpc 200 exits 0" [ $rc = 0 ]
[ $rc = 0 ] || sed 's/^/# /' "$W/rpc.err" | tail -20
for row in "tern C client -> C server, 1 caller" "tern C client -> C server, 8 callers" \
           "oslo.messaging -> oslo.messaging, 1 caller" "oslo.messaging -> oslo.messaging, 8 callers" \
           "raw AMQP round trip (librabbitmq)"; do
    check "bench/rpc row: $row (median, p99, calls/s, steal)" \
        grep -Eq "^$(printf '%s' "$row" | sed 's/[().]/\\&/g') +$num +$num +$num +$num$" "$W/rpc"
done
check "bench/rpc prints the ratios against oslo.messaging and raw AMQP" \
    sh -c "grep -q '^ratios (oslo / tern)' '$W/rpc' && grep -q \"^tern's overhead over raw AMQP\" '$W/rpc'"
[ -s "$W/rpc" ] && sed 's/^/# /' "$W/rpc"

"$TERN_BUILDDIR/bench/cpu" 300 > "$W/cpu" 2>&1
rc=$?
check "bench/cpu 300 exits 0 and prints the compact and full checks, same answer, their ratio and the memory per host" \
    sh -c "[ $rc = 0 ] && grep -Eq 'compact check .*: $num us per scan' '$W/cpu' && grep -q '(same answer)' '$W/cpu' && grep -Eq 'ratio full/compact: $num""x' '$W/cpu' && grep -Eq 'memory per host: [0-9]+ bytes compact' '$W/cpu'"
TERN_BENCH_SECONDS=1 "$TERN_BUILDDIR/bench/db" > "$W/db" 2>&1
rc=$?
check "bench/db (1 s runs) exits 0 and prints tern's claims/s next to pgbench's for 1 and 8 clients" \
    sh -c "[ $rc = 0 ] && grep -Eq '^1 +[0-9]+ +[0-9]+ +$num$' '$W/db' && grep -Eq '^8 +[0-9]+ +[0-9]+ +$num$' '$W/db'"
"$TERN_SRCDIR/bench/compute" 3 > "$W/compute" 2>&1
rc=$?
check "bench/compute 3 exits 0" [ $rc = 0 ]
check "bench/compute prints tern's part, libvirt's, their ratio, the caller's view and the memory" \
    sh -c "grep -Eq \"tern's own time per build .*median $num ms\" '$W/compute' && grep -Eq 'libvirt define\+start per build: +median $num ms' '$W/compute' && grep -Eq 'ratio tern / libvirt \(medians\): $num' '$W/compute' && grep -Eq 'cast -> instance_update ACTIVE at the peer: median $num ms' '$W/compute' && grep -Eq 'tern-compute VmRSS: [0-9]+ KiB at start' '$W/compute'"
for f in cpu db compute; do grep -v "Warn\|warn\|RPCClient" "$W/$f" | sed 's/^/# /'; done
tap_done
