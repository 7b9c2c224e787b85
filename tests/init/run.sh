#!/usr/bin/env bash
# The discovery tier: `smtpsend init` finding its server through real parts, a DNS server
# (dnsmasq) answering SRV and A records for test domains, an HTTPS server publishing
# autoconfiguration documents, and a private Postfix to probe and to send through.
#
#   tests/init/run.sh      prints "ok - NAME" / "not ok - NAME: reason" and a closing
#                          "N passed, M failed"; exits non-zero on any failure
#
# Needs root: it installs dnsmasq-base, postfix, sasl2-bin, libsasl2-modules, openssl and
# python3 with apt-get when missing, starts dnsmasq on 127.0.0.1:53 and the HTTPS server on
# 127.0.0.1:443, and runs each smtpsend in a private mount namespace (unshare --mount) whose
# /etc/resolv.conf says `nameserver 127.0.0.1`. The machine's own resolver configuration and
# Postfix are never touched; everything lives in a temporary directory removed on exit.
#
# Environment: SMTPSEND (the binary, default target/debug/smtpsend), INIT_TEST_KEEP=1 (keep
# the temporary directory).
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)
# shellcheck source=tests/lib/private-postfix.sh disable=SC1091
source "$REPO/tests/lib/private-postfix.sh"
tier_environment

USER_NAME=alice
REALM=smtpsend.test
T=$(mktemp -d /tmp/smtpsend-init.XXXXXX)
chmod 755 "$T"
CONF=$T/etc SPOOL=$T/spool OUT=$T/deliveries MAILLOG=$T/maillog RUNS=$T/runs
KEEP=${INIT_TEST_KEEP:-}
DNS_PID= HTTPS_PID=

stop_servers() {
    stop_job DNS_PID
    stop_job HTTPS_PID
}
trap_cleanup
setup_logs() {
    show_log maillog "$MAILLOG" 30
    show_log dnsmasq "$T/dnsmasq.log" 30
    show_log https "$T/https.log" 30
}

PACKAGES=(dnsmasq-base postfix sasl2-bin libsasl2-modules openssl python3)

# ---------------------------------------------------------------------------------------------
# The servers
# ---------------------------------------------------------------------------------------------
# The test domains:
#   srv.test       SRV for both services (submissions, port SMTPS_PORT, must win)
#   foreign.test   SRV naming a server in another domain (mail.elsewhere.test)
#   auto.test      no SRV; autoconfig.auto.test serves a document (SSL on SMTPS_PORT)
#   plain.test     no SRV; its document offers only a plaintext server
#   nothing.test   nothing at all
start_dns() {
    port_in_use 53 && setup_failed "127.0.0.1:53 is already in use"
    start_dnsmasq \
        "srv-host=_submissions._tcp.srv.test,mail.srv.test,$SMTPS_PORT,10,0" \
        "srv-host=_submission._tcp.srv.test,mail.srv.test,$SUB_PORT,0,0" \
        "host-record=mail.srv.test,127.0.0.1" \
        "srv-host=_submission._tcp.foreign.test,mail.elsewhere.test,$SUB_PORT,0,0" \
        "host-record=mail.elsewhere.test,127.0.0.1" \
        "host-record=autoconfig.auto.test,127.0.0.1" \
        "host-record=smtp.auto.test,127.0.0.1" \
        "host-record=autoconfig.plain.test,127.0.0.1"
}

