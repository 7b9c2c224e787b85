#!/usr/bin/env bash
# The network tier: how smtpsend reaches a real server when the network is not simple. A
# private Postfix delivers to the recorder; the tier runs in its own network and mount
# namespaces (unshare --net --mount), so it can give a name addresses in /etc/hosts and send
# an IPv6 prefix into a black hole without touching the machine's own network or files.
#
#   tests/network/run.sh   prints "ok - NAME" / "not ok - NAME: reason" and a closing
#                          "N passed, M failed"; exits non-zero on any failure
#
# Scenarios:
#   happy-eyeballs   mail.he.test is 2001:db8:dead::1 (a route into a tun device nobody reads:
#                    SYNs vanish) and 127.0.0.1; the send tries IPv6 first, IPv4 250 ms later,
#                    and is delivered well within 1 s plus that delay
#   ipv4-only        -4 never tries the IPv6 address
#   ipv6-only        -6 tries only the black-holed address: exit 75 after --timeout
#   socks5h          through a real SOCKS5 server (Dante) that alone can resolve
#                    mail.proxied.test (its own /etc/hosts, in a mount namespace of its own):
#                    delivered, EHLO localhost, while the same send without --proxy cannot
#                    even resolve the name
#   socks5           the name resolved by smtpsend, the address handed to Dante: delivered
#   socks5-refused   Dante's rules forbid the port: exit 69 saying so; a closed port behind
#                    the proxy: exit 75
#   socks5-queued    a message queued while the server is down keeps its proxy, and `queue
#                    flush` delivers it through Dante (Dante's log shows the connection)
#   socks5-check     `smtpsend check --proxy` shows the proxy and the server's extensions
#
# Needs root: it installs postfix, sasl2-bin, libsasl2-modules, openssl, iproute2 and
# dante-server with apt-get when missing. Everything lives in a temporary directory removed on exit.
#
# Environment: SMTPSEND (the binary, default target/debug/smtpsend), NETWORK_TEST_KEEP=1 (keep
# the temporary directory).
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)
# shellcheck source=tests/lib/private-postfix.sh disable=SC1091
source "$REPO/tests/lib/private-postfix.sh"

PACKAGES=(postfix sasl2-bin libsasl2-modules openssl iproute2 dante-server)

# Packages come from the machine's network, then the tier starts again inside its namespaces.
enter_namespaces SMTPSEND_NETWORK_TIER_INSIDE "--net --mount" "$@"
tier_environment

USER_NAME=alice
REALM=smtpsend.test
T=$(mktemp -d /tmp/smtpsend-network.XXXXXX)
chmod 755 "$T"
CONF=$T/etc SPOOL=$T/spool OUT=$T/deliveries MAILLOG=$T/maillog RUNS=$T/runs
KEEP=${NETWORK_TEST_KEEP:-}
DEAD_V6=2001:db8:dead::1

# shellcheck disable=SC2317  # called by cleanup
stop_servers() {
    [[ -n ${DANTE_PID:-} ]] && kill "$DANTE_PID" 2>/dev/null
    return 0
}
trap_cleanup
setup_logs() {
    show_log maillog "$MAILLOG" 40
    show_log "dante log" "$T/dante.log" 20
}

# ---------------------------------------------------------------------------------------------
# The network and the server
# ---------------------------------------------------------------------------------------------
# Loopback up; a global IPv6 address of our own, so that the resolver ranks the IPv6 address
# first (RFC 6724); the IPv6 prefix routed into a tun device no program reads, where packets
# vanish without an answer (a blackhole route would fail at once with EINVAL, no test of the
# delay); and /etc/hosts, private to this mount namespace, giving mail.he.test both families.
setup_network() {
    local log=$T/network.log
    {
        ip link set lo up &&
        ip -6 addr add 2001:db8:dead::2/128 dev lo &&
        ip tuntap add dev hole0 mode tun &&
        ip link set hole0 up &&
        ip -6 route add 2001:db8:dead::/64 dev hole0
    } >"$log" 2>&1 || setup_failed "setting up the private network failed" "$log"
    printf '127.0.0.1 localhost\n%s mail.he.test\n127.0.0.1 mail.he.test\n' "$DEAD_V6" \
        >"$T/hosts"
    mount --bind "$T/hosts" /etc/hosts || setup_failed "cannot mount a private /etc/hosts"
}

