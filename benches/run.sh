#!/usr/bin/env bash
# Benchmarks: smtpsend side by side with msmtp and curl (and s-nail for start-up) against one
# private Postfix instance on 127.0.0.1 with STARTTLS, implicit TLS and AUTH PLAIN, delivering
# into a discard transport. Not part of `cargo test`. See BENCHMARKS.md.
#
#   benches/run.sh                 build smtpsend (cargo build --release), run benches 1-4, 6, 8,
#                                  print Markdown tables and write them to benches/results.md
#   benches/run.sh --big           also bench 5: a 200 MB attachment, composed and sent
#   benches/run.sh --quick         a smoke test of the harness: fewer runs, 20 messages in bench 3
#   benches/run.sh --only 2,6      only these benches (1-8)
#   benches/run.sh --only 8        `smtpsend serve` against Postfix's smtpd into its queue and
#                                  msmtpd (when the system has it), with smtp-source
#   benches/run.sh --only 7        bench 7, OAuth2: also starts the OAuth2 tier's servers
#                                  (tests/oauth2/run.sh --serve) and signs in once
#   benches/run.sh --serve         only start the server and print how to reach it (Ctrl-C stops)
#
# Environment:
#   SMTPSEND=PATH       the binary to measure (default: target/release/smtpsend, built first)
#   BENCH_PORT_BASE=N   ports N+87 (STARTTLS), N+65 (implicit TLS), N+88/N+66 (delay proxy),
#                       N+99 (a closed port for filling the outbox), N+25 (plain, no AUTH:
#                       bench 8's upstream and durable reference), N+26 (smtpsend serve),
#                       N+27 (msmtpd); default 3500
#   BENCH_RUNS_SCALE=F  multiply every bench's run count by F (e.g. 0.5 or 2)
#   BENCH_KEEP=1        keep the temporary directory (its path is printed)
#   BENCH_OUT=PATH      where to write the Markdown (default benches/results.md; none for --quick)
#
# Needs root: it installs what is missing (msmtp, curl, postfix, sasl2-bin, libsasl2-modules,
# openssl, time) with apt-get, and starts Postfix. Everything else lives in a temporary directory
# that is removed on exit, and Postfix and the delay proxy are stopped, whatever happens.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
HERE=$REPO/benches
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export LC_ALL=C.UTF-8
umask 022

MODE=bench
BENCH_ARGS=()
ONLY=
while (($#)); do
    case $1 in
    --serve) MODE=serve ;;
    --big | --quick) BENCH_ARGS+=("$1") ;;
    --only) ONLY=${2:-}; BENCH_ARGS+=(--only "$ONLY"); shift ;;
    --only=*) ONLY=${1#--only=}; BENCH_ARGS+=(--only "$ONLY") ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--big] [--quick] [--only 1,2,...] [--serve]" >&2; exit 64 ;;
    esac
    shift
done

# Nothing of the caller's smtpsend settings or keyring may leak into the runs.
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^SMTPSEND_' || true)
unset DBUS_SESSION_BUS_ADDRESS MSMTPRC CURL_HOME

BASE=${BENCH_PORT_BASE:-3500}
SUB_PORT=$((BASE + 87)) SMTPS_PORT=$((BASE + 65))
PROXY_SUB_PORT=$((BASE + 88)) PROXY_SMTPS_PORT=$((BASE + 66)) CLOSED_PORT=$((BASE + 99))
PLAIN_PORT=$((BASE + 25)) RELAY_PORT=$((BASE + 26)) MSMTPD_PORT=$((BASE + 27))
USER_NAME=alice
REALM=bench.test

die() { echo "benches/run.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "must run as root (it starts Postfix, and may install packages)"

T=$(mktemp -d /tmp/smtpsend-bench.XXXXXX)
chmod 755 "$T"          # postfix must traverse it
CONF=$T/etc SPOOL=$T/spool MAILLOG=$T/maillog

stop_postfix() {
    local pid
    [[ -s $SPOOL/pid/master.pid ]] || return 0
    pid=$(awk '{print $1; exit}' "$SPOOL/pid/master.pid")
    postfix -c "$CONF" stop >/dev/null 2>&1 || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    postfix -c "$CONF" abort >/dev/null 2>&1 || kill -9 "$pid" 2>/dev/null || true
}

# Bench 7's servers: tests/oauth2/run.sh --serve, whose own exit trap stops oidc-provider,
# Dovecot and its Postfix and removes its temporary directory.
OAUTH2_SERVE=
stop_oauth2_servers() {
    [[ -n $OAUTH2_SERVE ]] || return 0
    kill -TERM "$OAUTH2_SERVE" 2>/dev/null || true
    wait "$OAUTH2_SERVE" 2>/dev/null || true
    OAUTH2_SERVE=
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n ${SERVE_SLEEP:-} ]]; then kill "$SERVE_SLEEP" 2>/dev/null || true; fi
    if [[ -n ${DRIVER:-} ]]; then kill "$DRIVER" 2>/dev/null || true; wait "$DRIVER" 2>/dev/null || true; fi
    stop_postfix
    stop_oauth2_servers
    if [[ ${BENCH_KEEP:-} == 1 ]]; then
        echo "# kept $T" >&2
    else
        rm -rf "$T"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Packages: only what is missing
# ---------------------------------------------------------------------------------------------
PACKAGES=(msmtp curl postfix sasl2-bin libsasl2-modules openssl time jq)
# msmtpd, bench 8's relay that keeps nothing, is a package of its own from Debian 13 on;
# Debian 12's msmtp has none, and bench 8 says so.
if apt-cache show msmtpd >/dev/null 2>&1; then PACKAGES+=(msmtpd); fi
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "# installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    {
        echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections &&
        apt-get update &&
        apt-get install -y --no-install-recommends "${missing[@]}"
    } >"$T/apt.log" 2>&1 </dev/null || { tail -n 30 "$T/apt.log" >&2; die "apt-get install failed"; }
