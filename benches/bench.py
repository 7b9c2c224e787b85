#!/usr/bin/env python3
"""The benchmark driver behind benches/run.sh (Python standard library only).

run.sh installs the tools, builds smtpsend and starts a private Postfix; this script runs the
benches against it and prints one Markdown table per bench, also written to benches/results.md.

Every bench runs its cases round-robin: round i runs each case once, starting at a different case
each round, so drifts of a noisy machine spread over all tools alike. Between two runs Postfix's
queue is left to drain (not timed). One untimed warm-up run per case comes first. A sample is one
process's wall time from spawn to exit (posix_spawn, wait4), or, for a batch done as many
processes, the sum over the batch. CPU is user + system time of the process(es). Peak RSS comes
from GNU time (`%M`), in the untimed warm-up run for short runs, in every run for long ones.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

import serve_bench

STATE = {}
TMP = ""
ENV = {}
MD = []  # the Markdown written to results.md


def out(line=""):
    print(line, flush=True)
    MD.append(line)


def note(msg):
    print(f"# {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Running one process
# ---------------------------------------------------------------------------------------------
class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


class Run:
    def __init__(self, wall, cpu, rss_kb, rc, stdout, stderr, argv):
        self.wall, self.cpu, self.rss_kb, self.rc = wall, cpu, rss_kb, rc
        self.stdout, self.stderr, self.argv = stdout, stderr, argv


# Whether spawn() measures peak RSS: then the program runs under GNU time (`time -f %M`), which
# costs a fork and an exec more. Measured directly, a child of this process would report at least
# this process's own RSS: posix_spawn shares our memory until the exec, and the kernel keeps the
# high-water mark of the memory the child leaves behind at the exec.
MEASURE_RSS = False
GNU_TIME = "/usr/bin/time"


def spawn(argv, env=None, stdin=None, timeout=300, keep_output=True):
    """Runs argv (argv[0] an absolute path); returns a Run. stdout and stderr go to files."""
    env = ENV if env is None else env
    out_path = os.path.join(TMP, "last.stdout")
    err_path = os.path.join(TMP, "last.stderr")
    rss_path = os.path.join(TMP, "last.rss")
    measure_rss = MEASURE_RSS
    run_argv = argv
    if measure_rss:
        run_argv = [GNU_TIME, "-q", "-f", "%M", "-o", rss_path, *argv]
    fd_in = os.open(stdin or os.devnull, os.O_RDONLY)
    fd_out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    fd_err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    actions = [
        (os.POSIX_SPAWN_DUP2, fd_in, 0),
        (os.POSIX_SPAWN_DUP2, fd_out, 1),
        (os.POSIX_SPAWN_DUP2, fd_err, 2),
    ]
    signal.setitimer(signal.ITIMER_REAL, timeout)
    pid = None
    try:
        t0 = time.perf_counter()
        pid = os.posix_spawn(run_argv[0], run_argv, env, file_actions=actions)
        _, status, ru = os.wait4(pid, 0)
        t1 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, 0)
        rc = os.waitstatus_to_exitcode(status)
    except Timeout:
        os.kill(pid, signal.SIGKILL)
        _, status, ru = os.wait4(pid, 0)
        t1 = time.perf_counter()
        rc = f"killed after {timeout} s"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for fd in (fd_in, fd_out, fd_err):
            os.close(fd)
    rss_kb = None
    if measure_rss:
        try:
            with open(rss_path) as f:
                rss_kb = int(f.read().split()[-1])
        except (OSError, ValueError, IndexError):
            rss_kb = None
    stdout = stderr = ""
    if keep_output or rc != 0:
        with open(out_path, "rb") as f:
            stdout = f.read(200_000).decode("utf-8", "replace")
        with open(err_path, "rb") as f:
            stderr = f.read(200_000).decode("utf-8", "replace")
    return Run(t1 - t0, ru.ru_utime + ru.ru_stime, rss_kb, rc, stdout, stderr, argv)


def mask(text):
    return text.replace(STATE["password"], "<password>")


def show_cmd(argv, limit=400):
    s = " ".join(a if re.fullmatch(r"[\w@%+=:,./-]+", a) else repr(a) for a in argv)
    s = mask(s)
    return s if len(s) <= limit else s[:limit] + " …"


# ---------------------------------------------------------------------------------------------
# Postfix bookkeeping
# ---------------------------------------------------------------------------------------------
QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")


def queue_files():
    n = 0
    for q in QUEUES:
        for _, _, files in os.walk(os.path.join(STATE["spool"], q)):
            n += len(files)
    return n


def wait_for_queue(limit=120):
    deadline = time.monotonic() + limit
    while queue_files():
        if time.monotonic() > deadline:
            raise RuntimeError(f"Postfix's queue did not drain in {limit} s")
        time.sleep(0.005)


def maillog_size():
    try:
        return os.path.getsize(STATE["maillog"])
    except OSError:
        return 0


def maillog_since(offset):
    time.sleep(0.3)  # postlogd writes asynchronously
    with open(STATE["maillog"], "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------
# Cases, rounds and tables
# ---------------------------------------------------------------------------------------------
class Case:
    """One row of a table. `run` does one sample and returns a Run (or a list of Runs for a
    batch of processes, which counts as one sample: times and CPU summed, RSS the largest).
    `check(run)` returns None when the sample is good, else what went wrong. `deliveries` is
    how many recipient deliveries one sample causes. `prepare` runs before each sample, untimed.
    """

    def __init__(self, name, run, deliveries=0, check=None, prepare=None, family=None,
                 rss="warmup"):
        self.name, self.run, self.deliveries = name, run, deliveries
        # When peak RSS is measured: "warmup" (in the untimed warm-up run only), "all" (in every
        # run: for long runs, where GNU time's extra fork and exec don't matter), or "none".
        self.rss_when = rss
        self.check, self.prepare = check, prepare
        self.family = family or name.split()[0]
        self.walls, self.cpus, self.rss = [], [], []
        self.failures = []
        self.ok_runs = 0


def rc_zero(run):
    runs = run if isinstance(run, list) else [run]
    for r in runs:
        if r.rc != 0:
            return (f"exit status {r.rc}: `{show_cmd(r.argv)}`\n"
                    f"stdout: {mask(r.stdout.strip())[:1500]}\nstderr: {mask(r.stderr.strip())[:1500]}")
    return None


def one_sample(case, timed, server):
    global MEASURE_RSS
    if case.prepare:
        case.prepare()
    MEASURE_RSS = case.rss_when == "all" or (case.rss_when == "warmup" and not timed)
    try:
        result = case.run()
    finally:
        MEASURE_RSS = False
    if server:
        wait_for_queue()
    runs = result if isinstance(result, list) else [result]
    problem = (case.check or rc_zero)(result)
    if problem:
        case.failures.append(problem)
        return
    case.ok_runs += 1
    rss = [r.rss_kb for r in runs if r.rss_kb is not None]
    if rss:
        case.rss.append(max(rss))
    if timed:
        case.walls.append(sum(r.wall for r in runs))
        case.cpus.append(sum(r.cpu for r in runs))


def run_bench(cases, rounds, server=True, warmup=True, sink="to the discard sink"):
    rounds = max(3, round(rounds * SCALE))
    log_at = maillog_size() if server else 0
    live = [c for c in cases]
    if warmup:
        for c in live:
            one_sample(c, timed=False, server=server)
    for i in range(rounds):
        order = live[i % len(live):] + live[:i % len(live)]
        for c in order:
            if len(c.failures) >= 3:
                continue
            one_sample(c, timed=True, server=server)
    check = None
    if server:
        wait_for_queue()
        log = maillog_since(log_at)
        sent = len(re.findall(r" status=sent ", log))
        other = re.findall(r" status=(?!sent )\w+ .*", log)
        expected = sum(c.ok_runs * c.deliveries for c in cases)
        check = f"Postfix logged {sent} deliveries ({sink}) for {expected} expected"
        if other:
            check += f"; and {len(other)} NOT sent, e.g. `{other[0][:200]}`"
        elif sent != expected:
            check += " — MISMATCH"
    return rounds, check


def fmt_time(s):
    if s is None:
        return "–"
    ms = s * 1000
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 100:
        return f"{ms:.1f} ms"
    if ms < 10_000:
        return f"{ms:.0f} ms"
    return f"{s:.1f} s"


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    r = a / b
    return f"{r:.2f}" if r >= 0.1 else f"{r:.3f}"


def fmt_rss(kb):
    return f"{kb / 1024:.1f} MiB" if kb else "–"


def pct(data, p):
    if len(data) < 2:
        return data[0] if data else None
    q = statistics.quantiles(data, n=10, method="inclusive")
    return q[0] if p == 10 else q[8]


def table(title, cases, rounds, check=None, what=None, extra_cols=None):
    out(f"### {title}")
    out()
    if what:
        out(what)
        out()
    med = {c.name: (statistics.median(c.walls) if c.walls else None) for c in cases}
    # The reference rows for the ratios: the first msmtp and the first curl row.
    ref = {}
    for fam in ("msmtp", "curl"):
        for c in cases:
            if c.family == fam and med[c.name] is not None:
                ref[fam] = med[c.name]
                break
    head = ["tool", "runs", "median", "p10", "p90", "CPU (median)", "peak RSS", "× msmtp", "× curl"]
    extra_cols = extra_cols or []
    head += [h for h, _ in extra_cols]
    out("| " + " | ".join(head) + " |")
    out("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
    for c in cases:
        if not c.walls:
            row = [f"`{c.name}`", "0", "FAILED", "", "", "", "", "", ""]
        else:
            m = med[c.name]
            row = [
                f"`{c.name}`",
                str(len(c.walls)),
                f"**{fmt_time(m)}**",
                fmt_time(pct(c.walls, 10)),
                fmt_time(pct(c.walls, 90)),
                fmt_time(statistics.median(c.cpus)),
                fmt_rss(max(c.rss) if c.rss else None),
                fmt_ratio(m, ref.get("msmtp")),
                fmt_ratio(m, ref.get("curl")),
            ]
        row += [fn(c) for _, fn in extra_cols]
        out("| " + " | ".join(row) + " |")
    out()
    notes = []
    if check:
        notes.append(check + ".")
    for c in cases:
        if c.failures:
            FAILED.append(c.name)
            notes.append(f"**{c.name} failed {len(c.failures)} time(s)**; the first:\n\n```\n"
                         f"{c.failures[0]}\n```")
    for n in notes:
        out(n)
        out()


# ---------------------------------------------------------------------------------------------
# The tools
# ---------------------------------------------------------------------------------------------
def which(name):
    path = shutil.which(name, path=ENV["PATH"])
    return os.path.realpath(path) if path else None


def write(path, text, mode=0o600):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def msmtprc(name, port, starttls):
    return write(os.path.join(TMP, f"msmtprc-{name}"), f"""\