setup_postfix() {
    make_certificates
    make_sasldb
    SUB_PORT=$(free_port) || setup_failed "no free port"
    PLAIN_PORT=$(free_port "$SUB_PORT") || setup_failed "no free port"
    write_postfix_base
    write_sasl_main_cf
    write_master_cf network
    cat >>"$CONF/master.cf" <<EOF
127.0.0.1:$PLAIN_PORT inet n - n - - smtpd
  -o syslog_name=network/plain
  -o smtpd_relay_restrictions=permit_mynetworks,reject
EOF
    start_postfix "$SUB_PORT" "$PLAIN_PORT"
}

# Dante on 127.0.0.1, no authentication, refusing one port by its rules; run in a mount
# namespace of its own whose /etc/hosts alone knows mail.proxied.test.
setup_dante() {
    SOCKS_PORT=$(free_port "$SUB_PORT" "$PLAIN_PORT") || setup_failed "no free port"
    FORBIDDEN_PORT=$(free_port "$SUB_PORT" "$PLAIN_PORT" "$SOCKS_PORT") || setup_failed "no free port"
    CLOSED_PORT=$(free_port "$SUB_PORT" "$PLAIN_PORT" "$SOCKS_PORT" "$FORBIDDEN_PORT") ||
        setup_failed "no free port"
    cat >"$T/danted.conf" <<EOF
logoutput: $T/dante.log
internal: 127.0.0.1 port = $SOCKS_PORT
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
    from: 127.0.0.0/8 to: 0.0.0.0/0
}
socks block {
    from: 0.0.0.0/0 to: 0.0.0.0/0 port = $FORBIDDEN_PORT
    log: error
}
socks pass {
    from: 127.0.0.0/8 to: 0.0.0.0/0
    command: connect
    log: connect disconnect
}
EOF
    printf '127.0.0.1 localhost\n127.0.0.1 mail.proxied.test\n' >"$T/proxy-hosts"
    unshare --mount sh -c 'mount --bind "$1" /etc/hosts && exec danted -N 1 -f "$2"' \
        dante "$T/proxy-hosts" "$T/danted.conf" >"$T/dante.out" 2>&1 &
    DANTE_PID=$!
    for _ in $(seq 50); do
        (: <"/dev/tcp/127.0.0.1/$SOCKS_PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    setup_failed "Dante did not start" "$T/dante.out"
}

# ---------------------------------------------------------------------------------------------
# Running smtpsend and judging the outcome
# ---------------------------------------------------------------------------------------------
PASSED=0 FAILED=0

# send NAME ARG...: smtpsend with ARG and a one-line message to NAME@y.test, its exit code in
# $RUNS/NAME/rc, stderr in .../stderr, the milliseconds it took in .../ms.
send() {
    local name=$1 dir=$RUNS/$1 start end rc=0
    shift
    mkdir -p "$dir" "$T/home"
    start=$(date +%s%N)
    HOME=$T/home XDG_CONFIG_HOME=$T/home/config XDG_STATE_HOME=$T/home/state \
        XDG_DATA_HOME=$T/home/data XDG_CACHE_HOME=$T/home/cache \
        timeout 60 "$BIN" -v "$@" -f "a@x.test" -t "$name@y.test" -s "$name" -m "hi" \
        >"$dir/stdout" 2>"$dir/stderr" </dev/null || rc=$?
    end=$(date +%s%N)
    echo "$rc" >"$dir/rc"
    echo $(((end - start) / 1000000)) >"$dir/ms"
}

# smtpsend_at NAME ARG...: smtpsend with ARG alone (no message), as `send` runs it.
smtpsend_at() {
    local name=$1 dir=$RUNS/$1 rc=0
    shift
    mkdir -p "$dir" "$T/home"
    HOME=$T/home XDG_CONFIG_HOME=$T/home/config XDG_STATE_HOME=$T/home/state \
        XDG_DATA_HOME=$T/home/data XDG_CACHE_HOME=$T/home/cache \
        timeout 60 "$BIN" "$@" >"$dir/stdout" 2>"$dir/stderr" </dev/null || rc=$?
    echo "$rc" >"$dir/rc"
}

