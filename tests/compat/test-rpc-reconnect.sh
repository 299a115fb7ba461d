#!/bin/bash
# test-rpc-reconnect.sh: RabbitMQ restarts while a C client calls a C server
# in a loop; both reconnect by themselves (rabbit_retry_interval) and every
# call made once the broker is back succeeds. Then the broker freezes
# (SIGSTOP, as if the network went away without closing anything): both sides
# notice the missing AMQP heartbeats, and recover once it answers again.
#
# It restarts a broker of its own (scripts/services with a private
# TERN_SERVICES_DIR), so that tests running beside it keep theirs.
. "$TERN_SRCDIR/tests/tap.sh"
if [ -z "${TERN_TEST_TRANSPORT_URL:-}" ]; then
    echo "1..0 # SKIP TERN_TEST_TRANSPORT_URL is not set (scripts/services start rabbitmq)"
    exit 0
fi
PEER=$TERN_BUILDDIR/tests/compat/rpc-peer
T=$(mktemp -d /tmp/tern-reconnect.XXXXXX)
export TERN_SERVICES_DIR=$T/services
srv=
cleanup() {
    exec 3>&-
    [ -n "$srv" ] && wait $srv
    "$TERN_SRCDIR/scripts/services" stop rabbitmq > /dev/null 2>&1 3>&-
    rm -rf "$T"
}
trap cleanup EXIT

if ! "$TERN_SRCDIR/scripts/services" start rabbitmq > $T/start.log 2>&1; then
    not_ok "private RabbitMQ starts"; cat $T/start.log | sed 's/^/# /'; tap_done; exit
fi
. $TERN_SERVICES_DIR/env
URL=$TERN_TEST_TRANSPORT_URL
# retry every second, no growing back-off: the test measures reconnection, not patience
printf '[oslo_messaging_rabbit]\nrabbit_retry_interval = 1\nrabbit_retry_backoff = 0\nheartbeat_timeout_threshold = 2\n' > $T/tern.conf
export TERN_RPC_PEER_CONF=$T/tern.conf

# the server serves until its stdin closes: a fifo this shell keeps open
mkfifo $T/stdin
exec 3<>$T/stdin
$PEER serve "$URL" compute host1 < $T/stdin > $T/server.out 2> $T/server.err 3>&- &
srv=$!
for _ in $(seq 100); do grep -q READY $T/server.out && break; sleep 0.1; done
check "C server ready on the private broker" grep -q READY $T/server.out

$PEER loop "$URL" compute host1 300 > $T/loop.out 2> $T/loop.err 3>&- &
loop=$!
sleep 4
"$TERN_SRCDIR/scripts/services" restart rabbitmq > $T/restart.log 2>&1 3>&-
back=$(date +%s.%N)
sleep 8    # calls go on for a while after the broker is back
kill $loop
wait $loop 2>/dev/null

diag "broker back at $back; $(grep -c ' ok' $T/loop.out) calls ok, $(grep -c ' fail' $T/loop.out) failed"
ok_before=$(awk -v b=$back '$3=="ok" && $2 < b - 5' $T/loop.out | wc -l)
# calls started 2 s after the broker is back (one retry interval + margin)
after=$(awk -v b=$back '$1 >= b + 2' $T/loop.out)
n_after=$(echo "$after" | grep -c . )
bad_after=$(echo "$after" | grep -c ' fail')
check "calls succeed before the restart ($ok_before)" test "$ok_before" -gt 5
check "calls are made after the restart ($n_after)" test "$n_after" -gt 20
check "every call made after the broker is back succeeds ($bad_after failed)" test "$bad_after" = 0
if [ "$bad_after" != 0 ]; then echo "$after" | grep fail | head -5 | sed 's/^/# /'; fi
check "client and server logged their reconnection" \
    grep -q "reconnected" $T/server.err $T/loop.err

# --- the broker stops answering (no FIN, no RST): heartbeats must notice
: > $T/loop.out
$PEER loop "$URL" compute host1 300 > $T/loop.out 2> $T/loop2.err 3>&- &
loop=$!
sleep 3
bpid=$(cat $TERN_SERVICES_DIR/rabbitmq/pid)
kill -STOP $bpid
sleep 8
kill -CONT $bpid
back=$(date +%s.%N)
sleep 12
kill $loop
wait $loop 2>/dev/null
diag "broker answering again at $back; $(grep -c ' ok' $T/loop.out) calls ok, $(grep -c ' fail' $T/loop.out) failed"
after=$(awk -v b=$back '$1 >= b + 6' $T/loop.out)
n_after=$(echo "$after" | grep -c . )
bad_after=$(echo "$after" | grep -c ' fail')
check "missed heartbeats are noticed while the broker is frozen" \
    grep -q "no heartbeat from the broker" $T/server.err $T/loop2.err
check "calls are made after the broker answers again ($n_after)" test "$n_after" -gt 10
check "every call made once the connections are back succeeds ($bad_after failed)" test "$bad_after" = 0
if [ "$bad_after" != 0 ]; then echo "$after" | grep fail | head -5 | sed 's/^/# /'; fi
tap_done