account bench
host {STATE['host']}
port {port}
tls on
tls_starttls {'on' if starttls else 'off'}
tls_trust_file {STATE['ca']}
auth plain
user {STATE['user']}
password {STATE['password']}
from alice@example.org
""")


class Tools:
    def __init__(self):
        self.smtpsend = STATE["smtpsend"]
        self.msmtp = which("msmtp")
        self.curl = which("curl")
        self.snail = which("s-nail")
        self.true = which("true")
        h, s = STATE["host"], STATE
        self.rc = {
            "starttls": msmtprc("starttls", s["sub_port"], True),
            "implicit": msmtprc("implicit", s["smtps_port"], False),
            "proxy-starttls": msmtprc("proxy-starttls", s["proxy_sub_port"], True),
            "proxy-implicit": msmtprc("proxy-implicit", s["proxy_smtps_port"], False),
        }
        self.url = {
            "starttls": (f"smtp://{h}:{s['sub_port']}", s["sub_port"]),
            "implicit": (f"smtps://{h}:{s['smtps_port']}", s["smtps_port"]),
            "proxy-starttls": (f"smtp://{h}:{s['proxy_sub_port']}", s["proxy_sub_port"]),
            "proxy-implicit": (f"smtps://{h}:{s['proxy_smtps_port']}", s["proxy_smtps_port"]),
        }
        self.smtpsend_env = dict(ENV, SMTPSEND_PASSWORD=STATE["password"])
        help_text = spawn([self.smtpsend, "--help"]).stdout
        self.has_queue = "--queue" in help_text and re.search(r"^\s+queue\s", help_text, re.M)
        self.has_batch = re.search(r"^\s+batch\s", help_text, re.M)

    # smtpsend composes the message itself from flags.
    def smtpsend_send(self, mode, rcpts=("bob@example.net",), extra=(), verbose=False):
        argv = [self.smtpsend, "--server", self.url[mode][0], "--ca-file", STATE["ca"],
                "--user", STATE["user"], "--auth", "plain",
                "-v" if verbose else "-q",
                "-f", "alice@example.org", "-t", ",".join(rcpts), "-s", "benchmark",
                "-m", "Hello from the benchmark.", *extra]
        return spawn(argv, env=self.smtpsend_env)

    # The same message on stdin, as msmtp gets it.
    def smtpsend_sendmail(self, mode, msg, rcpts=("bob@example.net",)):
        env = dict(self.smtpsend_env, SMTPSEND_SERVER=self.url[mode][0],
                   SMTPSEND_CA_FILE=STATE["ca"], SMTPSEND_USER=STATE["user"], SMTPSEND_AUTH="plain")
        return spawn([self.smtpsend, "sendmail", "-f", "alice@example.org", *rcpts], env=env,
                     stdin=msg)

    def msmtp_send(self, mode, msg, rcpts=("bob@example.net",)):
        return spawn([self.msmtp, "-C", self.rc[mode], "-a", "bench", *rcpts], stdin=msg)

    def curl_send(self, mode, msg, rcpts=("bob@example.net",), count=1):
        argv = [self.curl, "-q", "-sS", "--ssl-reqd", "--cacert", STATE["ca"],
                "--user", f"{STATE['user']}:{STATE['password']}", "--login-options", "AUTH=PLAIN",
                "--mail-from", "alice@example.org"]
        for r in rcpts:
            argv += ["--mail-rcpt", r]
        for _ in range(count):
            argv += ["--url", self.url[mode][0], "-T", msg]
        return spawn(argv)

    def composed(self, name, rcpts=("bob@example.net",), extra=()):
        """The message smtpsend would send, for msmtp and curl to send the same bytes."""
        r = spawn([self.smtpsend, "--dry-run", "-f", "alice@example.org", "-t", ",".join(rcpts),
                   "-s", "benchmark", "-m", "Hello from the benchmark.", *extra])
        if r.rc != 0:
            raise RuntimeError(f"smtpsend --dry-run failed: {r.stderr}")
        return write(os.path.join(TMP, name), r.stdout)


# ---------------------------------------------------------------------------------------------
# The benches
# ---------------------------------------------------------------------------------------------
def bench_startup(t):
    cases = [Case("smtpsend --version", lambda: spawn([t.smtpsend, "--version"], keep_output=False)),
             Case("msmtp --version", lambda: spawn([t.msmtp, "--version"], keep_output=False)),
             Case("curl --version", lambda: spawn([t.curl, "--version"], keep_output=False))]
    if t.snail:
        cases.append(Case("s-nail -V", lambda: spawn([t.snail, "-V"], keep_output=False)))
    cases.append(Case("true (spawn baseline)", lambda: spawn([t.true], keep_output=False),
                      family="true"))
    rounds, _ = run_bench(cases, 200, server=False)
    table("1. Start-up", cases, rounds, what=(
        f"Print the version and exit; {rounds} runs each, interleaved. `true` shows what "
        "spawning a process costs the harness itself."))


def bench_one(t):
    msg = t.composed("one.eml")
    for mode, label in (("starttls", "STARTTLS"), ("implicit", "implicit TLS")):
        cases = [
            Case("smtpsend", lambda mode=mode: t.smtpsend_send(mode), deliveries=1),
            Case("smtpsend sendmail", lambda mode=mode: t.smtpsend_sendmail(mode, msg),
                 deliveries=1),
            Case("msmtp", lambda mode=mode: t.msmtp_send(mode, msg), deliveries=1),
            Case("curl", lambda mode=mode: t.curl_send(mode, msg), deliveries=1),
        ]
        rounds, check = run_bench(cases, 40)
        table(f"2{'a' if mode == 'starttls' else 'b'}. One small message, {label} + AUTH PLAIN",
              cases, rounds, check, what=(
                  f"One process sends one {os.path.getsize(msg)}-byte message to one recipient "
                  f"over loopback; {rounds} runs each, interleaved. `smtpsend` composes it from "
                  "flags; `smtpsend sendmail`, msmtp and curl get the same bytes as a file."))


def bench_batch(t):
    n = 20 if QUICK else 200
    msg = t.composed("batch.eml")
    cases = []
    if t.has_queue:
        qdir = os.path.join(TMP, "queue-xdg")
        conf_dir = os.path.join(qdir, "config", "smtpsend")
        os.makedirs(conf_dir, exist_ok=True)
        conf = os.path.join(conf_dir, "config.toml")
        qenv = dict(t.smtpsend_env, XDG_CONFIG_HOME=os.path.join(qdir, "config"),
                    XDG_DATA_HOME=os.path.join(qdir, "data"),
                    XDG_STATE_HOME=os.path.join(qdir, "state"))

        def account(port):
            write(conf, f"""\
