#!/usr/bin/env bash
# Second test tier: the real smtpsend binary against a real, private Postfix instance.
#
#   tests/postfix/run.sh            run every scenario; prints "ok - NAME" / "not ok - NAME: reason"
#                                   and a closing "N passed, M failed"; exits non-zero on any failure
#   tests/postfix/run.sh --serve    only start the instance and print how to reach it (Ctrl-C stops it)
#
# Needs root (it installs postfix, sasl2-bin, libsasl2-modules, openssl, for the keyring
# scenarios gnome-keyring, dbus-daemon and libsecret-tools, and for the sendmail scenarios s-nail,
# and git and git-email when no git on PATH has send-email, with apt-get when they are missing;
# and Postfix must be started as root). It never touches the system's /etc/postfix instance nor
# anyone's keyring: everything lives in a fresh temporary directory that is removed on exit.
#
# The keyring-* scenarios run smtpsend login/logout and sends against a real Secret Service:
# keyring.sh runs them inside one `dbus-run-session` with gnome-keyring and a throwaway login
# keyring; keyring-absent and keyring-unresponsive run without a bus, and with one that never
# answers.
#
# The sendmail-* scenarios, git-send-email and s-nail run smtpsend as a /usr/sbin/sendmail
# drop-in (`smtpsend sendmail`, or a symlink named sendmail) from a configuration file with an
# aliases file, fed by hand and by real callers: cron's flags and messages, git send-email,
# s-nail.
#
# Environment:
#   SMTPSEND                       binary under test (default target/debug/smtpsend; built if missing)
#   POSTFIX_TEST_SUBMISSION_PORT   STARTTLS submission port on 127.0.0.1 (default: a free one)
#   POSTFIX_TEST_SMTPS_PORT        implicit-TLS port on 127.0.0.1 (default: a free one)
#   POSTFIX_TEST_SEVEN_BIT_PORT    STARTTLS submission port that offers neither 8BITMIME nor
#                                  SMTPUTF8 (default: a free one)
#   POSTFIX_TEST_FEW_RCPT_PORT     STARTTLS submission port that takes two recipients per
#                                  transaction (default: a free one)
#   POSTFIX_TEST_CLIENT_CERT_PORT  STARTTLS port that requires a client certificate the test CA
#                                  signed and relays for it without AUTH (default: a free one)
#   POSTFIX_TEST_KEEP=1            keep the temporary directory (its path is printed)
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)
HERE=$REPO/tests/postfix
# The exit trap, setup failures, packages, ports, certificates and the Postfix instance's
# common parts, shared with tests/oauth2/run.sh.
# shellcheck source=tests/lib/private-postfix.sh disable=SC1091
source "$REPO/tests/lib/private-postfix.sh"
SUB_PORT=${POSTFIX_TEST_SUBMISSION_PORT:-}
SMTPS_PORT=${POSTFIX_TEST_SMTPS_PORT:-}
SEVEN_BIT_PORT=${POSTFIX_TEST_SEVEN_BIT_PORT:-}
FEW_RCPT_PORT=${POSTFIX_TEST_FEW_RCPT_PORT:-}
CLIENT_CERT_PORT=${POSTFIX_TEST_CLIENT_CERT_PORT:-}
MODE=${1:-test}
tier_environment        # BIN; PATH, LC_ALL, umask; no SMTPSEND* variables

USER_NAME=alice
REALM=smtpsend.test
DELIVERY_TIMEOUT=20     # seconds to wait for the queue to drain after each client run
CLIENT_TIMEOUT=60       # seconds before a hanging smtpsend is killed

T=$(mktemp -d /tmp/smtpsend-postfix.XXXXXX)
chmod 755 "$T"          # postfix (smtpd, sasldb) and nobody (recorder) must traverse it
CONF=$T/etc SPOOL=$T/spool OUT=$T/deliveries FILES=$T/files RUNS=$T/runs
MAILLOG=$T/maillog
KEEP=${POSTFIX_TEST_KEEP:-}   # cleanup keeps $T when 1

# For cleanup (lib/private-postfix.sh), before it stops Postfix: the keyring scenarios' silent bus.
stop_servers() {
    if [[ -n ${SILENT_BUS:-} ]]; then kill "$SILENT_BUS" 2>/dev/null || true; fi
}
trap_cleanup

# For setup_failed (lib/private-postfix.sh): the end of Postfix's log.
setup_logs() { show_log maillog "$MAILLOG" 60; }

# ---------------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------------
# Postfix and its SASL database; gnome-keyring (a real Secret Service), dbus-daemon for
# dbus-run-session and dbus-send, libsecret-tools for secret-tool; s-nail, a mailx that hands
# its mail to a sendmail. git send-email is checked for separately (git_with_send_email).
# python3 runs check.py. Every package a test needs is named here: git-email only recommends
# libmailtools-perl, yet git send-email cannot parse an address without its Mail::Address.
PACKAGES=(postfix sasl2-bin libsasl2-modules openssl gnome-keyring dbus-daemon libsecret-tools
    s-nail python3 libmailtools-perl)

