#!/usr/bin/env python3
"""Checks one scenario of tests/callers/run.sh against what Postfix delivered.

    check.py SCENARIO RUNDIR

RUNDIR is laid out as in tests/postfix (stdout, stderr, rc, time, deliveries/ with
QUEUEID.PID.eml and .env per recipient; RUNDIR/STEP/ for a scenario of several steps), plus
argv: one line per call of the wrappers at /usr/sbin/sendmail and /usr/bin/mail. The run is of
a real caller (PHP, cron, bsd-mailx...) or a replay of one, not of smtpsend directly.

What every delivered message must be: delivered once to each expected recipient and to no one
else, one message, envelope sender and recipients fully qualified, exactly one From (with a
domain), Date and Message-ID, no Bcc header, and the body as the caller wrote it once decoded
(byte for byte, line ends apart). Prints "ok" or the failures, one a line; exits 0 either way.
Standard library only; the parts it shares with tests/postfix/check.py are imported from there.
"""

import email.utils
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "postfix"))
import check as postfix  # noqa: E402  (tests/postfix/check.py)

Run, Steps, MissingStep = postfix.Run, postfix.Steps, postfix.MissingStep
addresses, body_parts, fixture = postfix.addresses, postfix.body_parts, postfix.fixture

FQ = re.compile(r"[^@\s<>]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
ADMIN = "admin@example.net"        # root's alias (SMTPSEND_ALIASES)
BODY = "body.txt"                  # the fixture most callers send
NODOT = "body-nodot.txt"           # for GNU mailutils, which ends its own input at a lone dot


def lf(data):
    """LF line ends, and no blank lines at the end: PHP's mail() and Symfony's SMTP add one."""
    return data.replace(b"\r\n", b"\n").rstrip(b"\n")


def text_body(run, d):
    """The decoded bytes of the message's one text part (its transfer encoding undone)."""
    texts, htmls, _ = body_parts(d.msg)
    parts = texts or htmls
    if len(parts) != 1:
        run.fail(f"expected one text body part, found {len(parts)}")
        return None
    return parts[0].get_payload(decode=True) or b""


def expect_headers(run, d):
    """One From with a fully qualified address, one Date that parses, one Message-ID, no Bcc."""
    msg = d.msg
    for name in ("From", "Date", "Message-ID"):
        count = len(msg.get_all(name) or [])
        if count != 1:
            run.fail(f"expected exactly one {name} header, got {count}")
    try:
        froms = [a for _, a in addresses(msg, "From")]
    except Exception as e:  # a From the parser cannot read is a failure, not a crash
        froms = []
        run.fail(f"the From header does not parse: {e}")
    if msg.get("From") is not None and (len(froms) != 1 or not FQ.fullmatch(froms[0] or "")):
        run.fail(f"the From header {str(msg.get('From'))!r} has no address with a domain")
    date = msg.get("Date")
    if date is not None:
        try:
            if email.utils.parsedate_to_datetime(str(date)) is None:
                raise ValueError
        except (TypeError, ValueError):
            run.fail(f"unparsable Date header {str(date)!r}")
    mid = msg.get("Message-ID")
    if mid is not None and not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(mid).strip()):
        run.fail(f"malformed Message-ID {str(mid)!r}")
    for name in msg.keys():
        if name.lower().startswith("x-test-client-sent-") or name.lower() in ("bcc", "resent-bcc"):
            run.fail(f"the message went out with a {name.replace('X-Test-Client-Sent-', '')} "
                     f"header (Postfix would have dropped it)")


