#!/usr/bin/env bash
# Sixth test tier: SCRAM (RFC 5802, RFC 7677) against a real SASL server, and LMTP (RFC 2033)
# into a real Dovecot's mailboxes.
#
#   tests/dovecot/run.sh    run every scenario; prints "ok - NAME" / "not ok - NAME: reason" and a
#                           closing "N passed, M failed"; exits non-zero on any failure
#
# The parts, on 127.0.0.1 and free ports, in a fresh temporary directory removed on exit:
#   - a private Dovecot (authentication only, `dovecot -c` with its own base_dir, state_dir and
#     log) offering PLAIN, LOGIN, SCRAM-SHA-1 and SCRAM-SHA-256 from a passwd-file whose
#     passwords are stored as SCRAM keys (`doveadm pw -s SCRAM-SHA-256`, `-s SCRAM-SHA-1`);
#   - a private Postfix whose STARTTLS submission port hands AUTH to Dovecot
#     (smtpd_sasl_type = dovecot) and delivers everything to the recorder, as in tests/postfix;
#   - a second private Dovecot delivering by LMTP, on a TCP port and on a unix socket, into
#     maildirs: users alice and bob, and full, whose quota no message fits.
#
# Scenarios: `smtpsend check` negotiates the strongest SCRAM offered (-v and --json say which);
# a send with auth = auto picks it and is delivered; a wrong password is exit 77; SCRAM-SHA-1 by
# name works; a password typed with characters SASLprep maps logs in with the keys of its
# prepared form, and one SASLprep refuses is exit 78 before AUTH; no password in any output. Dovecot 2.3 (Debian 12) has no channel binding, so the
# -PLUS mechanisms are expected only when Dovecot offers them (2.4 and later).
# LMTP: delivered to two mailboxes over TCP and over the socket; a mailbox over quota refuses
# after the message while the other takes it (exit 67, each recipient's reply reported); an
# unknown user is refused at RCPT; `check` shows LMTP and its extensions.
#
# Needs root (it installs postfix, dovecot-core and openssl with apt-get when missing, and
# starts Postfix and Dovecot as root). Environment:
#   SMTPSEND             binary under test (default target/debug/smtpsend; built if missing)
#   DOVECOT_TEST_KEEP=1  keep the temporary directory (its path is printed)
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)
# shellcheck source=tests/lib/private-postfix.sh disable=SC1091
source "$REPO/tests/lib/private-postfix.sh"
tier_environment        # BIN; PATH, LC_ALL, umask; no SMTPSEND* variables

USER_NAME=alice      # stored as SCRAM-SHA-256 keys
SHA1_USER=bob        # stored as SCRAM-SHA-1 keys
PREP_USER=carol      # SCRAM-SHA-256 keys of a password as SASLprep leaves it
# Typed with a no-break space (U+00A0) and a soft hyphen (U+00AD); SASLprep (RFC 4013) maps
# the first to a space and the second to nothing, which is what the keys were made from.
PREP_TYPED=$(printf 'Pass\xc2\xa0word I\xc2\xadX')
PREP_STORED='Pass word IX'
REALM=smtpsend.test
DELIVERY_TIMEOUT=20
CLIENT_TIMEOUT=60

T=$(mktemp -d /tmp/smtpsend-dovecot.XXXXXX)
chmod 755 "$T"
CONF=$T/etc SPOOL=$T/spool OUT=$T/deliveries FILES=$T/files RUNS=$T/runs DV=$T/dovecot
LMTP_DV=$T/lmtp MAILDIRS=$T/lmtp/mail
MAILLOG=$T/maillog
KEEP=${DOVECOT_TEST_KEEP:-}   # cleanup keeps $T when 1

# For cleanup (lib/private-postfix.sh), before it stops Postfix.
stop_servers() {
    stop_dovecot "$DV"
    stop_dovecot "$LMTP_DV"
}
trap_cleanup

# For setup_failed (lib/private-postfix.sh): the ends of Postfix's and Dovecot's logs.
setup_logs() {
    show_log maillog "$MAILLOG" 30
    show_log "dovecot log" "$DV/dovecot.log" 30
    show_log "LMTP dovecot log" "$LMTP_DV/dovecot.log" 30
}

PACKAGES=(postfix dovecot-core dovecot-lmtpd openssl)

