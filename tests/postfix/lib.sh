# shellcheck shell=bash
# Shared by tests/postfix/run.sh and the scripts it runs (keyring.sh, inside a D-Bus session):
# running smtpsend and recording what it did and what Postfix delivered. Sourced, not run.
#
# Uses the tier's variables: BIN, T, RUNS, FILES, OUT, SPOOL, CONF, MAILLOG, PASSWORD,
# CLIENT_TIMEOUT, DELIVERY_TIMEOUT.

queue_files() {
    find "$SPOOL/incoming" "$SPOOL/active" "$SPOOL/deferred" "$SPOOL/hold" "$SPOOL/maildrop" \
        -type f 2>/dev/null
}

# Wait until Postfix's queue is empty: a message the client saw accepted (250 after DATA) is
# in the queue by the time the client exits, and leaves it only once the recorder has written
# every delivery. So an empty queue means every delivery there will be is on disk.
wait_for_queue() {
    local i
    for ((i = 0; i < DELIVERY_TIMEOUT * 10; i++)); do
        [[ -z $(queue_files) ]] && return 0
        sleep 0.1
    done
    return 1
}

# run_client NAME [VAR=VALUE]... -- ARGS...   (stdin: whatever the caller redirects in)
# Runs the binary under test with ARGS: run_program with $BIN as the program.
run_client() {
    local name=$1
    shift
    local vars=()
    while [[ $1 != -- ]]; do vars+=("$1"); shift; done
    shift
    run_program "$name" "${vars[@]}" -- "$BIN" "$@"
}

# run_program NAME [VAR=VALUE]... -- PROGRAM ARGS...   (stdin: whatever the caller redirects in)
# Runs PROGRAM (smtpsend, or a real caller of it such as git send-email) in $FILES under the
# client timeout, with only the given SMTPSEND_* variables (and any other VAR=VALUE given), and
# records $RUNS/NAME/{stdout,stderr,rc,cmd,time} and what Postfix delivered meanwhile, in
# $RUNS/NAME/deliveries. NAME may be SCENARIO/STEP.
# No D-Bus session bus unless DBUS_SESSION_BUS_ADDRESS is given, and an empty XDG_RUNTIME_DIR,
# so the developer's own keyring is never reached (D-Bus clients fall back to
# $XDG_RUNTIME_DIR/bus, then /run/user/UID/bus, when DBUS_SESSION_BUS_ADDRESS is unset).
run_program() {
    local dir=$RUNS/$1 rc=0 start
    shift
    local vars=()
    while [[ $1 != -- ]]; do vars+=("$1"); shift; done
    shift
    mkdir -p "$dir" "$T/xdg/runtime"
    chmod 700 "$T/xdg/runtime"
    # The command as run, for failure reports; the password is shown by name, not value.
    printf '%q ' "${vars[@]}" "$@" | sed "s/$PASSWORD/<password>/g" >"$dir/cmd"
    start=$EPOCHREALTIME
    (
        cd "$FILES"
        export XDG_CONFIG_HOME=$T/xdg/config XDG_DATA_HOME=$T/xdg/data \
            XDG_STATE_HOME=$T/xdg/state XDG_CACHE_HOME=$T/xdg/cache \
            XDG_RUNTIME_DIR=$T/xdg/runtime
        unset DBUS_SESSION_BUS_ADDRESS
        exec env "${vars[@]}" timeout -k 5 "$CLIENT_TIMEOUT" "$@"
    ) >"$dir/stdout" 2>"$dir/stderr" || rc=$?
    echo "$start $EPOCHREALTIME" >"$dir/time"
    echo "$rc" >"$dir/rc"
    # Collect what Postfix delivered for this run.
    mkdir -p "$dir/deliveries"
    if ! wait_for_queue; then
        # Say why (the last log line of each stuck message), then empty the queue so the
        # next scenarios start clean.
        local qid
        for qid in $(queue_files | xargs -r -n1 basename | sort -u); do
            grep -F " $qid: " "$MAILLOG" | tail -n 1 || echo "$qid: (nothing logged)"
        done >"$dir/queue-stuck"
        postsuper -c "$CONF" -d ALL >/dev/null 2>&1 || true
    fi
    find "$OUT" -maxdepth 1 -type f \( -name '*.eml' -o -name '*.env' \) \
        -exec mv -t "$dir/deliveries" {} +
}