def expect_mail(run, rcpts, rc=0, sender=None, from_addr=None, subject=None, body=None,
                lines=(), hidden=(), deliveries=None):
    """The common expectations. rc: the caller's exit status (None: the caller does not report
    it). sender: the envelope sender (None: any fully qualified address). from_addr: the
    From's address. body: a fixture name, or bytes, the text body must be; lines: strings the
    decoded body must hold."""
    if rc is not None:
        run.expect_rc(rc)
    if deliveries is not None:
        run.deliveries = deliveries
    d = run.expect_delivered_to(rcpts, sender=sender if sender else None)
    for delivery in run.deliveries:
        for what, value in (("envelope sender", delivery.sender),
                            ("envelope recipient", delivery.recipient)):
            if not FQ.fullmatch(value):
                run.fail(f"{what} {value!r} is not a fully qualified address")
    if d is None:
        return None
    expect_headers(run, d)
    if from_addr is not None:
        got = [a for _, a in addresses(d.msg, "From")]
        if got != [from_addr]:
            run.fail(f"From is {got}, expected {from_addr}")
    if subject is not None and str(d.msg.get("Subject", "")) != subject:
        run.fail(f"Subject decodes to {str(d.msg.get('Subject'))!r}, expected {subject!r}")
    head = d.raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    for line in re.sub(rb"\n[ \t]", b" ", head).split(b"\n"):
        if line.lower().startswith(b"received:"):
            continue
        for address in hidden:
            if address.encode() in line.lower():
                run.fail(f"a header names the Bcc recipient {address}: {line[:200]!r}")
    got = text_body(run, d)
    if got is not None:
        if body is not None:
            want = fixture(body) if isinstance(body, str) else body
            if lf(got) != lf(want):
                run.fail(f"the body decodes to {got[:400]!r}, expected {want[:400]!r}")
        text = got.decode("utf-8", "replace").replace("\r\n", "\n")
        for line in lines:
            if line not in text:
                run.fail(f"the body has no {line!r}: {text[:400]!r}")
    return d


def expect_refused(run, rc=None):
    """Nothing delivered; the caller exits non-zero (rc: exactly that), and not 75: a
    refusal is permanent, nothing waits in a queue; smtpsend's stderr, which the callers
    pass on, names the refused recipient or the server's 550."""
    if not re.search(r"refused@example\.net|550", run.stderr):
        run.fail(f"stderr names neither the refused recipient nor the 550: {run.stderr[:300]!r}")
    if rc is not None:
        run.expect_rc(rc)
    elif run.rc == 0:
        run.fail("the caller exited 0: the refusal did not reach it")
    elif run.rc == 75:
        run.fail("exit 75 (EX_TEMPFAIL, queued): the server refused the recipient for good")
    run.expect_delivered_to([])


def argv_calls(run):
    path = run.dir / "argv"
    return path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []


# -- scenarios ---------------------------------------------------------------------------------

def check_cron(marker, sender=None):
    """The real cron daemons' runs share one directory; each is told apart by its job's output."""
    def check(run):
        mine = [d for d in run.deliveries if f"CRONJOB output from {marker}".encode() in d.raw]
        if not mine:
            calls = [c for c in argv_calls(run)]
            run.fail(f"no mail from {marker}'s job arrived within the wait"
                     + (f"; the wrappers were called: {calls}" if calls else
                        "; sendmail was never called"))
            return
        body = (f"CRONJOB output from {marker}\n.\nafter the lone dot\n".encode()
                + b"\xff a non-UTF-8 byte\n")
        d = expect_mail(run, [ADMIN], rc=None, sender=sender, body=body, deliveries=mine)
        if d is not None and "crontab-variable@" in (d.sender + str(d.msg.get("From"))):
            run.fail("the crontab's SMTPSEND_FROM reached sendmail, not the daemon's")
        if d is not None:
            for field in d.msg.get_all("X-Cron-Env") or []:
                if "SMTPSEND_PASSWORD=" in str(field):
                    run.fail("the password went out in an X-Cron-Env header")
    return check


def check_systemd_cron(run):
    expect_mail(run, ["user@host.example.org"], body=BODY,
                subject="[host] result of cron-daily-backup.service")


