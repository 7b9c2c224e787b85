"""Bench 8, `smtpsend serve`: how many messages a second a local relay accepts on loopback, and
its memory with 100 clients at once, side by side with Postfix's own smtpd into its queue (the
reference for a durable accept: it too answers 250 only once the queue file is fsynced) and,
where Debian ships it, msmtpd (which relays within the session and keeps nothing).

The load is Postfix's smtp-source: MESSAGES messages of 2 KiB, one connection each (as Grafana
or Django send), SESSIONS at a time. Every relay delivers on to the same Postfix, whose plain
port discards; what they deliver runs while they accept, as it would. Between runs the queues
are left to drain (not timed). Memory: 100 clients each hold a transaction open in the middle
of its data while the proportional set size (PSS, so shared pages count once) of every process
of the server is summed; then each finishes its message.

Imported by bench.py; uses its helpers through the `h` module object.
"""

import os
import shutil
import socket
import statistics
import subprocess
import time

MESSAGES = 500
SESSIONS = 10
CLIENTS = 100


def bench_serve(h, t):
    state = h.STATE
    host, plain = state["host"], state["plain_port"]
    relay_port, msmtpd_port = state["relay_port"], state["msmtpd_port"]
    messages = max(50, int(MESSAGES * h.SCALE))
    rounds = max(1, round(3 * min(h.SCALE, 1)))
    source = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    relay = start_relay(h, state, relay_port, plain)
    servers = [("Postfix smtpd, into its queue (durable)", plain, postfix_pids(state))]
    servers.append(("smtpsend serve (durable)", relay_port, lambda: tree(relay.pid)))
    msmtpd = start_msmtpd(h, msmtpd_port, plain)
    if msmtpd:
        servers.append(("msmtpd (relays in the session, keeps nothing)", msmtpd_port,
                        lambda: tree(msmtpd.pid)))
    try:
        rates = {name: [] for name, _, _ in servers}
        failures = {}
        for i in range(rounds + 1):  # the first round warms up, untimed
            order = servers[i % len(servers):] + servers[:i % len(servers)]
            for name, port, _ in order:
                wall, rc, err = smtp_source(source, host, port, messages)
                if rc != 0:
                    failures[name] = err.strip().splitlines()[-1:] or [f"exit {rc}"]
                elif i > 0:
                    rates[name].append(messages / wall)
                drain(h, state)
        memory = {}
        for name, port, pids in servers:
            memory[name] = hold_clients(host, port, pids)
            drain(h, state)
    finally:
        stop(relay)
        stop(msmtpd)
    h.out(f"### 8. `smtpsend serve`: accepted messages per second, and memory with {CLIENTS} "
          "clients")
    h.out()
    h.out(f"{messages} messages of 2 KiB from smtp-source, one connection each, {SESSIONS} at a "
          f"time, to 127.0.0.1; {rounds} rounds interleaved after a warm-up, the median. Each "
          "relay delivers on to Postfix's plain port (discarded) while it accepts. Memory: "
          f"{CLIENTS} clients each stopped in the middle of a message's data, the PSS of all "
          "the server's processes summed (and the largest single process).")
    h.out()
    h.out("| server | msgs/s (median) | min–max | PSS, 100 clients | largest process |")
    h.out("|---|---:|---:|---:|---:|")
    for name, _, _ in servers:
        r = rates[name]
        if name in failures or not r:
            cell = f"failed: {h.mask(' '.join(failures.get(name, ['no run'])))}"
            h.FAILED.append(f"8: {name}")
            h.out(f"| {name} | {cell} | | | |")
            continue
        total, largest, held = memory[name]
        mem = f"{h.fmt_rss(total)}" + ("" if held == CLIENTS else f" ({held} held)")
        h.out(f"| {name} | {statistics.median(r):.0f} | {min(r):.0f}–{max(r):.0f} | {mem} | "
              f"{h.fmt_rss(largest)} |")
    if not msmtpd:
        h.out("| msmtpd | not available: Debian 12's msmtp has no msmtpd (the `msmtpd` package "
              "came later) | | | |")
    h.out()


