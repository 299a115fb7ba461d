# tap.sh: sourced by shell tests to print TAP. ok/not_ok/skip count cases;
# tap_done prints the plan and sets the exit status.
TAP_N=0
TAP_FAILED=0
ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP $*"; }
check() { # check "description" command...
    _tap_what=$1; shift
    if "$@"; then ok "$_tap_what"; else not_ok "$_tap_what"; fi
}
diag() { echo "# $*"; }
tap_done() { echo "1..$TAP_N"; [ "$TAP_FAILED" = 0 ]; }
