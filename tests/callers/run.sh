#!/usr/bin/env bash
# Fourth test tier: the real callers of /usr/sbin/sendmail and /usr/bin/mail, each handing its
# mail to smtpsend, which relays it to a real, private Postfix (STARTTLS submission with SASL,
# as in tests/postfix), configured by environment variables alone: no configuration file
# anywhere (XDG_CONFIG_HOME and HOME are empty throwaway directories).
#
#   tests/callers/run.sh    run every scenario; prints "ok - NAME" / "not ok - NAME: reason"
#                           and a closing "N passed, M failed"; exits non-zero on any failure
#
# Each caller runs inside a private mount namespace (`unshare --mount --propagation private`,
# see inside.sh) where smtpsend stands at the paths the callers use: bind-mounted over
# /usr/sbin/sendmail and, for the callers of the mail personality, over what /usr/bin/mail
# resolves to; a daemon's spool and configuration directories are tmpfs or bind mounts there
# too. The machine's own files are never changed. What stands at those paths is a two-line
# wrapper that notes the argv and the names of the SMTPSEND_* variables it was given (in the
# scenario's argv file), then execs smtpsend under the name `sendmail` or `mail`.
#
# The real programs run wherever they can run here: Debian's cron daemon and busybox's crond
# (waiting for the minute), PHP's mail(), PHPMailer and Symfony Mailer, git send-email, neomutt,
# mblaze's mcom, bsd-mailx, GNU mailutils' mail, logwatch, unattended-upgrades' own mail
# functions, apt-listchanges on a .deb, fail2ban's actions rendered by fail2ban's own code,
# smartmontools' notification scripts, Nagios' sample command line and Icinga 2's script. Where
# one cannot (systemd-cron needs systemd, mdadm an md array, aerc a terminal), its exact argv
# and message are replayed and the scenario says why. Plus: a recipient the server refuses
# reaches the caller as a non-zero exit; and with the server down the message is queued (75)
# and delivered exactly once by a later `smtpsend queue flush`.
#
# Checked by check.py (standard library; it reuses tests/postfix/check.py's parts) against
# what Postfix delivered: once per recipient, fully qualified envelope addresses, the body
# intact after decoding, a From with a domain, Date and Message-ID, no Bcc header; and the
# caller's exit status where the caller reports it.
#
# Needs root (it installs the callers' Debian packages with apt-get when they are missing,
# services kept from starting by policy-rc.d, downloads busybox-static's .deb for its crond
# without installing it, starts Postfix and mounts in its namespaces).
# Environment:
#   SMTPSEND                  binary under test (default target/debug/smtpsend; built if missing)
#   CALLERS_TEST_KEEP=1       keep the temporary directory (its path is printed)
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)
HERE=$REPO/tests/callers
# The exit trap, setup failures, packages, ports, certificates and the Postfix instance's
# common parts, shared with the other real-server tiers.
# shellcheck source=tests/lib/private-postfix.sh disable=SC1091
source "$REPO/tests/lib/private-postfix.sh"
tier_environment        # BIN; PATH, LC_ALL, umask; no SMTPSEND* variables

USER_NAME=alice
REALM=smtpsend.test
DELIVERY_TIMEOUT=20     # seconds to wait for the queue to drain after each caller run
CLIENT_TIMEOUT=60       # seconds before a hanging caller is killed
CRON_WAIT=75            # seconds to wait for the cron daemons' minute

T=$(mktemp -d /tmp/smtpsend-callers.XXXXXX)
chmod 755 "$T"          # postfix (smtpd, sasldb) and nobody (recorder) must traverse it
CONF=$T/etc SPOOL=$T/spool OUT=$T/deliveries FILES=$T/files RUNS=$T/runs
MAILLOG=$T/maillog
KEEP=${CALLERS_TEST_KEEP:-}   # cleanup keeps $T when 1
CRON_PID='' BUSYBOX_PID='' POLICY_RC_D_ADDED=''   # stop_job takes the first two by name