[accounts.bench]
server = "smtp://{STATE['host']}:{port}"
ca_file = "{STATE['ca']}"
user = "{STATE['user']}"
auth = "plain"
""")

        fill_problem = []

        def fill():
            # Not timed: n sends to a closed port, each kept in the outbox (exit status 75).
            account(STATE["closed_port"])
            outbox = os.path.join(qdir, "data", "smtpsend", "outbox")
            shutil.rmtree(outbox, ignore_errors=True)
            for i in range(n):
                r = spawn([t.smtpsend, "--account", "bench", "--queue", "-q",
                           "-f", "alice@example.org", "-t", "bob@example.net",
                           "-s", f"benchmark {i}", "-m", "Hello from the benchmark."], env=qenv)
                if r.rc != 75 and not fill_problem:
                    fill_problem.append(f"filling the outbox: exit status {r.rc} (75 expected): "
                                        f"`{show_cmd(r.argv)}`\nstderr: {mask(r.stderr)[:1500]}")
            queued = len([f for f in os.listdir(outbox) if f.endswith(".json")]) \
                if os.path.isdir(outbox) else 0
            if queued != n and not fill_problem:
                fill_problem.append(f"the outbox holds {queued} entries after {n} sends, {n} expected")
            account(STATE["sub_port"])

        def flush_check(r):
            if fill_problem:
                return fill_problem.pop()
            return flush_problem(r, os.path.join(qdir, "data", "smtpsend", "outbox"))

        cases.append(Case("smtpsend queue flush (1 process)",
                          lambda: spawn([t.smtpsend, "queue", "flush", "--now"], env=qenv),
                          deliveries=n, prepare=fill, check=flush_check, rss="all"))
    else:
        note("smtpsend has no `queue flush`: bench 3 runs without it")
    if t.has_batch:
        bdir = os.path.join(TMP, "batch")
        os.makedirs(bdir, exist_ok=True)
        for i in range(n):
            shutil.copyfile(msg, os.path.join(bdir, f"m{i:03d}.eml"))

        def batch_check(r):
            done = len(re.findall(r"^\S+: 250 ", r.stdout, re.M))
            if r.rc != 0 or done != n:
                return (f"exit status {r.rc}, {done} of {n} files reported 250: "
                        f"`{show_cmd(r.argv)}`\nlast lines of stdout:\n"
                        + "\n".join(r.stdout.strip().splitlines()[-3:])
                        + f"\nstderr: {mask(r.stderr)[:1500]}")
            return None

        cases.append(Case("smtpsend batch DIR (1 process)",
                          lambda: spawn([t.smtpsend, "batch", "--server", t.url["starttls"][0],
                                         "--ca-file", STATE["ca"], "--user", STATE["user"],
                                         "--auth", "plain", bdir], env=t.smtpsend_env),
                          deliveries=n, check=batch_check, rss="all"))
    else:
        note("smtpsend has no `batch`: bench 3 runs without it")
    cases += [
        Case(f"smtpsend ×{n} processes", lambda: [t.smtpsend_send("starttls") for _ in range(n)],
             deliveries=n, rss="none"),
        Case(f"msmtp ×{n} processes", lambda: [t.msmtp_send("starttls", msg) for _ in range(n)],
             deliveries=n, rss="none"),
        Case(f"curl ({n} --url, 1 process)", lambda: t.curl_send("starttls", msg, count=n),
             deliveries=n, rss="all"),
    ]
    rounds, check = run_bench(cases, 5, warmup=False)
    table(f"3. {n} small messages, STARTTLS + AUTH", cases, rounds, check, what=(
        f"{n} one-recipient messages; {rounds} rounds, interleaved; one sample = the whole batch. "
        f"`smtpsend queue flush`: {n} messages queued beforehand (untimed: `smtpsend --queue` to a "
        "closed port), then one flush delivers them over one connection; only the flush is timed. "
        f"`smtpsend batch DIR`: a directory of {n} message files (the bytes msmtp and curl send), "
        "one connection. "
        f"msmtp and `smtpsend ×{n}`: one process, one connection per message. curl: one process, "
        f"{n} `--url … -T msg` pairs, reusing one connection."))


def bench_rcpts(t):
    rcpts = [f"rcpt{i:03d}@example.net" for i in range(1, 101)]
    msg = t.composed("rcpts.eml", rcpts)
    cases = [
        Case("smtpsend", lambda: t.smtpsend_send("starttls", rcpts), deliveries=100),
        Case("smtpsend sendmail", lambda: t.smtpsend_sendmail("starttls", msg, rcpts),
             deliveries=100),
        Case("msmtp", lambda: t.msmtp_send("starttls", msg, rcpts), deliveries=100),
        Case("curl", lambda: t.curl_send("starttls", msg, rcpts), deliveries=100),
    ]
    rounds, check = run_bench(cases, 20)
    table("4. One message to 100 recipients, STARTTLS + AUTH", cases, rounds, check, what=(
        f"One message, 100 RCPT TO; {rounds} runs each, interleaved. smtpsend gets the 100 "
        "addresses as one comma-separated `-t`; msmtp and `smtpsend sendmail` as 100 arguments, "
        "curl as 100 `--mail-rcpt`; msmtp, curl and `smtpsend sendmail` send the message "
        "smtpsend composes (To: with the 100 addresses)."))


def bench_big(t):
    size = int(os.environ.get("BENCH_BIG_MB", "200")) * 1024 * 1024
    d = os.path.join(TMP, "big")
    os.makedirs(d, exist_ok=True)
    big = os.path.join(d, "big.bin")
    note(f"writing {size >> 20} MiB of random data")
    with open(big, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            f.write(chunk)
            left -= len(chunk)
    composed = os.path.join(d, "big.eml")
    r = spawn([t.smtpsend, "--dry-run", "-f", "alice@example.org", "-t", "bob@example.net",
               "-s", "benchmark", "-m", "Attached.", "-a", big], keep_output=False)
    if r.rc == 0:
        shutil.copyfile(os.path.join(TMP, "last.stdout"), composed)
    else:
        note(f"smtpsend --dry-run -a big.bin failed ({r.rc}): {r.stderr[:300]}")
        composed = None

    def curl_mime():
        argv = [t.curl, "-q", "-sS", "--ssl-reqd", "--cacert", STATE["ca"],
                "--user", f"{STATE['user']}:{STATE['password']}", "--login-options", "AUTH=PLAIN",
                "--url", t.url["starttls"][0], "--mail-from", "alice@example.org",
                "--mail-rcpt", "bob@example.net",
                "-H", "From: alice@example.org", "-H", "To: bob@example.net",
                "-H", "Subject: benchmark",
                "-F", "=(;type=multipart/mixed", "-F", "=Attached.;type=text/plain",
                "-F", f"file=@{big};type=application/octet-stream;encoder=base64", "-F", "=)"]
        return spawn(argv)

    cases = [
        Case("smtpsend -a big.bin", lambda: t.smtpsend_send("starttls", extra=("-a", big)),
             deliveries=1, rss="all"),
        Case("curl -F file=@big.bin", curl_mime, deliveries=1, rss="all"),
    ]
    if composed:
        cases.append(Case("msmtp < composed (sends only)",
                          lambda: t.msmtp_send("starttls", composed), deliveries=1,
                          family="msmtp", rss="all"))
    rounds, check = run_bench(cases, 3, warmup=False)
    size_note = f"composed {os.path.getsize(composed) / 1e6:.0f} MB" if composed else ""
    table(f"5. A {size >> 20} MiB attachment, composed and sent, STARTTLS + AUTH", cases, rounds,
          check, what=(
              f"A {size >> 20} MiB file of random bytes attached to one message ({size_note}); "
              f"{rounds} runs each, interleaved. smtpsend and curl compose the MIME message "
              "(base64) and send it; msmtp only sends the message smtpsend composed, read from a "
              "file on stdin: the cost of transmission alone. Peak RSS is the most memory the "
              "process held."))
    shutil.rmtree(d, ignore_errors=True)


def transcript_turns(stderr):
    """Client turns in a -v transcript: runs of '> ' lines with no '< ' line in between."""
    groups, current = [], None
    for line in stderr.splitlines():
        if line.startswith("> "):
            word = line[2:].split(" ")[0] if not line.startswith("> <") else "<data>"
            if current is None:
                current = []
                groups.append(current)
            current.append(word)
        elif line.startswith("< "):
            current = None
    return groups


def bench_round_trips(t):
    out("### 6. Round trips")
    out()
    out("Client turns in smtpsend's own `-v` transcript (a turn is the commands sent before "
        "waiting for a reply: consecutive `> ` lines), one message, one recipient:")
    out()
    out("| connection | turns | the turns |")
    out("|---|---:|---|")
    for mode, label in (("starttls", "STARTTLS + AUTH"), ("implicit", "implicit TLS + AUTH")):
        r = t.smtpsend_send(mode, verbose=True)
        if r.rc != 0:
            FAILED.append(f"smtpsend -v ({label})")
            out(f"| {label} | FAILED | exit status {r.rc}: {mask(r.stderr.strip())[-300:]} |")
            continue
        groups = transcript_turns(r.stderr)
        out(f"| {label} | {len(groups)} | {' · '.join('`' + ' '.join(g) + '`' for g in groups)} |")
    out()
    wait_for_queue()

    # The delay proxy.
    delay = 0.025
    log = os.path.join(TMP, "proxy.jsonl")
    open(log, "w").close()
    proxy = subprocess.Popen(
        [sys.executable, "-B", os.path.join(os.path.dirname(__file__), "delayproxy.py"),
         "--delay", str(delay), "--log", log, "--lifetime", "900",
         f"{STATE['proxy_sub_port']}:{STATE['sub_port']}",
         f"{STATE['proxy_smtps_port']}:{STATE['smtps_port']}"],
        stdout=subprocess.PIPE, env=ENV)
    try:
        if proxy.stdout.readline().strip() != b"ready":
            raise RuntimeError("the delay proxy did not start")
        msg = t.composed("proxy.eml")
        for mode, label in (("proxy-starttls", "STARTTLS + AUTH"),
                            ("proxy-implicit", "implicit TLS + AUTH")):
            flights = {}

            def with_flights(name, fn):
                def run():
                    with open(log) as f:
                        before = sum(1 for _ in f)
                    r = fn()
                    deadline = time.monotonic() + 3
                    while time.monotonic() < deadline:
                        with open(log) as f:
                            lines = f.readlines()
                        if len(lines) > before:
                            rec = json.loads(lines[-1])
                            flights.setdefault(name, []).append(
                                (rec["c2s_flights"], rec["s2c_flights"]))
                            break
                        time.sleep(0.01)
                    return r
                return run

            cases = [
                Case("smtpsend", with_flights("smtpsend", lambda mode=mode: t.smtpsend_send(mode)),
                     deliveries=1),
                Case("msmtp", with_flights("msmtp", lambda mode=mode: t.msmtp_send(mode, msg)),
                     deliveries=1),
                Case("curl", with_flights("curl", lambda mode=mode: t.curl_send(mode, msg)),
                     deliveries=1),
            ]
            rounds, check = run_bench(cases, 10)

            def flights_col(c):
                f = flights.get(c.name, [])
                if not f:
                    return "–"
                cf = statistics.median_low([x[0] for x in f])
                return f"{cf}"

            def rtt_col(c):
                if not c.walls:
                    return "–"
                return f"{statistics.median(c.walls) / (2 * delay):.1f}"

            table(f"6{'a' if mode == 'proxy-starttls' else 'b'}. One message over a proxy adding "
                  f"{delay * 1000:.0f} ms each way, {label}", cases, rounds, check,
                  what=(f"Wall time of one message through `delayproxy.py` (each chunk forwarded "
                        f"{delay * 1000:.0f} ms after it was read, both directions: a 50 ms round "
                        "trip; the TCP handshake itself is not delayed); "
                        f"{rounds} runs each, interleaved. *Client flights*: what the proxy saw "
                        "the client send before it waited for the server (TLS handshake "
                        "included), median; *≈ RTTs*: median wall time in 50 ms round trips."),
                  extra_cols=[("client flights", flights_col), ("≈ RTTs", rtt_col)])
    finally:
        proxy.terminate()
        try:
            proxy.wait(5)
        except subprocess.TimeoutExpired:
            proxy.kill()
            proxy.wait()


# ---------------------------------------------------------------------------------------------
# Bench 7: OAuth2, against the OAuth2 tier's servers (tests/oauth2/run.sh --serve)
# ---------------------------------------------------------------------------------------------
def bench_oauth2(t):
    o = STATE.get("oauth2")
    if not o:
        raise RuntimeError("bench 7 needs the OAuth2 tier's servers: benches/run.sh --only 7")
    d = os.path.join(TMP, "oauth2")
    xdg = {k: os.path.join(d, k) for k in ("config", "data", "state", "cache", "runtime",
                                           "fill-config")}
    for path in xdg.values():
        os.makedirs(os.path.join(path, "smtpsend"), mode=0o700, exist_ok=True)
    os.chmod(xdg["runtime"], 0o700)
    env = dict(ENV, XDG_CONFIG_HOME=xdg["config"], XDG_DATA_HOME=xdg["data"],
               XDG_STATE_HOME=xdg["state"], XDG_CACHE_HOME=xdg["cache"],
               XDG_RUNTIME_DIR=xdg["runtime"])
    pw_env = dict(env, SMTPSEND_PASSWORD=o["password"])
    issuer, user = o["issuer"], o["user"]

    def config(port):
        return f"""\