# The passwd-file: each user's password as SCRAM keys only, so that a login can succeed only by
# SCRAM (or by PLAIN, which Dovecot checks against the same keys).
write_passdb() {
    local log=$T/doveadm.log sha256 sha1 prepared
    PASSWORD=$(openssl rand -base64 24 | tr -d '/+=\n' | cut -c1-24)
    SHA1_PASSWORD=$(openssl rand -base64 24 | tr -d '/+=\n' | cut -c1-24)
    sha256=$(doveadm -O pw -s SCRAM-SHA-256 -p "$PASSWORD" 2>"$log") \
        || setup_failed "doveadm pw -s SCRAM-SHA-256 failed" "$log"
    sha1=$(doveadm -O pw -s SCRAM-SHA-1 -p "$SHA1_PASSWORD" 2>"$log") \
        || setup_failed "doveadm pw -s SCRAM-SHA-1 failed" "$log"
    prepared=$(doveadm -O pw -s SCRAM-SHA-256 -p "$PREP_STORED" 2>"$log") \
        || setup_failed "doveadm pw -s SCRAM-SHA-256 failed" "$log"
    printf '%s:%s\n%s:%s\n%s:%s\n' "$USER_NAME" "$sha256" "$SHA1_USER" "$sha1" \
        "$PREP_USER" "$prepared" >"$DV/passwd"
    # Read by the auth process, which runs as Dovecot's internal user (Debian's: dovecot).
    chgrp dovecot "$DV/passwd"
    chmod 640 "$DV/passwd"
}

start_dovecot() {
    mkdir -p "$DV"
    write_passdb
    write_dovecot_auth_conf "smtpsend-dovecot-test-$$" "plain login scram-sha-1 scram-sha-256" "\
passdb {
  driver = passwd-file
  args = $DV/passwd
}"
    start_dovecot_auth
}

# A Dovecot that delivers by LMTP into maildirs under $MAILDIRS, as nobody; the quota plugin
# gives the user full a quota of one byte, which any message exceeds. Refusals for quota come
# after the message (lmtp_rcpt_check_quota = no, the default), one reply per recipient.
start_dovecot_lmtp() {
    local log=$T/dovecot-lmtp-start.log
    mkdir -p "$LMTP_DV/run" "$LMTP_DV/state" "$MAILDIRS"
    chown nobody:nogroup "$MAILDIRS"
    printf '%s\n' \
        "alice::65534:65534::$MAILDIRS/alice::" \
        "bob::65534:65534::$MAILDIRS/bob::" \
        "full::65534:65534::$MAILDIRS/full::userdb_quota_rule=*:storage=1B" >"$LMTP_DV/users"
    LMTP_PORT=$(free_port "$SUB_PORT") || setup_failed "no free port"
    cat >"$LMTP_DV/dovecot.conf" <<EOF
base_dir = $LMTP_DV/run
state_dir = $LMTP_DV/state
instance_name = smtpsend-lmtp-test-$$
protocols = lmtp
listen = 127.0.0.1
log_path = $LMTP_DV/dovecot.log
ssl = no
hostname = lmtp.smtpsend.test
postmaster_address = postmaster@lmtp.test
auth_username_format = %Ln
mail_location = maildir:~/Maildir
mail_plugins = quota
plugin {
  quota = maildir:User quota
}
passdb {
  driver = passwd-file
  args = $LMTP_DV/users
}
userdb {
  driver = passwd-file
  args = $LMTP_DV/users
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
  unix_listener $LMTP_DV/lmtp.sock {
    mode = 0666
  }
}
service anvil {
  chroot =
}
EOF
    dovecot -c "$LMTP_DV/dovecot.conf" >"$log" 2>&1 || setup_failed "the LMTP dovecot did not start" "$log"
    for _ in $(seq 50); do [[ -S $LMTP_DV/lmtp.sock ]] && return 0; sleep 0.1; done
    setup_failed "the LMTP dovecot made no socket" "$LMTP_DV/dovecot.log"
}

# The common directories, main.cf and master.cf (lib/private-postfix.sh), SASL by Dovecot.
write_postfix_config() {
    write_postfix_base
    write_dovecot_sasl_main_cf
    write_master_cf postfix-dovecot
}

setup_servers() {
    [[ $(id -u) == 0 ]] || setup_failed "must run as root (it starts Postfix and Dovecot)"
    # shellcheck disable=SC2119  # PACKAGES alone, no extra ones
    install_packages
    make_certificates
    # shellcheck disable=SC2119  # no port to avoid yet
    SUB_PORT=$(free_port) || setup_failed "no free port on 127.0.0.1"
    start_dovecot
    start_dovecot_lmtp
    write_postfix_config
    start_postfix "$SUB_PORT"
}

# run_client and run_program (tests/postfix/lib.sh); the checks (tests/lib/checks.sh).
# shellcheck source=tests/postfix/lib.sh disable=SC1091
source "$REPO/tests/postfix/lib.sh"
# shellcheck source=tests/lib/checks.sh disable=SC1091
source "$REPO/tests/lib/checks.sh"
PASSED=0 FAILED=0 FAILED_NAMES=()