# PACKAGES, and git-email (and git) when no git here has send-email: Debian's git has
# send-email only with git-email installed; a git of its own on PATH may have it already.
install_tier_packages() {
    local git_packages=()
    if ! git_with_send_email >/dev/null; then
        command -v git >/dev/null || git_packages+=(git)
        git_packages+=(git-email)
    fi
    install_packages "${git_packages[@]}"
}

# The git that has send-email: the one on PATH, else Debian's (where git-email puts it).
git_with_send_email() {
    local git
    for git in "$(command -v git || true)" /usr/bin/git; do
        [[ -x $git ]] || continue
        if GIT_CONFIG_NOSYSTEM=1 HOME=$T "$git" send-email --dump-aliases \
            </dev/null >/dev/null 2>&1; then
            echo "$git"
            return 0
        fi
    done
    return 1
}

# ---------------------------------------------------------------------------------------------
# The private Postfix instance
# ---------------------------------------------------------------------------------------------
pick_ports() {
    [[ -n $SUB_PORT ]] || SUB_PORT=$(free_port) || setup_failed "no free port on 127.0.0.1"
    [[ -n $SMTPS_PORT ]] || SMTPS_PORT=$(free_port "$SUB_PORT") ||
        setup_failed "no free port on 127.0.0.1"
    [[ -n $SEVEN_BIT_PORT ]] || SEVEN_BIT_PORT=$(free_port "$SUB_PORT" "$SMTPS_PORT") ||
        setup_failed "no free port on 127.0.0.1"
    [[ -n $FEW_RCPT_PORT ]] ||
        FEW_RCPT_PORT=$(free_port "$SUB_PORT" "$SMTPS_PORT" "$SEVEN_BIT_PORT") ||
        setup_failed "no free port on 127.0.0.1"
    [[ -n $CLIENT_CERT_PORT ]] ||
        CLIENT_CERT_PORT=$(free_port "$SUB_PORT" "$SMTPS_PORT" "$SEVEN_BIT_PORT" "$FEW_RCPT_PORT") ||
        setup_failed "no free port on 127.0.0.1"
}

# The common directories and main.cf (write_postfix_base), then this tier's: the refused
# address, the Bcc header check, SASL by cyrus sasldb, the implicit-TLS port, and a submission
# port whose EHLO offers neither 8BITMIME nor SMTPUTF8, as an old or strict server's does, and
# one that takes two recipients per transaction and answers the rest 452 4.5.3.
write_config() {
    write_postfix_base
    # The one address refused at RCPT time, after authentication has succeeded.
    printf '%s\n' 'refused@example.net 550 5.1.1 refused by test policy' \
        >"$CONF/refused"
    # Postfix's cleanup drops Bcc headers from what it receives; header_checks run first, so a
    # Bcc header the client wrongly sent survives under another name for the checker to see.
    # shellcheck disable=SC2016  # ${1} and ${2} are for Postfix
    printf '%s\n' '/^(Resent-)?Bcc:(.*)$/ REPLACE X-Test-Client-Sent-${1}Bcc:${2}' >"$CONF/header_checks"

    cat >>"$CONF/main.cf" <<EOF
smtpd_tls_loglevel = 1

# Bcc headers renamed (see header_checks above).
header_checks = regexp:$CONF/header_checks

smtpd_recipient_restrictions = check_recipient_access texthash:$CONF/refused
EOF
    write_sasl_main_cf

    write_master_cf postfix-test
    write_smtps_listener postfix-test
    cat >>"$CONF/master.cf" <<EOF
127.0.0.1:$SEVEN_BIT_PORT inet n - n - - smtpd
  -o syslog_name=postfix-test/seven-bit
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_discard_ehlo_keywords=8bitmime,smtputf8
127.0.0.1:$FEW_RCPT_PORT inet n - n - - smtpd
  -o syslog_name=postfix-test/few-rcpt
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_limit=2
# A public (column 2: n) unix service: the socket is $SPOOL/public/smtpsend-submission.
smtpsend-submission unix n - n - - smtpd
  -o syslog_name=postfix-test/unix-socket
  -o smtpd_tls_security_level=none
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=no
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
EOF
    write_client_cert_listener
}

# Both ports must be free before Postfix starts (one given in the environment may be taken).
check_ports_free() {
    local port
    for port in "$SUB_PORT" "$SMTPS_PORT" "$SEVEN_BIT_PORT" "$FEW_RCPT_PORT" "$CLIENT_CERT_PORT"; do
        if port_in_use "$port"; then
            setup_failed "127.0.0.1:$port is already in use (set POSTFIX_TEST_SUBMISSION_PORT / POSTFIX_TEST_SMTPS_PORT / POSTFIX_TEST_SEVEN_BIT_PORT / POSTFIX_TEST_FEW_RCPT_PORT / POSTFIX_TEST_CLIENT_CERT_PORT)"
        fi
    done
}

setup_postfix() {
    [[ $(id -u) == 0 ]] || setup_failed "must run as root (it starts Postfix, and may install packages)"
    install_tier_packages
    make_certificates
    make_client_certificate
    make_sasldb
    pick_ports
    write_config
    check_ports_free
    start_postfix "$SUB_PORT" "$SMTPS_PORT" "$SEVEN_BIT_PORT" "$FEW_RCPT_PORT" "$CLIENT_CERT_PORT"
}