default = "work"

[accounts.work]
server = "smtp://{STATE['host']}:{port}"
ca_file = "{o['ca']}"
user = "{user}"
from = "{user}@example.org"
oauth2_provider = "custom"
oauth2_client_id = "{o['client_id']}"
oauth2_authorize_url = "{issuer}/auth"
oauth2_token_url = "{issuer}/token"
oauth2_revocation_url = "{issuer}/token/revocation"
oauth2_scopes = ["smtp", "offline_access"]
oauth2_token_store = "file"

[accounts.password]
server = "smtp://{STATE['host']}:{port}"
ca_file = "{o['ca']}"
user = "{user}"
from = "{user}@example.org"
auth = "plain"
"""

    write(os.path.join(xdg["config"], "smtpsend", "config.toml"), config(o["sub_port"]))
    # For filling the outbox (7b): the same accounts, at a closed port.
    write(os.path.join(xdg["fill-config"], "smtpsend", "config.toml"),
          config(STATE["closed_port"]))
    fill_env = dict(pw_env, XDG_CONFIG_HOME=xdg["fill-config"])

    # Sign in once, by code + PKCE, through the tier's scripted browser (untimed).
    r = spawn([t.smtpsend, "login", "work"], timeout=60,
              env=dict(env, BROWSER=o["browser"], BROWSER_LOG=os.path.join(d, "browser.log")))
    if r.rc != 0:
        raise RuntimeError(f"smtpsend login failed ({r.rc}): {r.stderr[-1500:]}")
    token_dir = os.path.join(xdg["state"], "smtpsend", "oauth2")
    files = [f for f in os.listdir(token_dir) if f.endswith(".json")]
    if len(files) != 1:
        raise RuntimeError(f"after login, {token_dir} holds {files}, one token file expected")
    token_file = os.path.join(token_dir, files[0])

    def stored():
        with open(token_file) as f:
            return json.load(f)

    def expire():
        # What smtpsend sees when the access token has run out: the stored expiry is past. The
        # file is rewritten in place (mode 0600 kept); smtpsend itself replaces it by a rename.
        tokens = stored()
        tokens["expires_at"] = 0
        with open(token_file, "w") as f:
            json.dump(tokens, f)

    # What the server logged, from here on: no failed AUTH may happen during the bench.
    log_at = maillog_size_of(o["maillog"])
    dovecot_at = maillog_size_of(o["dovecot_log"])
    # The bench's wait_for_queue and delivery count look at the tier's Postfix.
    saved = {k: STATE[k] for k in ("spool", "maillog")}
    STATE.update(spool=o["spool"], maillog=o["maillog"])
    try:
        _oauth2_one(t, o, env, pw_env, stored, expire)
        _oauth2_flush(t, o, env, pw_env, fill_env, xdg, stored, expire)
    finally:
        STATE.update(saved)
    time.sleep(0.3)
    with open(o["maillog"], "rb") as f:
        f.seek(log_at)
        mlog = f.read().decode("utf-8", "replace")
    with open(o["dovecot_log"], "rb") as f:
        f.seek(dovecot_at)
        dlog = f.read().decode("utf-8", "replace")
    failed = re.findall(r"SASL \S+ authentication failed.*", mlog)
    # smtpd's "disconnect from" line counts the AUTH commands of a connection: auth=1 when it
    # succeeded, auth=0/1 when it failed.
    logins = len(re.findall(r"disconnect from .* auth=1 ", mlog))
    refused = re.findall(r"disconnect from .* auth=\d+/\d+ .*", mlog)
    dv_bad = [line for line in dlog.splitlines()
              if re.search(r"failed|mismatch|unknown user|invalid|penalty|error", line, re.I)]
    bad = failed + refused + dv_bad
    out(f"Failed logins during bench 7: {len(failed) + len(refused)} in Postfix's log "
        f"(`authentication failed`, or `auth=0/1` on disconnecting), against {logins} "
        f"connections whose AUTH succeeded; {len(dv_bad)} failures or errors in Dovecot's log"
        + (f", e.g. `{bad[0][:200]}`" if bad else "")
        + ". (With none, neither Dovecot's delay after a failed login (`auth_failure_delay`, "
        "which the tier sets to 0 anyway) nor its penalty for a client that keeps failing "
        "(anvil's auth penalty) can slow any run down.)")
    out()
    if bad:
        FAILED.append("7 (failed logins)")


def dump_samples(name, cases):
    """The raw wall times, in round order, for a closer look (BENCH_KEEP=1 keeps them)."""
    write(os.path.join(TMP, f"{name}-samples.json"),
          json.dumps({c.name: c.walls for c in cases}, indent=1))


def maillog_size_of(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _oauth2_one(t, o, env, pw_env, stored, expire):
    msg = t.composed("oauth2-one.eml")
    rcpt = "bob@example.net"
    send = [t.smtpsend, "-q", "-t", rcpt, "-s", "benchmark", "-m", "Hello from the benchmark."]
    before = {}

    def remember():
        before["tokens"] = stored()

    def expire_and_remember():
        expire()
        remember()

    def cached_check(r):
        problem = rc_zero(r)
        if problem:
            return problem
        if stored()["access_token"] != before["tokens"]["access_token"]:
            return "the access token was refreshed in the cached-token case"
        return None

    def refresh_check(r):
        problem = rc_zero(r)
        if problem:
            return problem
        now = stored()
        if now["refresh_token"] == before["tokens"]["refresh_token"] or \
                not now.get("expires_at") or now["expires_at"] < time.time() + 600:
            return "no new access token and rotated refresh token were stored"
        return None

    rc_msmtp = os.path.join(TMP, "msmtprc-oauth2")

    def msmtp_prepare():
        remember()
        write(rc_msmtp, f"""\
