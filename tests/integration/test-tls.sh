#!/bin/bash
# test-tls.sh: tern's connections over TLS to the private RabbitMQ and
# PostgreSQL of `scripts/services start rabbitmq-tls postgresql-tls` (their
# test CA, a client certificate, and an unrelated CA with its own client
# certificate).
#   AMQP ([oslo_messaging_rabbit] ssl, ssl_ca_file, ssl_cert_file,
#   ssl_key_file; rpc-peer uses rpc/'s transport): a call/reply with the CA
#   trusted, with a client certificate the broker sees, refusals of a broker
#   certificate from another CA, of an address the certificate does not
#   name, and of a client certificate from another CA — each with an error
#   that says why and masks the password.
#   PostgreSQL ([database] connection with sslmode=verify-full; tern-manage
#   opens it through tern_db_open): the right CA connects over TLS, another
#   CA and a host name the certificate does not name are refused, and so is
#   a connection without TLS.
. "$TERN_SRCDIR/tests/tap.sh"
if [ -z "${TERN_TEST_TRANSPORT_URL_TLS:-}${TERN_TEST_DB_URL_TLS:-}" ]; then
    echo "1..0 # SKIP TERN_TEST_TRANSPORT_URL_TLS / TERN_TEST_DB_URL_TLS are not set (scripts/services start rabbitmq-tls postgresql-tls)"
    exit 0
fi
PEER=$TERN_BUILDDIR/tests/compat/rpc-peer
MANAGE=$TERN_BUILDDIR/tern-manage
T=$(mktemp -d /tmp/tern-tls-test.XXXXXX)
srv=
cleanup() {
    exec 3>&-
    [ -n "$srv" ] && { kill $srv 2>/dev/null; wait $srv 2>/dev/null; }
    rm -rf "$T"
}
trap cleanup EXIT

# rabbit_conf FILE CA [CERT KEY]
rabbit_conf() {
    {
        printf '[oslo_messaging_rabbit]\nssl = true\nssl_ca_file = %s\n' "$2"
        [ -n "${3:-}" ] && printf 'ssl_cert_file = %s\nssl_key_file = %s\n' "$3" "$4"
    } > "$1"
}
# peer_call CONF URL: one echo call through rpc-peer (5 s timeout)
peer_call() { TERN_RPC_PEER_CONF=$1 timeout 60 "$PEER" call "$2" tls "$(hostname)-tls" echo '{"over": "tls"}' 5 3>&-; }

