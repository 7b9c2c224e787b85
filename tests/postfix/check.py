#!/usr/bin/env python3
"""Checks one scenario of tests/postfix/run.sh against what Postfix delivered.

    check.py SCENARIO RUNDIR

RUNDIR holds what run.sh recorded for one smtpsend run: stdout, stderr, rc, time (start and end,
epoch seconds), and deliveries/ with QUEUEID.PID.eml (raw message as delivered) +
QUEUEID.PID.env (envelope) per recipient. A scenario of several steps (the keyring ones, s-nail,
sendmail-unknown-flag) has one such directory per step instead, RUNDIR/STEP/ (a step that is
not smtpsend, like secret-tool, has no deliveries/). A run may also be of a real caller of
smtpsend's sendmail mode (git send-email, s-nail), with what Postfix delivered meanwhile.
Secrets and fixture paths come from the environment (CHECK_PASSWORD, CHECK_WRONG_PASSWORD,
CHECK_USER, CHECK_FILES).

Prints "ok", or the first failure on the first line and any further failures on the next ones,
and exits 0 either way (run.sh reads the text). Standard library only.
"""

import base64
import email
import email.header
import email.policy
import email.utils
import hashlib
import json
import os
import re
import sys
from pathlib import Path

SENDER = "alice@example.org"


class Delivery:
    def __init__(self, env_path: Path):
        fields = {}
        for line in env_path.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(" ")
            fields[key] = value
        self.queue_id = fields.get("queue_id", "")
        self.sender = fields.get("sender", "")
        self.recipient = fields.get("recipient", "")
        self.raw = env_path.with_suffix(".eml").read_bytes()
        self.msg = email.message_from_bytes(self.raw, policy=email.policy.default)


class Run:
    def __init__(self, rundir: Path, failures=None, label=""):
        self.dir = rundir
        self.stdout = (rundir / "stdout").read_text(encoding="utf-8", errors="replace")
        self.stderr = (rundir / "stderr").read_text(encoding="utf-8", errors="replace")
        self.rc = int((rundir / "rc").read_text().strip())
        self.deliveries = [Delivery(p) for p in sorted((rundir / "deliveries").glob("*.env"))]
        self.elapsed = None
        if (rundir / "time").exists():
            start, end = (float(t) for t in (rundir / "time").read_text().split())
            self.elapsed = end - start
        # A step of a scenario shares the scenario's list and names itself in each failure.
        self.failures = [] if failures is None else failures
        self.label = label

    def fail(self, text):
        self.failures.append(self.label + text)

    # -- common assertions --------------------------------------------------------------------

    def expect_rc(self, code):
        if self.rc != code:
            meaning = {124: " (killed by timeout)", 137: " (killed by timeout)"}.get(self.rc, "")
            self.fail(f"exit code {self.rc}{meaning}, expected {code}")

    def expect_delivered_to(self, recipients, sender=SENDER):
        """Exactly one message, delivered once to each of `recipients`, from `sender` (SENDER
        unless told; None: from any address but the null one)."""
        got = sorted(d.recipient for d in self.deliveries)
        want = sorted(recipients)
        if got != want:
            if not want:
                self.fail(f"expected nothing delivered, Postfix delivered to {got}")
            else:
                self.fail(f"envelope recipients delivered {got}, expected {want}")
        queue_ids = {d.queue_id for d in self.deliveries}
        if len(queue_ids) > 1:
            self.fail(f"expected one message, got {len(queue_ids)} (queue ids {sorted(queue_ids)})")
        for d in self.deliveries:
            if sender is None and not d.sender:
                self.fail("the envelope sender is empty")
                break
            if sender is not None and d.sender != sender:
                self.fail(f"envelope sender {d.sender!r}, expected {sender!r}")
                break
        if len({d.raw for d in self.deliveries}) > 1:
            self.fail("the copies delivered to different recipients differ")
        return self.deliveries[0] if self.deliveries else None

    def expect_wire_format(self, d):
        """7-bit ASCII, every line at most 998 octets (RFC 5322 2.1.1)."""
        high = [i for i, b in enumerate(d.raw) if b > 127]
        if high:
            i = high[0]
            self.fail(f"message is not 7-bit: {len(high)} octets > 127, first near "
                      f"{d.raw[max(0, i - 40):i + 20]!r}")
        if b"\0" in d.raw:
            self.fail("message contains NUL octets")
        for n, line in enumerate(d.raw.split(b"\n"), 1):
            line = line.rstrip(b"\r")
            if len(line) > 998:
                self.fail(f"line {n} of the message is {len(line)} octets long (limit 998)")
                break

    def expect_basic_headers(self, d):
        msg = d.msg
        for name in ("Date", "Message-ID", "From"):
            if len(msg.get_all(name) or []) != 1:
                self.fail(f"expected exactly one {name} header, got {len(msg.get_all(name) or [])}")
        date = msg.get("Date")
        if date is not None:
            try:
                if email.utils.parsedate_to_datetime(str(date)) is None:
                    raise ValueError
            except (TypeError, ValueError):
                self.fail(f"unparsable Date header {str(date)!r}")
        mid = message_id(d)
        if mid is not None and not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", mid):
            self.fail(f"malformed Message-ID {mid!r}")
        for name in msg.keys():
            if name.lower().startswith("x-test-client-sent-") or name.lower() in ("bcc", "resent-bcc"):
                self.fail(f"the client sent a {name.replace('X-Test-Client-Sent-', '')} header "
                          f"(Postfix would have dropped it)")

    def expect_no_secret(self, secrets, where="stdout or stderr"):
        text = self.stdout + self.stderr
        for label, value in secrets:
            if value and value in text:
                self.fail(f"{label} appears in {where}")

    def expect_within(self, seconds):
        if self.elapsed is not None and self.elapsed > seconds:
            self.fail(f"took {self.elapsed:.1f} s, expected under {seconds} s")

    def expect_stderr(self, pattern, what):
        if not re.search(pattern, self.stderr, re.IGNORECASE):
            self.fail(f"stderr does not {what}")

    def expect_subject(self, d, subject):
        if str(d.msg.get("Subject", "")) != subject:
            self.fail(f"Subject decodes to {str(d.msg.get('Subject'))!r}, expected {subject!r}")

    def report(self):
        print("\n".join(self.failures) if self.failures else "ok")