# ---------------------------------------------------------------------------------------------
# Delivery bookkeeping
# ---------------------------------------------------------------------------------------------
# queue_files, wait_for_queue and run_client live in lib.sh, which keyring.sh shares.
# shellcheck source=tests/postfix/lib.sh disable=SC1091
source "$HERE/lib.sh"

# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------
PASSED=0 FAILED=0 FAILED_NAMES=()

make_fixtures() {
    mkdir -p "$FILES" "$RUNS" "$T/xdg/config" "$T/xdg/data" "$T/xdg/state" "$T/xdg/cache"
    cat >"$FILES/page.html" <<'EOF'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Grüße</title></head>
<body>
<p>Grüße – a test ✓</p>
<p>Ünïcode &amp; <b>bold</b> text.</p>
.a line that starts with a dot
</body></html>
EOF
    { printf '%%PDF-1.4\n'; head -c 6000 /dev/urandom; printf '\n%%%%EOF\n'; } >"$FILES/file with spaces.pdf"
    {
        printf 'naïve résumé ✓\nZweite Zeile mit Ümlauten: äöü ß\n.a dot at the start\n'
        printf 'From the start of a line\n'
        for _ in $(seq 150); do printf 'é-long-line-'; done   # one 1950-octet line
        printf '\nlast line without trailing newline: ✓'
    } >"$FILES/naïve-résumé.txt"
    printf '%s\n' "$PASSWORD" >"$FILES/password"
    chmod 600 "$FILES/password"
    WRONG_PASSWORD="wrong-$(openssl rand -hex 8)"
}

# check NAME: ask check.py about NAME (one run in $RUNS/NAME, or one per step in
# $RUNS/NAME/STEP), print the TAP-like line.
check() {
    local name=$1 dir=$RUNS/$1 result stuck
    stuck=$(find "$dir" -name queue-stuck 2>/dev/null | head -n 1)
    if [[ ! -d $dir ]]; then
        result="it did not run"
    elif [[ -n $stuck ]]; then
        result="Postfix's queue did not drain within ${DELIVERY_TIMEOUT}s; last log lines:
$(cat "$stuck")"
    else
        result=$(CHECK_PASSWORD=$PASSWORD CHECK_WRONG_PASSWORD=$WRONG_PASSWORD \
            CHECK_USER=$USER_NAME CHECK_FILES=$FILES \
            python3 -B "$HERE/check.py" "$name" "$dir" 2>&1) || true
    fi
    conclude "$name" "$result" "$dir"
}

# conclude NAME RESULT [DIR]: "ok - NAME" when RESULT is "ok", else "not ok - NAME: " and the
# first line of RESULT, its other lines and what each run in DIR did. Counts it either way.
conclude() {
    local name=$1 result=$2 dir=${3:-} step
    if [[ $result == ok ]]; then
        echo "ok - $name"
        PASSED=$((PASSED + 1))
        return
    fi
    echo "not ok - $name: $(head -n 1 <<<"$result")"
    tail -n +2 <<<"$result" | indent
    if [[ -f $dir/rc ]]; then
        show_run "$dir" '#   '
    elif [[ -n $dir && -d $dir ]]; then
        # The steps of the scenario, in the order they ran.
        while read -r _ step; do
            echo "#   step ${step##*/}:"
            show_run "$step" '#     '
        done < <(find "$dir" -mindepth 2 -maxdepth 2 -name rc -printf '%T@ %h\n' | sort -n)
    fi
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
}

# show_run DIR PREFIX: the command, exit code and output of one run, the passwords masked.
show_run() {
    local dir=$1 prefix=$2
    echo "${prefix}command: $(cat "$dir/cmd")"
    echo "${prefix}exit code: $(cat "$dir/rc")"
    echo "${prefix}stdout:"; head -c 4000 "$dir/stdout" | mask | awk -v p="$prefix  " '{print p $0}'
    echo "${prefix}stderr:"; head -c 4000 "$dir/stderr" | mask | awk -v p="$prefix  " '{print p $0}'
}

mask() { sed -e "s/$PASSWORD/<password>/g" -e "s/$WRONG_PASSWORD/<wrong password>/g"; }

