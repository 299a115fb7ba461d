#!/bin/bash
# run-fuzz.sh: build tests/fuzz/fuzz-rpc.c with clang's libFuzzer (plus
# ASan+UBSan) and run it briefly (TERN_FUZZ_SECONDS, default 20) from the
# seed corpus tests/fuzz/corpus/rpc (captured peer traffic and bad inputs).
# New inputs go to a scratch folder; a crash fails the test and leaves its
# reproducer in the build folder (tests/fuzz/crash-*).
. "$TERN_SRCDIR/tests/tap.sh"
CLANG=$(command -v clang || true)
if [ -z "$CLANG" ]; then
    echo "1..0 # SKIP clang is not installed (scripts/install-deps installs it)"
    exit 0
fi
B=$TERN_BUILDDIR/tests/fuzz
mkdir -p $B
S=$TERN_SRCDIR
srcs="$S/tests/fuzz/fuzz-rpc.c $S/rpc/envelope.c $S/rpc/error.c $S/rpc/object.c $(ls $S/rpc/objects/*.c)"
if ! $CLANG -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -I$S -I$TERN_BUILDDIR $(pkg-config --cflags glib-2.0 jansson librabbitmq) $srcs \
        -o $B/fuzz-rpc $(pkg-config --libs glib-2.0 jansson) > $B/build.log 2>&1; then
    not_ok "fuzz-rpc builds with clang -fsanitize=fuzzer"
    sed 's/^/# /' $B/build.log | head -20
    tap_done; exit
fi
ok "fuzz-rpc builds with clang -fsanitize=fuzzer"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
secs=${TERN_FUZZ_SECONDS:-20}
if (cd $B && ASAN_OPTIONS=detect_leaks=1 ./fuzz-rpc -max_total_time=$secs -max_len=65536 \
        -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
        "$work" "$S/tests/fuzz/corpus/rpc" > $B/fuzz.log 2>&1); then
    ok "fuzz-rpc ran $secs s without a crash ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' $B/fuzz.log | grep -o '[0-9]*$') runs)"
else
    not_ok "fuzz-rpc found a crash (see $B/fuzz.log)"
    grep -A15 'ERROR\|==ERROR\|SUMMARY' $B/fuzz.log | head -30 | sed 's/^/# /'
fi
tap_done