# delivered NAME: true once the recorder has a delivery to NAME@y.test (up to 10 s).
delivered() {
    for _ in $(seq 100); do
        grep -qx "recipient $1@y.test" "$OUT"/*.env 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# attempts NAME: the addresses smtpsend said it connected to, in order, one a line.
attempts() { sed -n 's/^\* connecting to //p' "$RUNS/$1/stderr"; }

# verdict NAME PROBLEM: "ok - NAME" when PROBLEM is empty, else "not ok - NAME: PROBLEM" with
# the run's exit code, time and stderr.
verdict() {
    local name=$1 problem=$2 dir=$RUNS/$1
    if [[ -z $problem ]]; then
        echo "ok - $name"
        PASSED=$((PASSED + 1))
        return
    fi
    echo "not ok - $name: $problem"
    echo "# exit $(cat "$dir/rc" 2>/dev/null), $(cat "$dir/ms" 2>/dev/null) ms; stderr:"
    indent <"$dir/stderr"
    FAILED=$((FAILED + 1))
}

# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------
scenario_happy_eyeballs() {
    local name=happy-eyeballs problem='' order
    send "$name" --server "smtp+plain://mail.he.test:$PLAIN_PORT" --timeout 10
    order=$(attempts "$name" | tr '\n' ' ')
    if [[ $(cat "$RUNS/$name/rc") != 0 ]]; then
        problem="exit $(cat "$RUNS/$name/rc"), expected 0"
    elif [[ $order != "[$DEAD_V6]:$PLAIN_PORT 127.0.0.1:$PLAIN_PORT " ]]; then
        problem="attempts were: $order(expected the IPv6 address, then 127.0.0.1)"
    elif (($(cat "$RUNS/$name/ms") >= 1250)); then
        problem="took $(cat "$RUNS/$name/ms") ms, expected well under 1 s + 250 ms"
    elif ! delivered "$name"; then
        problem="Postfix delivered nothing"
    fi
    verdict "$name" "$problem"
}

scenario_ipv4_only() {
    local name=ipv4-only problem=''
    send "$name" -4 --server "smtp+plain://mail.he.test:$PLAIN_PORT" --timeout 10
    if [[ $(cat "$RUNS/$name/rc") != 0 ]]; then
        problem="exit $(cat "$RUNS/$name/rc"), expected 0"
    elif [[ $(attempts "$name") != "127.0.0.1:$PLAIN_PORT" ]]; then
        problem="attempts were: $(attempts "$name" | tr '\n' ' ')"
    elif ! delivered "$name"; then
        problem="Postfix delivered nothing"
    fi
    verdict "$name" "$problem"
}

scenario_ipv6_only() {
    local name=ipv6-only problem='' want
    send "$name" -6 --server "smtp+plain://mail.he.test:$PLAIN_PORT" --timeout 1
    want="cannot connect to mail.he.test:$PLAIN_PORT ($DEAD_V6): no answer within 1 s"
    if [[ $(cat "$RUNS/$name/rc") != 75 ]]; then
        problem="exit $(cat "$RUNS/$name/rc"), expected 75"
    elif [[ $(attempts "$name") != "[$DEAD_V6]:$PLAIN_PORT" ]]; then
        problem="attempts were: $(attempts "$name" | tr '\n' ' ')"
    elif ! grep -qF "smtpsend: $want" "$RUNS/$name/stderr"; then
        problem="no \"$want\""
    fi
    verdict "$name" "$problem"
}

scenario_socks5h() {
    local name=socks5h problem='' direct=socks5h-direct
    send "$direct" --server "smtp+plain://mail.proxied.test:$PLAIN_PORT" --timeout 10
    send "$name" --proxy "socks5h://127.0.0.1:$SOCKS_PORT" \
        --server "smtp+plain://mail.proxied.test:$PLAIN_PORT" --timeout 10
    # Without a proxy the name does not resolve here: no such host (68), or no DNS server
    # to ask in this network namespace (75).
    if ! grep -qF "cannot look up mail.proxied.test" "$RUNS/$direct/stderr"; then
        problem="without the proxy, exit $(cat "$RUNS/$direct/rc"): the name resolved here, not only at the proxy"
    elif [[ $(cat "$RUNS/$name/rc") != 0 ]]; then
        problem="exit $(cat "$RUNS/$name/rc"), expected 0"
    elif ! grep -qF "asking socks5h://127.0.0.1:$SOCKS_PORT for mail.proxied.test:$PLAIN_PORT" \
        "$RUNS/$name/stderr"; then
        problem="-v does not show the name handed to the proxy"
    elif ! grep -qx "> EHLO localhost" "$RUNS/$name/stderr"; then
        problem="the EHLO name was not localhost"
    elif ! delivered "$name"; then
        problem="Postfix delivered nothing"
    fi
    verdict "$name" "$problem"
}

scenario_socks5() {
    local name=socks5 problem=''
    send "$name" -4 --proxy "socks5://127.0.0.1:$SOCKS_PORT" \
        --server "smtp+plain://mail.he.test:$PLAIN_PORT" --timeout 10
    if [[ $(cat "$RUNS/$name/rc") != 0 ]]; then
        problem="exit $(cat "$RUNS/$name/rc"), expected 0"
    elif ! grep -qF "asking socks5://127.0.0.1:$SOCKS_PORT for 127.0.0.1:$PLAIN_PORT" \
        "$RUNS/$name/stderr"; then
        problem="-v does not show the address handed to the proxy"
    elif ! delivered "$name"; then
        problem="Postfix delivered nothing"
    fi
    verdict "$name" "$problem"
}

scenario_socks5_refused() {
    local name=socks5-refused problem='' closed=socks5-closed
    send "$name" --proxy "socks5h://127.0.0.1:$SOCKS_PORT" \
        --server "smtp+plain://127.0.0.1:$FORBIDDEN_PORT" --timeout 10
    send "$closed" --proxy "socks5h://127.0.0.1:$SOCKS_PORT" \
        --server "smtp+plain://127.0.0.1:$CLOSED_PORT" --timeout 10
    if [[ $(cat "$RUNS/$name/rc") != 69 ]]; then
        problem="a port the proxy forbids: exit $(cat "$RUNS/$name/rc"), expected 69"
    elif ! grep -qF "the proxy's rules do not allow it" "$RUNS/$name/stderr"; then
        problem="the refusal does not say the proxy's rules forbid it"
    elif [[ $(cat "$RUNS/$closed/rc") != 75 ]]; then
        problem="a closed port behind the proxy: exit $(cat "$RUNS/$closed/rc"), expected 75"
    fi
    verdict "$name" "$problem"
}

scenario_socks5_queued() {
    local name=socks5-queued problem='' flush=socks5-queued-flush
    rm -rf "$T/home/state/smtpsend/outbox"
    send "$name" --queue --proxy "socks5h://127.0.0.1:$SOCKS_PORT" \
        --server "smtp+plain://127.0.0.1:$CLOSED_PORT" --timeout 10
    # The server comes up where the queued message was headed: a listener on CLOSED_PORT.
    cat >>"$CONF/master.cf" <<EOF
127.0.0.1:$CLOSED_PORT inet n - n - - smtpd
  -o syslog_name=network/late
  -o smtpd_relay_restrictions=permit_mynetworks,reject
EOF
    postfix -c "$CONF" reload >/dev/null 2>&1
    sleep 1
    : >"$T/dante.log"
    smtpsend_at "$flush" queue flush --now -v
    if [[ $(cat "$RUNS/$name/rc") != 75 ]]; then
        problem="exit $(cat "$RUNS/$name/rc"), expected 75 (queued)"
    elif [[ $(cat "$RUNS/$flush/rc") != 0 ]]; then
        problem="queue flush: exit $(cat "$RUNS/$flush/rc"), expected 0"
    elif ! delivered "$name"; then
        problem="the queued message was not delivered"
    elif ! grep -q "127.0.0.1.$CLOSED_PORT" "$T/dante.log"; then
        problem="the flush did not go through the proxy (Dante logged no connection to port $CLOSED_PORT)"
    fi
    verdict "$name" "$problem"
}

scenario_socks5_check() {
    local name=socks5-check problem=''
    smtpsend_at "$name" check --proxy "socks5h://127.0.0.1:$SOCKS_PORT" \
        --server "smtp+plain://mail.proxied.test:$PLAIN_PORT" --timeout 10
    if [[ $(cat "$RUNS/$name/rc") != 0 ]]; then
        problem="exit $(cat "$RUNS/$name/rc"), expected 0"
    elif ! grep -qE "^proxy +socks5h://127.0.0.1:$SOCKS_PORT$" "$RUNS/$name/stdout"; then
        problem="check does not show the proxy"
    elif ! grep -qE "^extensions +.*PIPELINING" "$RUNS/$name/stdout"; then
        problem="check does not show the extensions learnt through the proxy"
    fi
    verdict "$name" "$problem"
}

[[ -x $BIN ]] || setup_failed "no binary at $BIN (cargo build first)"
setup_network
setup_postfix
setup_dante
scenario_happy_eyeballs
scenario_ipv4_only
scenario_ipv6_only
scenario_socks5h
scenario_socks5
scenario_socks5_refused
scenario_socks5_queued
scenario_socks5_check
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
