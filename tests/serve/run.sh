#!/usr/bin/env bash
# The serve tier: `smtpsend serve` between real SMTP clients and a private Postfix, which
# delivers every message to the recorder; each scenario is judged by what Postfix delivered.
# The tier runs in its own network and mount namespaces (unshare --net --mount), with a second
# network namespace for a client on another address, so nothing touches the machine's network.
#
#   tests/serve/run.sh   prints "ok - NAME" / "not ok - NAME: reason" and a closing
#                        "N passed, M failed"; exits non-zero on any failure
#
# Scenarios:
#   smtplib            Python's smtplib sends one message to the relay on 127.0.0.1
#   logging-handler    a Python logging.handlers.SMTPHandler script, as an application logs
#   swaks              swaks, pipelining its commands
#   curl               curl's SMTP upload
#   kill-9             a client sends 200 messages while the relay is killed with SIGKILL at
#                      random moments and started again; every message whose 250 the client saw
#                      must be delivered (at least once; duplicates are counted)
#   open-relay         from 192.0.2.2, another address in another namespace: a relay on
#                      192.0.2.1 refuses to start without TLS and users; with them, no mail
#                      without STARTTLS and a local login, none for a domain outside
#                      relay_domains; with both, delivered
#   socket-activation  the relay started by systemd-socket-activate takes the socket it is
#                      handed (skipped when the program is missing)
#
# Needs root: it installs postfix, sasl2-bin, libsasl2-modules, openssl, iproute2, swaks, curl,
# python3 and systemd with apt-get when missing. Everything lives in a temporary directory
# removed on exit.
#
# Environment: SMTPSEND (the binary, default target/debug/smtpsend), SERVE_TEST_KEEP=1 (keep
# the temporary directory).
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)
# shellcheck source=tests/lib/private-postfix.sh disable=SC1091
source "$REPO/tests/lib/private-postfix.sh"

PACKAGES=(postfix sasl2-bin libsasl2-modules openssl iproute2 swaks curl python3 systemd)

# Packages come from the machine's network, then the tier starts again inside its namespaces.
enter_namespaces SMTPSEND_SERVE_TIER_INSIDE "--net --mount --propagation private" "$@"
tier_environment

USER_NAME=alice
REALM=smtpsend.test
T=$(mktemp -d /tmp/smtpsend-serve.XXXXXX)
chmod 755 "$T"
CONF=$T/etc SPOOL=$T/spool OUT=$T/deliveries MAILLOG=$T/maillog RUNS=$T/runs
KEEP=${SERVE_TEST_KEEP:-}
CLIENT_NS=smtpsend-client
RELAY_ADDR=192.0.2.1
CLIENT_ADDR=192.0.2.2
RELAY_PID=

stop_servers() {
    stop_job RELAY_PID
    ip netns del "$CLIENT_NS" 2>/dev/null || true
}
trap_cleanup
setup_logs() { show_log maillog "$MAILLOG" 40; }

# ---------------------------------------------------------------------------------------------
# The network, Postfix and the relay's configuration
# ---------------------------------------------------------------------------------------------
# Loopback up, and a veth pair to a second namespace: the relay side 192.0.2.1, the client
# side 192.0.2.2 (TEST-NET-1, RFC 5737), neither of them loopback.
setup_network() {
    local log=$T/network.log
    mkdir -p /run/netns
    mount -t tmpfs tmpfs /run/netns
    {
        ip link set lo up &&
        ip netns add "$CLIENT_NS" &&
        ip link add veth-relay type veth peer name veth-client netns "$CLIENT_NS" &&
        ip addr add "$RELAY_ADDR/24" dev veth-relay &&
        ip link set veth-relay up &&
        ip -n "$CLIENT_NS" addr add "$CLIENT_ADDR/24" dev veth-client &&
        ip -n "$CLIENT_NS" link set veth-client up &&
        ip -n "$CLIENT_NS" link set lo up
    } >"$log" 2>&1 || setup_failed "setting up the private network failed" "$log"
}

setup_postfix() {
    make_certificates
    make_sasldb
    SUB_PORT=$(free_port) || setup_failed "no free port"
    write_postfix_base
    write_sasl_main_cf
    write_master_cf serve
    start_postfix "$SUB_PORT"
}