account bench
host {STATE['host']}
port {o['sub_port']}
tls on
tls_starttls on
tls_trust_file {o['ca']}
auth xoauth2
user {o['user']}
password {before['tokens']['access_token']}
from alice@example.org
""")

    def curl_run():
        return spawn([t.curl, "-q", "-sS", "--ssl-reqd", "--cacert", o["ca"],
                      "--user", f"{o['user']}:", "--oauth2-bearer",
                      before["tokens"]["access_token"], "--login-options", "AUTH=XOAUTH2",
                      "--mail-from", "alice@example.org", "--mail-rcpt", rcpt,
                      "--url", f"smtp://{STATE['host']}:{o['sub_port']}", "-T", msg])

    cached = Case("smtpsend, cached token", lambda: spawn(send, env=env), deliveries=1,
                  prepare=remember, check=cached_check, family="smtpsend")
    refresh = Case("smtpsend, expired token: refresh, store, send", lambda: spawn(send, env=env),
                   deliveries=1, prepare=expire_and_remember, check=refresh_check,
                   family="smtpsend")
    cases = [
        cached,
        refresh,
        Case("smtpsend --account password (AUTH PLAIN)",
             lambda: spawn([*send, "--account", "password"], env=pw_env), deliveries=1),
        Case("msmtp, cached token", lambda: spawn([t.msmtp, "-C", rc_msmtp, "-a", "bench", rcpt],
                                                  stdin=msg),
             deliveries=1, prepare=msmtp_prepare, check=cached_check, family="msmtp"),
        Case("curl, cached token", curl_run, deliveries=1, prepare=remember, check=cached_check,
             family="curl"),
    ]
    rounds, check = run_bench(cases, 150, sink="to the tier's recorder")
    table("7a. One small message with OAuth2 (XOAUTH2), STARTTLS", cases, rounds, check, what=(
        f"One process sends one {os.path.getsize(msg)}-byte message to one recipient over "
        f"loopback, to the OAuth2 tier's Postfix, whose Dovecot introspects every token at "
        f"oidc-provider; {rounds} runs each, interleaved. *Cached token*: the stored access "
        "token is valid (the normal case). *Expired token*: before each run (untimed) the "
        "stored `expires_at` is set to 0, so smtpsend first refreshes at the token endpoint, "
        "stores the new access token and the rotated refresh token (flock, temporary file, "
        "fsync, rename, fsync of the directory), then sends. *AUTH PLAIN*: the same Postfix "
        "and Dovecot, a password from a passwd-file instead of an introspected token. msmtp "
        "(`auth xoauth2`) and curl (`--oauth2-bearer`, `AUTH=XOAUTH2`) get the current access "
        "token and the message smtpsend composes; they cannot refresh."))
    dump_samples("oauth2-7a", cases)
    cost = refresh_cost(cached, refresh, "one message")
    if cost:
        out(cost)
        out()


def fmt_delta(s):
    return ("+" if s >= 0 else "−") + fmt_time(abs(s))


def refresh_cost(cached, refresh, what, split_stalls=True):
    """What a refresh adds, from the medians; run by run; and apart from Postfix's stall."""
    if not (cached.walls and refresh.walls):
        return None
    mc, mr = statistics.median(cached.walls), statistics.median(refresh.walls)
    text = (f"**What a refresh costs ({what})**: the medians differ by {fmt_delta(mr - mc)} "
            f"({fmt_time(mr)} against {fmt_time(mc)} with a cached token: "
            f"{fmt_ratio(mr, mc)}×)")
    if len(cached.walls) == len(refresh.walls):
        diffs = [b - a for a, b in zip(cached.walls, refresh.walls)]
        text += (f"; run by run (the two runs of a round), the median difference is "
                 f"{fmt_delta(statistics.median(diffs))}")
    cpu = statistics.median(refresh.cpus) - statistics.median(cached.cpus)
    text += f"; smtpsend's own CPU time: {fmt_delta(cpu)}."
    if not split_stalls:
        return text
    # Postfix's ~40 ms stall after STARTTLS (see "Things to know") hits some connections and
    # not others: split each row into runs with it (slower than the row's fastest + 25 ms)
    # and without.
    split = {}
    for c in (cached, refresh):
        fast = [w for w in c.walls if w < min(c.walls) + 0.025]
        split[c.name] = (fast, [w for w in c.walls if w >= min(c.walls) + 0.025])
    (cf, cs), (rf, rs) = split[cached.name], split[refresh.name]
    text += (f" The ~40 ms stall after STARTTLS hit {len(cs)} of {len(cached.walls)} cached-token "
             f"runs and {len(rs)} of {len(refresh.walls)} refresh runs")
    parts = []
    if cf and rf:
        a, b = statistics.median(cf), statistics.median(rf)
        parts.append(f"without it, the medians are {fmt_time(b)} against {fmt_time(a)}: "
                     f"{fmt_delta(b - a)}, {fmt_ratio(b, a)}×")
    if cs and rs:
        a, b = statistics.median(cs), statistics.median(rs)
        parts.append(f"with it, {fmt_time(b)} against {fmt_time(a)}: {fmt_delta(b - a)}")
    return text + ("; " + "; ".join(parts) if parts else "") + "."