run_scenarios() {
    local srv_sub="smtp://localhost:$SUB_PORT" srv_smtps="smtps://localhost:$SMTPS_PORT"
    local auth=(--ca-file "$CA" --user "$USER_NAME")

    # a. STARTTLS + AUTH, Unicode headers, Bcc, HTML alternative, two attachments.
    run_client starttls-full SMTPSEND_PASSWORD="$PASSWORD" -- \
        --server "$srv_sub" "${auth[@]}" \
        -f 'Ålice Ünïcode <alice@example.org>' -t 'Bob <bob@example.net>' \
        -c carol@example.net -b dave@example.net -s 'Grüße – a test ✓' \
        -m $'Body with ümlauts\n.leading dot line' --html page.html \
        -a 'file with spaces.pdf' -a 'naïve-résumé.txt' </dev/null
    check starttls-full

    # b. Implicit TLS, password from a file, body from stdin (a pipe), --json.
    # (|| true: a client that never reads stdin must not kill the script with SIGPIPE.)
    printf 'Body from stdin over implicit TLS.\n.dot line\n' |
        run_client implicit-tls-json SMTPSEND_PASSWORD_FILE="$FILES/password" -- \
            --server "$srv_smtps" "${auth[@]}" -f alice@example.org \
            -t bob@example.net -c carol@example.net -s 'Implicit TLS' --json || true
    check implicit-tls-json

    # c. The same connection spelled out.
    run_client spelled-out-flags SMTPSEND_PASSWORD="$PASSWORD" -- \
        --host localhost --port "$SUB_PORT" --tls starttls "${auth[@]}" \
        -f alice@example.org -t bob@example.net -s 'Spelled-out flags' -m 'spelled out' </dev/null
    check spelled-out-flags

    # d. Wrong password.
    run_client wrong-password SMTPSEND_PASSWORD="$WRONG_PASSWORD" -- \
        --server "$srv_sub" "${auth[@]}" \
        -f alice@example.org -t bob@example.net -s 'Wrong password' -m 'never sent' </dev/null
    check wrong-password

    # Five recipients to a server that takes two per transaction (452 4.5.3 for the rest,
    # RFC 5321 section 4.5.3.1.10): three transactions on one session, each recipient once.
    run_client recipient-limit SMTPSEND_PASSWORD="$PASSWORD" -- \
        --server "smtp://localhost:$FEW_RCPT_PORT" "${auth[@]}" -f alice@example.org \
        -t r1@example.net,r2@example.net,r3@example.net -c r4@example.net -b r5@example.net \
        -s 'Recipient limit' -m 'to five, two at a time' </dev/null
    check recipient-limit

    # SMTP on a unix socket: no TLS (nobody is between the ends), AUTH PLAIN all the same,
    # since the password never leaves the machine.
    run_client unix-socket SMTPSEND_PASSWORD="$PASSWORD" -- \
        --server "smtp+unix://$SPOOL/public/smtpsend-submission" --user "$USER_NAME" \
        -f alice@example.org -t bob@example.net -s 'Over a unix socket' -m 'by the socket' -v </dev/null
    check unix-socket
    run_client unix-socket-check SMTPSEND_PASSWORD="$PASSWORD" -- check \
        --server "smtp+unix://$SPOOL/public/smtpsend-submission" --user "$USER_NAME" </dev/null
    check unix-socket-check

    # e. One recipient refused at RCPT: nothing sent; with --allow-partial, sent to the other.
    run_client refused-recipient SMTPSEND_PASSWORD="$PASSWORD" -- \
        --server "$srv_sub" "${auth[@]}" -f alice@example.org \
        -t bob@example.net -t refused@example.net -s 'Refused recipient' -m 'not sent' </dev/null
    check refused-recipient
    run_client refused-recipient-allow-partial SMTPSEND_PASSWORD="$PASSWORD" -- \
        --server "$srv_sub" "${auth[@]}" -f alice@example.org --allow-partial \
        -t bob@example.net -t refused@example.net -s 'Allow partial' -m 'partial' </dev/null
    check refused-recipient-allow-partial

    # f. -v transcript without secrets, for each mechanism.
    local mech
    for mech in plain login; do
        run_client "verbose-$mech" SMTPSEND_PASSWORD="$PASSWORD" -- \
            --server "$srv_sub" "${auth[@]}" --auth "$mech" -v \
            -f alice@example.org -t bob@example.net -s "Verbose $mech" -m 'verbose' </dev/null
        check "verbose-$mech"
    done

    # g. The server's certificate is not trusted without --ca-file.
    run_client untrusted-certificate SMTPSEND_PASSWORD="$PASSWORD" -- \
        --server "$srv_sub" --user "$USER_NAME" \
        -f alice@example.org -t bob@example.net -s 'Untrusted' -m 'never sent' </dev/null
    check untrusted-certificate
}

# ---------------------------------------------------------------------------------------------
# TLS client certificates and public-key pins
# ---------------------------------------------------------------------------------------------
# A client certificate the test CA signs, for the port that requires one.
make_client_certificate() {
    local d=$T/tls log=$T/openssl-client.log
    printf '%s\n' 'basicConstraints = critical, CA:FALSE' \
        'keyUsage = critical, digitalSignature' 'extendedKeyUsage = clientAuth' >"$d/client.ext"
    {
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$d/client.key" -out "$d/client.csr" -subj "/CN=smtpsend test client" &&
        openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
            -CAcreateserial -days 2 -extfile "$d/client.ext" -out "$d/client.pem"
    } >"$log" 2>&1 || setup_failed "creating the client certificate failed" "$log"
    chmod 600 "$d/client.key"
    CLIENT_CERT=$d/client.pem CLIENT_KEY=$d/client.key
}