# One HTTPS server for every autoconfig.DOMAIN, answering by the Host header from
# $T/docs/HOST/mail/config-v1.1.xml, and logging each request.
start_https() {
    mkdir -p "$T/docs/autoconfig.auto.test/mail" "$T/docs/autoconfig.plain.test/mail"
    cat >"$T/docs/autoconfig.auto.test/mail/config-v1.1.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="auto.test">
    <domain>auto.test</domain>
    <displayName>Auto Test Mail</displayName>
    <incomingServer type="imap">
      <hostname>imap.auto.test</hostname><port>993</port><socketType>SSL</socketType>
      <authentication>password-cleartext</authentication><username>%EMAILADDRESS%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.auto.test</hostname><port>$SMTPS_PORT</port><socketType>SSL</socketType>
      <authentication>password-cleartext</authentication><username>%EMAILLOCALPART%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>
EOF
    cat >"$T/docs/autoconfig.plain.test/mail/config-v1.1.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="plain.test">
    <outgoingServer type="smtp">
      <hostname>smtp.plain.test</hostname><port>25</port><socketType>plain</socketType>
      <authentication>password-cleartext</authentication><username>%EMAILADDRESS%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>
EOF
    cat >"$T/https.py" <<'EOF'
import http.server, os, ssl, sys
root, cert, key, log = sys.argv[1:5]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        path = self.path.split("?")[0]
        with open(log, "a") as f:
            f.write(f"{host} {self.path}\n")
        file = os.path.join(root, host, path.lstrip("/"))
        if ".." in path or not os.path.isfile(file):
            self.send_error(404)
            return
        body = open(file, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 443), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
EOF
    port_in_use 443 && setup_failed "127.0.0.1:443 is already in use"
    python3 "$T/https.py" "$T/docs" "$T/tls/server.pem" "$T/tls/server.key" "$T/requests.log" \
        2>"$T/https.log" &
    HTTPS_PID=$!
    for _ in $(seq 50); do port_in_use 443 && return 0; sleep 0.1; done
    setup_failed "the HTTPS server did not start" "$T/https.log"
}

start_postfix_instance() {
    write_postfix_base
    write_sasl_main_cf
    write_master_cf init-test
    write_smtps_listener init-test
    make_sasldb
    start_postfix "$SUB_PORT" "$SMTPS_PORT"
}

# ---------------------------------------------------------------------------------------------
# Running smtpsend
# ---------------------------------------------------------------------------------------------
# run NAME [VAR=VALUE]... -- ARGS...: smtpsend ARGS in the private mount namespace, with a
# home of its own per NAME, $RUNS/NAME/home (empty unless the caller put something there, so
# each scenario starts with no configuration file), stdin from
# /dev/null and CI=true; $RUNS/NAME/{stdout,stderr,rc}.
run() {
    local name=$1 rc=0
    shift
    local vars=()
    while [[ $1 != -- ]]; do vars+=("$1"); shift; done
    shift
    local dir=$RUNS/$name
    mkdir -p "$dir/home"
    env HOME="$dir/home" XDG_CONFIG_HOME="$dir/home/config" XDG_STATE_HOME="$dir/home/state" \
        XDG_RUNTIME_DIR="$dir/home" CI=true "${vars[@]}" \
        timeout -k 5 60 unshare --mount sh -c \
        'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$T/resolv.conf" "$BIN" "$@" \
        </dev/null >"$dir/stdout" 2>"$dir/stderr" || rc=$?
    echo "$rc" >"$dir/rc"
}

config_of() { cat "$RUNS/$1/home/config/smtpsend/config.toml" 2>/dev/null; }