SERVER=()
connect_args() { SERVER=(--server "smtp://localhost:$SUB_PORT" --ca-file "$CA" --timeout 20); }

# The strongest SCRAM the server offers after STARTTLS, as auto should pick it: the -PLUS
# variant only where Dovecot has channel binding.
EXPECTED=SCRAM-SHA-256
expect_strongest() {
    if grep -q 'SCRAM-SHA-256-PLUS' "$RUNS/check-scram/stdout"; then EXPECTED=SCRAM-SHA-256-PLUS; fi
}

scenario_check() {
    local name=check-scram start=$EPOCHREALTIME
    run_client $name SMTPSEND_PASSWORD="$PASSWORD" -- check "${SERVER[@]}" --user "$USER_NAME" </dev/null
    rc_is $name 0
    says $name stdout 'SCRAM-SHA-256'
    expect_strongest
    says $name stdout "auth +$EXPECTED as $USER_NAME: accepted"
    run_client $name/verbose SMTPSEND_PASSWORD="$PASSWORD" -- check "${SERVER[@]}" --user "$USER_NAME" -v </dev/null
    rc_is $name/verbose 0
    says $name/verbose stderr "AUTH $EXPECTED <redacted>"
    says $name/verbose stderr "SCRAM signature is right"
    run_client $name/json SMTPSEND_PASSWORD="$PASSWORD" -- check "${SERVER[@]}" --user "$USER_NAME" --json </dev/null
    rc_is $name/json 0
    says $name/json stdout "\"mechanism\": ?\"$EXPECTED\""
    conclude $name "$start"
}

scenario_send_auto() {
    local name=send-auto-scram start=$EPOCHREALTIME
    run_client $name SMTPSEND_PASSWORD="$PASSWORD" -- "${SERVER[@]}" --user "$USER_NAME" --auth auto \
        -f "$USER_NAME@example.org" -t bob@example.net -s 'scram auto' -m 'by scram' --json -v </dev/null
    rc_is $name 0
    says $name stdout "\"mechanism\": ?\"$EXPECTED\""
    says $name stderr "AUTH $EXPECTED <redacted>"
    says $name stderr "^< 235 "
    delivered $name 1 'scram auto'
    grep -rqF 'by scram' "$RUNS/$name/deliveries" || problem "$name: the body was not delivered"
    conclude $name "$start"
}

scenario_wrong_password() {
    local name=scram-wrong-password start=$EPOCHREALTIME
    run_client $name SMTPSEND_PASSWORD="not-$PASSWORD" -- "${SERVER[@]}" --user "$USER_NAME" \
        --auth scram-sha-256 -f "$USER_NAME@example.org" -t bob@example.net -s 'must not go' -m x </dev/null
    rc_is $name 77
    says $name stderr 'authentication as alice refused'
    delivered $name 0
    conclude $name "$start"
}

scenario_sha1_by_name() {
    local name=scram-sha-1-by-name start=$EPOCHREALTIME
    run_client $name SMTPSEND_PASSWORD="$SHA1_PASSWORD" -- "${SERVER[@]}" --user "$SHA1_USER" \
        --auth scram-sha-1 -f "$SHA1_USER@example.org" -t carol@example.net -s 'scram sha-1' -m x -v </dev/null
    rc_is $name 0
    says $name stderr "AUTH SCRAM-SHA-1 <redacted>"
    delivered $name 1 'scram sha-1'
    conclude $name "$start"
}

scenario_saslprep() {
    local name=scram-saslprep start=$EPOCHREALTIME
    run_client $name SMTPSEND_PASSWORD="$PREP_TYPED" -- "${SERVER[@]}" --user "$PREP_USER" \
        --auth scram-sha-256 -f "$PREP_USER@example.org" -t dave@example.net -s 'saslprep' -m x </dev/null
    rc_is $name 0
    delivered $name 1 'saslprep'
    # The same password as typed, unprepared (PLAIN carries it as it is), is not the one
    # the keys were made from: what made the difference above was SASLprep.
    run_client $name/plain SMTPSEND_PASSWORD="$PREP_TYPED" -- "${SERVER[@]}" --user "$PREP_USER" \
        --auth plain -f "$PREP_USER@example.org" -t dave@example.net -s 'as typed' -m x </dev/null
    rc_is $name/plain 77
    # A password SASLprep refuses (a control character) never starts the exchange.
    run_client $name/refused SMTPSEND_PASSWORD=$'bell\a' -- "${SERVER[@]}" --user "$PREP_USER" \
        --auth scram-sha-256 -f "$PREP_USER@example.org" -t dave@example.net -s 'not sent' -m x -v </dev/null
    rc_is $name/refused 78
    says $name/refused stderr 'SASLprep \(RFC 4013\) refuses a character in it'
    if grep -q '^> AUTH' "$RUNS/$name/refused/stderr"; then
        problem "$name/refused: AUTH was sent"
    fi
    conclude $name "$start"
}

