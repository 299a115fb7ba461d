#!/bin/bash
# test-bad-config.sh: bad config files given to the real daemons
# (tern-scheduler, tern-conductor, tern-compute). A file that cannot be
# used stops the daemon at start with exit code 1 and a message naming the
# file, and the section and key (or line) at fault; a file that can be
# used but is doubtful (unknown section or key, a secret in a file every
# user can read) gives a warning naming them, and the daemon starts.
. "$TERN_SRCDIR/tests/tap.sh"
B=$TERN_BUILDDIR
DAEMONS="tern-scheduler tern-conductor tern-compute"
T=$(mktemp -d /tmp/tern-bad-config.XXXXXX)
chmod 755 $T
pids=
cleanup() {
    for p in $pids; do kill $p 2>/dev/null; done
    chmod -R u+rwx $T 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

# conf NAME TEXT (printf format): a 0600 config file
conf() { printf "$2" > $T/$1.conf; chmod 600 $T/$1.conf; }

# refused DESC FILE PATTERN...: every daemon exits 1 at start, stderr matches every PATTERN
refused() {
    local desc=$1 file=$2; shift 2
    local d out rc bad=
    for d in $DAEMONS; do
        out=$(timeout 30 $B/$d --config-file "$file" < /dev/null 2>&1); rc=$?
        if [ $rc != 1 ]; then bad="$d exited $rc"; break; fi
        for p in "$@"; do
            grep -qF -- "$p" <<< "$out" || { bad="$d: no '$p' in: $(head -c 400 <<< "$out")"; break 2; }
        done
        if [ $(wc -c <<< "$out") -gt 4096 ]; then bad="$d: $(wc -c <<< "$out") bytes of messages"; break; fi
    done
    if [ -z "$bad" ]; then ok "$desc (exit 1: $(grep -m1 'configuration error' <<< "$out" | head -c 300))"
    else not_ok "$desc"; diag "$bad"; fi
}

# accepted DESC FILE PATTERN...: every daemon gets past its configuration
# (logs "starting") and its messages match every PATTERN; then it is stopped
accepted() {
    local desc=$1 file=$2; shift 2
    local d bad= pid
    for d in $DAEMONS; do
        $B/$d --config-file "$file" < /dev/null > $T/out 2>&1 &
        pid=$!; pids="$pids $pid"
        for _ in $(seq 100); do
            grep -q ' starting on host' $T/out && break
            kill -0 $pid 2>/dev/null || break
            sleep 0.1
        done
        kill $pid 2>/dev/null; wait $pid 2>/dev/null
        if ! grep -q ' starting on host' $T/out || grep -q 'configuration error' $T/out; then
            bad="$d did not start: $(head -c 400 $T/out)"; break
        fi
        for p in "$@"; do
            grep -qF -- "$p" $T/out || { bad="$d: no '$p' in: $(head -c 400 $T/out)"; break 2; }
        done
        if [ $(wc -c < $T/out) -gt 8192 ]; then bad="$d: $(wc -c < $T/out) bytes of messages"; break; fi
    done
    if [ -z "$bad" ]; then ok "$desc"; else not_ok "$desc"; diag "$bad"; fi
}

for d in $DAEMONS; do
    if [ ! -x $B/$d ]; then echo "1..0 # SKIP $d is not built"; exit 0; fi
done

# --- values of the wrong type or out of range ------------------------------
conf int '[database]\nmax_retries = many\n'
refused "an integer option given a word" $T/int.conf "$T/int.conf" "[database] max_retries" "must be an integer"
conf range '[database]\nmax_retries = -5\n'
refused "an integer out of its range" $T/range.conf "$T/range.conf" "[database] max_retries" "between -1 and"
conf empty '[database]\nmax_retries =\n'
refused "an integer option left empty" $T/empty.conf "$T/empty.conf" "[database] max_retries" "must be an integer"
conf bool '[oslo_messaging_rabbit]\nssl = maybe\n'
refused "a boolean option given 'maybe'" $T/bool.conf "$T/bool.conf" "[oslo_messaging_rabbit] ssl" "must be a boolean"
conf enum '[libvirt]\ncpu_mode = fastest\n'
refused "a choice option given something not on its list" $T/enum.conf "$T/enum.conf" "[libvirt] cpu_mode" "must be one of"
conf secret '[database]\nconnection = postgresql://tern:s3cr3t-pw@db/tern\nmax_retries = x\n'
refused "an error in a file with a password does not show the password" $T/secret.conf "$T/secret.conf" "[database] max_retries"
out=$(timeout 30 $B/tern-compute --config-file $T/secret.conf 2>&1)
check "... (the password is nowhere in the messages)" bash -c '! grep -q s3cr3t-pw <<< "$1"' _ "$out"

# --- syntax -----------------------------------------------------------------
conf syntax '[DEFAULT]\ndebug = false\njust some words\n'
refused "a line that is neither section, key = value nor comment" $T/syntax.conf "$T/syntax.conf: line 3:" "just some words"
conf nosection 'debug = true\n'
refused "keys before any [section]" $T/nosection.conf "$T/nosection.conf: line 1:" "does not start with a group"
conf badgroup "[DEFAULT]\ndebug = false\n[database\n"
refused "an unclosed [section" $T/badgroup.conf "$T/badgroup.conf: line 3:" "[database"

# --- bytes that are not text ------------------------------------------------
conf utf8 '[DEFAULT]\ndebug = false\nhost = caf\xe9\n'
refused "a Latin-1 byte (not UTF-8)" $T/utf8.conf "$T/utf8.conf" "line 3 is not valid UTF-8" "byte 0xe9"
conf overlong '[DEFAULT]\nhost = \xc0\xaf\n'
refused "an overlong UTF-8 sequence" $T/overlong.conf "$T/overlong.conf" "line 2 is not valid UTF-8"
conf nul '[DEFAULT]\ndebug = false\n\0[database]\nmax_retries = x\n'
refused "a NUL byte (would hide the rest of the file)" $T/nul.conf "$T/nul.conf" "line 3 contains a NUL byte"

# --- very long lines (1 MiB) -------------------------------------------------
long=$(head -c 1048576 /dev/zero | tr '\0' x)
conf longvalue "[database]\nmax_retries = 1$long\n"
refused "a 1 MiB value of the wrong type (message stays short)" $T/longvalue.conf "$T/longvalue.conf" "[database] max_retries" "bytes in all" "must be an integer"
conf longline "[DEFAULT]\n$long\n"
refused "a 1 MiB line that is not key = value (message stays short)" $T/longline.conf "$T/longline.conf" "bytes in all"
conf longkey "[DEFAULT]\nk$long = 1\n"
accepted "a 1 MiB unknown key: a short warning, the daemon starts" $T/longkey.conf "$T/longkey.conf: [DEFAULT] kxxx" "bytes in all" "unknown option, ignored"
unset long

# --- unknown sections and keys ----------------------------------------------
conf unknown '[DEFAULT]\ndebug = false\nno_such_option = 1\n[no_such_section]\na = b\n'
accepted "an unknown key and an unknown section: warnings naming them, the daemon starts" $T/unknown.conf \
    "$T/unknown.conf: [DEFAULT] no_such_option: unknown option" "$T/unknown.conf: unknown section [no_such_section]"

# --- permissions --------------------------------------------------------------
conf world '[database]\nconnection = postgresql://tern:w0rld-pw@db/tern\n'
chmod 644 $T/world.conf
accepted "a world-readable file holding a password: a warning naming file and key" $T/world.conf \
    "$T/world.conf: readable by every user but holds the secret [database] connection" "chmod o-r"
check "... (and the warning does not show the password)" bash -c '! grep -q w0rld-pw '$T/out
conf private '[database]\nconnection = postgresql://tern:pw@db/tern\n'
accepted "the same file with mode 0600: no warning" $T/private.conf "starting on host"
check "... (no permission warning)" bash -c '! grep -q "readable by every user" '$T/out
conf plain '[DEFAULT]\ndebug = false\n'
chmod 644 $T/plain.conf
accepted "a world-readable file without secrets: no warning" $T/plain.conf "starting on host"
check "... (no permission warning)" bash -c '! grep -q "readable by every user" '$T/out

# --- files that are not files ------------------------------------------------
mkdir $T/dir.conf
refused "a directory given as --config-file" $T/dir.conf "cannot read config file $T/dir.conf" "Is a directory"
refused "a file that does not exist" $T/missing.conf "cannot read config file $T/missing.conf" "No such file"
conf unreadable '[DEFAULT]\ndebug = false\n'
chmod 000 $T/unreadable.conf
if [ "$(id -u)" = 0 ]; then
    # root reads any file: run the daemons as nobody for this case
    if setpriv --reuid=65534 --regid=65534 --clear-groups test -x $B/tern-compute 2>/dev/null; then
        bad=
        for d in $DAEMONS; do
            out=$(timeout 30 setpriv --reuid=65534 --regid=65534 --clear-groups $B/$d --config-file $T/unreadable.conf 2>&1); rc=$?
            [ $rc = 1 ] && grep -q "cannot read config file $T/unreadable.conf.*Permission denied" <<< "$out" || { bad="$d exited $rc: $out"; break; }
        done
        if [ -z "$bad" ]; then ok "an unreadable file (run as nobody): exit 1, permission denied"; else not_ok "an unreadable file"; diag "$bad"; fi
    else
        skip "the build folder is not reachable by nobody: unreadable file not tried"
    fi
else
    refused "an unreadable file" $T/unreadable.conf "cannot read config file $T/unreadable.conf" "Permission denied"
fi

# --- a bad file in --config-dir ------------------------------------------------
mkdir $T/confdir
printf '[DEFAULT]\ndebug = false\n' > $T/confdir/10-good.conf
printf '[database]\nmax_retries = lots\n' > $T/confdir/20-bad.conf
chmod 600 $T/confdir/*.conf
out=$(timeout 30 $B/tern-conductor --config-dir $T/confdir 2>&1); rc=$?
check "a bad file in --config-dir: exit 1 naming that file and key" \
    bash -c '[ $1 = 1 ] && grep -qF "$2: [database] max_retries" <<< "$3"' _ $rc "$T/confdir/20-bad.conf" "$out"
tap_done
