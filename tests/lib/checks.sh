# shellcheck shell=bash
# Shared by the real-server tiers that report scenario by scenario (tests/oauth2/run.sh,
# tests/dovecot/run.sh): each scenario collects its failures in PROBLEMS with the checks below
# over the runs tests/postfix/lib.sh records in $RUNS, then concludes with "ok - NAME" or
# "not ok - NAME: reason" and the runs' output. Sourced, not run.
#
# Uses the tier's RUNS, PASSED, FAILED, FAILED_NAMES, BIN, T, and indent and setup_failed from
# tests/lib/private-postfix.sh.

PROBLEMS=
problem() { PROBLEMS+="$*"$'\n'; }
rc_is() { # rc_is RUN CODE
    local rc
    rc=$(cat "$RUNS/$1/rc" 2>/dev/null || echo none)
    [[ $rc == "$2" ]] || problem "$1: exit code $rc, expected $2"
}
says() { # says RUN stdout|stderr PATTERN (extended regexp)
    grep -Eq -- "$3" "$RUNS/$1/$2" 2>/dev/null || problem "$1: $2 does not match /$3/"
}
delivered() { # delivered RUN N [SUBJECT]
    local n
    n=$(find "$RUNS/$1/deliveries" -name '*.eml' 2>/dev/null | wc -l)
    [[ $n == "$2" ]] || problem "$1: $n deliveries, expected $2"
    if [[ -n ${3:-} ]] && ! grep -rqF "Subject: $3" "$RUNS/$1/deliveries" 2>/dev/null; then
        problem "$1: nothing delivered with Subject: $3"
    fi
}
conclude() { # conclude NAME START
    local name=$1 secs
    secs=$(awk -v a="$2" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    if [[ -z $PROBLEMS ]]; then
        echo "ok - $name (${secs} s)"
        PASSED=$((PASSED + 1))
    else
        echo "not ok - $name: $(head -n 1 <<<"$PROBLEMS")"
        tail -n +2 <<<"$PROBLEMS" | sed '/^$/d' | indent
        local dir
        for dir in $(find "$RUNS/$name" -name rc -printf '%h\n' 2>/dev/null | sort); do
            echo "#   run ${dir#"$RUNS"/}: exit $(cat "$dir/rc")"
            echo "#     command: $(cat "$dir/cmd")"
            head -c 3000 "$dir/stdout" | sed 's/^/#     out: /'
            head -c 3000 "$dir/stderr" | sed 's/^/#     err: /'
        done
        FAILED=$((FAILED + 1))
        FAILED_NAMES+=("$name")
    fi
    PROBLEMS=
}

# ensure_binary: build the binary under test when it is missing (and SMTPSEND names none).
ensure_binary() {
    [[ -x $BIN ]] && return 0
    if [[ -n ${SMTPSEND:-} ]]; then setup_failed "SMTPSEND=$SMTPSEND is not an executable file"; fi
    cargo build --quiet >"$T/cargo.log" 2>&1 || setup_failed "cargo build failed" "$T/cargo.log"
}
