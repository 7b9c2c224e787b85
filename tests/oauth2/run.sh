#!/usr/bin/env bash
# Third test tier: smtpsend's own OAuth2 against a real authorization server and a real SMTP
# server that checks every token it is given with that authorization server.
#
#   tests/oauth2/run.sh            run every scenario; prints "ok - NAME" / "not ok - NAME: reason"
#                                  and a closing "N passed, M failed"; exits non-zero on any failure
#   tests/oauth2/run.sh --serve    only start the servers and print how to reach them (Ctrl-C stops)
#
# The parts, all on 127.0.0.1 and free ports, in a fresh temporary directory removed on exit:
#   - panva's oidc-provider (npm, pinned in package-lock.json; server.js configures it): a public
#     client with PKCE, rotating refresh tokens, the device grant, revocation and introspection;
#   - Dovecot (auth only) with an oauth2 passdb that introspects every token it is offered;
#   - a private Postfix whose submission port hands XOAUTH2 and OAUTHBEARER to Dovecot
#     (smtpd_sasl_type = dovecot) and delivers everything to a recorder, as in tests/postfix;
#   - browser.sh as $BROWSER: it logs in and consents as a person would.
#
# Needs root (it installs dovecot-core, postfix, nodejs/npm, curl, jq, openssl with apt-get when
# missing, and starts Postfix and Dovecot as root).
# Environment:
#   SMTPSEND              binary under test (default target/debug/smtpsend; built if missing)
#   OAUTH2_TEST_KEEP=1    keep the temporary directory (its path is printed)
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)
HERE=$REPO/tests/oauth2
BIN=${SMTPSEND:-target/debug/smtpsend}
case $BIN in /*) ;; *) BIN=$REPO/$BIN ;; esac
MODE=${1:-test}
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export LC_ALL=C.UTF-8
umask 022

while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^SMTPSEND' || true)
unset BROWSER

USER_NAME=alice
REALM=smtpsend.test
DELIVERY_TIMEOUT=20
CLIENT_TIMEOUT=60
ACCESS_TTL=${OAUTH2_TEST_ACCESS_TTL:-3600}

T=$(mktemp -d /tmp/smtpsend-oauth2.XXXXXX)
chmod 755 "$T"
CONF=$T/etc SPOOL=$T/spool OUT=$T/deliveries FILES=$T/files RUNS=$T/runs DV=$T/dovecot
MAILLOG=$T/maillog
OP_PID=

stop_provider() {
    if [[ -n $OP_PID ]]; then
        kill "$OP_PID" 2>/dev/null || true
        wait "$OP_PID" 2>/dev/null || true
        OP_PID=
    fi
}

cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    if [[ -n ${SERVE_SLEEP:-} ]]; then kill "$SERVE_SLEEP" 2>/dev/null || true; fi
    stop_provider
    if [[ -s $DV/run/master.pid ]]; then
        pid=$(cat "$DV/run/master.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if [[ -s $SPOOL/pid/master.pid ]]; then
        pid=$(awk '{print $1; exit}' "$SPOOL/pid/master.pid")
        postfix -c "$CONF" stop >/dev/null 2>&1 || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            postfix -c "$CONF" abort >/dev/null 2>&1 || kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    if [[ ${OAUTH2_TEST_KEEP:-} == 1 ]]; then
        echo "# kept $T" >&2
    else
        rm -rf "$T"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

indent() { sed 's/^/#   /'; }

setup_failed() {
    echo "not ok - setup: $1"
    if [[ -n ${2:-} && -s $2 ]]; then tail -n 60 "$2" | indent; fi
    if [[ -s $MAILLOG ]]; then echo "# maillog:"; tail -n 30 "$MAILLOG" | indent; fi
    if [[ -s $DV/dovecot.log ]]; then echo "# dovecot log:"; tail -n 30 "$DV/dovecot.log" | indent; fi
    echo "0 passed, 1 failed"
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------------
PACKAGES=(postfix dovecot-core openssl curl jq)

install_packages() {
    local missing=() pkg
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
    ((${#missing[@]} == 0)) && return 0
    [[ $(id -u) == 0 ]] || setup_failed "missing packages (${missing[*]}) and not root"
    local log=$T/apt.log
    export DEBIAN_FRONTEND=noninteractive
    {
        echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections &&
        apt-get update &&
        apt-get install -y --no-install-recommends "${missing[@]}"
    } >"$log" 2>&1 </dev/null || setup_failed "apt-get install ${missing[*]} failed" "$log"
}

# oidc-provider at the version package-lock.json pins, into the temporary directory.
install_provider() {
    local log=$T/npm.log
    mkdir -p "$T/op"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$HERE/server.js" "$T/op/"
    (cd "$T/op" && npm ci --no-audit --no-fund --prefer-offline) >"$log" 2>&1 \
        || setup_failed "npm ci (oidc-provider) failed" "$log"
}

# ---------------------------------------------------------------------------------------------
# The servers
# ---------------------------------------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local port taken
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 40000))
        for taken in "$@"; do [[ $port == "$taken" ]] && continue 2; done
        port_in_use "$port" || { echo "$port"; return 0; }
    done
    return 1
}

make_certificates() {
    local d=$T/tls log=$T/openssl.log
    mkdir -p "$d"
    cat >"$d/server.ext" <<'EOT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOT
    {
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 -subj "/CN=smtpsend throwaway test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" &&
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=localhost" &&
        openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
            -CAcreateserial -days 2 -extfile "$d/server.ext" -out "$d/server.pem"
    } >"$log" 2>&1 || setup_failed "creating certificates failed" "$log"
    chmod 600 "$d/ca.key" "$d/server.key"
    CA=$d/ca.pem
}

# start_provider [ACCESS_TTL]: (re)start oidc-provider. Its state is in memory: a restart forgets
# every grant, which the scenarios use to start from nothing.
start_provider() {
    local ttl=${1:-$ACCESS_TTL}
    stop_provider
    (cd "$T/op" && exec env OAUTH2_TEST_PORT="$OP_PORT" OAUTH2_TEST_ACCESS_TTL="$ttl" \
        OAUTH2_TEST_DOVECOT_SECRET="$DOVECOT_SECRET" node server.js) >>"$T/provider.log" 2>&1 &
    OP_PID=$!
    for _ in $(seq 100); do
        curl -sf "$ISSUER/.well-known/openid-configuration" >/dev/null 2>&1 && return 0
        kill -0 "$OP_PID" 2>/dev/null || break
        sleep 0.1
    done
    setup_failed "oidc-provider did not start" "$T/provider.log"
}

start_dovecot() {
    local log=$T/dovecot-start.log
    mkdir -p "$DV/run" "$DV/state"
    cat >"$DV/dovecot.conf" <<EOT
# Authentication only: Postfix asks it about XOAUTH2 and OAUTHBEARER through $DV/auth-postfix.
base_dir = $DV/run
state_dir = $DV/state
instance_name = smtpsend-oauth2-test-$$
protocols =
listen = 127.0.0.1
log_path = $DV/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = xoauth2 oauthbearer
auth_verbose = yes
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DV/oauth2.conf.ext
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener $DV/auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
service anvil {
  chroot =
}
EOT
    # Every token is introspected (no cache): a revoked or rotated-away token fails at once.
    cat >"$DV/oauth2.conf.ext" <<EOT
introspection_mode = post
introspection_url = http://dovecot:$DOVECOT_SECRET@127.0.0.1:$OP_PORT/token/introspection
username_attribute = sub
active_attribute = active
active_value = true
force_introspection = yes
EOT
    chmod 600 "$DV/oauth2.conf.ext"
    dovecot -c "$DV/dovecot.conf" >"$log" 2>&1 || setup_failed "dovecot did not start" "$log"
    for _ in $(seq 50); do [[ -S $DV/auth-postfix ]] && return 0; sleep 0.1; done
    setup_failed "dovecot made no auth socket" "$DV/dovecot.log"
}

write_postfix_config() {
    mkdir -p "$CONF" "$SPOOL" "$T/data" "$OUT" "$T/bin"
    chown postfix:postfix "$T/data"
    chmod 700 "$T/data"
    chown nobody "$OUT"
    chmod 755 "$OUT"
    install -m 755 "$REPO/tests/postfix/recorder.sh" "$T/bin/recorder.sh"
    cat >"$CONF/main.cf" <<EOT
compatibility_level = 3.6
queue_directory = $SPOOL
data_directory = $T/data
myhostname = mail.$REALM
mydomain = $REALM
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
maillog_file = $MAILLOG
maillog_file_prefixes = $T
biff = no
mydestination =
relay_domains =
local_recipient_maps =
transport_maps = static:recorder:all
recorder_destination_recipient_limit = 1
always_add_missing_headers = no
local_header_rewrite_clients =
remote_header_rewrite_domain =
smtpd_sasl_authenticated_header = no
smtpd_tls_received_header = no
smtpd_tls_chain_files = $T/tls/server.key, $T/tls/server.pem
# SASL by Dovecot, which checks each bearer token with the authorization server.
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DV/auth-postfix
smtpd_relay_restrictions = permit_sasl_authenticated, reject
EOT
    cat >"$CONF/master.cf" <<EOT
127.0.0.1:$SUB_PORT inet n - n - - smtpd
  -o syslog_name=postfix-oauth2/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
cleanup   unix       n - n -    0 cleanup
qmgr      unix       n - n 300  1 qmgr
tlsmgr    unix       - - n 1000? 1 tlsmgr
rewrite   unix       - - n -    - trivial-rewrite
bounce    unix       - - n -    0 bounce
defer     unix       - - n -    0 bounce
trace     unix       - - n -    0 bounce
verify    unix       - - n -    1 verify
flush     unix       n - n 1000? 0 flush
proxymap  unix       - - n -    - proxymap
showq     unix       n - n -    - showq
error     unix       - - n -    - error
retry     unix       - - n -    - error
discard   unix       - - n -    - discard
anvil     unix       - - n -    1 anvil
scache    unix       - - n -    1 scache
postlog   unix-dgram n - n -    1 postlogd
recorder  unix       - n n -    - pipe
  user=nobody argv=$T/bin/recorder.sh $OUT \${sender} \${queue_id} \${recipient}
EOT
}

start_postfix() {
    local log=$T/postfix-start.log
    postfix -c "$CONF" check >"$log" 2>&1 || setup_failed "postfix check failed" "$log"
    postfix -c "$CONF" start >>"$log" 2>&1 || setup_failed "postfix start failed" "$log"
    for _ in $(seq 100); do port_in_use "$SUB_PORT" && return 0; sleep 0.1; done
    setup_failed "Postfix is not listening on 127.0.0.1:$SUB_PORT" "$log"
}

setup_servers() {
    [[ $(id -u) == 0 ]] || setup_failed "must run as root (it starts Postfix and Dovecot)"
    install_packages
    install_provider
    make_certificates
    OP_PORT=$(free_port) || setup_failed "no free port on 127.0.0.1"
    SUB_PORT=$(free_port "$OP_PORT") || setup_failed "no free port on 127.0.0.1"
    ISSUER=http://127.0.0.1:$OP_PORT
    DOVECOT_SECRET=$(openssl rand -hex 24)
    start_provider
    start_dovecot
    write_postfix_config
    start_postfix
}

# ---------------------------------------------------------------------------------------------
case $MODE in
--serve)
    setup_servers
    cat <<EOT
Servers running from $T
  authorization server: $ISSUER  (public client: smtpsend-test; any login, any password)
  submission (STARTTLS, XOAUTH2/OAUTHBEARER checked by Dovecot): 127.0.0.1:$SUB_PORT
  CA: $CA    deliveries: $OUT    maillog: $MAILLOG    dovecot log: $DV/dovecot.log
  BROWSER=$HERE/browser.sh
Ctrl-C stops them and removes $T.
EOT
    while :; do sleep 3600 & SERVE_SLEEP=$!; wait "$SERVE_SLEEP" || true; done
    ;;
esac