def check_php_mail(steps):
    expect_mail(steps["plain"], ["bob@example.net"], from_addr="alerts@example.org",
                sender="alerts@example.org", subject="PHP mail() ✓", body=BODY)
    expect_mail(steps["from"], ["bob@example.net", "carol@example.net"],
                sender="bounces@example.org", from_addr="app@example.org",
                subject="PHP mail() -f", body=BODY)


def check_phpmailer(run):
    expect_mail(run, ["bob@example.net", "dave@example.net"], sender="app@example.org",
                from_addr="app@example.org", subject="PHPMailer über sendmail ✓",
                body=BODY, hidden=["dave@example.net"])


def check_symfony(subject):
    def check(run):
        expect_mail(run, ["bob@example.net", "carol@example.net", "dave@example.net"],
                    sender="app@example.org", from_addr="app@example.org", subject=subject,
                    body=BODY, hidden=["dave@example.net"])
    return check


def check_git_send_email(run):
    d = expect_mail(run, ["someone@example.net", "carol@example.net", "dave@example.net",
                          "alice@example.org"],
                    sender="alice@example.org", from_addr="alice@example.org",
                    subject="[PATCH] Add a greeting",
                    lines=["With a line of UTF-8: Grüße ✓", "+Grüße ✓"],
                    hidden=["dave@example.net"])
    if d is not None and not str(d.msg.get("X-Mailer", "")).startswith("git-send-email"):
        run.fail(f"X-Mailer is {d.msg.get('X-Mailer')!r}: not git send-email's message")


def check_neomutt(run):
    expect_mail(run, ["bob@example.net", "carol@example.net", "dave@example.net"],
                sender="alice@example.org", from_addr="alice@example.org",
                subject="neomutt batch ✓", body=BODY, hidden=["dave@example.net"])


def check_aerc(run):
    expect_mail(run, ["bob@example.net", "carol@example.net"], sender="alice@example.org",
                from_addr="alice@example.org", subject="aerc ✓", body=BODY)


def check_mblaze(run):
    expect_mail(run, ["bob@example.net"], from_addr="alice@example.org",
                subject="mblaze mcom ✓", body=BODY)


def check_bsd_mailx(run):
    expect_mail(run, ["bob@example.net", "carol@example.net", "dave@example.net"],
                from_addr="alerts@example.org", subject="bsd-mailx ✓", body=BODY,
                hidden=["dave@example.net"])


def check_mailutils(run):
    expect_mail(run, ["bob@example.net", "carol@example.net"], sender="ops@example.org",
                from_addr="ops@example.org", subject="mailutils ✓", body=NODOT)


def check_mdadm(run):
    expect_mail(run, [ADMIN], subject="TestMessage event on /dev/md0:host",
                lines=["A TestMessage event had been detected on md device /dev/md0.",
                       "Faithfully yours, etc."])


def check_logwatch(steps):
    for step in ("real", "upstream-from"):
        expect_mail(steps[step], [ADMIN], lines=["Logwatch", "Processing Initiated"])


def check_unattended_upgrades(how):
    def check(run):
        expect_mail(run, [ADMIN], body=BODY,
                    subject=f"unattended-upgrades result for host.example.org: SUCCESS ({how})")
    return check


def check_apt_listchanges(run):
    """Two messages, the news and the changelogs, each to root's alias once."""
    by_subject = {}
    for d in run.deliveries:
        by_subject.setdefault(str(d.msg.get("Subject", "")), []).append(d)
    want = {"news": "NEWS-ENTRY: read this before upgrading.",
            "changelogs": "CHANGELOG-ENTRY: Grüße ✓, a change worth mailing."}
    run.expect_rc(0)
    for kind, line in want.items():
        mine = [d for s, ds in by_subject.items() if s.startswith(f"apt-listchanges: {kind}")
                for d in ds]
        if not mine:
            run.fail(f"no {kind} message arrived (subjects: {sorted(by_subject)})")
            continue
        expect_mail(run, [ADMIN], rc=None, lines=[line], deliveries=mine)