# The relay's home: the account it relays through (Postfix's submission port, STARTTLS and a
# password) and a local user for the open-relay scenario, its hash made by the binary.
setup_home() {
    H=$T/home
    mkdir -p "$H/config/smtpsend" "$H/data" "$H/state" "$H/cache"
    chmod 700 "$H" "$H/data"
    printf '%s\n' "$PASSWORD" >"$T/password"
    chmod 600 "$T/password"
    # The environment every run of the binary gets: a command prefix, not a function, so that
    # the pid of a job started with it is the relay's own (env execs it).
    RELAY_ENV=(env HOME="$H" XDG_CONFIG_HOME="$H/config" XDG_DATA_HOME="$H/data"
        XDG_STATE_HOME="$H/state" XDG_CACHE_HOME="$H/cache")
    LOCAL_PASSWORD=$(openssl rand -hex 12)
    LOCAL_HASH=$(printf '%s\n' "$LOCAL_PASSWORD" | "${RELAY_ENV[@]}" "$BIN" serve --hash-password) ||
        setup_failed "serve --hash-password failed"
    cat >"$H/config/smtpsend/config.toml" <<EOF
default = "upstream"

[accounts.upstream]
server = "smtp://localhost:$SUB_PORT"
ca_file = "$CA"
user = "$USER_NAME"
password_command = "cat $T/password"
EOF
}