if [ -n "${TERN_TEST_TRANSPORT_URL_TLS:-}" ]; then
    port=${TERN_TEST_TRANSPORT_URL_TLS##*:}; port=${port%/}
    url="rabbit://guest:guest@127.0.0.1:$port/"
    rabbit_conf $T/ca.conf "$TERN_TEST_TLS_CA"
    rabbit_conf $T/client.conf "$TERN_TEST_TLS_CA" "$TERN_TEST_TLS_CLIENT_CERT" "$TERN_TEST_TLS_CLIENT_KEY"
    rabbit_conf $T/other-ca.conf "$TERN_TEST_TLS_OTHER_CA"
    rabbit_conf $T/other-client.conf "$TERN_TEST_TLS_CA" "$TERN_TEST_TLS_OTHER_CLIENT_CERT" "$TERN_TEST_TLS_OTHER_CLIENT_KEY"

    # the server presents the client certificate; the caller only trusts the CA
    mkfifo $T/stdin
    exec 3<>$T/stdin
    TERN_RPC_PEER_CONF=$T/client.conf "$PEER" serve "$url" tls "$(hostname)-tls" < $T/stdin > $T/server.out 2> $T/server.err 3>&- &
    srv=$!
    for _ in $(seq 150); do grep -q . $T/server.out && break; sleep 0.1; done
    check "a server connects over TLS with a client certificate (127.0.0.1, IP subjectAltName)" grep -q READY $T/server.out
    out=$(peer_call $T/ca.conf "$url")
    check "a call/reply over TLS with the CA verified returns its result" grep -q '"over":"tls"' <<< "$out"
    out=$(peer_call $T/ca.conf "rabbits://guest:guest@localhost:$port/")
    check "rabbits:// and a DNS name (localhost) work too" grep -q '"over":"tls"' <<< "$out"
    if [ -n "${TERN_TEST_RABBITMQ_NODE:-}" ]; then
        subjects=$(HOME=$TERN_TEST_RABBITMQ_HOME /usr/lib/rabbitmq/bin/rabbitmqctl -q -n "$TERN_TEST_RABBITMQ_NODE" \
                   list_connections ssl peer_cert_subject 2>&1)
        diag "broker's view: $(tr '\n\t' '; ' <<< "$subjects")"
        check "the broker saw the server's client certificate (CN=tern-client) over TLS" grep -q 'true.*CN=tern-client' <<< "$subjects"
    fi

    out=$(peer_call $T/other-ca.conf "$url")
    diag "$out"
    check "a broker certificate from another CA is refused" grep -q '"code":1,.*SSL peer cert verification failed' <<< "$out"
    check "... and the error says which option to look at" grep -q 'ssl_ca_file' <<< "$out"
    check "... and masks the password" grep -q 'guest:\*\*\*\*@' <<< "$out"
    out=$(peer_call $T/ca.conf "rabbit://guest:guest@127.0.0.2:$port/")
    diag "$out"
    check "an IP address the certificate does not name (127.0.0.2) is refused" \
        grep -q '"code":1,.*does not name this IP address' <<< "$out"
    out=$(peer_call $T/other-client.conf "$url")
    diag "$out"
    check "a client certificate from another CA is refused by the broker" grep -q '"code":1,.*TLS' <<< "$out"
    out=$(TERN_RPC_PEER_CONF=$T/ca.conf timeout 60 "$PEER" call "rabbit://guest:guest@127.0.0.1:${TERN_TEST_TRANSPORT_URL##*:}" tls x echo '{}' 5 3>&-)
    diag "$out"
    check "TLS against a plain AMQP port fails instead of falling back to clear text" grep -q '"code":1,.*TLS' <<< "$out"
    exec 3>&-
    wait $srv 2>/dev/null; srv=
else
    skip "TERN_TEST_TRANSPORT_URL_TLS is not set: AMQP over TLS not tried"
fi

if [ -n "${TERN_TEST_DB_URL_TLS:-}" ]; then
    # db_conf FILE URL
    db_conf() { printf '[database]\nconnection = %s\nmax_retries = 0\n' "$2" > "$1"; chmod 600 "$1"; }
    pw=$(sed -n 's|^postgresql://[^:]*:\([^@]*\)@.*|\1|p' <<< "$TERN_TEST_DB_URL_TLS")
    db_conf $T/db-good.conf "$TERN_TEST_DB_URL_TLS"
    out=$("$MANAGE" --config-file $T/db-good.conf db version 2>&1); rc=$?
    check "sslmode=verify-full with the right CA connects (tern-manage db version)" test $rc = 0
    check "... over TLS (pg_stat_ssl)" sh -c "psql '$TERN_TEST_DB_URL_TLS' -tAc 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()' | grep -qx t"
    db_conf $T/db-other.conf "${TERN_TEST_DB_URL_TLS/%sslrootcert=*/sslrootcert=$TERN_TEST_TLS_OTHER_CA}"
    out=$("$MANAGE" --config-file $T/db-other.conf db version 2>&1); rc=$?
    diag "$out"
    check "a server certificate from another CA is refused" test $rc != 0
    check "... with the reason (certificate verify failed)" grep -q 'certificate verify failed' <<< "$out"
    check "... and the password masked" bash -c '! grep -qF "$1" <<< "$2"' _ "$pw" "$out"
    # right address, wrong name: libpq checks host against the certificate, connects to hostaddr
    bad=$(sed 's|@127\.0\.0\.1:|@db.tern-mismatch.invalid:|; s|?|?hostaddr=127.0.0.1\&|' <<< "$TERN_TEST_DB_URL_TLS")
    db_conf $T/db-name.conf "$bad"
    out=$("$MANAGE" --config-file $T/db-name.conf db version 2>&1); rc=$?
    diag "$out"
    check "a host name the server certificate does not name is refused" test $rc != 0
    check "... with the reason (does not match host name)" grep -q 'does not match host name' <<< "$out"
    check "... and the password masked" bash -c '! grep -qF "$1" <<< "$2"' _ "$pw" "$out"
    db_conf $T/db-plain.conf "${TERN_TEST_DB_URL_TLS%%\?*}?sslmode=disable"
    out=$("$MANAGE" --config-file $T/db-plain.conf db version 2>&1); rc=$?
    diag "$out"
    check "a connection without TLS is refused by the TLS-only server (hostssl)" \
        bash -c '[ $1 != 0 ] && grep -q "no encryption" <<< "$2"' _ $rc "$out"
else
    skip "TERN_TEST_DB_URL_TLS is not set: PostgreSQL verify-full not tried"
fi
tap_done