def flush_problem(r, outbox):
    """What went wrong with a `queue flush` that should have delivered everything: it exits 0,
    says nothing (as under cron, where all is well) and leaves the outbox empty."""
    left = len([f for f in os.listdir(outbox) if f.endswith(".json")]) \
        if os.path.isdir(outbox) else 0
    if r.rc != 0 or left or r.stdout.strip() or r.stderr.strip():
        return (f"exit status {r.rc}, {left} entries left, `{show_cmd(r.argv)}`; stdout:\n"
                + "\n".join(r.stdout.strip().splitlines()[-3:])
                + f"\nstderr: {mask(r.stderr)[:1500]}")
    return None


def _oauth2_flush(t, o, env, pw_env, fill_env, xdg, stored, expire):
    n = 20
    outbox = os.path.join(xdg["data"], "smtpsend", "outbox")
    problems = []
    before = {}

    def fill(account, then_expire=False):
        def prepare():
            shutil.rmtree(outbox, ignore_errors=True)
            for i in range(n):
                r = spawn([t.smtpsend, "--account", account, "--queue", "-q",
                           "-t", "bob@example.net", "-s", f"benchmark {i}",
                           "-m", "Hello from the benchmark."], env=fill_env)
                if r.rc != 75 and not problems:
                    problems.append(f"filling the outbox: exit status {r.rc} (75 expected): "
                                    f"`{show_cmd(r.argv)}`\nstderr: {mask(r.stderr)[:1500]}")
            queued = len([f for f in os.listdir(outbox) if f.endswith(".json")]) \
                if os.path.isdir(outbox) else 0
            if queued != n and not problems:
                problems.append(f"the outbox holds {queued} entries after {n} sends")
            if then_expire:
                expire()
            before["tokens"] = stored()
        return prepare

    def check(refreshed):
        def run_check(r):
            if problems:
                return problems.pop()
            problem = flush_problem(r, outbox)
            if problem:
                return problem
            changed = stored()["refresh_token"] != before["tokens"]["refresh_token"]
            if changed != refreshed:
                return "the tokens were " + ("not " if refreshed else "") + "refreshed"
            return None
        return run_check

    flush = [t.smtpsend, "queue", "flush", "--now"]
    cases = [
        Case(f"smtpsend queue flush, {n} messages, cached token", lambda: spawn(flush, env=env),
             deliveries=n, prepare=fill("work"), check=check(False)),
        Case(f"smtpsend queue flush, {n} messages, expired token (one refresh)",
             lambda: spawn(flush, env=env), deliveries=n, prepare=fill("work", True),
             check=check(True)),
        Case(f"smtpsend queue flush, {n} messages, AUTH PLAIN", lambda: spawn(flush, env=pw_env),
             deliveries=n, prepare=fill("password"), check=check(False)),
    ]
    rounds, check_line = run_bench(cases, 20, sink="to the tier's recorder")
    dump_samples("oauth2-7b", cases)
    cost = refresh_cost(cases[0], cases[1], f"queue flush of {n} messages", split_stalls=False)
    table(f"7b. {n} queued messages flushed with OAuth2, STARTTLS", cases, rounds, check_line,
          what=(f"{n} messages queued beforehand (untimed: `smtpsend --queue` to a closed port), "
                "then one `smtpsend queue flush --now` delivers them over one connection "
                f"(one AUTH); only the flush is timed; {rounds} rounds, interleaved. *Expired "
                "token*: the stored `expires_at` is set to 0 after queueing, so the flush "
                "refreshes once, for all the messages."))
    if cost:
        out(cost)
        out()