# STARTTLS required, a client certificate the test CA signed required, and relay for any such
# client without AUTH (Postfix has no SASL EXTERNAL: the certificate alone is the permission).
write_client_cert_listener() {
    cat >>"$CONF/master.cf" <<EOF
127.0.0.1:$CLIENT_CERT_PORT inet n - n - - smtpd
  -o syslog_name=postfix-test/client-cert
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_ask_ccert=yes
  -o smtpd_tls_req_ccert=yes
  -o smtpd_tls_CAfile=$CA
  -o smtpd_sasl_auth_enable=no
  -o smtpd_relay_restrictions=permit_tls_all_clientcerts,reject
EOF
}

# The pin of the server's key as openssl computes it, for check.py to compare.
server_pin() {
    openssl x509 -in "$T/tls/server.pem" -pubkey -noout | openssl pkey -pubin -outform der |
        openssl dgst -sha256 -binary | base64
}

run_tls_scenarios() {
    local msg=(-f alice@example.org -t bob@example.net)

    # The client certificate is the permission to relay; no --user, no password.
    run_client client-cert -- --server "smtp://localhost:$CLIENT_CERT_PORT" --ca-file "$CA" \
        --client-cert "$CLIENT_CERT" --client-key "$CLIENT_KEY" "${msg[@]}" \
        -s 'Client certificate' -m 'certified' </dev/null
    check client-cert
    run_client client-cert-missing -- --server "smtp://localhost:$CLIENT_CERT_PORT" \
        --ca-file "$CA" "${msg[@]}" -s 'No client certificate' -m 'never sent' </dev/null
    check client-cert-missing

    # check prints the pin; a send with it goes out (also with the pin alone, no --ca-file),
    # one with another pin sends nothing.
    local srv_smtps="smtps://localhost:$SMTPS_PORT" auth=(--user "$USER_NAME") pin
    mkdir -p "$RUNS/tls-pin"
    echo "sha256//$(server_pin)" >"$RUNS/tls-pin/openssl-pin"
    run_client tls-pin/check SMTPSEND_PASSWORD="$PASSWORD" -- \
        check --server "$srv_smtps" --ca-file "$CA" "${auth[@]}" </dev/null
    pin=$(sed -n 's|.*tls_pin = "\(sha256//[^"]*\)".*|\1|p' "$RUNS/tls-pin/check/stdout")
    run_client tls-pin/send SMTPSEND_PASSWORD="$PASSWORD" -- --server "$srv_smtps" \
        --ca-file "$CA" "${auth[@]}" --tls-pin "${pin:-none}" "${msg[@]}" -s 'Pinned' \
        -m 'pinned' </dev/null
    run_client tls-pin/pin-only SMTPSEND_PASSWORD="$PASSWORD" -- --server "$srv_smtps" \
        "${auth[@]}" --tls-pin "${pin:-none}" --tls-pin-only "${msg[@]}" -s 'Pin only' \
        -m 'pin only, no --ca-file' </dev/null
    run_client tls-pin/wrong SMTPSEND_PASSWORD="$PASSWORD" -- --server "$srv_smtps" \
        --ca-file "$CA" "${auth[@]}" \
        --tls-pin sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= "${msg[@]}" \
        -s 'Wrong pin' -m 'never sent' </dev/null
    check tls-pin
}

# ---------------------------------------------------------------------------------------------
# sendmail mode: smtpsend as /usr/sbin/sendmail, for people and for real callers
# ---------------------------------------------------------------------------------------------
# The account `relay` on the submission port, the default, with an aliases file as /etc/aliases
# would have it; the password comes from SMTPSEND_PASSWORD, as in the other non-keyring
# scenarios. A symlink named sendmail to the binary, as /usr/sbin/sendmail would be. HOME is
# throwaway too, for git and s-nail.
write_sendmail_config() {
    SM=$T/sendmail
    mkdir -p "$SM/config/smtpsend" "$SM/bin" "$SM/home"
    cat >"$SM/aliases" <<'EOF'
# /etc/aliases syntax: root's mail goes to admin, admin's to a real address.
root: admin
admin: someone@example.net
EOF
    cat >"$SM/config/smtpsend/config.toml" <<EOF
default = "relay"

[accounts.relay]
server = "smtp://localhost:$SUB_PORT"
ca_file = "$CA"
user = "$USER_NAME"
from = "alice@example.org"
aliases = "$SM/aliases"
EOF
    ln -s "$BIN" "$SM/bin/sendmail"
    SENDMAIL=$SM/bin/sendmail

    # The messages fed to sendmail; check.py compares what Postfix delivered with them.
    cat >"$FILES/sendmail-t-i.eml" <<'EOF'
From: Alice Example <alice@example.org>
To: Bob <bob@example.net>
Cc: carol@example.net
Bcc: dave@example.net,
 erin@example.net
Subject: sendmail -t -i
X-Test: kept exactly as it is

first line
.
the line after a lone dot
..two dots stay two dots
EOF
    # A cron-like message without From, so that sendmail adds one with -F's name.
    cat >"$FILES/sendmail-cron.eml" <<'EOF'
To: root
Subject: Cron <root@host> /usr/local/bin/backup
Content-Type: text/plain; charset=UTF-8
Auto-Submitted: auto-generated
X-Cron-Env: <SHELL=/bin/sh>
X-Cron-Env: <HOME=/root>
X-Cron-Env: <LOGNAME=root>

backup finished: 3 files, 0 errors
EOF
    # What Debian's cron writes: its own From, with a local name for an address.
    cat >"$FILES/sendmail-debian-cron.eml" <<'EOF'
From: root (Cron Daemon)
To: root
Subject: Cron <root@host> /usr/local/bin/backup
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit
X-Cron-Env: <SHELL=/bin/sh>
X-Cron-Env: <HOME=/root>
X-Cron-Env: <LOGNAME=root>

backup finished: 3 files ✓
EOF
    # What cronie (Fedora, RHEL, Arch) writes.
    cat >"$FILES/sendmail-cronie.eml" <<'EOF'
From: "(Cron Daemon)" <root>
To: root
Subject: Cron <root@host> /usr/local/bin/backup
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit
Auto-Submitted: auto-generated
Precedence: bulk
X-Cron-Env: <SHELL=/bin/sh>
X-Cron-Env: <HOME=/root>
X-Cron-Env: <LOGNAME=root>

backup finished: 3 files ✓
EOF
    # A cron job's output as some crons hand it over: labelled binary, UTF-8 in the Subject, a
    # 2000-octet line and bytes that are not UTF-8 (Latin-1), for a server without 8BITMIME.
    {
        printf 'To: someone@example.net\nSubject: Grüße ✓ from cron\n'
        printf 'Content-Transfer-Encoding: binary\n\nbackup report ✓\n'
        for _ in $(seq 100); do printf 'é-long-line-------'; done   # one 2000-octet line
        printf '\nlatin-1: caf\351 cr\350me\n'
    } >"$FILES/sendmail-seven-bit.eml"
}

