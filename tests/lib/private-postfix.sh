# shellcheck shell=bash
# Shared by the real-server tiers (tests/postfix, oauth2, dovecot ...): the tier's
# environment, its exit trap, setup failures, packages, ports, certificates and the parts of a
# private Postfix instance (delivering everything to tests/postfix/recorder.sh) that both run
# alike. Sourced, not run; each tier keeps its own specifics (SASL, extra listeners, scenarios).
#
# A tier sets REPO (the repository root) before sourcing this, then T, CONF, SPOOL, OUT,
# MAILLOG, REALM and SUB_PORT before calling what uses them, and defines two hooks:
# stop_servers (what it started besides Postfix, for the exit trap) and setup_logs (its logs,
# for a setup failure).

# tier_environment: BIN from SMTPSEND (default target/debug/smtpsend, made absolute against
# REPO); the sbin directories on PATH, LC_ALL=C.UTF-8, umask 022 (Postfix's daemons and the
# recorder, as nobody, must read what the tier writes); no SMTPSEND* variable left, so every
# run starts from none of them. Uses SMTPSEND, REPO; sets BIN.
tier_environment() {
    local var
    BIN=${SMTPSEND:-target/debug/smtpsend}
    case $BIN in /*) ;; *) BIN=$REPO/$BIN ;; esac
    export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
    export LC_ALL=C.UTF-8
    umask 022
    while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^SMTPSEND' || true)
}

# stop_job VAR: kill the background process whose pid the variable named VAR holds, wait for it
# and empty VAR; nothing when VAR is empty. Uses only VAR.
stop_job() {
    local -n job_pid=$1
    [[ -n ${job_pid:-} ]] || return 0
    kill "$job_pid" 2>/dev/null || true
    wait "$job_pid" 2>/dev/null || true
    job_pid=
}

# stop_postfix: stop the private instance if its master is running (postfix stop, up to 5 s,
# then abort or kill -9). Uses CONF, SPOOL.
stop_postfix() {
    local pid
    [[ -s $SPOOL/pid/master.pid ]] || return 0
    pid=$(awk '{print $1; exit}' "$SPOOL/pid/master.pid")
    postfix -c "$CONF" stop >/dev/null 2>&1 || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        postfix -c "$CONF" abort >/dev/null 2>&1 || kill -9 "$pid" 2>/dev/null || true
    fi
}

# stop_dovecot DIR: stop the private Dovecot whose base_dir is DIR/run, if its master runs
# (TERM, then up to 5 s for it to go). Uses only DIR.
stop_dovecot() {
    local pid
    [[ -s $1/run/master.pid ]] || return 0
    pid=$(cat "$1/run/master.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

# write_dovecot_auth_conf NAME MECHANISMS PASSDBS: $DV/dovecot.conf for a private Dovecot that
# only authenticates, for Postfix through the socket $DV/auth-postfix: its own base_dir,
# state_dir and log in $DV, instance NAME, auth_mechanisms MECHANISMS, the passdb blocks
# PASSDBS (text), a static userdb; refusals answer at once (the default waits 2 s), so the
# scenarios stay quick. Uses DV.
write_dovecot_auth_conf() {
    mkdir -p "$DV/run" "$DV/state"
    cat >"$DV/dovecot.conf" <<EOF
# Authentication only: Postfix asks it through $DV/auth-postfix.
base_dir = $DV/run
state_dir = $DV/state
instance_name = $1
protocols =
listen = 127.0.0.1
log_path = $DV/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = $2
auth_verbose = yes
auth_failure_delay = 0
$3
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
EOF
}

# start_dovecot_auth: start the Dovecot of $DV/dovecot.conf and wait up to 5 s for its auth
# socket; setup_failed when it does not come. Uses DV, T.
start_dovecot_auth() {
    local log=$T/dovecot-start.log
    dovecot -c "$DV/dovecot.conf" >"$log" 2>&1 || setup_failed "dovecot did not start" "$log"
    for _ in $(seq 50); do [[ -S $DV/auth-postfix ]] && return 0; sleep 0.1; done
    setup_failed "dovecot made no auth socket" "$DV/dovecot.log"
}

# write_dovecot_sasl_main_cf: append to $CONF/main.cf SASL by the Dovecot of
# write_dovecot_auth_conf, and relaying for authenticated clients only. Uses CONF, DV.
write_dovecot_sasl_main_cf() {
    cat >>"$CONF/main.cf" <<EOF

# SASL by Dovecot.
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DV/auth-postfix
smtpd_relay_restrictions = permit_sasl_authenticated, reject
EOF
}

# cleanup (the exit trap): stop the --serve sleep, the tier's other servers (stop_servers) and
# Postfix; remove T unless KEEP is 1 (then print its path); exit with the tier's status.
# Uses SERVE_SLEEP, KEEP, T.
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n ${SERVE_SLEEP:-} ]]; then kill "$SERVE_SLEEP" 2>/dev/null || true; fi
    stop_servers
    stop_postfix
    if [[ ${KEEP:-} == 1 ]]; then
        echo "# kept $T" >&2
    else
        rm -rf "$T"
    fi
    exit "$rc"
}

# trap_cleanup: run cleanup on exit; Ctrl-C exits 130, TERM 143 (through cleanup). Uses nothing.
trap_cleanup() {
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# indent: stdin to stdout, each line behind "#   " (the report's detail lines). Uses nothing.
indent() { sed 's/^/#   /'; }

# show_log LABEL FILE LINES: "# LABEL:" and FILE's last LINES lines, indented; nothing when FILE
# is empty or missing. Uses nothing.
show_log() {
    if [[ -s $2 ]]; then echo "# $1:"; tail -n "$3" "$2" | indent; fi
}

# setup_failed REASON [LOG]: print "not ok - setup: REASON", LOG's last 60 lines, the tier's own
# logs (setup_logs), a closing "0 passed, 1 failed", and exit 1. Uses nothing else.
setup_failed() {
    echo "not ok - setup: $1"
    if [[ -n ${2:-} && -s $2 ]]; then tail -n 60 "$2" | indent; fi
    setup_logs
    echo "0 passed, 1 failed"
    exit 1
}

# install_packages [EXTRA...]: apt-get install those of PACKAGES that dpkg does not list as
# installed, and EXTRA as given (Postfix preseeded to "No configuration", no recommends);
# setup_failed when some are missing and this is not root, or apt-get fails. Uses PACKAGES, T.
# shellcheck disable=SC2120  # EXTRA is optional
install_packages() {
    local missing=() pkg
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    missing+=("$@")
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

# start_dnsmasq RECORD...: dnsmasq on 127.0.0.1:53, answering for .test alone from the
# RECORD lines (srv-host=, host-record=, txt-record=, as dnsmasq.conf writes them) and logging
# each query to $T/dnsmasq.log; $T/resolv.conf names it, for a private mount namespace's
# /etc/resolv.conf. The caller checks first that port 53 is free. Uses T; sets DNS_PID.
start_dnsmasq() {
    {
        cat <<EOF
port=53
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
local=/test/
log-queries
log-facility=$T/dnsmasq.log
EOF
        printf '%s\n' "$@"
    } >"$T/dnsmasq.conf"
    dnsmasq --keep-in-foreground --conf-file="$T/dnsmasq.conf" --pid-file="$T/dnsmasq.pid" \
        --user=root 2>>"$T/dnsmasq.log" &
    # shellcheck disable=SC2034  # the tier's stop_servers stops it by name (stop_job)
    DNS_PID=$!
    echo "nameserver 127.0.0.1" >"$T/resolv.conf"
}

# enter_namespaces FLAG UNSHARE_ARGS ARG...: for a tier that runs in namespaces of its own.
# Outside them (FLAG, a variable name, unset): be root, install PACKAGES from the machine's
# network, then run the tier ("$0" ARG...) again under `unshare UNSHARE_ARGS` with FLAG=1.
# Inside (FLAG set): unset FLAG and return. Uses PACKAGES.
enter_namespaces() {
    local flag=$1 unshare_args=$2
    shift 2
    if [[ -n ${!flag:-} ]]; then
        unset "$flag"
        return 0
    fi
    # shellcheck disable=SC2317  # called by setup_failed
    stop_servers() { :; }
    setup_logs() { :; }
    [[ $(id -u) == 0 ]] || setup_failed "must run as root (namespaces, Postfix, packages)"
    T=$(mktemp -d /tmp/smtpsend-setup.XXXXXX)
    trap 'rm -rf "$T"' EXIT
    # shellcheck disable=SC2119  # no extra packages
    install_packages
    rm -rf "$T"
    trap - EXIT
    # shellcheck disable=SC2086  # the unshare arguments are words
    exec unshare $unshare_args env "$flag=1" "$0" "$@"
}

# port_in_use PORT: true when something on 127.0.0.1 accepts connections on PORT. Uses nothing.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port [TAKEN...]: print a port nothing on 127.0.0.1 listens on, other than TAKEN (fixed
# ports collide with whatever else a machine runs); false after 100 tries. Uses nothing.
free_port() {
    local port taken
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 40000))
        for taken in "$@"; do [[ $port == "$taken" ]] && continue 2; done
        port_in_use "$port" || { echo "$port"; return 0; }
    done
    return 1
}

# make_certificates: a throwaway CA and a server certificate for localhost and 127.0.0.1 (and
# EXTRA_NAMES, e.g. "DNS:mail.x.test, DNS:y.test", when set) (P-256, two days) in $T/tls
# (server.key, server.pem); setup_failed when openssl fails. Uses T, EXTRA_NAMES; sets CA (the
# CA certificate's path).
make_certificates() {
    local d=$T/tls log=$T/openssl.log
    mkdir -p "$d"
    cat >"$d/server.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1${EXTRA_NAMES:+, $EXTRA_NAMES}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
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
    chmod 600 "$d/ca.key" "$d/server.key"   # smtpd reads its key as root, before dropping privileges
    # shellcheck disable=SC2034  # CA is for the tier
    CA=$d/ca.pem
}

# make_sasldb: a cyrus sasldb with USER_NAME in REALM and a fresh random PASSWORD, PLAIN and LOGIN
# only, in $CONF/sasl: Debian's Postfix looks for smtpd.conf in $config_directory/sasl whatever
# cyrus_sasl_config_path says, so the SASL files live there (and cyrus_sasl_config_path points
# there too). Uses CONF, REALM, USER_NAME, T; sets PASSWORD.
make_sasldb() {
    mkdir -p "$CONF/sasl"
    cat >"$CONF/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $CONF/sasl/sasldb2
EOF
    PASSWORD=$(openssl rand -base64 24 | tr -d '/+=\n' | cut -c1-24)
    printf '%s' "$PASSWORD" | saslpasswd2 -p -c -f "$CONF/sasl/sasldb2" -u "$REALM" "$USER_NAME" \
        >"$T/saslpasswd.log" 2>&1 || setup_failed "saslpasswd2 failed" "$T/saslpasswd.log"
    chgrp postfix "$CONF/sasl/sasldb2"
    chmod 640 "$CONF/sasl/sasldb2"
}

# write_postfix_base: the instance's directories (the queue, Postfix's data, OUT for the
# recorder, which runs as nobody), the recorder in $T/bin, and the part of $CONF/main.cf both
# tiers share: local only, everything to the recorder, no header added or rewritten, the TLS
# key and certificate. The tier appends its SASL and restrictions. Uses REPO, T, CONF, SPOOL,
# OUT, MAILLOG, REALM.
write_postfix_base() {
    mkdir -p "$CONF" "$SPOOL" "$T/data" "$OUT" "$T/bin"
    chown postfix:postfix "$T/data"
    chmod 700 "$T/data"
    chown nobody "$OUT"
    chmod 755 "$OUT"
    install -m 755 "$REPO/tests/postfix/recorder.sh" "$T/bin/recorder.sh"
    cat >"$CONF/main.cf" <<EOF
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

# Deliver everything to the recorder, one recipient per delivery; no local domains.
mydestination =
relay_domains =
local_recipient_maps =
transport_maps = static:recorder:all
recorder_destination_recipient_limit = 1

# Don't add or rewrite headers: the tests must see what the client sent.
always_add_missing_headers = no
local_header_rewrite_clients =
remote_header_rewrite_domain =
smtpd_sasl_authenticated_header = no
smtpd_tls_received_header = no

# TLS (the security level and wrapper mode are set per port in master.cf).
smtpd_tls_chain_files = $T/tls/server.key, $T/tls/server.pem
EOF
}

# write_master_cf SYSLOG_NAME: $CONF/master.cf with the STARTTLS submission port on
# 127.0.0.1:$SUB_PORT (TLS required before AUTH, only authenticated clients relay; logging as
# SYSLOG_NAME/submission), Postfix's own services and the recorder pipe. The tier appends any
# other listener. Uses CONF, SUB_PORT, T, OUT.
write_master_cf() {
    cat >"$CONF/master.cf" <<EOF
127.0.0.1:$SUB_PORT inet n - n - - smtpd
  -o syslog_name=$1/submission
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
proxywrite unix      - - n -    1 proxymap
showq     unix       n - n -    - showq
error     unix       - - n -    - error
retry     unix       - - n -    - error
discard   unix       - - n -    - discard
anvil     unix       - - n -    1 anvil
scache    unix       - - n -    1 scache
postlog   unix-dgram n - n -    1 postlogd
recorder  unix       - n n -    - pipe
  user=nobody argv=$T/bin/recorder.sh $OUT \${sender} \${queue_id} \${recipient}
EOF
}

# write_sasl_main_cf: append to $CONF/main.cf SASL by the cyrus sasldb make_sasldb writes (the
# login name is the bare user; the realm comes from here), and relaying for authenticated
# clients only. Uses CONF, REALM.
write_sasl_main_cf() {
    cat >>"$CONF/main.cf" <<EOF

# SASL via cyrus sasldb. The login name is the bare user; the realm comes from here.
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $CONF/sasl
smtpd_sasl_local_domain = $REALM

smtpd_relay_restrictions = permit_sasl_authenticated, reject
EOF
}

# write_smtps_listener SYSLOG_NAME: append to $CONF/master.cf the implicit-TLS port on
# 127.0.0.1:$SMTPS_PORT (AUTH, only authenticated clients relay; logging as SYSLOG_NAME/smtps).
# Uses CONF, SMTPS_PORT.
write_smtps_listener() {
    cat >>"$CONF/master.cf" <<EOF
127.0.0.1:$SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=$1/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
EOF
}

# start_postfix PORT...: postfix check and start, then wait up to 10 s for each PORT on
# 127.0.0.1 to listen; setup_failed (with $T/postfix-start.log) when any of it fails. Uses CONF, T.
start_postfix() {
    local port log=$T/postfix-start.log
    postfix -c "$CONF" check >"$log" 2>&1 || setup_failed "postfix check failed" "$log"
    postfix -c "$CONF" start >>"$log" 2>&1 || setup_failed "postfix start failed" "$log"
    for port in "$@"; do
        for _ in $(seq 100); do port_in_use "$port" && continue 2; sleep 0.1; done
        setup_failed "Postfix is not listening on 127.0.0.1:$port" "$log"
    done
}