# For cleanup (lib/private-postfix.sh), before it stops Postfix: the cron daemons, and the
# policy-rc.d this tier added for its installs.
stop_servers() {
    stop_job CRON_PID
    stop_job BUSYBOX_PID
    if [[ -n $POLICY_RC_D_ADDED ]]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap_cleanup

# For setup_failed (lib/private-postfix.sh): the end of Postfix's log.
setup_logs() { show_log maillog "$MAILLOG" 60; }

# ---------------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------------
# Postfix and SASL as in tests/postfix; then the callers. Postfix Provides mail-transport-agent,
# which is what the callers that need an MTA depend on. nagios4-common holds the sample
# commands.cfg and icinga2-common the notification scripts, without their daemons. Not here:
# mdadm (it pulls in udev and systemd), systemd-cron (systemd), busybox-static (it would
# replace busybox: its .deb is only unpacked, see get_busybox_crond).
PACKAGES=(postfix sasl2-bin libsasl2-modules openssl python3 util-linux
    cron php-cli php-mbstring libphp-phpmailer php-symfony-mailer git git-email
    libmailtools-perl neomutt mblaze bsd-mailx mailutils logwatch unattended-upgrades
    apt-listchanges fail2ban smartmontools nagios4-common icinga2-common)

# install_packages with services kept from starting: a policy-rc.d that says no (101), for
# the time of the install, unless the machine has one already.
install_tier_packages() {
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        POLICY_RC_D_ADDED=1
    fi
    RUNLEVEL=1 install_packages
    if [[ -n $POLICY_RC_D_ADDED ]]; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_D_ADDED=; fi
}

# Debian's busybox has no crond applet; busybox-static has. Its .deb is downloaded and
# unpacked into $T, not installed. Sets BUSYBOX (empty when that fails).
get_busybox_crond() {
    local d=$T/busybox-static
    mkdir -p "$d"
    chown _apt "$d" 2>/dev/null || true   # apt-get download fetches as _apt
    BUSYBOX=
    if (cd "$d" && apt-get download busybox-static) >"$T/busybox-download.log" 2>&1 &&
        dpkg-deb -x "$d"/busybox-static_*.deb "$d/root" 2>>"$T/busybox-download.log" &&
        "$d/root/bin/busybox" --list | grep -qx crond; then
        BUSYBOX=$d/root/bin/busybox
    fi
}

# ---------------------------------------------------------------------------------------------
# The private Postfix instance: STARTTLS submission with SASL (as in tests/postfix), the
# refused address, Bcc headers renamed so that the checker sees any a client sent
# ---------------------------------------------------------------------------------------------
write_config() {
    write_postfix_base
    printf '%s\n' 'refused@example.net 550 5.1.1 refused by test policy' >"$CONF/refused"
    # shellcheck disable=SC2016  # ${1} and ${2} are for Postfix
    printf '%s\n' '/^(Resent-)?Bcc:(.*)$/ REPLACE X-Test-Client-Sent-${1}Bcc:${2}' \
        >"$CONF/header_checks"
    cat >>"$CONF/main.cf" <<EOF
header_checks = regexp:$CONF/header_checks
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $CONF/sasl
smtpd_sasl_local_domain = $REALM
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = check_recipient_access texthash:$CONF/refused
EOF
    write_master_cf postfix-callers
}

setup_postfix() {
    [[ $(id -u) == 0 ]] || setup_failed "must run as root (it starts Postfix, mounts, and may install packages)"
    install_tier_packages
    get_busybox_crond
    make_certificates
    make_sasldb
    SUB_PORT=$(free_port) || setup_failed "no free port on 127.0.0.1"
    write_config
    start_postfix "$SUB_PORT"
}

ensure_binary() {
    [[ -x $BIN ]] && return 0
    if [[ -n ${SMTPSEND:-} ]]; then setup_failed "SMTPSEND=$SMTPSEND is not an executable file"; fi
    cargo build --quiet >"$T/cargo.log" 2>&1 || setup_failed "cargo build failed" "$T/cargo.log"
    [[ -x $BIN ]] || setup_failed "cargo build did not produce $BIN" "$T/cargo.log"
}

# ---------------------------------------------------------------------------------------------
# Running a caller
# ---------------------------------------------------------------------------------------------
# run_program, wait_for_queue: running a program and collecting what Postfix delivered meanwhile.
# shellcheck source=tests/postfix/lib.sh disable=SC1091
source "$REPO/tests/postfix/lib.sh"

# The wrappers that stand at /usr/sbin/sendmail and /usr/bin/mail in the namespaces: one line
# per call in $ARGV_LOG (the name called, the argv, the SMTPSEND_* variables present), then
# smtpsend itself under that name, with the caller's stdin, stdout, stderr and exit status.
write_wrappers() {
    ARGV_LOG=$T/argv.log
    local name
    for name in sendmail mail; do
        cat >"$T/bin/$name" <<EOF
#!/bin/bash
{ printf '%s' "\${0##*/}"; printf ' %q' "\$@"; printf ' [env: %s]\\n' "\$(compgen -e | grep '^SMTPSEND_' | tr '\\n' ' ')"; } >>$ARGV_LOG 2>/dev/null
exec -a "\${0##*/}" $BIN "\$@"
EOF
        chmod 755 "$T/bin/$name"
    done
    : >"$ARGV_LOG"
    chmod 666 "$ARGV_LOG"
}

# The whole configuration, as a caller's environment holds it: the server, its CA, the login
# and password, the sender for messages without one, root's and postmaster's aliases inline, and
# the domain that qualifies the other local names.
caller_environment() {
    CALLER_ENV=(HOME="$T/home" SMTPSEND_SERVER="smtp://localhost:$SUB_PORT"
        SMTPSEND_CA_FILE="$CA" SMTPSEND_USER="$USER_NAME" SMTPSEND_PASSWORD="$PASSWORD"
        SMTPSEND_FROM=alerts@example.org
        SMTPSEND_ALIASES='root: admin@example.net; postmaster: admin@example.net'
        SMTPSEND_LOCAL_DOMAIN=host.example.org)
}

# run_caller NAME PERSONALITIES [--MOUNT]... [VAR=VALUE]... -- PROGRAM ARGS...   (stdin: the caller's)
# Runs PROGRAM with the caller environment (and VARs) in a mount namespace of its own where
# the sendmail wrapper stands at /usr/sbin/sendmail, and with PERSONALITIES "sendmail,mail"
# the mail wrapper at /usr/bin/mail too (and any --tmpfs= or --bind= of inside.sh); records as
# run_program does, plus the argv of each call of the wrappers in $RUNS/NAME/argv.
run_caller() {
    local name=$1 who=$2
    shift 2
    local vars=() mounts=(--sendmail="$T/bin/sendmail")
    while [[ $1 == --?* ]]; do mounts+=("$1"); shift; done
    while [[ $1 != -- ]]; do vars+=("$1"); shift; done
    shift
    [[ ,$who, == *,mail,* ]] && mounts+=(--mail="$T/bin/mail")
    : >"$ARGV_LOG"
    run_program "$name" "${CALLER_ENV[@]}" "${vars[@]}" -- \
        unshare --mount --propagation private -- "$HERE/inside.sh" "${mounts[@]}" -- "$@"
    cp "$ARGV_LOG" "$RUNS/$name/argv"
}

# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------
PASSED=0 FAILED=0 FAILED_NAMES=()

mask() { sed -e "s/$PASSWORD/<password>/g"; }

# check NAME [RUN]: ask check.py about NAME, from the run(s) in $RUNS/RUN (default NAME: one
# run, or one per step in $RUNS/RUN/STEP).
check() {
    local name=$1 dir=$RUNS/${2:-$1} result stuck
    stuck=$(find "$dir" -name queue-stuck 2>/dev/null | head -n 1)
    if [[ ! -d $dir ]]; then
        result="it did not run"
    elif [[ -n $stuck ]]; then
        result="Postfix's queue did not drain within ${DELIVERY_TIMEOUT}s; last log lines:
$(cat "$stuck")"
    else
        result=$(CHECK_PASSWORD=$PASSWORD CHECK_USER=$USER_NAME CHECK_FILES=$FILES \
            python3 -B "$HERE/check.py" "$name" "$dir" 2>&1) || true
    fi
    conclude "$name" "$result" "$dir"
}

# conclude NAME RESULT [DIR]: "ok - NAME", or "not ok - NAME: " with RESULT's first line, its
# other lines and what each run in DIR did (the command, the caller's argv to the wrappers, the
# exit code, the output). Counts it either way.
conclude() {
    local name=$1 result=$2 dir=${3:-} run
    if [[ $result == ok ]]; then
        echo "ok - $name"
        PASSED=$((PASSED + 1))
        return
    fi
    echo "not ok - $name: $(head -n 1 <<<"$result")"
    tail -n +2 <<<"$result" | indent
    if [[ -n $dir && -d $dir ]]; then
        while read -r _ run; do
            [[ $run == "$dir" ]] || echo "#   step ${run##*/}:"
            show_run "$run" '#     '
        done < <(find "$dir" -maxdepth 2 -name rc -printf '%T@ %h\n' | sort -n)
    fi
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
}

show_run() {
    local dir=$1 prefix=$2
    echo "${prefix}command: $(head -c 600 "$dir/cmd")"
    if [[ -s $dir/argv ]]; then
        echo "${prefix}called:"; mask <"$dir/argv" | awk -v p="$prefix  " '{print p $0}'
    fi
    echo "${prefix}exit code: $(cat "$dir/rc")"
    echo "${prefix}stdout:"; head -c 2000 "$dir/stdout" | mask | awk -v p="$prefix  " '{print p $0}'
    echo "${prefix}stderr:"; head -c 3000 "$dir/stderr" | mask | awk -v p="$prefix  " '{print p $0}'
}

# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------
make_fixtures() {
    mkdir -p "$FILES" "$RUNS" "$T/home" "$T/xdg/config" "$T/xdg/data" "$T/xdg/state" \
        "$T/xdg/cache"
    write_wrappers
    caller_environment
    printf '%s\n' "$PASSWORD" >"$FILES/password"
    chmod 600 "$FILES/password"
    # The body most callers send: UTF-8, a lone dot (content from a pipe, -i or not), two dots,
    # a From.
    printf '%s\n' 'Grüße from a real caller ✓' . 'the line after a lone dot' \
        '..two dots stay two dots' 'From the start of a line' 'last line' >"$FILES/body.txt"
    # For GNU mailutils' mail, which itself ends its input at a lone dot: none.
    printf '%s\n' 'Grüße without a lone dot ✓' '..two dots stay two dots' 'last line' \
        >"$FILES/body-nodot.txt"
}

# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------

# cron (Debian's cron, Vixie-derived) and busybox crond: the real daemons, each in a namespace
# of its own with its own crontab, a job every minute that prints a lone dot line and a
# non-UTF-8 byte; both wait for the same minute. They are checked apart by their bodies.
#   cron calls `/usr/sbin/sendmail -FCronDaemon -i -B8BITMIME -oem root` (MAILTO=root), as
#   the crontab's user. It does not give the mailer the job's environment: variables set in
#   the crontab reach the job (and its X-Cron-Env headers), never sendmail. The daemon's own
#   environment does reach it, so that is where SMTPSEND_* go, as /etc/default/cron would put
#   them (cron.service reads it as its EnvironmentFile; /etc/init.d/cron sources it). The
#   crontab sets SMTPSEND_FROM to another address, to show which environment won.
#   busybox crond calls `sendmail -ti` from PATH when MAILTO is set; its crontab holds only
#   SHELL, PATH, HOME and MAILTO, so the daemon's own environment carries SMTPSEND_*.
run_crons() {
    local dir=$RUNS/crons d=$T/cron var
    mkdir -p "$dir/deliveries" "$d/crontabs" "$d/empty" "$d/busybox" "$d/root"
    : >"$d/crontab"
    # The job, a plain printf (cron would turn a % into a newline): a lone dot line, then a
    # 0xFF byte, which is not UTF-8.
    local job="printf 'CRONJOB output from %s\\n.\\nafter the lone dot\\n\\377 a non-UTF-8 byte\\n'"
    {
        echo "MAILTO=root"
        echo "PATH=/usr/bin:/bin:/usr/sbin:/sbin"
        echo "SMTPSEND_FROM=crontab-variable@example.org"
        echo "* * * * * ${job//%s/debian-cron}"
    } >"$d/crontabs/root"
    chmod 600 "$d/crontabs/root"
    {
        echo "MAILTO=root"
        echo "PATH=/usr/bin:/bin:/usr/sbin:/sbin"
        echo "* * * * * ${job//%s/busybox-crond}"
    } >"$d/busybox/root"
    : >"$ARGV_LOG"
    printf '%s\n' "cron -f -L 15 (crontab: $d/crontabs/root); busybox crond -f -c $d/busybox" \
        >"$dir/cmd"
    local start=$EPOCHREALTIME
    # Debian's cron: its crontabs, /etc/crontab and /etc/cron.d replaced (no system job runs);
    # /run private for its pid file; /root, where the root job's HOME is, a tmpfs. Started
    # with the SMTPSEND_* variables, as from /etc/default/cron, and no XDG_* or HOME.
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "${CALLER_ENV[@]:1}" \
        unshare --mount --propagation private -- "$HERE/inside.sh" --sendmail="$T/bin/sendmail" \
        --bind="$d/crontabs:/var/spool/cron/crontabs" --bind="$d/crontab:/etc/crontab" \
        --bind="$d/empty:/etc/cron.d" --tmpfs=/run --tmpfs=/root -- \
        cron -f -L 15 >"$dir/cron.out" 2>&1 &
    # shellcheck disable=SC2034  # stopped by name (stop_job)
    CRON_PID=$!
    if [[ -n $BUSYBOX ]]; then
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "${CALLER_ENV[@]}" \
            unshare --mount --propagation private -- "$HERE/inside.sh" \
            --sendmail="$T/bin/sendmail" --tmpfs=/var/spool/cron --tmpfs=/root -- \
            "$BUSYBOX" crond -f -l 0 -L "$dir/busybox.log" -c "$d/busybox" \
            >"$dir/busybox.out" 2>&1 &
        # shellcheck disable=SC2034  # stopped by name (stop_job)
        BUSYBOX_PID=$!
    fi
    # Until both messages are in (the marker is in each job's output), or CRON_WAIT seconds.
    local want=1 i
    [[ -n $BUSYBOX ]] && want=2
    for ((i = 0; i < CRON_WAIT * 2; i++)); do
        sleep 0.5
        (($(grep -l CRONJOB "$OUT"/*.eml 2>/dev/null | wc -l) >= want)) && break
    done
    sleep 1
    stop_job CRON_PID
    stop_job BUSYBOX_PID
    echo "$start $EPOCHREALTIME" >"$dir/time"
    echo 0 >"$dir/rc"
    : >"$dir/stdout"
    cat "$dir/cron.out" "$dir/busybox.out" >"$dir/stderr" 2>/dev/null || true
    wait_for_queue || true
    find "$OUT" -maxdepth 1 -type f \( -name '*.eml' -o -name '*.env' \) \
        -exec mv -t "$dir/deliveries" {} +
    cp "$ARGV_LOG" "$dir/argv"
    check cron crons
    if [[ -n $BUSYBOX ]]; then
        check busybox-crond crons
    else
        conclude busybox-crond "busybox-static's crond could not be fetched: $(tail -n 1 "$T/busybox-download.log")"
    fi
}

run_callers() {
    local php_mail=(php "$HERE/php/mail.php")

    # systemd-cron: replayed, it cannot run without systemd. Its mailer, exactly:
    # `$SENDMAIL -i -B 8BITMIME user` (-B's value a separate word), its message with
    # `Content-Transfer-Encoding: binary` and `From: root (systemd-cron)`; `user` is a local
    # name, qualified by SMTPSEND_LOCAL_DOMAIN.
    {
        printf '%s\n' 'From: root (systemd-cron)' 'To: user' \
            'Subject: [host] result of cron-daily-backup.service' 'MIME-Version: 1.0' \
            'Content-Type: text/plain; charset=utf-8' 'Content-Transfer-Encoding: binary' \
            'Auto-Submitted: auto-generated' 'X-Mailer: systemd-cron 1.15.19' ''
        cat "$FILES/body.txt"
    } >"$FILES/systemd-cron.eml"
    run_caller systemd-cron sendmail -- \
        /usr/sbin/sendmail -i -B 8BITMIME user <"$FILES/systemd-cron.eml"
    check systemd-cron

    # PHP mail(), real: php.ini's default sendmail_path `/usr/sbin/sendmail -t -i` run by
    # `sh -c`; PHP 8 joins its headers with CRLF, the body keeps LF. Once with no From at all;
    # once with From and Cc headers and the fifth argument `-fbounces@example.org` (glued).
    run_caller php-mail/plain sendmail -- "${php_mail[@]}" bob@example.net \
        'PHP mail() ✓' "$FILES/body.txt" </dev/null
    run_caller php-mail/from sendmail -- "${php_mail[@]}" bob@example.net 'PHP mail() -f' \
        "$FILES/body.txt" 'From: Example App <app@example.org>|Cc: carol@example.net' \
        -fbounces@example.org </dev/null
    check php-mail
    # mail() to the refused recipient returns false (the script exits 1).
    run_caller php-mail-refused sendmail -- "${php_mail[@]}" refused@example.net \
        'PHP mail() refused' "$FILES/body.txt" 'From: app@example.org' </dev/null
    check php-mail-refused

    # PHPMailer, real (libphp-phpmailer): isSendmail() with a Bcc, which it leaves in the
    # message it pipes to `<sendmail_path> -oi -fapp@example.org -t`.
    run_caller phpmailer sendmail -- php "$HERE/php/phpmailer.php" "$FILES/body.txt" </dev/null
    check phpmailer

    # Symfony Mailer, real (php-symfony-mailer): `sendmail://default` speaks SMTP to
    # `/usr/sbin/sendmail -bs`; with command=`/usr/sbin/sendmail -t -i` it runs
    # `/usr/sbin/sendmail -i -f'app@example.org' -- 'bob@example.net' ...`.
    run_caller symfony-bs sendmail -- php "$HERE/php/symfony.php" 'sendmail://default' \
        'Symfony Mailer -bs ✓' "$FILES/body.txt" </dev/null
    check symfony-bs
    run_caller symfony-t sendmail -- php "$HERE/php/symfony.php" \
        'sendmail://default?command=/usr/sbin/sendmail%20-t%20-i' 'Symfony Mailer -t ✓' \
        "$FILES/body.txt" </dev/null
    check symfony-t

    # git send-email, real, with its default sendmail (/usr/sbin/sendmail, since it exists):
    # `/usr/sbin/sendmail -i rcpt...` (with -f when an envelope sender is set: here it is).
    local repo=$T/repo
    {
        git init -q -b main "$repo" &&
        git -C "$repo" config user.name 'Alice Example' &&
        git -C "$repo" config user.email alice@example.org &&
        printf 'hello\nGrüße ✓\n' >"$repo/greeting.txt" &&
        git -C "$repo" add greeting.txt &&
        git -C "$repo" commit -q -m 'Add a greeting' -m 'With a line of UTF-8: Grüße ✓'
    } >"$T/git-repo.log" 2>&1
    run_caller git-send-email sendmail GIT_CONFIG_NOSYSTEM=1 -- git -C "$repo" send-email \
        --to=someone@example.net --cc=carol@example.net --bcc=dave@example.net \
        --envelope-sender=alice@example.org --from='Alice Example <alice@example.org>' \
        --confirm=never --quiet -1 </dev/null
    check git-send-email

    # neomutt, real, in batch mode with no configuration file but these settings: its default
    # `sendmail="/usr/sbin/sendmail -oem -oi"`, plus -B8BITMIME (use_8bitmime), -f (the
    # envelope sender), -N (dsn_notify), and `-- to cc bcc`.
    run_caller neomutt sendmail -- neomutt -n -F /dev/null \
        -e 'set from="Alice Example <alice@example.org>" use_envelope_from=yes' \
        -e 'set use_8bitmime=yes dsn_notify="failure,delay" charset=utf-8 send_charset=utf-8' \
        -e 'set record="" copy=no' \
        -s 'neomutt batch ✓' -c carol@example.net -b dave@example.net -- bob@example.net \
        <"$FILES/body.txt"
    check neomutt

    # aerc: replayed, it has no batch mode (it needs a terminal). Its sendmail is the
    # configured words and the recipients, no -i and no --: `/usr/sbin/sendmail rcpt...`; the
    # lone dot in its body must arrive.
    {
        printf '%s\n' 'From: Alice Example <alice@example.org>' 'To: bob@example.net' \
            'Cc: carol@example.net' 'Subject: aerc ✓' \
            'Date: Mon, 01 Dec 2025 10:00:00 +0000' \
            'Message-ID: <aerc.1733047200.1@alice.example.org>' 'MIME-Version: 1.0' \
            'Content-Type: text/plain; charset=utf-8' 'Content-Transfer-Encoding: 8bit' ''
        cat "$FILES/body.txt"
    } >"$FILES/aerc.eml"
    run_caller aerc sendmail -- /usr/sbin/sendmail bob@example.net carol@example.net \
        <"$FILES/aerc.eml"
    check aerc

    # mblaze's mcom, real, with -send (no editor, no menu): `sendmail -t` from PATH (the
    # profile's Sendmail-Args default). Each -HEADER takes the words up to the next flag.
    mkdir -p "$T/mblaze/drafts/cur" "$T/mblaze/drafts/new" "$T/mblaze/drafts/tmp"
    printf 'Outbox: %s\n' "$T/mblaze/drafts" >"$T/mblaze/profile"
    run_caller mblaze sendmail MBLAZE="$T/mblaze" -- mcom -send -from alice@example.org \
        -to bob@example.net -subject 'mblaze mcom ✓' -body "$FILES/body.txt" </dev/null
    check mblaze

    # bsd-mailx, real: `bsd-mailx -s subject rcpt < body` runs `/usr/sbin/sendmail -i -- rcpt`;
    # with a Cc and a Bcc. Its exit status is sendmail's.
    run_caller bsd-mailx sendmail -- bsd-mailx -s 'bsd-mailx ✓' -c carol@example.net \
        -b dave@example.net bob@example.net <"$FILES/body.txt"
    check bsd-mailx
    # To the refused recipient: bsd-mailx exits non-zero. (Its From given with -a, so that this
    # depends on nothing but the refusal.)
    run_caller bsd-mailx-refused sendmail -- bsd-mailx -s 'bsd-mailx refused' \
        -a 'From: Alerts <alerts@example.org>' refused@example.net <"$FILES/body.txt"
    check bsd-mailx-refused

    # GNU mailutils' mail, real: `mail.mailutils -r from -s subject rcpt` runs
    # `/usr/sbin/sendmail -oi -f from -t` with the message it writes (this mailutils has no
    # -c; -a adds the Cc header, and -t makes its recipients count). -r is a bare address:
    # given `Name <addr>`, mailutils passes `-f Name`. No lone dot in the body: mailutils itself
    # ends its input there.
    run_caller mailutils sendmail -- mail.mailutils -r ops@example.org \
        -s 'mailutils ✓' -a 'Cc: carol@example.net' bob@example.net <"$FILES/body-nodot.txt"
    check mailutils

    # mdadm: replayed, `mdadm --monitor --test --oneshot` needs an md array, and this kernel
    # has no md driver loaded (no /proc/mdstat). mdadm runs `/usr/sbin/sendmail -t` (-f only
    # with MAILFROM) and writes `From: mdadm monitoring <root>`, `To: root`; no -i.
    {
        printf '%s\n' 'From: mdadm monitoring <root>' 'To: root' \
            'Subject: TestMessage event on /dev/md0:host' '' \
            'This is an automatically generated mail message from mdadm' 'running on host' '' \
            'A TestMessage event had been detected on md device /dev/md0.' '' \
            'Faithfully yours, etc.'
    } >"$FILES/mdadm.eml"
    run_caller mdadm sendmail -- /usr/sbin/sendmail -t <"$FILES/mdadm.eml"
    check mdadm

    # logwatch, real: `logwatch --output mail --mailto root --range today` pipes its report
    # (of this machine's logs) to `/usr/sbin/sendmail -t`; no -i. Debian's configuration
    # makes its From `root`, upstream's the bare name `Logwatch`: the second run has a
    # /etc/logwatch/conf of its own saying `MailFrom = Logwatch` (logwatch has no flag for it).
    mkdir -p "$T/logwatch/logfiles" "$T/logwatch/services"
    echo 'MailFrom = Logwatch' >"$T/logwatch/logwatch.conf"
    run_caller logwatch/real sendmail -- logwatch --output mail --mailto root --range today \
        --detail low </dev/null
    run_caller logwatch/upstream-from sendmail --bind="$T/logwatch:/etc/logwatch/conf" -- \
        logwatch --output mail --mailto root --range today --detail low </dev/null
    check logwatch

    # unattended-upgrades, real: its own two mail functions, from /usr/bin/unattended-upgrade
    # loaded as a module: _send_mail_using_sendmail (`/usr/sbin/sendmail -oi -t`, From: root,
    # a quoted-printable body) and the fallback _send_mail_using_mailx
    # (`/usr/bin/mail -r root -s subject root`). Each returns the program's exit status.
    run_caller unattended-upgrades sendmail -- /usr/bin/python3 "$HERE/unattended-upgrades.py" \
        sendmail "$FILES/body.txt"
    check unattended-upgrades
    run_caller unattended-upgrades-mailx sendmail,mail -- /usr/bin/python3 \
        "$HERE/unattended-upgrades.py" mailx "$FILES/body.txt"
    check unattended-upgrades-mailx

    # apt-listchanges, real: --frontend=mail on a .deb with a changelog and a NEWS file (the
    # entries after 1.0); it pipes `/usr/sbin/sendmail -oi -t` one message for the news and one
    # for the changelogs, with no From, Date or Message-ID. Its seen-database is the test's.
    make_changelog_deb
    run_caller apt-listchanges sendmail -- apt-listchanges --frontend=mail \
        --email-address=root --which=both --since=1.0 --save_seen="$T/deb/seen.db" \
        "$T/deb/smtpsend-test-pkg_1.1_all.deb" </dev/null
    check apt-listchanges

    # fail2ban, real: the actionban of /etc/fail2ban/action.d/sendmail.conf and mail.conf,
    # read by fail2ban's own ActionReader and run by its CommandAction: `printf ... |
    # /usr/sbin/sendmail -f "fail2ban" "root"` (no -i, no -t; From: Fail2Ban <fail2ban>) and
    # `printf ... | mail -E 'set escape' -s "..." root`.
    run_caller fail2ban-sendmail sendmail -- /usr/bin/python3 "$HERE/fail2ban-action.py" sendmail
    check fail2ban-sendmail
    run_caller fail2ban-mail sendmail,mail -- /usr/bin/python3 "$HERE/fail2ban-action.py" mail
    check fail2ban-mail

    # smartd, real notification scripts: smartd runs its -M exec program, Debian's
    # /usr/share/smartmontools/smartd-runner, as `smartd-runner -s SUBJECT root` with the
    # SMARTD_* variables set and the message on stdin; run-parts then runs
    # /etc/smartmontools/run.d/10mail, which runs `/usr/bin/mail -s SUBJECT root`.
    printf '%s\n' 'This message was generated by the smartd daemon running on:' '' \
        '   host name:  host' '   DNS domain: example.org' '' \
        'The following warning/error was logged by the smartd daemon:' '' \
        'Device: /dev/sda [SAT], 8 Currently unreadable (pending) sectors' >"$FILES/smartd.txt"
    local subject='SMART error (CurrentPendingSector) detected on host host'
    run_caller smartd sendmail,mail SMARTD_MAILER=/usr/share/smartmontools/smartd-runner \
        SMARTD_DEVICE=/dev/sda SMARTD_DEVICETYPE=sat SMARTD_DEVICESTRING='/dev/sda [SAT]' \
        SMARTD_DEVICEINFO='EXAMPLE DISK, S/N:1234' SMARTD_FAILTYPE=CurrentPendingSector \
        SMARTD_ADDRESS=root SMARTD_SUBJECT="$subject" SMARTD_TFIRST='Mon Dec  1 10:00:00 2025 UTC' \
        SMARTD_TFIRSTEPOCH=1764583200 SMARTD_PREVCNT=0 SMARTD_NEXTDAYS=1 \
        SMARTD_MESSAGE='Device: /dev/sda [SAT], 8 Currently unreadable (pending) sectors' \
        SMARTD_FULLMESSAGE="$(cat "$FILES/smartd.txt")" -- \
        /usr/share/smartmontools/smartd-runner -s "$subject" root <"$FILES/smartd.txt"
    check smartd

    # Nagios, real sample command: notify-host-by-email's command_line from nagios4-common's
    # /etc/nagios4/objects/commands.cfg, its macros filled in as Nagios would, run by sh:
    # `/usr/bin/printf "%b" "..." | /usr/bin/mail -s "** PROBLEM Host Alert: ... **" addr`.
    local nagios
    nagios=$(nagios_command notify-host-by-email)
    run_caller nagios sendmail,mail -- sh -c "$nagios" </dev/null
    check nagios

    # Icinga 2, real script: Debian's /etc/icinga2/scripts/mail-host-notification.sh with the
    # arguments its NotificationCommand passes; with -f it runs
    # `mail -a "From: $MAILFROM" -s "$SUBJECT" addr` (mail found in PATH).
    run_caller icinga2 sendmail,mail -- /etc/icinga2/scripts/mail-host-notification.sh \
        -d '2025-12-01 10:00:00 +0000' -l web01 -n 'Web server 01' -o 'PING CRITICAL ✗' \
        -r admin@example.net -s DOWN -t PROBLEM -4 192.0.2.10 \
        -f 'Icinga 2 <icinga@example.org>' </dev/null
    check icinga2

    # sendmail itself, called for a refused recipient: nothing sent, and the exit status says
    # so (67, EX_NOUSER, or another non-zero one the caller can see).
    run_caller sendmail-refused sendmail -- /usr/sbin/sendmail -i -f alerts@example.org -- \
        refused@example.net <"$FILES/body.txt"
    check sendmail-refused
}

# A .deb with a Debian changelog and NEWS, for apt-listchanges: $T/deb/smtpsend-test-pkg_1.1_all.deb
make_changelog_deb() {
    local d=$T/deb/pkg doc
    doc=$d/usr/share/doc/smtpsend-test-pkg
    mkdir -p "$d/DEBIAN" "$doc"
    printf '%s\n' 'Package: smtpsend-test-pkg' 'Version: 1.1' 'Architecture: all' \
        'Maintainer: Test <test@example.org>' 'Description: a package for apt-listchanges' \
        ' Only its changelog and NEWS matter.' >"$d/DEBIAN/control"
    printf '%s\n' 'smtpsend-test-pkg (1.1) unstable; urgency=medium' '' \
        '  * CHANGELOG-ENTRY: Grüße ✓, a change worth mailing.' '' \
        ' -- Test <test@example.org>  Mon, 01 Dec 2025 10:00:00 +0000' '' \
        'smtpsend-test-pkg (1.0) unstable; urgency=medium' '' '  * Initial release.' '' \
        ' -- Test <test@example.org>  Sat, 01 Nov 2025 10:00:00 +0000' |
        gzip -9n >"$doc/changelog.Debian.gz"
    printf '%s\n' 'smtpsend-test-pkg (1.1) unstable; urgency=medium' '' \
        '  NEWS-ENTRY: read this before upgrading.' '' \
        ' -- Test <test@example.org>  Mon, 01 Dec 2025 10:00:00 +0000' |
        gzip -9n >"$doc/NEWS.Debian.gz"
    dpkg-deb --build --root-owner-group "$d" "$T/deb/smtpsend-test-pkg_1.1_all.deb" \
        >"$T/deb/build.log" 2>&1
}

# nagios_command NAME: the command_line of command NAME in nagios4's sample commands.cfg, its
# macros replaced by a host alert's values (the contact admin@example.net).
nagios_command() {
    awk -v name="$1" '
        $1 == "command_name" && $2 == name { found = 1; next }
        found && $1 == "command_line" { sub(/^[ \t]*command_line[ \t]+/, ""); print; exit }
    ' /etc/nagios4/objects/commands.cfg |
        sed -e 's/\$NOTIFICATIONTYPE\$/PROBLEM/g' -e 's/\$HOSTNAME\$/web01/g' \
            -e 's/\$HOSTSTATE\$/DOWN/g' -e 's/\$HOSTADDRESS\$/192.0.2.10/g' \
            -e 's/\$HOSTOUTPUT\$/PING CRITICAL - Packet loss = 100%/g' \
            -e 's/\$LONGDATETIME\$/Mon Dec 1 10:00:00 UTC 2025/g' \
            -e 's/\$CONTACTEMAIL\$/admin@example.net/g'
}

# The server down: Postfix stopped, a message handed to sendmail as a cron job would
# (`-t -i`) is queued, exit 75 (EX_TEMPFAIL); Postfix started again, `smtpsend queue flush`,
# run with its own environment (the same variables: the password is never kept in the queue),
# delivers it, once; a second flush finds nothing left to send.
run_queue_scenario() {
    printf '%s\n' 'From: alerts@example.org' 'To: admin@example.net' \
        'Subject: queued while the server was down' '' \
        'kept in the outbox, sent by a later flush' >"$FILES/queued.eml"
    stop_postfix
    run_caller server-down/send sendmail -- /usr/sbin/sendmail -t -i <"$FILES/queued.eml"
    start_postfix "$SUB_PORT"
    # --now: the entry's next attempt is minutes away (its backoff), which a test cannot wait.
    run_program server-down/flush "${CALLER_ENV[@]}" -- "$BIN" queue flush --now </dev/null
    run_program server-down/flush-again "${CALLER_ENV[@]}" -- "$BIN" queue flush --now </dev/null
    check server-down
}

# ---------------------------------------------------------------------------------------------
SECONDS=0
setup_postfix
ensure_binary
make_fixtures
run_crons
run_callers
run_queue_scenario
if ((FAILED > 0)); then
    echo "# failed: ${FAILED_NAMES[*]}"
fi
echo "# the callers' argv, one line per call of /usr/sbin/sendmail or /usr/bin/mail:"
for argv in $(find "$RUNS" -name argv | sort); do
    while IFS= read -r line; do
        echo "#   ${argv#"$RUNS"/}: $line"
    done < <(sed -E 's/ \[env: .*\]$//' "$argv" | mask)
done
echo "# wall time: ${SECONDS} s"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