class MissingStep(Exception):
    pass


class Steps:
    """A scenario of several runs, RUNDIR/STEP/ each: steps["login"] is the Run of step login."""

    def __init__(self, rundir: Path):
        self.dir = rundir
        self.failures = []
        self.runs = {}

    def __getitem__(self, step):
        if step not in self.runs:
            if not (self.dir / step / "rc").exists():
                raise MissingStep(step)
            self.runs[step] = Run(self.dir / step, self.failures, f"{step}: ")
        return self.runs[step]

    def fail(self, text):
        self.failures.append(text)

    def report(self):
        print("\n".join(self.failures) if self.failures else "ok")


# -- helpers -----------------------------------------------------------------------------------

def message_id(d):
    raw = d.msg.get("Message-ID")
    return None if raw is None else str(raw).strip()


def bare_id(mid):
    return mid.strip().strip("<>").strip() if mid else ""


def norm_text(s):
    s = s.replace("\r\n", "\n")
    return s[:-1] if s.endswith("\n") else s


def decoded_filename(part):
    name = part.get_filename()
    if name and "=?" in name:          # RFC 2047 encoded-word inside the parameter (non-standard)
        name = str(email.header.make_header(email.header.decode_header(name)))
    return name


def secret_forms(user, password, label="the password"):
    enc = lambda b: base64.b64encode(b).decode()
    pw = password.encode()
    return [
        (label, password),
        (f"{label} in base64 (AUTH LOGIN)", enc(pw)),
        (f"{label} in AUTH PLAIN's base64 of \\0{user}\\0password", enc(b"\0" + user.encode() + b"\0" + pw)),
        (f"{label} in AUTH PLAIN's base64 of {user}\\0{user}\\0password",
         enc(user.encode() + b"\0" + user.encode() + b"\0" + pw)),
    ]


def addresses(msg, name):
    header = msg.get(name)
    if header is None:
        return []
    return [(a.display_name, a.addr_spec) for a in header.addresses]