# A throwaway repository with one commit, for git send-email; its log in $SM/git-repo.log.
make_git_repo() {
    local git=$1 repo=$SM/repo
    {
        "$git" init -q -b main "$repo" &&
        "$git" -C "$repo" config user.name 'Alice Example' &&
        "$git" -C "$repo" config user.email alice@example.org &&
        printf 'hello\nGrüße ✓\n' >"$repo/greeting.txt" &&
        "$git" -C "$repo" add greeting.txt &&
        "$git" -C "$repo" commit -q -m 'Add a greeting' -m 'With a line of UTF-8: Grüße ✓'
    } >"$SM/git-repo.log" 2>&1
}

run_sendmail_scenarios() {
    # The caller's environment: config, password, a throwaway HOME; git reads no system config.
    local sm_env=(XDG_CONFIG_HOME="$SM/config" HOME="$SM/home" SMTPSEND_PASSWORD="$PASSWORD"
        GIT_CONFIG_NOSYSTEM=1)
    local git

    # A message with no header at all to a local name: aliased twice; From, Date and
    # Message-ID added.
    echo body | run_client sendmail-alias-root "${sm_env[@]}" -- sendmail root || true
    check sendmail-alias-root

    # -t -i: recipients from To, Cc and a folded Bcc; the Bcc header goes; a lone dot stays.
    run_client sendmail-t-i "${sm_env[@]}" -- sendmail -t -i <"$FILES/sendmail-t-i.eml"
    check sendmail-t-i

    # The binary as /usr/sbin/sendmail, called exactly as Vixie cron calls it.
    run_program sendmail-symlink-cron "${sm_env[@]}" -- \
        "$SENDMAIL" -FCronDaemon -odi -oem -oi -t <"$FILES/sendmail-cron.eml"
    check sendmail-symlink-cron
    # ... and as Debian's cron and cronie call it, with the messages they write.
    run_program sendmail-debian-cron "${sm_env[@]}" -- \
        "$SENDMAIL" -i -FCronDaemon -B8BITMIME -oem root <"$FILES/sendmail-debian-cron.eml"
    check sendmail-debian-cron
    run_program sendmail-cronie "${sm_env[@]}" -- \
        "$SENDMAIL" -FCronDaemon -i -odi -oem -oi -t -f root <"$FILES/sendmail-cronie.eml"
    check sendmail-cronie

    # git send-email with `smtpsend sendmail` as its sendmail command, from a throwaway repo.
    if ! git=$(git_with_send_email); then
        conclude git-send-email "no git with send-email on this machine (git-email not installed?)"
    elif ! HOME=$SM/home GIT_CONFIG_NOSYSTEM=1 make_git_repo "$git"; then
        conclude git-send-email "making the throwaway repository failed:
$(tail -n 20 "$SM/git-repo.log")"
    else
        run_program git-send-email "${sm_env[@]}" -- "$git" -C "$SM/repo" send-email \
            --sendmail-cmd="$(printf '%q sendmail' "$BIN")" --to=someone@example.net \
            --from='Alice Example <alice@example.org>' --confirm=never --quiet -1 </dev/null
        check git-send-email
    fi

    # s-nail (mailx) with the symlink as its MTA and no resource files; waiting for the MTA
    # (sendwait), so its exit status is the MTA's. As root it ignores HOME: DEAD keeps a
    # message it could not send out of root's home. Once adding nothing but a subject (and
    # encoding the UTF-8 body, lone dot included, as quoted-printable); once with -r (which
    # s-nail turns into -F and -f), Cc, Bcc and an ASCII body with a lone dot.
    local snail=(s-nail -:/ -S mta="$SENDMAIL" -S sendwait -S DEAD="$SM/home/dead.letter")
    printf 'Grüße from s-nail ✓\n.\nthe line after a lone dot\n' |
        run_program s-nail/plain "${sm_env[@]}" -- "${snail[@]}" \
            -s 'Grüße from s-nail ✓' someone@example.net || true
    printf 'with -r, -c and -b\n.\nthe line after a lone dot\n' |
        run_program s-nail/from "${sm_env[@]}" -- "${snail[@]}" \
            -r 'Alice Example <alice@example.org>' -c carol@example.net -b dave@example.net \
            -s 's-nail -r' someone@example.net || true
    check s-nail
    # With `set metoo`, s-nail (like mailx before it) passes sendmail's -m, the same as -om.
    printf 'metoo\n' |
        run_program s-nail-metoo "${sm_env[@]}" -- "${snail[@]}" -S metoo \
            -s 's-nail metoo' someone@example.net || true
    check s-nail-metoo

    # -bs: an SMTP dialogue on standard input and output, relayed to Postfix.
    printf '%s\r\n' 'EHLO client.example' 'MAIL FROM:<alice@example.org>' \
        'RCPT TO:<bob@example.net>' DATA 'From: alice@example.org' 'To: bob@example.net' \
        'Subject: sendmail -bs' '' 'over -bs' '..a dot-stuffed line' . QUIT |
        run_client sendmail-bs "${sm_env[@]}" -- sendmail -bs || true
    check sendmail-bs

    # Refusals: nothing is sent, and the exit status says why.
    printf 'From: alice@example.org\nSubject: nobody\n\nno recipients\n' |
        run_client sendmail-no-recipients "${sm_env[@]}" -- sendmail -t || true
    check sendmail-no-recipients
    run_client sendmail-unknown-flag/queue "${sm_env[@]}" -- sendmail -q </dev/null
    run_client sendmail-unknown-flag/send "${sm_env[@]}" -- sendmail -t -Z \
        <"$FILES/sendmail-t-i.eml"
    check sendmail-unknown-flag
    printf 'To: bob@example.net\nSubject: N\0UL\n\nbody\n' |
        run_client sendmail-malformed "${sm_env[@]}" -- sendmail -t || true
    check sendmail-malformed

    # What cannot travel as it is is converted: a NUL in the body sends it base64; a server
    # without 8BITMIME and SMTPUTF8 gets a cron mail in 7 bits.
    printf 'To: bob@example.net\nSubject: NUL in the body\n\nbefore\0after\n' |
        run_client sendmail-nul-body "${sm_env[@]}" -- sendmail -t || true
    check sendmail-nul-body
    run_client sendmail-seven-bit "${sm_env[@]}" \
        SMTPSEND_SERVER="smtp://localhost:$SEVEN_BIT_PORT" -- \
        sendmail -FCronDaemon -i -t <"$FILES/sendmail-seven-bit.eml"
    check sendmail-seven-bit
}