scenario_no_password_anywhere() {
    local name=no-password-in-output start=$EPOCHREALTIME
    if grep -rqF -e "$PASSWORD" -e "$SHA1_PASSWORD" -e "$PREP_TYPED" -e "$PREP_STORED" "$RUNS" \
        --include=stdout --include=stderr; then
        problem "a password shows in some run's output"
    fi
    conclude $name "$start"
}

# in_mailbox USER SUBJECT: how many messages with SUBJECT USER's maildir holds.
in_mailbox() {
    { grep -rlF "Subject: $2" "$MAILDIRS/$1/Maildir/new" 2>/dev/null || true; } | wc -l
}
mailbox_has() { # mailbox_has NAME USER SUBJECT N
    local n
    n=$(in_mailbox "$2" "$3")
    [[ $n == "$4" ]] || problem "$1: $2's mailbox has $n messages \"$3\", expected $4"
}

scenario_lmtp_tcp() {
    local name=lmtp-tcp start=$EPOCHREALTIME
    run_client $name -- --server "lmtp+plain://127.0.0.1:$LMTP_PORT" -f sender@example.org \
        -t alice@lmtp.test -t bob@lmtp.test -s 'lmtp over tcp' -m 'into the mailboxes' -v </dev/null
    rc_is $name 0
    says $name stderr '^> LHLO '
    mailbox_has $name alice 'lmtp over tcp' 1
    mailbox_has $name bob 'lmtp over tcp' 1
    conclude $name "$start"
}

scenario_lmtp_unix() {
    local name=lmtp-unix start=$EPOCHREALTIME
    run_client $name -- --server "lmtp+unix://$LMTP_DV/lmtp.sock" -f sender@example.org \
        -t alice@lmtp.test -s 'lmtp over the socket' -m x -v </dev/null
    rc_is $name 0
    says $name stderr "connecting to $LMTP_DV/lmtp.sock"
    mailbox_has $name alice 'lmtp over the socket' 1
    conclude $name "$start"
}

scenario_lmtp_per_recipient() {
    local name=lmtp-reply-per-recipient start=$EPOCHREALTIME replies
    run_client $name -- --server "lmtp+unix://$LMTP_DV/lmtp.sock" -f sender@example.org \
        -t full@lmtp.test -t alice@lmtp.test -s 'one mailbox full' -m x -v </dev/null
    rc_is $name 67
    says $name stderr '1 recipient refused: <full@lmtp.test> \(5[0-9][0-9] .*[Qq]uota'
    says $name stderr 'sent to the others'
    # After the message, one reply for full (refused) and then one for alice (taken).
    replies=$(sed -n '/^> \.$/,$p' "$RUNS/$name/stderr" | grep -c '^< [245][0-9][0-9] ')
    [[ $replies == 2 ]] || problem "$name: $replies replies after the message, expected 2"
    mailbox_has $name alice 'one mailbox full' 1
    mailbox_has $name full 'one mailbox full' 0
    run_client $name/unknown -- --server "lmtp+plain://127.0.0.1:$LMTP_PORT" -f sender@example.org \
        -t nobody-here@lmtp.test -s 'to nobody' -m x </dev/null
    rc_is $name/unknown 67
    says $name/unknown stderr 'nobody-here@lmtp.test'
    conclude $name "$start"
}

scenario_lmtp_check() {
    local name=lmtp-check start=$EPOCHREALTIME
    run_client $name -- check --server "lmtp+unix://$LMTP_DV/lmtp.sock" </dev/null
    rc_is $name 0
    says $name stdout "^server +$LMTP_DV/lmtp.sock \(LMTP, none\)"
    says $name stdout '^extensions +.*PIPELINING'
    run_client $name/json -- check --server "lmtp+plain://127.0.0.1:$LMTP_PORT" --json </dev/null
    rc_is $name/json 0
    says $name/json stdout '"protocol": ?"lmtp"'
    conclude $name "$start"
}

TIER_START=$EPOCHREALTIME
setup_servers
ensure_binary
mkdir -p "$FILES" "$RUNS"
connect_args
echo "# servers up in $(awk -v a="$TIER_START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s ($(dovecot --version | cut -d' ' -f1))"
scenario_check
scenario_send_auto
scenario_wrong_password
scenario_sha1_by_name
scenario_saslprep
scenario_no_password_anywhere
scenario_lmtp_tcp
scenario_lmtp_unix
scenario_lmtp_per_recipient
scenario_lmtp_check
if ((FAILED > 0)); then
    echo "# failed: ${FAILED_NAMES[*]}"
    setup_logs
fi
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