def body_parts(msg):
    """(text parts, html parts, attachments) of a message, walking multiparts."""
    texts, htmls, attachments = [], [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        if disposition == "attachment" or part.get_filename():
            attachments.append(part)
        elif part.get_content_type() == "text/plain":
            texts.append(part)
        elif part.get_content_type() == "text/html":
            htmls.append(part)
        else:
            attachments.append(part)
    return texts, htmls, attachments


def expect_text_body(run, d, expected):
    texts, _, _ = body_parts(d.msg)
    if len(texts) != 1:
        run.fail(f"expected one text/plain body part, found {len(texts)}")
        return
    try:
        got = texts[0].get_content()
    except (LookupError, ValueError) as e:
        run.fail(f"text body does not decode: {e}")
        return
    if norm_text(got) != norm_text(expected):
        run.fail(f"text body decodes to {got!r}, expected {expected!r}")


# -- scenarios ---------------------------------------------------------------------------------

def stdout_single_line(run):
    lines = run.stdout.splitlines()
    if len(lines) != 1 or not run.stdout.endswith("\n"):
        run.fail(f"stdout should be exactly one line, got {run.stdout!r}")


def check_starttls_full(run):
    files = Path(os.environ["CHECK_FILES"])
    run.expect_rc(0)
    d = run.expect_delivered_to(["bob@example.net", "carol@example.net", "dave@example.net"])
    if d is None:
        return
    msg = d.msg
    stdout_single_line(run)
    mid = bare_id(message_id(d))
    if not re.search(r"(^|\D)250(\D|$)", run.stdout):
        run.fail(f"stdout does not show the final 250 reply: {run.stdout.strip()!r}")
    if d.queue_id not in run.stdout:
        run.fail(f"stdout does not show the final reply (Postfix's '250 2.0.0 Ok: queued as "
                 f"{d.queue_id}'): {run.stdout.strip()!r}")
    if not mid or mid not in run.stdout:
        run.fail(f"stdout does not contain the delivered Message-ID {mid!r}: {run.stdout.strip()!r}")
    run.expect_wire_format(d)
    run.expect_basic_headers(d)
    if msg.get("MIME-Version") is None:
        run.fail("no MIME-Version header")
    # Headers: the Bcc recipient must not be mentioned (Received is Postfix's own).
    head = d.raw.split(b"\n\n", 1)[0]
    unfolded = re.sub(rb"\r?\n[ \t]", b" ", head).split(b"\n")
    for line in unfolded:
        if line.lower().startswith(b"received:"):
            continue
        if b"dave" in line.lower():
            run.fail(f"a header mentions the Bcc recipient: {line[:200]!r}")
    run.expect_subject(d, "Grüße – a test ✓")
    if addresses(msg, "From") != [("Ålice Ünïcode", "alice@example.org")]:
        run.fail(f"From decodes to {addresses(msg, 'From')}, expected Ålice Ünïcode <alice@example.org>")
    if addresses(msg, "To") != [("Bob", "bob@example.net")]:
        run.fail(f"To decodes to {addresses(msg, 'To')}, expected Bob <bob@example.net>")
    if [a for _, a in addresses(msg, "Cc")] != ["carol@example.net"]:
        run.fail(f"Cc decodes to {addresses(msg, 'Cc')}, expected carol@example.net")

    texts, htmls, attachments = body_parts(msg)
    expect_text_body(run, d, "Body with ümlauts\n.leading dot line")
    if len(htmls) != 1:
        run.fail(f"expected one text/html part, found {len(htmls)}")
    else:
        want = (files / "page.html").read_text(encoding="utf-8")
        try:
            got = htmls[0].get_content()
        except (LookupError, ValueError) as e:
            got = f"<does not decode: {e}>"
        if norm_text(got) != norm_text(want):
            run.fail(f"HTML part decodes to {got!r}, expected the content of page.html")
    alternative = [p for p in msg.walk() if p.get_content_type() == "multipart/alternative"]
    if not alternative:
        run.fail("no multipart/alternative holding the text and HTML bodies")
    expected = {
        "file with spaces.pdf": ("application/pdf", files / "file with spaces.pdf"),
        "naïve-résumé.txt": ("text/plain", files / "naïve-résumé.txt"),
    }
    names = [decoded_filename(p) for p in attachments]
    if sorted(n or "" for n in names) != sorted(expected):
        run.fail(f"attachment file names decode to {names}, expected {sorted(expected)}")
    for part, name in zip(attachments, names):
        if name not in expected:
            continue
        ctype, path = expected[name]
        if part.get_content_type() != ctype:
            run.fail(f"attachment {name!r} has Content-Type {part.get_content_type()}, expected {ctype}")
        data = part.get_payload(decode=True) or b""
        want = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != hashlib.sha256(want).hexdigest():
            run.fail(f"attachment {name!r}: {len(data)} octets delivered, sha256 differs from the "
                     f"{len(want)}-octet file")


def check_implicit_tls_json(run):
    run.expect_rc(0)
    d = run.expect_delivered_to(["bob@example.net", "carol@example.net"])
    try:
        doc = json.loads(run.stdout)
    except ValueError as e:
        run.fail(f"stdout is not one JSON document: {e}")
        doc = None
    if doc is not None and not isinstance(doc, dict):
        run.fail(f"stdout JSON is a {type(doc).__name__}, expected an object")
        doc = None
    if doc is not None:
        if doc.get("status") != "sent":
            run.fail(f"status is {doc.get('status')!r}, expected 'sent'")
        tls = doc.get("tls")
        version = tls.get("version") if isinstance(tls, dict) else None
        if not isinstance(version, str) or not version.startswith("TLSv1."):
            run.fail(f"tls.version is {version!r}, expected 'TLSv1.x' (tls = {tls!r})")
        final = doc.get("final_reply")
        code = final.get("code") if isinstance(final, dict) else None
        if code != 250:
            run.fail(f"final_reply.code is {code!r}, expected 250 (final_reply = {final!r})")
        if d is not None:
            want = bare_id(message_id(d))
            got = doc.get("message_id")
            if not isinstance(got, str) or bare_id(got) != want:
                run.fail(f"message_id is {got!r}, the delivered Message-ID is <{want}>")
        rcpts = doc.get("recipients")
        for addr in ("bob@example.net", "carol@example.net"):
            entry = find_recipient(rcpts, addr)
            if entry is None:
                run.fail(f"recipients does not list {addr}: {rcpts!r}")
            elif entry.get("accepted") is not True:
                run.fail(f"recipients entry for {addr} is not accepted: true: {entry!r}")
    if d is not None:
        run.expect_wire_format(d)
        run.expect_basic_headers(d)
        run.expect_subject(d, "Implicit TLS")
        expect_text_body(run, d, "Body from stdin over implicit TLS.\n.dot line\n")
    run.expect_no_secret(secret_forms(os.environ["CHECK_USER"], os.environ["CHECK_PASSWORD"]))


def find_recipient(rcpts, addr):
    if isinstance(rcpts, dict):                       # {"addr": {...}}
        entry = rcpts.get(addr)
        return entry if isinstance(entry, dict) else None
    if isinstance(rcpts, list):                       # [{"address": "addr", ...}]
        for entry in rcpts:
            if isinstance(entry, dict) and any(
                    isinstance(v, str) and bare_id(v) == addr for v in entry.values()):
                return entry
    return None


def check_simple_delivery(subject, body):
    def check(run):
        run.expect_rc(0)
        d = run.expect_delivered_to(["bob@example.net"])
        if d is not None:
            run.expect_wire_format(d)
            run.expect_basic_headers(d)
            run.expect_subject(d, subject)
            expect_text_body(run, d, body)
            mid = bare_id(message_id(d))
            if not mid or mid not in run.stdout:
                run.fail(f"stdout does not contain the delivered Message-ID {mid!r}: {run.stdout.strip()!r}")
        run.expect_no_secret(secret_forms(os.environ["CHECK_USER"], os.environ["CHECK_PASSWORD"]))
    return check


def check_unix_socket(run):
    """Delivered through smtpd on a unix socket, logged in with PLAIN without TLS."""
    check_simple_delivery("Over a unix socket", "by the socket")(run)
    if "AUTH PLAIN <redacted>" not in run.stderr:
        run.fail("-v does not show AUTH PLAIN over the socket")
    if "STARTTLS" in run.stderr:
        run.fail("STARTTLS was tried over a unix socket")


def check_unix_socket_check(run):
    """`check` over the socket shows where it went and the login that worked there."""
    run.expect_rc(0)
    run.expect_delivered_to([])
    if not re.search(r"^server +/\S+/public/smtpsend-submission \(none\)$", run.stdout, re.M):
        run.fail(f"check does not show the socket: {run.stdout!r}")
    if not re.search(r"^auth +PLAIN as alice: accepted", run.stdout, re.M):
        run.fail(f"check does not show the login over the socket: {run.stdout!r}")


def check_wrong_password(run):
    run.expect_rc(77)
    run.expect_delivered_to([])
    run.expect_no_secret(secret_forms(os.environ["CHECK_USER"], os.environ["CHECK_WRONG_PASSWORD"],
                                      "the wrong password"))


def check_recipient_limit(run):
    """Five recipients, two per transaction: each delivered once, the same message three
    times over (one queue id per transaction), and success."""
    run.expect_rc(0)
    got = sorted(d.recipient for d in run.deliveries)
    want = [f"r{n}@example.net" for n in range(1, 6)]
    if got != want:
        run.fail(f"envelope recipients delivered {got}, expected each of {want} once")
    transactions = {d.queue_id for d in run.deliveries}
    if len(transactions) != 3:
        run.fail(f"expected 3 transactions of at most 2 recipients, got {len(transactions)}")
    ids = {d.msg.get("Message-ID") for d in run.deliveries}
    if len(ids) != 1:
        run.fail(f"expected one message, got Message-IDs {sorted(map(str, ids))}")
    for d in run.deliveries:
        if "X-Test-Client-Sent-Bcc" in d.msg:
            run.fail("the Bcc header was sent")
            break


def check_refused_recipient(run):
    run.expect_rc(67)
    run.expect_delivered_to([])


def check_refused_recipient_allow_partial(run):
    run.expect_rc(67)
    d = run.expect_delivered_to(["bob@example.net"])
    if d is not None:
        run.expect_subject(d, "Allow partial")
        to = [a for _, a in addresses(d.msg, "To")]
        if sorted(to) != ["bob@example.net", "refused@example.net"]:
            run.fail(f"To header lists {to}, expected both addresses as given")


def check_verbose(mech):
    simple = check_simple_delivery(f"Verbose {mech}", "verbose")

    def check(run):
        simple(run)
        if not re.search(r"\bEHLO\b", run.stderr):
            run.fail("stderr has no EHLO line: -v should show the SMTP transcript")
        if not re.search(r"\bSTARTTLS\b", run.stderr):
            run.fail("stderr has no STARTTLS line: -v should show the SMTP transcript")
        if not re.search(r"\bAUTH\b", run.stderr):
            run.fail("stderr shows no AUTH exchange")
    return check


def check_untrusted_certificate(run):
    run.expect_rc(69)
    run.expect_delivered_to([])


# -- the OS keyring (several steps each, recorded by keyring.sh or run.sh) ---------------------

def password():
    return os.environ["CHECK_PASSWORD"]


def expect_no_password(run):
    """Neither the password nor the wrong one, in any form, in what smtpsend printed."""
    user = os.environ["CHECK_USER"]
    run.expect_no_secret(secret_forms(user, password())
                         + secret_forms(user, os.environ["CHECK_WRONG_PASSWORD"], "the wrong password"))


def expect_stored(lookup, want):
    """A `secret-tool lookup` step found the password `want`, or (want None) found nothing.
    Never puts a password in a failure message."""
    got = lookup.stdout.rstrip("\n")
    command = lookup.dir.joinpath("cmd").read_text().strip()
    if want is None:
        if lookup.rc == 0 or got:
            lookup.fail(f"`{command}` still finds a password (exit {lookup.rc}, "
                        f"{len(got)} characters)")
        return
    if lookup.rc != 0 or got != want:
        if got == want:
            what = "the password"
        elif got == os.environ["CHECK_WRONG_PASSWORD"]:
            what = "the wrong password"
        elif not got:
            what = "nothing"
        else:
            what = f"something else ({len(got)} characters)"
        lookup.fail(f"`{command}` printed {what}, exit {lookup.rc}; expected the password, exit 0")


def expect_refused_fast(run, code, seconds):
    run.expect_rc(code)
    run.expect_within(seconds)
    run.expect_delivered_to([])
    expect_no_password(run)


def check_keyring_login(steps):
    login = steps["login"]
    login.expect_rc(0)
    login.expect_delivered_to([])
    expect_no_password(login)
    expect_stored(steps["lookup"], password())


def check_keyring_send(steps):
    check_simple_delivery("from the keyring", "hi")(steps["send"])
    verbose = steps["verbose"]
    check_simple_delivery("from the keyring (-v)", "hi")(verbose)
    expect_no_password(verbose)
    if "password from the keyring" not in verbose.stderr:
        verbose.fail("the -v transcript does not say 'password from the keyring'")


def check_keyring_wrong_password(steps):
    steps["store"].expect_rc(0)
    send = steps["send"]
    send.expect_rc(77)
    send.expect_delivered_to([])
    send.expect_stderr(r"authentication", "say the authentication was refused")
    expect_no_password(send)
    restore = steps["restore"]
    restore.expect_rc(0)
    expect_no_password(restore)
    expect_stored(steps["lookup"], password())


def check_keyring_login_verifies(steps):
    login = steps["login"]
    login.expect_rc(77)
    login.expect_delivered_to([])
    login.expect_stderr(r"nothing (was |has been )?stored|not stored", "say that nothing was stored")
    expect_stored(steps["lookup"], password())


def check_keyring_logout(steps):
    logout = steps["logout"]
    logout.expect_rc(0)
    expect_stored(steps["lookup"], None)
    send = steps["send"]
    expect_refused_fast(send, 78, 10)
    send.expect_stderr(r"keyring", "name the keyring among the sources tried")
    send.expect_stderr(r"password_command", "name password_command among the sources tried")
    again = steps["again"]
    again.expect_rc(0)
    if not re.search(r"no password (was |is )?stored|nothing (was |is )?stored",
                     again.stdout + again.stderr, re.IGNORECASE):
        again.fail("a second logout does not say that nothing was stored")


def check_keyring_locked(steps):
    steps["store"].expect_rc(0)
    steps["lock"].expect_rc(0)
    is_locked = steps["is-locked"]
    if "true" not in is_locked.stdout:
        is_locked.fail(f"the collection did not lock: Locked is {is_locked.stdout.strip()!r}")
    for step, code in (("send", 78), ("login", 69), ("logout", 69)):
        run = steps[step]
        expect_refused_fast(run, code, 10)
        run.expect_stderr(r"\blocked\b", "say the keyring is locked")


def check_keyring_absent(steps):
    send = steps["send"]
    expect_refused_fast(send, 78, 4)
    send.expect_stderr(r"no D-Bus session bus", "say there is no D-Bus session bus")
    login = steps["login"]
    expect_refused_fast(login, 69, 4)
    login.expect_stderr(r"D-Bus", "say there is no D-Bus session bus")
    login.expect_stderr(r"password_command", "name password_command as an alternative")
    login.expect_stderr(r"SMTPSEND_PASSWORD_FILE", "name SMTPSEND_PASSWORD_FILE as an alternative")


def check_keyring_unresponsive(steps):
    send = steps["send"]
    expect_refused_fast(send, 78, 15)
    send.expect_stderr(r"keyring", "name the keyring")
    send.expect_stderr(r"no answer|timed? ?out", "say the keyring did not answer")


# -- sendmail mode: smtpsend as /usr/sbin/sendmail, by hand and under real callers -------------

def fixture(name):
    return (Path(os.environ["CHECK_FILES"]) / name).read_bytes()


def without_fields(raw, names):
    """The message with LF line ends and without the header fields `names` (lower case),
    continuation lines included: what is left of a delivery once the fields Postfix and
    smtpsend may add are taken out, to compare with what the caller gave."""
    text = raw.replace(b"\r\n", b"\n")
    head, _, body = text.partition(b"\n\n")
    kept, skipping = b"", False
    for line in head.split(b"\n"):
        if line[:1] not in (b" ", b"\t"):
            skipping = line.split(b":", 1)[0].strip().lower().decode("ascii", "replace") in names
        if not skipping:
            kept += line + b"\n"
    return kept + b"\n" + body


def expect_unchanged(run, d, given, added):
    """What was delivered is `given` (bytes, LF line ends), the fields `added` apart."""
    got = without_fields(d.raw, {"received"} | set(added))
    if got != given:
        run.fail(f"the message changed on the way (fields {sorted(added)} apart): delivered "
                 f"{got!r}, expected {given!r}")


def expect_silent_success(run):
    """Exit 0 and nothing on stdout, as sendmail does; no password anywhere."""
    run.expect_rc(0)
    if run.stdout:
        run.fail(f"stdout should be empty (sendmail prints nothing when it succeeds), got "
                 f"{run.stdout[:300]!r}")
    run.expect_no_secret(secret_forms(os.environ["CHECK_USER"], os.environ["CHECK_PASSWORD"]))


def expect_from(run, d, name, address):
    got = addresses(d.msg, "From")
    if [(n or "", a) for n, a in got] != [(name, address)]:
        run.fail(f"From decodes to {got}, expected [({name!r}, {address!r})]")


def header_recipients(msg):
    return sorted({a.lower() for name in ("To", "Cc") for _, a in addresses(msg, name)})


def expect_no_bcc_mentioned(run, d, hidden):
    """No header but Postfix's Received names a Bcc recipient."""
    head = d.raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    for line in re.sub(rb"\n[ \t]", b" ", head).split(b"\n"):
        if line.lower().startswith(b"received:"):
            continue
        for address in hidden:
            if address.encode() in line.lower():
                run.fail(f"a header mentions the Bcc recipient {address}: {line[:200]!r}")


def check_sendmail_alias_root(run):
    expect_silent_success(run)
    d = run.expect_delivered_to(["someone@example.net"])
    if d is None:
        return
    run.expect_wire_format(d)
    run.expect_basic_headers(d)
    expect_from(run, d, "", SENDER)
    expect_unchanged(run, d, b"\nbody\n", {"from", "date", "message-id"})


def check_sendmail_t_i(run):
    expect_silent_success(run)
    d = run.expect_delivered_to(["bob@example.net", "carol@example.net", "dave@example.net",
                                 "erin@example.net"])
    if d is None:
        return
    run.expect_wire_format(d)
    run.expect_basic_headers(d)
    expect_no_bcc_mentioned(run, d, ["dave@example.net", "erin@example.net"])
    given = fixture("sendmail-t-i.eml").replace(
        b"Bcc: dave@example.net,\n erin@example.net\n", b"")
    expect_unchanged(run, d, given, {"date", "message-id"})
    if b"\n.\nthe line after a lone dot\n" not in d.raw.replace(b"\r\n", b"\n"):
        run.fail("the line with a lone dot, or the line after it, did not arrive")


def check_sendmail_symlink_cron(run):
    expect_silent_success(run)
    d = run.expect_delivered_to(["someone@example.net"])
    if d is None:
        return
    run.expect_wire_format(d)
    run.expect_basic_headers(d)
    expect_from(run, d, "CronDaemon", SENDER)
    expect_unchanged(run, d, fixture("sendmail-cron.eml"), {"from", "date", "message-id"})


def raw_fields(d, name):
    """The header fields `name` as delivered, unfolded, one string each."""
    head = d.raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    lines = re.sub(rb"\n[ \t]", b" ", head).split(b"\n")
    prefix = name.lower().encode() + b":"
    return [l.decode("utf-8", "replace") for l in lines if l.lower().startswith(prefix)]


def check_real_cron(fixture_name, sender=SENDER):
    """cron's own message, with its own From (`root (Cron Daemon)` from Debian's cron,
    `"(Cron Daemon)" <root>` from cronie): delivered through the alias, still with one From,
    and otherwise unchanged."""
    def check(run):
        expect_silent_success(run)
        d = run.expect_delivered_to(["someone@example.net"], sender)
        if d is None:
            return
        froms = raw_fields(d, "From")
        if len(froms) != 1:
            run.fail(f"the message went out with {len(froms)} From fields, {froms}: cron's "
                     f"own and one smtpsend added")
        else:
            run.expect_basic_headers(d)
        given = without_fields(fixture(fixture_name), {"from"})
        expect_unchanged(run, d, given, {"from", "date", "message-id"})
    return check


def check_git_send_email(run):
    run.expect_rc(0)
    run.expect_no_secret(secret_forms(os.environ["CHECK_USER"], os.environ["CHECK_PASSWORD"]))
    if not run.deliveries:
        run.fail("Postfix delivered nothing")
        return
    # git names its recipients on sendmail's command line: --to, and the author, whom it Cc's.
    want = header_recipients(run.deliveries[0].msg)
    if "someone@example.net" not in want:
        run.fail(f"the patch's To and Cc are {want}, without --to=someone@example.net")
    d = run.expect_delivered_to(want)
    if d is None:
        return
    run.expect_basic_headers(d)
    run.expect_subject(d, "[PATCH] Add a greeting")
    if not str(d.msg.get("X-Mailer", "")).startswith("git-send-email"):
        run.fail(f"X-Mailer is {d.msg.get('X-Mailer')!r}: not git send-email's message")
    expect_from(run, d, "Alice Example", SENDER)
    texts, _, _ = body_parts(d.msg)
    body = texts[0].get_content() if len(texts) == 1 else ""
    for line in ("With a line of UTF-8: Grüße ✓", "+++ b/greeting.txt", "+Grüße ✓"):
        if line not in body.splitlines():
            run.fail(f"the patch's body has no line {line!r}: {body[:600]!r}")


def check_s_nail(steps):
    plain = steps["plain"]
    expect_silent_success(plain)
    d = plain.expect_delivered_to(["someone@example.net"])
    if d is not None:
        plain.expect_basic_headers(d)
        plain.expect_subject(d, "Grüße from s-nail ✓")
        expect_from(plain, d, "", SENDER)
        expect_text_body(plain, d, "Grüße from s-nail ✓\n.\nthe line after a lone dot\n")
        if not str(d.msg.get("User-Agent", "")).startswith("s-nail"):
            plain.fail(f"User-Agent is {d.msg.get('User-Agent')!r}: not s-nail's message")
    sender = steps["from"]
    expect_silent_success(sender)
    d = sender.expect_delivered_to(["someone@example.net", "carol@example.net",
                                    "dave@example.net"])
    if d is not None:
        sender.expect_basic_headers(d)
        sender.expect_subject(d, "s-nail -r")
        expect_from(sender, d, "Alice Example", SENDER)
        expect_no_bcc_mentioned(sender, d, ["dave@example.net"])
        expect_text_body(sender, d, "with -r, -c and -b\n.\nthe line after a lone dot\n")
        # ASCII, so s-nail sends it as it is: the lone dot arrives only if -i is honoured.
        if b"\n.\nthe line after a lone dot\n" not in d.raw.replace(b"\r\n", b"\n"):
            sender.fail("the line with a lone dot, or the line after it, did not arrive")


def check_s_nail_metoo(run):
    if run.rc != 0 and re.search(r"(?-i:(^|\W)-m\b)", run.stderr):
        run.fail("smtpsend refused -m (s-nail's `metoo`), which sendmail takes as -om, "
                 "and smtpsend already takes -om")
    expect_silent_success(run)
    d = run.expect_delivered_to(["someone@example.net"])
    if d is not None:
        run.expect_basic_headers(d)
        run.expect_subject(d, "s-nail metoo")
        expect_text_body(run, d, "metoo\n")


def smtp_reply_codes(text):
    """The code of each reply on stdout (a multiline reply counts once, at its last line)."""
    codes = []
    for line in text.replace("\r\n", "\n").splitlines():
        m = re.match(r"(\d{3})([ -])", line + " ")
        if m is None:
            return codes + [f"not a reply: {line!r}"]
        if m.group(2) == " ":
            codes.append(int(m.group(1)))
    return codes


def check_sendmail_bs(run):
    run.expect_rc(0)
    codes = smtp_reply_codes(run.stdout)
    if codes != [220, 250, 250, 250, 354, 250, 221]:
        run.fail(f"replies {codes}, expected [220, 250, 250, 250, 354, 250, 221]: "
                 f"{run.stdout[:600]!r}")
    d = run.expect_delivered_to(["bob@example.net"])
    if d is None:
        return
    run.expect_wire_format(d)
    run.expect_basic_headers(d)
    given = (b"From: alice@example.org\nTo: bob@example.net\nSubject: sendmail -bs\n\n"
             b"over -bs\n.a dot-stuffed line\n")
    expect_unchanged(run, d, given, {"date", "message-id"})
    if d.queue_id not in run.stdout:
        run.fail(f"the 250 after the data does not pass on Postfix's reply (queued as "
                 f"{d.queue_id}): {run.stdout[:600]!r}")


def check_refused(code, *patterns):
    def check(run):
        run.expect_rc(code)
        run.expect_delivered_to([])
        for pattern, what in patterns:
            run.expect_stderr(pattern, what)
    return check


def check_sendmail_unknown_flag(steps):
    # (?-i:): a flag's case matters.
    check_refused(64, (r"(?-i:(^|\W)-q\b)", "name -q"))(steps["queue"])
    check_refused(64, (r"(?-i:(^|\W)-Z\b)", "name -Z"))(steps["send"])


def converted_delivery(run, recipient, encoding):
    """The one delivery to `recipient`, checked to be 7-bit in short lines with its body in
    `encoding`; None when there is none."""
    run.expect_rc(0)
    d = run.expect_delivered_to([recipient])
    if d is None:
        return None
    run.expect_wire_format(d)
    given = str(d.msg.get("Content-Transfer-Encoding", "")).lower()
    if given != encoding:
        run.fail(f"the body went {given or 'without an encoding'}, expected {encoding}")
    return d


def check_sendmail_nul_body(run):
    d = converted_delivery(run, "bob@example.net", "base64")
    if d is None:
        return
    body = d.msg.get_payload(decode=True).replace(b"\r\n", b"\n")
    if body != b"before\0after\n":
        run.fail(f"the body decodes to {body!r}, expected b'before\\0after\\n'")


def check_sendmail_seven_bit(run):
    d = converted_delivery(run, "someone@example.net", "quoted-printable")
    if d is None:
        return
    subject = str(d.msg.get("Subject", ""))
    if subject != "Grüße ✓ from cron":
        run.fail(f"Subject decodes to {subject!r}")
    charset = d.msg.get_param("charset")
    if charset != "unknown-8bit":
        run.fail(f"charset {charset!r} for a body that is not UTF-8, expected unknown-8bit")
    body = d.msg.get_payload(decode=True).replace(b"\r\n", b"\n")
    given = fixture("sendmail-seven-bit.eml")
    want = given.split(b"\n\n", 1)[1]
    if body != want:
        run.fail(f"the body decodes to {body[:120]!r}..., expected {want[:120]!r}...")


def check_client_cert(run):
    """Relayed for the certificate alone: no AUTH, no password."""
    run.expect_rc(0)
    run.expect_delivered_to(["bob@example.net"])


def check_client_cert_missing(run):
    """Without a certificate Postfix lets nothing through. It finishes the handshake and then
    answers EHLO with 421 4.7.1 "No client certificate presented": a 4xx, but no retry without
    a certificate can succeed, so exit 78 with the server's text and the flags to give,
    nothing delivered."""
    run.expect_rc(78)
    run.expect_delivered_to([])
    if "client certificate" not in run.stderr:
        run.fail("the error does not show the server's words about the client certificate")
    if "--client-cert" not in run.stderr:
        run.fail("the hint does not name --client-cert")


def check_tls_pin(steps):
    """`check` prints the pin openssl computes; a send with it delivers, also with the pin
    alone (no --ca-file); one with another pin exits 69 naming the server's, delivering
    nothing."""
    want = (steps.dir / "openssl-pin").read_text().strip()
    check = steps["check"]
    check.expect_rc(0)
    if f'tls_pin = "{want}"' not in check.stdout:
        check.fail(f'check does not print tls_pin = "{want}"')
    for step in ("send", "pin-only"):
        steps[step].expect_rc(0)
        steps[step].expect_delivered_to(["bob@example.net"])
    wrong = steps["wrong"]
    wrong.expect_rc(69)
    wrong.expect_delivered_to([])
    if want not in wrong.stderr:
        wrong.fail(f"the error does not name the server's pin {want}")


SCENARIOS = {
    "starttls-full": check_starttls_full,
    "implicit-tls-json": check_implicit_tls_json,
    "spelled-out-flags": check_simple_delivery("Spelled-out flags", "spelled out"),
    "wrong-password": check_wrong_password,
    "refused-recipient": check_refused_recipient,
    "refused-recipient-allow-partial": check_refused_recipient_allow_partial,
    "verbose-plain": check_verbose("plain"),
    "verbose-login": check_verbose("login"),
    "untrusted-certificate": check_untrusted_certificate,
    "client-cert": check_client_cert,
    "client-cert-missing": check_client_cert_missing,
    "tls-pin": check_tls_pin,
    "sendmail-alias-root": check_sendmail_alias_root,
    "sendmail-t-i": check_sendmail_t_i,
    "sendmail-symlink-cron": check_sendmail_symlink_cron,
    "sendmail-debian-cron": check_real_cron("sendmail-debian-cron.eml"),
    # cronie's -f root names a local user: which full address smtpsend makes of it is its own
    # business (the account's, or with local_domain), as long as the mail goes.
    "sendmail-cronie": check_real_cron("sendmail-cronie.eml", sender=None),
    "git-send-email": check_git_send_email,
    "s-nail": check_s_nail,
    "s-nail-metoo": check_s_nail_metoo,
    "sendmail-bs": check_sendmail_bs,
    "sendmail-no-recipients": check_refused(64, (r"no recipients", "say there are no recipients")),
    "sendmail-unknown-flag": check_sendmail_unknown_flag,
    "sendmail-malformed": check_refused(65, (r"NUL byte in its header", "name the NUL byte")),
    "sendmail-nul-body": check_sendmail_nul_body,
    "sendmail-seven-bit": check_sendmail_seven_bit,
    "recipient-limit": check_recipient_limit,
    "unix-socket": check_unix_socket,
    "unix-socket-check": check_unix_socket_check,
    "keyring-login": check_keyring_login,
    "keyring-send": check_keyring_send,
    "keyring-wrong-password": check_keyring_wrong_password,
    "keyring-login-verifies": check_keyring_login_verifies,
    "keyring-logout": check_keyring_logout,
    "keyring-locked": check_keyring_locked,
    "keyring-absent": check_keyring_absent,
    "keyring-unresponsive": check_keyring_unresponsive,
}


def main():
    name, rundir = sys.argv[1], Path(sys.argv[2])
    run = Run(rundir) if (rundir / "rc").exists() else Steps(rundir)
    try:
        SCENARIOS[name](run)
    except MissingStep as e:
        where = " (see the keyring session log)" if name.startswith("keyring-") else ""
        run.fail(f"step {e} did not run{where}")
    except Exception as e:  # a checker crash is a failure of the scenario, with the reason
        run.fail(f"checker error: {type(e).__name__}: {e}")
    run.report()


if __name__ == "__main__":
    main()