# ---------------------------------------------------------------------------------------------
# The OS keyring: a real Secret Service (gnome-keyring) in a D-Bus session of its own
# ---------------------------------------------------------------------------------------------
KEYRING_SESSION_TIMEOUT=120   # seconds before a hanging keyring session is killed
# Checked after keyring.sh has run them all inside one `dbus-run-session`, in this order.
KEYRING_SCENARIOS=(keyring-login keyring-send keyring-wrong-password keyring-login-verifies
    keyring-logout keyring-locked)

# The account `work` on the submission port, the default, with no password source at all: a
# password can only come from the keyring.
write_keyring_config() {
    KEYRING=$T/keyring
    mkdir -p "$KEYRING/config/smtpsend" "$KEYRING/home" "$KEYRING/data" "$KEYRING/cache" \
        "$KEYRING/runtime"
    chmod 700 "$KEYRING/runtime"
    cat >"$KEYRING/config/smtpsend/config.toml" <<EOF
default = "work"

[accounts.work]
server = "smtp://localhost:$SUB_PORT"
user = "$USER_NAME"
from = "alice@example.org"
ca_file = "$CA"
EOF
}

# A bus address that accepts connections and never answers: what a wedged session bus or
# Secret Service looks like to a client.
start_silent_bus() {
    local socket=$KEYRING/silent-bus
    timeout 60 python3 -c '
import socket, sys
server = socket.socket(socket.AF_UNIX)
server.bind(sys.argv[1])
server.listen(16)
held = []
while True:
    held.append(server.accept()[0])   # and never say anything
' "$socket" 2>>"$KEYRING/silent-bus.log" &
    SILENT_BUS=$!
    for _ in $(seq 50); do [[ -S $socket ]] && break; sleep 0.1; done
    SILENT_BUS_ADDRESS=unix:path=$socket
}

stop_silent_bus() { stop_job SILENT_BUS; }