# start_relay LOG ARG...: `smtpsend serve ARG...` in the background, its stderr appended to
# LOG; waits up to 10 s for it to say where it listens. Sets RELAY_PID.
start_relay() {
    local log=$1 before
    shift
    before=$(grep -c "listening on" "$log" 2>/dev/null || true)
    "${RELAY_ENV[@]}" "$BIN" serve "$@" >/dev/null 2>>"$log" &
    RELAY_PID=$!
    for _ in $(seq 100); do
        (($(grep -c "listening on" "$log" 2>/dev/null || true) > ${before:-0})) && return 0
        if ! kill -0 "$RELAY_PID" 2>/dev/null; then
            ss -ltnp >>"$log" 2>&1 || true
            return 1
        fi
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------------------------------------
# Judging by what Postfix delivered
# ---------------------------------------------------------------------------------------------
PASSED=0 FAILED=0

# deliveries_of SUBJECT: how many messages with this exact Subject the recorder has.
deliveries_of() {
    grep -lx "Subject: $1" "$OUT"/*.eml 2>/dev/null | wc -l
}

# delivered_subjects: the Subject of every delivery, one a line, sorted (repeats kept).
delivered_subjects() {
    grep -h '^Subject: ' "$OUT"/*.eml 2>/dev/null | sed 's/^Subject: //' | sort
}

# delivered SUBJECT [SECONDS]: true once the recorder has a message with that Subject.
delivered() {
    for _ in $(seq $((${2:-20} * 10))); do
        (($(deliveries_of "$1") > 0)) && return 0
        sleep 0.1
    done
    return 1
}

verdict() { # verdict NAME PROBLEM [LOG]
    if [[ -z $2 ]]; then
        echo "ok - $1"
        PASSED=$((PASSED + 1))
        return
    fi
    echo "not ok - $1: $2"
    if [[ -n ${3:-} ]]; then show_log "log" "$3" 30; fi
    show_log maillog "$MAILLOG" 15
    FAILED=$((FAILED + 1))
}

# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------
scenario_real_clients() {
    local log=$RUNS/clients.log problem
    mkdir -p "$RUNS"
    RELAY_PORT=$(free_port "$SUB_PORT") || setup_failed "no free port"
    start_relay "$log" --listen "127.0.0.1:$RELAY_PORT" ||
        setup_failed "the relay did not start" "$log"
    python3 "$REPO/tests/serve/clients.py" smtplib 127.0.0.1 "$RELAY_PORT" "via smtplib" \
        >>"$log" 2>&1 || true
    problem=
    delivered "via smtplib" || problem="Postfix delivered nothing"
    verdict smtplib "$problem" "$log"

    python3 "$REPO/tests/serve/clients.py" logging 127.0.0.1 "$RELAY_PORT" "via logging" \
        >>"$log" 2>&1 || true
    problem=
    delivered "via logging" || problem="Postfix delivered nothing"
    verdict logging-handler "$problem" "$log"

    problem=
    swaks --server "127.0.0.1:$RELAY_PORT" --pipeline --from app@example.org \
        --to ops@example.net --header "Subject: via swaks" --body "from swaks" \
        >>"$log" 2>&1 || problem="swaks failed"
    [[ -n $problem ]] || delivered "via swaks" || problem="Postfix delivered nothing"
    verdict swaks "$problem" "$log"

    problem=
    printf 'From: app@example.org\r\nTo: ops@example.net\r\nSubject: via curl\r\n\r\nhi\r\n' \
        >"$T/curl.eml"
    curl -sS --url "smtp://127.0.0.1:$RELAY_PORT" --mail-from app@example.org \
        --mail-rcpt ops@example.net --upload-file "$T/curl.eml" >>"$log" 2>&1 ||
        problem="curl failed"
    [[ -n $problem ]] || delivered "via curl" || problem="Postfix delivered nothing"
    if [[ -z $problem ]] && ! grep -q "accepted id=" "$log"; then
        problem="no \"accepted\" line in the relay's log"
    fi
    verdict curl "$problem" "$log"
    stop_job RELAY_PID
}

scenario_kill_9() {
    local name=kill-9 log=$RUNS/kill-9.log accepted=$RUNS/kill-9.accepted client kills=0
    local problem='' unseen=0 dupes=0
    : >"$accepted"
    start_relay "$log" --listen "127.0.0.1:$RELAY_PORT" || setup_failed "no relay" "$log"
    python3 "$REPO/tests/serve/clients.py" many 127.0.0.1 "$RELAY_PORT" 200 "$accepted" \
        >>"$log" 2>&1 &
    client=$!
    while kill -0 "$client" 2>/dev/null; do
        sleep "0.$((RANDOM % 2))$((RANDOM % 10))"
        kill -9 "$RELAY_PID" 2>/dev/null || true
        wait "$RELAY_PID" 2>/dev/null || true
        RELAY_PID=
        kills=$((kills + 1))
        start_relay "$log" --listen "127.0.0.1:$RELAY_PORT" || setup_failed "no relay" "$log"
    done
    wait "$client" || problem="the client gave up"
    # The last relay runs on: it delivers what every killed one accepted.
    sort -u "$accepted" >"$accepted.sorted"
    for _ in $(seq 300); do
        unseen=$(comm -23 "$accepted.sorted" <(delivered_subjects | uniq) | wc -l)
        ((unseen == 0)) && break
        sleep 0.2
    done
    stop_job RELAY_PID
    dupes=$(delivered_subjects | grep '^kill-test ' | uniq -c | awk '$1 > 1 { d += $1 - 1 } END { print d + 0 }')
    if [[ -z $problem ]] && (($(wc -l <"$accepted") != 200)); then
        problem="$(wc -l <"$accepted") messages accepted, expected 200"
    elif [[ -z $problem ]] && ((unseen > 0)); then
        problem="$unseen of the messages the client saw accepted were never delivered"
    fi
    verdict "$name" "$problem" "$log"
    echo "# $kills kills; $dupes duplicate deliveries"
}

# swaks_from_client NAME ARG...: swaks from the client namespace to the relay on 192.0.2.1, its
# transcript in $RUNS/NAME.swaks; swaks' own exit code is ignored, the transcript is judged.
swaks_from_client() {
    local name=$1
    shift
    ip netns exec "$CLIENT_NS" swaks --server "$RELAY_ADDR:$OPEN_PORT" --from app@example.org \
        --header "Subject: $name" --body "$name" "$@" >"$RUNS/$name.swaks" 2>&1 || true
}

scenario_open_relay() {
    local name=open-relay log=$RUNS/open-relay.log problem='' rc=0
    OPEN_PORT=$(free_port "$SUB_PORT" "$RELAY_PORT") || setup_failed "no free port"
    "${RELAY_ENV[@]}" "$BIN" serve --listen "$RELAY_ADDR:$OPEN_PORT" >/dev/null 2>"$log" || rc=$?
    if [[ $rc != 78 ]]; then
        problem="without TLS and users the relay on $RELAY_ADDR exited $rc, expected 78"
    fi
    cat >>"$H/config/smtpsend/config.toml" <<EOF

[serve]
tls_cert = "$T/tls/server.pem"
tls_key = "$T/tls/server.key"
relay_domains = ["example.net"]

[serve.users.app]
password_hash = "$LOCAL_HASH"
EOF
    if [[ -z $problem ]]; then
        start_relay "$log" --listen "$RELAY_ADDR:$OPEN_PORT" || problem="the relay did not start"
    fi
    if [[ -z $problem ]]; then
        swaks_from_client open-plain --to ops@example.net
        swaks_from_client open-auth-no-tls --to ops@example.net -a PLAIN -au app \
            -ap "$LOCAL_PASSWORD"
        swaks_from_client open-tls-no-auth --to ops@example.net -tls
        swaks_from_client open-tls-bad-password --to ops@example.net -tls -a PLAIN -au app \
            -ap wrong
        swaks_from_client open-tls-elsewhere --to victim@elsewhere.org -tls -a PLAIN -au app \
            -ap "$LOCAL_PASSWORD"
        swaks_from_client open-tls-auth --to ops@example.net -tls -a LOGIN -au app \
            -ap "$LOCAL_PASSWORD"
        local check
        for check in "open-plain: 530 5\.7\.0" "open-auth-no-tls:did not advertise| 538 " \
            "open-tls-no-auth: 530 5\.7\.0" "open-tls-bad-password: 535 5\.7\.8" \
            "open-tls-elsewhere: 554 5\.7\.1"; do
            grep -Eq -- "${check#*:}" "$RUNS/${check%%:*}.swaks" ||
                problem+="${check%%:*}: no reply /${check#*:}/; "
        done
        delivered open-tls-auth || problem+="the logged-in message was not delivered; "
        for subject in open-plain open-auth-no-tls open-tls-no-auth open-tls-bad-password \
            open-tls-elsewhere; do
            (($(deliveries_of "$subject") == 0)) || problem+="$subject was delivered; "
        done
        grep -q "login=app" "$log" || problem+="no login=app in the log; "
        ! grep -qF "$LOCAL_PASSWORD" "$log" || problem+="the password is in the log; "
    fi
    stop_job RELAY_PID
    verdict "$name" "$problem" "$log"
}

scenario_socket_activation() {
    local name=socket-activation log=$RUNS/socket.log problem='' port
    if ! command -v systemd-socket-activate >/dev/null; then
        echo "ok - $name # SKIP no systemd-socket-activate"
        PASSED=$((PASSED + 1))
        return
    fi
    port=$(free_port "$SUB_PORT" "$RELAY_PORT" "$OPEN_PORT") || setup_failed "no free port"
    # It passes the program no environment but what -E names.
    systemd-socket-activate -l "127.0.0.1:$port" -E HOME="$H" -E XDG_CONFIG_HOME="$H/config" \
        -E XDG_DATA_HOME="$H/data" -E XDG_STATE_HOME="$H/state" -E XDG_CACHE_HOME="$H/cache" \
        "$BIN" serve >/dev/null 2>"$log" &
    RELAY_PID=$!
    for _ in $(seq 100); do port_in_use "$port" && break; sleep 0.1; done
    swaks --server "127.0.0.1:$port" --from app@example.org --to ops@example.net \
        --header "Subject: via socket activation" --body "hi" >>"$log" 2>&1 ||
        problem="swaks failed"
    [[ -n $problem ]] || delivered "via socket activation" || problem="Postfix delivered nothing"
    if [[ -z $problem ]] && ! grep -q "listening on 127.0.0.1:$port" "$log"; then
        problem="the relay did not say it listens on the socket it was handed"
    fi
    stop_job RELAY_PID
    verdict "$name" "$problem" "$log"
}

[[ -x $BIN ]] || setup_failed "no binary at $BIN (cargo build first)"
mkdir -p "$RUNS"
setup_network
setup_postfix
setup_home
scenario_real_clients
scenario_kill_9
scenario_open_relay
scenario_socket_activation
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