def check_fail2ban(subject_word):
    def check(run):
        d = expect_mail(run, [ADMIN], lines=["The IP 192.0.2.7 has just been banned by Fail2Ban",
                                             "5 attempts against sshd."])
        if d is not None and not str(d.msg.get("Subject", "")).startswith(
                "[Fail2Ban] sshd: banned 192.0.2.7"):
            run.fail(f"Subject is {str(d.msg.get('Subject'))!r}, not fail2ban's {subject_word}")
    return check


def check_smartd(run):
    expect_mail(run, [ADMIN], subject="SMART error (CurrentPendingSector) detected on host host",
                body=fixture("smartd.txt"))


def check_nagios(run):
    expect_mail(run, [ADMIN], subject="** PROBLEM Host Alert: web01 is DOWN **",
                lines=["***** Nagios *****", "Host: web01", "Info: PING CRITICAL - Packet loss = 100%"])


def check_icinga2(run):
    expect_mail(run, [ADMIN], from_addr="icinga@example.org",
                subject="[PROBLEM] Host Web server 01 is DOWN!",
                lines=["Web server 01 is DOWN!", "Info:    PING CRITICAL ✗", "IPv4:\t 192.0.2.10"])


def check_php_mail_refused(run):
    expect_refused(run, rc=1)
    if "returned false" not in run.stdout:
        run.fail(f"mail() did not return false: {run.stdout!r}")


def check_sendmail_refused(run):
    expect_refused(run)


def check_server_down(steps):
    send = steps["send"]
    send.expect_rc(75)
    send.expect_delivered_to([])
    flush = steps["flush"]
    expect_mail(flush, [ADMIN], body=b"kept in the outbox, sent by a later flush\n",
                subject="queued while the server was down")
    again = steps["flush-again"]
    again.expect_rc(0)
    if again.deliveries:
        again.fail(f"a second flush delivered it again, to "
                   f"{sorted(d.recipient for d in again.deliveries)}")


SCENARIOS = {
    "cron": check_cron("debian-cron"),
    "busybox-crond": check_cron("busybox-crond"),
    "systemd-cron": check_systemd_cron,
    "php-mail": check_php_mail,
    "php-mail-refused": check_php_mail_refused,
    "phpmailer": check_phpmailer,
    "symfony-bs": check_symfony("Symfony Mailer -bs ✓"),
    "symfony-t": check_symfony("Symfony Mailer -t ✓"),
    "git-send-email": check_git_send_email,
    "neomutt": check_neomutt,
    "aerc": check_aerc,
    "mblaze": check_mblaze,
    "bsd-mailx": check_bsd_mailx,
    "bsd-mailx-refused": lambda run: expect_refused(run),
    "mailutils": check_mailutils,
    "mdadm": check_mdadm,
    "logwatch": check_logwatch,
    "unattended-upgrades": check_unattended_upgrades("sendmail"),
    "unattended-upgrades-mailx": check_unattended_upgrades("mailx"),
    "apt-listchanges": check_apt_listchanges,
    "fail2ban-sendmail": check_fail2ban("sendmail action"),
    "fail2ban-mail": check_fail2ban("mail action"),
    "smartd": check_smartd,
    "nagios": check_nagios,
    "icinga2": check_icinga2,
    "sendmail-refused": check_sendmail_refused,
    "server-down": check_server_down,
}


def main():
    name, rundir = sys.argv[1], Path(sys.argv[2])
    run = Run(rundir) if (rundir / "rc").exists() else Steps(rundir)
    try:
        SCENARIOS[name](run)
    except MissingStep as e:
        run.fail(f"step {e} did not run")
    except Exception as e:  # a checker crash is a failure of the scenario, with the reason
        run.fail(f"checker error: {type(e).__name__}: {e}")
    run.report()


if __name__ == "__main__":
    main()