fi
command -v python3 >/dev/null || die "python3 is needed"

# ---------------------------------------------------------------------------------------------
# The binary under test
# ---------------------------------------------------------------------------------------------
if [[ -n ${SMTPSEND:-} ]]; then
    BIN=$SMTPSEND
    case $BIN in /*) ;; *) BIN=$REPO/$BIN ;; esac
    [[ -x $BIN ]] || die "SMTPSEND=$SMTPSEND is not an executable file"
elif [[ $MODE == bench ]]; then
    echo "# cargo build --release" >&2
    cargo build --release --quiet >"$T/cargo.log" 2>&1 || { tail -n 40 "$T/cargo.log" >&2; die "cargo build --release failed"; }
    BIN=$REPO/target/release/smtpsend
else
    BIN=$REPO/target/release/smtpsend
fi

# ---------------------------------------------------------------------------------------------
# The private Postfix instance: a throwaway CA, sasldb with one user, everything discarded
# ---------------------------------------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for port in "$SUB_PORT" "$SMTPS_PORT" "$PROXY_SUB_PORT" "$PROXY_SMTPS_PORT" "$CLOSED_PORT" \
    "$PLAIN_PORT" "$RELAY_PORT" "$MSMTPD_PORT"; do
    port_in_use "$port" && die "127.0.0.1:$port is in use (set BENCH_PORT_BASE)"
done

mkdir -p "$T/tls" "$CONF/sasl" "$SPOOL" "$T/data"
cat >"$T/tls/server.ext" <<'EOT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOT
{
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$T/tls/ca.key" -out "$T/tls/ca.pem" -days 2 \
        -subj "/CN=smtpsend throwaway benchmark CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$T/tls/server.key" -out "$T/tls/server.csr" -subj "/CN=localhost" &&
    openssl x509 -req -in "$T/tls/server.csr" -CA "$T/tls/ca.pem" -CAkey "$T/tls/ca.key" \
        -CAcreateserial -days 2 -extfile "$T/tls/server.ext" -out "$T/tls/server.pem"
} >"$T/openssl.log" 2>&1 || { cat "$T/openssl.log" >&2; die "creating certificates failed"; }
chmod 600 "$T/tls/ca.key" "$T/tls/server.key"
CA=$T/tls/ca.pem

cat >"$CONF/sasl/smtpd.conf" <<EOT
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $CONF/sasl/sasldb2
EOT
PASSWORD=$(openssl rand -hex 12)
printf '%s' "$PASSWORD" | saslpasswd2 -p -c -f "$CONF/sasl/sasldb2" -u "$REALM" "$USER_NAME" \
    >"$T/saslpasswd.log" 2>&1 || { cat "$T/saslpasswd.log" >&2; die "saslpasswd2 failed"; }
chgrp postfix "$CONF/sasl/sasldb2"
chmod 640 "$CONF/sasl/sasldb2"
chown postfix:postfix "$T/data"
chmod 700 "$T/data"

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

# A sink: no local domains, every recipient goes to the discard transport.
mydestination =
relay_domains =
local_recipient_maps =
default_transport = discard:sink
transport_maps = static:discard:sink

# Nothing that slows one client down more than another: no flow-control pauses, no reverse DNS,
# no penalty for many transactions (RSET is a "junk" command) or many recipients on a connection.
in_flow_delay = 0
smtpd_peername_lookup = no
smtpd_junk_command_limit = 100000
smtpd_recipient_limit = 10000
smtpd_soft_error_limit = 10000
smtpd_hard_error_limit = 10000
message_size_limit = 524288000
smtpd_tls_chain_files = $T/tls/server.key, $T/tls/server.pem
smtpd_tls_loglevel = 0

smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $CONF/sasl
smtpd_sasl_local_domain = $REALM
smtpd_relay_restrictions = permit_sasl_authenticated, reject
EOT

cat >"$CONF/master.cf" <<EOT
127.0.0.1:$SUB_PORT inet n - n - - smtpd
  -o syslog_name=postfix-bench/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
127.0.0.1:$SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=postfix-bench/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
127.0.0.1:$PLAIN_PORT inet n - n - - smtpd
  -o syslog_name=postfix-bench/plain
  -o smtpd_relay_restrictions=permit_mynetworks,reject
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
proxywrite unix      - - n -    1 proxymap
showq     unix       n - n -    - showq
error     unix       - - n -    - error
retry     unix       - - n -    - error
discard   unix       - - n -    - discard
anvil     unix       - - n -    1 anvil
scache    unix       - - n -    1 scache
postlog   unix-dgram n - n -    1 postlogd
EOT

postfix -c "$CONF" check >"$T/postfix-start.log" 2>&1 || { cat "$T/postfix-start.log" >&2; die "postfix check failed"; }
postfix -c "$CONF" start >>"$T/postfix-start.log" 2>&1 || { cat "$T/postfix-start.log" >&2; die "postfix start failed"; }
for port in "$SUB_PORT" "$SMTPS_PORT" "$PLAIN_PORT"; do
    for _ in $(seq 100); do port_in_use "$port" && continue 2; sleep 0.1; done
    cat "$T/postfix-start.log" "$MAILLOG" >&2 2>/dev/null || true
    die "Postfix is not listening on 127.0.0.1:$port"
done

if [[ $MODE == serve ]]; then
    cat <<EOT
Postfix (discarding everything) is running from $T
  STARTTLS: 127.0.0.1:$SUB_PORT    implicit TLS: 127.0.0.1:$SMTPS_PORT
  CA: $CA    user: $USER_NAME    password: $PASSWORD
  log: $MAILLOG
Ctrl-C stops it and removes $T.
EOT
    while :; do sleep 3600 & SERVE_SLEEP=$!; wait "$SERVE_SLEEP" || true; done
fi

# ---------------------------------------------------------------------------------------------
# Bench 7: the OAuth2 tier's servers (oidc-provider; Postfix with Dovecot introspecting every
# token, and AUTH PLAIN from a passwd-file for the password row), started by the tier itself
# ---------------------------------------------------------------------------------------------
OAUTH2_STATE=null
if [[ ,$ONLY, == *,7,* ]]; then
    echo "# starting the OAuth2 tier's servers (tests/oauth2/run.sh --serve)" >&2
    OAUTH2_PASSWORD=$(openssl rand -hex 12)
    OAUTH2_SERVE_STATE=$T/oauth2-servers.json OAUTH2_TEST_PLAIN_PASSWORD=$OAUTH2_PASSWORD \
        "$REPO/tests/oauth2/run.sh" --serve >"$T/oauth2-serve.log" 2>&1 </dev/null &
    OAUTH2_SERVE=$!
    for _ in $(seq 1200); do
        [[ -s $T/oauth2-servers.json ]] && break
        kill -0 "$OAUTH2_SERVE" 2>/dev/null || break
        sleep 0.1
    done
    if [[ ! -s $T/oauth2-servers.json ]]; then
        tail -n 40 "$T/oauth2-serve.log" >&2
        die "the OAuth2 tier's servers did not start"
    fi
    OAUTH2_STATE=$(jq -c --arg password "$OAUTH2_PASSWORD" '. + {password: $password}' \
        "$T/oauth2-servers.json")
fi

# ---------------------------------------------------------------------------------------------
# The benches (bench.py does the runs, the statistics and the tables)
# ---------------------------------------------------------------------------------------------
# A --quick run is a smoke test: its numbers go to stdout only, unless BENCH_OUT says where.
OUT=${BENCH_OUT:-$HERE/results.md}
[[ " ${BENCH_ARGS[*]} " == *" --quick "* && -z ${BENCH_OUT:-} ]] && OUT=
cat >"$T/state.json" <<EOT
{
  "repo": "$REPO",
  "tmp": "$T",
  "smtpsend": "$BIN",
  "ca": "$CA",
  "user": "$USER_NAME",
  "password": "$PASSWORD",
  "host": "127.0.0.1",
  "sub_port": $SUB_PORT,
  "smtps_port": $SMTPS_PORT,
  "proxy_sub_port": $PROXY_SUB_PORT,
  "proxy_smtps_port": $PROXY_SMTPS_PORT,
  "closed_port": $CLOSED_PORT,
  "plain_port": $PLAIN_PORT,
  "relay_port": $RELAY_PORT,
  "msmtpd_port": $MSMTPD_PORT,
  "spool": "$SPOOL",
  "maillog": "$MAILLOG",
  "postfix_version": "$(postconf -d -h mail_version 2>/dev/null)",
  "out": "$OUT",
  "runs_scale": ${BENCH_RUNS_SCALE:-1},
  "oauth2": $OAUTH2_STATE
}
EOT
chmod 600 "$T/state.json"
python3 -B "$HERE/bench.py" "$T/state.json" "${BENCH_ARGS[@]}" &
DRIVER=$!
wait "$DRIVER"
