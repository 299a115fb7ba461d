#!/bin/sh
# test-daemons.sh: each daemon answers --help/--version, starts with the
# sample config, logs its start-up with secrets masked, exits 0 on SIGTERM,
# and refuses a bad config value naming file, section and key.
. "$TERN_SRCDIR/tests/tap.sh"
B=$TERN_BUILDDIR
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
cp "$TERN_SRCDIR/etc/tern/tern.conf.sample" "$W/sample.conf"
cat > "$W/secret.conf" <<CONF
[DEFAULT]
transport_url = rabbit://nova:Sekrit-Word-77@127.0.0.1:1/
host = test-host
[database]
connection = postgresql://tern:Db-Word-88@127.0.0.1:1/tern
CONF
chmod 600 "$W/secret.conf"
printf '[DEFAULT]\nrpc_response_timeout = soon\n' > "$W/bad.conf"

for d in tern-compute tern-scheduler tern-conductor tern-manage; do
    check "$d --help" sh -c "'$B/$d' --help | grep -q -- --config-file"
    check "$d --version" sh -c "'$B/$d' --version | grep -q '^$d [0-9]'"
done

for d in tern-compute tern-scheduler tern-conductor; do
    # With no reachable services the daemon may refuse to start or keep
    # retrying; what is pinned here is the config and logging contract.
    "$B/$d" --config-file "$W/sample.conf" --config-file "$W/secret.conf" --debug \
        > "$W/$d.out" 2> "$W/$d.err" &
    pid=$!
    i=0; while [ $i -lt 50 ] && ! grep -q "starting on host test-host" "$W/$d.err"; do
        sleep 0.1; i=$((i + 1)); done
    check "$d logs its start-up" grep -q "$d .* starting on host test-host" "$W/$d.err"
    check "$d masks the transport password" sh -c "! grep -q Sekrit-Word-77 '$W/$d.err'"
    check "$d masks the database password" sh -c "! grep -q Db-Word-88 '$W/$d.err'"
    check "$d shows the URL with the password masked" grep -q "rabbit://nova:\*\*\*\*@127.0.0.1:1/" "$W/$d.err"
    if kill -0 $pid 2>/dev/null; then
        kill -TERM $pid; wait $pid; rc=$?
        check "$d exits 0 on SIGTERM (rc=$rc)" [ "$rc" = 0 ]
    else
        wait $pid; rc=$?
        check "$d stopped by itself with a reason (rc=$rc)" sh -c "[ $rc != 0 ] && grep -q ERROR '$W/$d.err'"
    fi
    "$B/$d" --config-file "$W/bad.conf" > /dev/null 2> "$W/$d.bad"; rc=$?
    check "$d refuses a bad value (rc=$rc)" [ "$rc" != 0 ]
    check "$d names file, section and key" grep -q "$W/bad.conf: \[DEFAULT\] rpc_response_timeout = \"soon\": must be an integer" "$W/$d.bad"
    "$B/$d" --config-dir "$W/none" > /dev/null 2>&1; rc=$?
    check "$d refuses a missing --config-dir" [ "$rc" != 0 ]
done
tap_done