# ---------------------------------------------------------------------------------------------
def bench_serve(t):
    """Bench 8, in serve_bench.py: a local relay's accept rate and memory."""
    serve_bench.bench_serve(sys.modules[__name__], t)


def describe_machine(t):
    def first_line(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, env=ENV,
                                  timeout=10).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            cpu = m.group(1) if m else "?"
        with open("/proc/meminfo") as f:
            mem_kb = int(re.search(r"^MemTotal:\s+(\d+)", f.read(), re.M).group(1))
    except (OSError, AttributeError):
        mem_kb = 0
    repo = STATE["repo"]
    rev = first_line(["git", "-C", repo, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--", "src", "Cargo.toml",
                            "Cargo.lock"], capture_output=True, text=True).stdout.strip()
    built = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(os.path.getmtime(t.smtpsend)))
    out(f"- when: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    out(f"- machine: {os.cpu_count()} CPUs ({cpu}), {mem_kb / 1024 / 1024:.1f} GiB memory, "
        f"Linux {platform.release()}")
    out(f"- smtpsend: {first_line([t.smtpsend, '--version'])}, `{t.smtpsend}` built {built} from "
        f"{rev}{' + uncommitted changes in src/' if dirty else ''}")
    out(f"- msmtp: {first_line([t.msmtp, '--version'])}; curl: "
        f"{' '.join(first_line([t.curl, '--version']).split()[:3])}"
        + (f"; s-nail: {first_line([t.snail, '-V'])}" if t.snail else ""))
    out(f"- server: Postfix {STATE['postfix_version']} on 127.0.0.1, TLS 1.3 with a throwaway CA, "
        "AUTH PLAIN (Cyrus sasldb), every recipient to the discard transport")
    out()


