# lib.sh: shell helpers shared by tern's scripts (sourced, not run).

# free_port: print a TCP port nobody listens on, starting at a random base so
# that several runs on one machine do not collide.
free_port() {
    _p=$(( 20000 + ($$ * 7 + $(date +%N | sed 's/^0*//;s/^$/0/') / 1000) % 30000 ))
    while ss -Hltn "sport = :$_p" 2>/dev/null | grep -q . || [ -n "$(grep -lx "$_p" "${TERN_PORTS_TAKEN:-/dev/null}" 2>/dev/null)" ]; do
        _p=$((_p + 1))
    done
    echo "$_p"
}

# wait_for SECONDS DESCRIPTION COMMAND...: retry COMMAND every 0.2 s.
wait_for() {
    _secs=$1; _what=$2; shift 2
    _n=$((_secs * 5))
    while [ "$_n" -gt 0 ]; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2; _n=$((_n - 1))
    done
    echo "timed out after ${_secs}s waiting for $_what" >&2
    return 1
}

# port_open PORT: is something listening on 127.0.0.1:PORT?
port_open() {
    ss -Hltn "sport = :$1" | grep -q .
}

die() { echo "$*" >&2; exit 1; }