run_keyring_scenarios() {
    local name
    write_keyring_config
    # What keyring.sh needs of this run, for it to source. It holds the password: owner only.
    (umask 077; declare -p T RUNS FILES OUT SPOOL CONF MAILLOG BIN PASSWORD WRONG_PASSWORD \
        USER_NAME CLIENT_TIMEOUT DELIVERY_TIMEOUT HERE KEYRING >"$KEYRING/state")
    # gnome-keyring keeps its keyrings in $XDG_DATA_HOME and its socket in $XDG_RUNTIME_DIR:
    # both throwaway here, like HOME. No display, so an unlock prompt (gcr-prompter) fails at
    # once, as on a server, instead of waiting for someone to type.
    env -u DISPLAY -u WAYLAND_DISPLAY HOME="$KEYRING/home" XDG_RUNTIME_DIR="$KEYRING/runtime" \
        XDG_DATA_HOME="$KEYRING/data" XDG_CACHE_HOME="$KEYRING/cache" \
        XDG_CONFIG_HOME="$KEYRING/home/.config" \
        timeout -k 5 "$KEYRING_SESSION_TIMEOUT" \
        dbus-run-session -- bash "$HERE/keyring.sh" "$KEYRING/state" \
        >"$KEYRING/session.log" 2>&1 </dev/null || true
    if [[ -f $KEYRING/ready ]]; then
        for name in "${KEYRING_SCENARIOS[@]}"; do check "$name"; done
    else
        for name in "${KEYRING_SCENARIOS[@]}"; do
            conclude "$name" "the keyring session did not start: $(tail -n 1 "$KEYRING/session.log")"
        done
    fi

    # keyring-absent: no session bus at all (run_client unsets DBUS_SESSION_BUS_ADDRESS and
    # points XDG_RUNTIME_DIR at an empty directory): the send says so at once and exits 78;
    # login, with the right password, cannot store it and names the other ways (69).
    run_client keyring-absent/send XDG_CONFIG_HOME="$KEYRING/config" -- \
        -t bob@example.net -s 'no keyring' -m 'never sent' </dev/null
    printf '%s\n' "$PASSWORD" |
        run_client keyring-absent/login XDG_CONFIG_HOME="$KEYRING/config" -- \
            login work --password-stdin || true
    check keyring-absent

    # keyring-unresponsive: a bus that never answers costs the keyring's 5 s bound, then 78.
    start_silent_bus
    run_client keyring-unresponsive/send XDG_CONFIG_HOME="$KEYRING/config" \
        DBUS_SESSION_BUS_ADDRESS="$SILENT_BUS_ADDRESS" -- \
        -t bob@example.net -s 'silent bus' -m 'never sent' </dev/null
    stop_silent_bus
    check keyring-unresponsive
}

ensure_binary() {
    [[ -x $BIN ]] && return 0
    if [[ -n ${SMTPSEND:-} ]]; then setup_failed "SMTPSEND=$SMTPSEND is not an executable file"; fi
    cargo build --quiet >"$T/cargo.log" 2>&1 || setup_failed "cargo build failed" "$T/cargo.log"
    [[ -x $BIN ]] || setup_failed "cargo build did not produce $BIN" "$T/cargo.log"
}

# ---------------------------------------------------------------------------------------------
case $MODE in
--serve)
    setup_postfix
    make_fixtures
    write_sendmail_config
    cat <<EOF
Postfix is running from $T
  submission (STARTTLS): 127.0.0.1:$SUB_PORT    implicit TLS: 127.0.0.1:$SMTPS_PORT
  client certificate required: 127.0.0.1:$CLIENT_CERT_PORT ($CLIENT_CERT, $CLIENT_KEY)
  CA: $CA
  user: $USER_NAME    password: $PASSWORD    (refused at RCPT: refused@example.net)
  deliveries: $OUT    log: $MAILLOG
  sendmail drop-in: XDG_CONFIG_HOME=$SM/config SMTPSEND_PASSWORD=... $SENDMAIL -t
    (aliases: $SM/aliases, root -> admin -> someone@example.net)
Ctrl-C stops it and removes $T.
EOF
    while :; do sleep 3600 & SERVE_SLEEP=$!; wait "$SERVE_SLEEP" || true; done
    ;;
test)
    setup_postfix
    ensure_binary
    make_fixtures
    run_scenarios
    run_tls_scenarios
    write_sendmail_config
    run_sendmail_scenarios
    run_keyring_scenarios
    if ((FAILED > 0)) && [[ -s $MAILLOG ]]; then
        echo "# failed: ${FAILED_NAMES[*]}"
        echo "# maillog (last 80 lines):"
        tail -n 80 "$MAILLOG" | indent
    fi
    if [[ " ${FAILED_NAMES[*]} " == *" keyring-"* && -s ${KEYRING:-}/session.log ]]; then
        echo "# keyring session log (last 60 lines):"
        tail -n 60 "$KEYRING/session.log" | mask | indent
    fi
    echo "$PASSED passed, $FAILED failed"
    ((FAILED == 0))
    ;;
*)
    echo "usage: $0 [--serve]" >&2
    exit 64
    ;;
esac