def start_relay(h, state, port, upstream):
    home = os.path.join(h.TMP, "serve-home")
    config = os.path.join(home, "config", "smtpsend")
    os.makedirs(config, mode=0o700, exist_ok=True)
    os.chmod(home, 0o700)
    with open(os.path.join(config, "config.toml"), "w") as f:
        f.write(f'default = "sink"\n[accounts.sink]\nserver = "smtp+plain://127.0.0.1:{upstream}"\n'
                f'[serve]\nmax_connections = {CLIENTS + 50}\n')
    env = dict(h.ENV, HOME=home, XDG_CONFIG_HOME=os.path.join(home, "config"),
               XDG_DATA_HOME=os.path.join(home, "data"), XDG_STATE_HOME=os.path.join(home, "state"),
               SMTPSEND_LOG=os.path.join(home, "delivery.log"))
    state["serve_outbox"] = os.path.join(home, "data", "smtpsend", "outbox")
    log = open(os.path.join(h.TMP, "serve.log"), "w")
    relay = subprocess.Popen([state["smtpsend"], "serve", "--listen", f"127.0.0.1:{port}"],
                             env=env, stdout=subprocess.DEVNULL, stderr=log)
    wait_port(port)
    return relay


def start_msmtpd(h, port, upstream):
    msmtpd = shutil.which("msmtpd")
    if not msmtpd:
        return None
    command = f"msmtp --host=127.0.0.1 --port={upstream} --auth=off --tls=off -f %F --"
    proc = subprocess.Popen([msmtpd, "--interface=127.0.0.1", f"--port={port}",
                             f"--command={command}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc


def wait_port(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def stop(proc):
    if proc:
        proc.terminate()
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()


def smtp_source(source, host, port, messages):
    start = time.monotonic()
    run = subprocess.run([source, "-s", str(SESSIONS), "-m", str(messages), "-l", "2048",
                          "-f", "app@example.org", "-t", "ops@example.net", "-M", "bench.test",
                          f"{host}:{port}"], capture_output=True, text=True, timeout=600)
    return time.monotonic() - start, run.returncode, run.stderr


def drain(h, state):
    """Until Postfix's queue and the relay's outbox are empty (up to two minutes)."""
    h.wait_for_queue()
    outbox = state.get("serve_outbox")
    for _ in range(1200):
        if not outbox or not os.path.isdir(outbox) or not any(
                n.endswith(".eml") for n in os.listdir(outbox)):
            break
        time.sleep(0.1)
    h.wait_for_queue()


def postfix_pids(state):
    pidfile = os.path.join(state["spool"], "pid", "master.pid")

    def pids():
        with open(pidfile) as f:
            return tree(int(f.read().split()[0]))
    return pids


def tree(root):
    """root and every process below it."""
    children = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(pid))
            except (OSError, IndexError, ValueError):
                pass
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def hold_clients(host, port, pids):
    """CLIENTS connections each in the middle of its data; the summed PSS of the server's
    processes then (kB), the largest process's, and how many clients got that far."""
    held = []
    for _ in range(CLIENTS):
        try:
            s = socket.create_connection((host, port), timeout=30)
            f = s.makefile("rb")
            if not reply(f).startswith(b"220"):
                s.close()
                continue
            s.sendall(b"EHLO bench.test\r\n")
            reply(f)
            s.sendall(b"MAIL FROM:<app@example.org>\r\n")
            reply(f)
            s.sendall(b"RCPT TO:<ops@example.net>\r\n")
            reply(f)
            s.sendall(b"DATA\r\n")
            if not reply(f).startswith(b"354"):
                s.close()
                continue
            s.sendall(b"Subject: held\r\n\r\n" + b"x" * 1000 + b"\r\n")
            held.append((s, f))
        except OSError:
            break
    time.sleep(0.5)
    sizes = [pss_kb(pid) for pid in pids()]
    for s, f in held:
        try:
            s.sendall(b".\r\nQUIT\r\n")
            reply(f)
            s.close()
        except OSError:
            pass
    return sum(sizes), max(sizes, default=0), len(held)


def reply(f):
    """The last line of one SMTP reply."""
    while True:
        line = f.readline()
        if len(line) < 4 or line[3:4] != b"-":
            return line