def main():
    global TMP, ENV, SCALE, QUICK
    ap = argparse.ArgumentParser()
    ap.add_argument("state")
    ap.add_argument("--big", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    with open(args.state) as f:
        STATE.update(json.load(f))
    TMP = STATE["tmp"]
    QUICK = args.quick
    SCALE = float(STATE.get("runs_scale", 1)) * (0.1 if args.quick else 1)
    home = os.path.join(TMP, "home")
    for d in ("home", "xdg/config", "xdg/data", "xdg/state", "xdg/cache", "xdg/runtime"):
        os.makedirs(os.path.join(TMP, d), mode=0o700, exist_ok=True)
    ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LC_ALL": "C.UTF-8",
           "XDG_CONFIG_HOME": os.path.join(TMP, "xdg/config"),
           "XDG_DATA_HOME": os.path.join(TMP, "xdg/data"),
           "XDG_STATE_HOME": os.path.join(TMP, "xdg/state"),
           "XDG_CACHE_HOME": os.path.join(TMP, "xdg/cache"),
           "XDG_RUNTIME_DIR": os.path.join(TMP, "xdg/runtime")}
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    only = {int(x) for x in args.only.split(",") if x.strip()} or {1, 2, 3, 4, 5, 6, 8}
    if not STATE.get("oauth2"):
        only.discard(7)
    if not args.big and not args.only:
        only.discard(5)
    t = Tools()
    for name, path in (("msmtp", t.msmtp), ("curl", t.curl)):
        if not path:
            raise SystemExit(f"{name} not found on PATH")

    out("## Results")
    out()
    describe_machine(t)
    benches = [(1, bench_startup), (2, bench_one), (3, bench_batch), (4, bench_rcpts),
               (5, bench_big), (6, bench_round_trips), (7, bench_oauth2), (8, bench_serve)]
    started = time.monotonic()
    for number, fn in benches:
        if number in only:
            note(f"bench {number} ({fn.__name__[6:]})")
            t0 = time.monotonic()
            fn(t)
            note(f"bench {number} took {time.monotonic() - t0:.0f} s")
    if 5 not in only:
        out("(Bench 5, the 200 MiB attachment, did not run: `benches/run.sh --big`.)")
        out()
    out(f"All benches took {time.monotonic() - started:.0f} s.")
    if STATE.get("out"):
        with open(STATE["out"], "w", encoding="utf-8") as f:
            f.write("\n".join(MD) + "\n")
        note(f"written to {STATE['out']}")
    if FAILED:
        note(f"failures in: {', '.join(FAILED)} (see the notes under the tables)")
        sys.exit(1)


SCALE = 1.0
QUICK = False
FAILED = []  # the cases that failed at least once: the exit status is 1 then

if __name__ == "__main__":
    main()