PASSED=0 FAILED=0
pass() { echo "ok - $1"; PASSED=$((PASSED + 1)); }
fail() {
    echo "not ok - $1: $2"
    local dir=$RUNS/${1%%/*}
    show_log stdout "$dir/stdout" 20
    show_log stderr "$dir/stderr" 20
    FAILED=$((FAILED + 1))
}

# expect NAME CODE [PATTERN...]: the run exited CODE and stdout+stderr hold every PATTERN
# (fixed strings).
expect() {
    local name=$1 code=$2 pattern rc
    shift 2
    rc=$(cat "$RUNS/$name/rc")
    [[ $rc == "$code" ]] || { fail "$name" "exit $rc, expected $code"; return 1; }
    for pattern in "$@"; do
        cat "$RUNS/$name/stdout" "$RUNS/$name/stderr" | grep -qF -- "$pattern" ||
            { fail "$name" "no '$pattern' in its output"; return 1; }
    done
}

# expect_config NAME PATTERN: the configuration file the run wrote holds PATTERN.
expect_config() {
    config_of "$1" | grep -qF -- "$2" || { fail "$1" "no '$2' in the file written"; return 1; }
}

# delivered TEXT: within 20 s, the recorder has written a delivery holding TEXT (Postfix hands
# a message on after its 250, so it may not be there when smtpsend exits).
delivered() {
    for _ in $(seq 200); do
        grep -rqsF -- "$1" "$OUT" && return 0
        sleep 0.1
    done
    return 1
}

scenarios() {
    local ca=(--ca-file "$CA")

    # SRV: _submissions (implicit TLS, SMTPS_PORT) is taken before _submission, the probe shows
    # what the real Postfix offers, and the account written sends through it.
    run srv -- init alice@srv.test --user "$USER_NAME" --no-login "${ca[@]}"
    if expect srv 0 "found mail.srv.test:$SMTPS_PORT (implicit TLS) through DNS SRV _submissions._tcp.srv.test" \
        "AUTH PLAIN LOGIN" &&
        expect_config srv "server = \"smtps://mail.srv.test:$SMTPS_PORT\""; then
        # The send runs in srv's home, where init wrote the account.
        mkdir -p "$RUNS/srv-send"
        cp -r "$RUNS/srv/home" "$RUNS/srv-send/home"
        run srv-send SMTPSEND_PASSWORD="$PASSWORD" SMTPSEND_CA_FILE="$CA" -- \
            -t bob@example.net -s "Found by SRV" -m "sent through the account init wrote"
        if expect srv-send 0 && delivered "Found by SRV"; then
            pass "srv: submissions before submission, and the account sends"
        elif [[ $(cat "$RUNS/srv-send/rc") == 0 ]]; then
            fail srv-send "nothing delivered"
        fi
    fi

    # A server outside the domain: refused without a terminal, taken with --yes.
    run foreign -- init bob@foreign.test --no-login "${ca[@]}"
    run foreign-yes -- init bob@foreign.test --no-login --yes "${ca[@]}"
    if expect foreign 64 "mail.elsewhere.test is not in foreign.test" "--yes" &&
        [[ -z $(config_of foreign) ]] &&
        expect foreign-yes 0 "is not in foreign.test" &&
        expect_config foreign-yes "server = \"smtp://mail.elsewhere.test:$SUB_PORT\""; then
        pass "srv-foreign: another domain's server needs --yes"
    fi

    # Autoconfig: no SRV, the document at autoconfig.auto.test over HTTPS, its username
    # placeholder filled in.
    run auto -- init carol@auto.test --no-login "${ca[@]}"
    if expect auto 0 "found smtp.auto.test:$SMTPS_PORT (implicit TLS) through the autoconfiguration document https://autoconfig.auto.test/mail/config-v1.1.xml?emailaddress=carol%40auto.test" &&
        expect_config auto "server = \"smtps://smtp.auto.test:$SMTPS_PORT\"" &&
        expect_config auto 'user = "carol"' &&
        grep -qF "autoconfig.auto.test /mail/config-v1.1.xml?emailaddress=carol%40auto.test" "$T/requests.log"; then
        pass "autoconfig: the document over HTTPS"
    fi

    # A document offering only plaintext: refused with a warning, so nothing is found.
    run plain -- init dave@plain.test --no-login "${ca[@]}"
    if expect plain 69 "smtp.plain.test: refused, the document offers it without TLS" \
        "found no submission server for plain.test" && [[ -z $(config_of plain) ]]; then
        pass "autoconfig-plaintext: refused"
    fi

    # Nothing anywhere: the error names every place tried, and --server.
    run nothing -- init erin@nothing.test --no-login "${ca[@]}"
    if expect nothing 69 "_submissions._tcp.nothing.test" "_submission._tcp.nothing.test" \
        "https://autoconfig.nothing.test/mail/config-v1.1.xml" \
        "https://nothing.test/.well-known/autoconfig/mail/config-v1.1.xml" "--server" &&
        [[ -z $(config_of nothing) ]]; then
        pass "nothing-found: what was tried, and --server"
    fi
}

[[ $(id -u) == 0 ]] || setup_failed "must run as root (it starts dnsmasq and Postfix, and may install packages)"
install_packages
[[ -x $BIN ]] || (cd "$REPO" && cargo build --quiet) || setup_failed "cargo build failed"
SUB_PORT=$(free_port) || setup_failed "no free port on 127.0.0.1"
SMTPS_PORT=$(free_port "$SUB_PORT") || setup_failed "no free port on 127.0.0.1"
EXTRA_NAMES="DNS:mail.srv.test, DNS:mail.elsewhere.test, DNS:smtp.auto.test, DNS:autoconfig.auto.test, DNS:autoconfig.plain.test"
make_certificates
start_dns
start_https
start_postfix_instance
mkdir -p "$RUNS"
scenarios
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
