#!/bin/bash
# test-rpc-tls.sh: tern's RPC over TLS ([oslo_messaging_rabbit] ssl,
# ssl_ca_file) against a RabbitMQ of its own with a TLS listener and a
# certificate from a throw-away CA: a call succeeds when the CA is trusted,
# and the connection is refused when the broker's certificate is signed by
# another CA or does not name the host connected to.
. "$TERN_SRCDIR/tests/tap.sh"
if [ -z "${TERN_TEST_TRANSPORT_URL:-}" ]; then
    echo "1..0 # SKIP TERN_TEST_TRANSPORT_URL is not set (scripts/services start rabbitmq)"
    exit 0
fi
if ! command -v openssl > /dev/null; then
    echo "1..0 # SKIP openssl is not installed"; exit 0
fi
. "$TERN_SRCDIR/scripts/lib.sh"
PEER=$TERN_BUILDDIR/tests/compat/rpc-peer
T=$(mktemp -d /tmp/tern-tls.XXXXXX)
chmod 755 $T
export TERN_SERVICES_DIR=$T/services
srv=
cleanup() {
    exec 3>&-
    [ -n "$srv" ] && wait $srv
    "$TERN_SRCDIR/scripts/services" stop rabbitmq > /dev/null 2>&1 3>&-
    rm -rf "$T"
}
trap cleanup EXIT

# a CA, a broker certificate for localhost/127.0.0.1, and an unrelated CA
ssl() { openssl "$@" > /dev/null 2>&1; }
ssl req -x509 -newkey rsa:2048 -nodes -keyout $T/ca.key -out $T/ca.pem -days 2 -subj "/CN=tern test CA"
ssl req -x509 -newkey rsa:2048 -nodes -keyout $T/other.key -out $T/other.pem -days 2 -subj "/CN=other CA"
ssl req -newkey rsa:2048 -nodes -keyout $T/server.key -out $T/server.csr -subj "/CN=localhost"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > $T/ext
ssl x509 -req -in $T/server.csr -CA $T/ca.pem -CAkey $T/ca.key -CAcreateserial -out $T/server.pem \
    -days 2 -extfile $T/ext
chmod 644 $T/*.key
check "test certificates made" test -s $T/server.pem

port=$(free_port)
mkdir -p $TERN_SERVICES_DIR/rabbitmq
cat > $TERN_SERVICES_DIR/rabbitmq/rabbitmq.conf <<CONF
listeners.ssl.default = $port
ssl_options.cacertfile = $T/ca.pem
ssl_options.certfile = $T/server.pem
ssl_options.keyfile = $T/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
CONF
if ! "$TERN_SRCDIR/scripts/services" start rabbitmq > $T/start.log 2>&1; then
    not_ok "private RabbitMQ with a TLS listener starts"; sed 's/^/# /' $T/start.log | tail -5
    tap_done; exit
fi
ok "private RabbitMQ with a TLS listener on port $port"
wait_for 20 "TLS port" sh -c "ss -Hltn 'sport = :$port' | grep -q ." || true

printf '[oslo_messaging_rabbit]\nssl = true\nssl_ca_file = %s\n' $T/ca.pem > $T/good.conf
printf '[oslo_messaging_rabbit]\nssl = true\nssl_ca_file = %s\n' $T/other.pem > $T/bad.conf
URL="rabbit://guest:guest@localhost:$port/"

mkfifo $T/stdin
exec 3<>$T/stdin
TERN_RPC_PEER_CONF=$T/good.conf $PEER serve "$URL" compute host1 < $T/stdin > $T/server.out 2> $T/server.err 3>&- &
srv=$!
for _ in $(seq 100); do grep -q . $T/server.out && break; sleep 0.1; done
check "C server connects over TLS with the CA trusted" grep -q READY $T/server.out
out=$(TERN_RPC_PEER_CONF=$T/good.conf $PEER call "$URL" compute host1 echo '{"over": "tls"}' 3>&-)
check "a call over TLS returns its result" grep -q '"over":"tls"' <<< "$out"

out=$(TERN_RPC_PEER_CONF=$T/bad.conf $PEER call "$URL" compute host1 echo '{}' 3>&-)
diag "$out"
check "a broker certificate from another CA is refused" grep -q '"code":1,' <<< "$out"
out=$(TERN_RPC_PEER_CONF=$T/good.conf $PEER call "rabbit://guest:guest@127.0.0.2:$port/" compute host1 echo '{}' 3>&-)
diag "$out"
check "a certificate that does not name the host is refused" grep -q '"code":1,' <<< "$out"
out=$(TERN_RPC_PEER_CONF=$T/good.conf $PEER call "rabbits://guest:guest@localhost:$port/" compute host1 echo '{"s": 1}' 3>&-)
check "rabbits:// selects TLS too" grep -q '"s":1' <<< "$out"
tap_done
