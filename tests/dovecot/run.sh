#!/usr/bin/env bash
# Sixth test tier: SCRAM (RFC 5802, RFC 7677) against a real SASL server.
#
#   tests/dovecot/run.sh    run every scenario; prints "ok - NAME" / "not ok - NAME: reason" and a
#                           closing "N passed, M failed"; exits non-zero on any failure
#
# The parts, on 127.0.0.1 and free ports, in a fresh temporary directory removed on exit:
#   - a private Dovecot (authentication only, `dovecot -c` with its own base_dir, state_dir and
#     log) offering PLAIN, LOGIN, SCRAM-SHA-1 and SCRAM-SHA-256 from a passwd-file whose
#     passwords are stored as SCRAM keys (`doveadm pw -s SCRAM-SHA-256`, `-s SCRAM-SHA-1`);
#   - a private Postfix whose STARTTLS submission port hands AUTH to Dovecot
#     (smtpd_sasl_type = dovecot) and delivers everything to the recorder, as in tests/postfix.
#
# Scenarios: `smtpsend check` negotiates the strongest SCRAM offered (-v and --json say which);
# a send with auth = auto picks it and is delivered; a wrong password is exit 77; SCRAM-SHA-1 by
# name works; no password in any output. Dovecot 2.3 (Debian 12) has no channel binding, so the
# -PLUS mechanisms are expected only when Dovecot offers them (2.4 and later).
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
REALM=smtpsend.test
DELIVERY_TIMEOUT=20
CLIENT_TIMEOUT=60

T=$(mktemp -d /tmp/smtpsend-dovecot.XXXXXX)
chmod 755 "$T"
CONF=$T/etc SPOOL=$T/spool OUT=$T/deliveries FILES=$T/files RUNS=$T/runs DV=$T/dovecot
MAILLOG=$T/maillog
KEEP=${DOVECOT_TEST_KEEP:-}   # cleanup keeps $T when 1

# For cleanup (lib/private-postfix.sh), before it stops Postfix.
stop_servers() { stop_dovecot "$DV"; }
trap_cleanup

# For setup_failed (lib/private-postfix.sh): the ends of Postfix's and Dovecot's logs.
setup_logs() {
    show_log maillog "$MAILLOG" 30
    show_log "dovecot log" "$DV/dovecot.log" 30
}

PACKAGES=(postfix dovecot-core openssl)

# The passwd-file: each user's password as SCRAM keys only, so that a login can succeed only by
# SCRAM (or by PLAIN, which Dovecot checks against the same keys).
write_passdb() {
    local log=$T/doveadm.log sha256 sha1
    PASSWORD=$(openssl rand -base64 24 | tr -d '/+=\n' | cut -c1-24)
    SHA1_PASSWORD=$(openssl rand -base64 24 | tr -d '/+=\n' | cut -c1-24)
    sha256=$(doveadm -O pw -s SCRAM-SHA-256 -p "$PASSWORD" 2>"$log") \
        || setup_failed "doveadm pw -s SCRAM-SHA-256 failed" "$log"
    sha1=$(doveadm -O pw -s SCRAM-SHA-1 -p "$SHA1_PASSWORD" 2>"$log") \
        || setup_failed "doveadm pw -s SCRAM-SHA-1 failed" "$log"
    printf '%s:%s\n%s:%s\n' "$USER_NAME" "$sha256" "$SHA1_USER" "$sha1" >"$DV/passwd"
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

scenario_no_password_anywhere() {
    local name=no-password-in-output start=$EPOCHREALTIME
    if grep -rqF -e "$PASSWORD" -e "$SHA1_PASSWORD" "$RUNS" --include=stdout --include=stderr; then
        problem "a password shows in some run's output"
    fi
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
scenario_no_password_anywhere
if ((FAILED > 0)); then
    echo "# failed: ${FAILED_NAMES[*]}"
    setup_logs
fi
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
