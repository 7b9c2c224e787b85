//! The outbox: what a failed send keeps, what `queue flush` delivers, what becomes a dead
//! letter, and that racing or killed flushes lose nothing.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// A send over plain TCP to `port` with queueing on; `n` makes the message unique.
fn queued_send(sandbox: &Sandbox, port: u16, n: usize) -> Command {
    let mut command = sandbox.command();
    command
        .args(send_args("smtp+plain", port))
        .args(["--queue", "-f", "a@example.org", "-t", "b@example.org"])
        .args(["-s", &format!("message {n}"), "-m", "body"]);
    command
}

fn flush(sandbox: &Sandbox) -> Run {
    run(sandbox.command().args(["queue", "flush", "--now"]))
}

fn queued_ids(sandbox: &Sandbox) -> Vec<String> {
    let outbox = sandbox.path("data/smtpsend/outbox");
    let mut ids: Vec<String> = std::fs::read_dir(outbox)
        .map(|dir| {
            dir.flatten()
                .filter_map(|f| {
                    f.file_name()
                        .to_str()?
                        .strip_suffix(".json")
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// A server on `port` that refuses the sender of the first message for good (550).
fn refusing_sender(port: u16) -> ScriptedServer {
    ScriptedServer::start_on(
        port,
        script([
            greeted(),
            vec![Act::Hear, Act::Say("550 5.7.1 Sender rejected\r\n")],
            listen(),
        ]),
    )
}

/// How many times the server received each Message-ID.
fn deliveries_by_id(server: &MailServer) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for message in server.messages() {
        let id = message.parsed().message_id().unwrap().to_string();
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

#[test]
fn a_message_sent_while_the_server_is_down_goes_out_with_the_next_flush() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    let sent = run(&mut queued_send(&sandbox, port, 1));
    sent.assert_code(75);
    assert!(
        sent.stderr.contains("connection refused; queued as "),
        "{}",
        sent.stderr
    );
    assert_eq!(queued_ids(&sandbox).len(), 1);
    let listed = run(sandbox.command().args(["queue", "list"]));
    assert!(
        listed.stdout.contains("<a@example.org> -> <b@example.org>"),
        "{}",
        listed.stdout
    );
    assert!(
        listed.stdout.contains("connection refused"),
        "{}",
        listed.stdout
    );

    let server = MailServer::start_on(port);
    let flushed = flush(&sandbox);
    flushed.assert_code(0);
    // All went out: nothing for cron to mail.
    assert_eq!((&*flushed.stdout, &*flushed.stderr), ("", ""));
    let received = server.only_message();
    assert_eq!(received.recipients, ["b@example.org"]);
    assert_eq!(received.parsed().subject(), Some("message 1"));
    assert!(queued_ids(&sandbox).is_empty());
}

#[test]
fn a_4xx_is_queued_and_a_flush_before_its_time_leaves_it_alone() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    let server = ScriptedServer::start_on(
        port,
        script([
            greeted(),
            vec![Act::Hear, Act::Say("451 4.3.0 Try again later\r\n")],
            listen(),
        ]),
    );
    let sent = run(&mut queued_send(&sandbox, port, 2));
    sent.assert_code(75);
    assert!(
        sent.stderr.contains("451 4.3.0 Try again later; queued as"),
        "{}",
        sent.stderr
    );
    assert_eq!(server.connections(), 1);

    // Not due for a minute: a plain flush does nothing, and says nothing.
    let early = run(sandbox.command().args(["queue", "flush"]));
    early.assert_code(0);
    assert_eq!((&*early.stdout, &*early.stderr), ("", ""));
    assert_eq!(server.connections(), 1);

    let server = MailServer::start_on(port);
    flush(&sandbox).assert_code(0);
    assert_eq!(server.only_message().parsed().subject(), Some("message 2"));
}

#[test]
fn a_connection_dropped_in_the_data_keeps_the_message() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    let _server = ScriptedServer::start_on(
        port,
        script([
            greeted(),
            envelope_accepted(),
            vec![Act::HearBytes(50), Act::Hang],
        ]),
    );
    run(&mut queued_send(&sandbox, port, 3)).assert_code(75);
    let server = MailServer::start_on(port);
    flush(&sandbox).assert_code(0);
    assert_eq!(server.messages().len(), 1);
}

/// Only a 2xx completes MAIL, RCPT or the message (RFC 5321 4.2.1, 4.3.2): a 3xx in its place
/// is a protocol error, never a success, and the message it leaves undelivered is kept.
#[test]
fn a_3xx_where_a_2xx_is_due_is_a_protocol_error_and_the_message_is_kept() {
    let cases = [
        (
            vec![Act::Hear, Act::Say("334 VXNlcm5hbWU6\r\n")],
            "unexpected reply while MAIL FROM: 334 VXNlcm5hbWU6",
        ),
        (
            vec![
                Act::Hear,
                Act::Say("250 2.1.0 Ok\r\n"),
                Act::Hear,
                Act::Say("354 go ahead\r\n"),
                Act::Hear,
                Act::Say("250 2.0.0 Reset\r\n"),
            ],
            "1 recipient answered unexpectedly: <b@example.org> (354 go ahead); nothing was sent",
        ),
        (
            script([
                envelope_accepted(),
                vec![Act::HearData, Act::Say("354 go ahead\r\n")],
            ]),
            "unexpected reply while sending the message: 354 go ahead; the message was sent in \
             full but not confirmed: the server may or may not have accepted it; queued as ",
        ),
    ];
    for (n, (acts, expected)) in cases.into_iter().enumerate() {
        let sandbox = Sandbox::new();
        let server = ScriptedServer::start(script([greeted(), acts, listen()]));
        let sent = run(&mut queued_send(&sandbox, server.port, 5 + n));
        sent.assert_code(76);
        assert!(sent.stderr.contains(expected), "{}", sent.stderr);
        assert!(sent.stderr.contains("; queued as "), "{}", sent.stderr);
        assert_eq!(queued_ids(&sandbox).len(), 1, "{}", sent.stderr);
        let listed = run(sandbox.command().args(["queue", "list"]));
        assert!(
            listed.stdout.contains("<a@example.org> -> <b@example.org>"),
            "{}",
            listed.stdout
        );
        let data_sent = server.heard().iter().any(|line| line == ".");
        assert_eq!(data_sent, n == 2, "{:?}", server.heard());
    }
}

#[test]
fn a_permanent_refusal_in_a_flush_makes_a_dead_letter() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    run(&mut queued_send(&sandbox, port, 4)).assert_code(75);
    let id = queued_ids(&sandbox).remove(0);
    let _server = refusing_sender(port);
    let flushed = flush(&sandbox);
    flushed.assert_code(65);
    assert!(
        flushed
            .stdout
            .contains(&format!("{id}: dead letter, kept in ")),
        "{}",
        flushed.stdout
    );
    assert!(
        flushed.stdout.contains("550 5.7.1 Sender rejected"),
        "{}",
        flushed.stdout
    );
    assert!(queued_ids(&sandbox).is_empty());
    assert!(
        sandbox
            .path(&format!("data/smtpsend/dead/{id}.eml"))
            .exists()
    );
    let listed = run(sandbox.command().args(["queue", "list"]));
    assert!(
        listed.stdout.contains(&format!("{id}  dead letter")),
        "{}",
        listed.stdout
    );

    // Reported once: a second flush has nothing to do with it, and says nothing.
    let again = flush(&sandbox);
    again.assert_code(0);
    assert_eq!((&*again.stdout, &*again.stderr), ("", ""));
    run(sandbox.command().args(["queue", "drop", &id])).assert_code(0);
    assert!(
        !sandbox
            .path(&format!("data/smtpsend/dead/{id}.eml"))
            .exists()
    );
}

#[test]
fn sendmail_mode_queues_without_being_asked() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    let run = run_with_stdin(
        sandbox
            .command()
            .args(["sendmail", "-t", "--server"])
            .arg(format!("smtp+plain://localhost:{port}")),
        Some(b"From: cron@example.org\nTo: root@example.org\nSubject: nightly\n\nok\n"),
    );
    run.assert_code(75);
    assert!(run.stderr.contains("queued as"), "{}", run.stderr);
    let server = MailServer::start_on(port);
    flush(&sandbox).assert_code(0);
    assert_eq!(server.only_message().recipients, ["root@example.org"]);
}

#[test]
fn show_gives_the_envelope_and_never_a_password() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    run(queued_send(&sandbox, port, 5)
        .args(["--user", "a@example.org"])
        .env("SMTPSEND_PASSWORD", "s3cret-pw"))
    .assert_code(75);
    let id = queued_ids(&sandbox).remove(0);
    let shown = run(sandbox.command().args(["queue", "show", "--json", &id]));
    shown.assert_code(0);
    assert!(shown.stdout.contains("\"recipients\""), "{}", shown.stdout);
    assert!(
        shown
            .stdout
            .contains(&format!("smtp+plain://localhost:{port}")),
        "{}",
        shown.stdout
    );
    let stored =
        std::fs::read_to_string(sandbox.path(&format!("data/smtpsend/outbox/{id}.json"))).unwrap();
    assert!(!stored.contains("s3cret-pw") && !shown.stdout.contains("s3cret-pw"));
}

fn queue_many(sandbox: &Sandbox, port: u16, count: usize) {
    for n in 0..count {
        run(&mut queued_send(sandbox, port, n)).assert_code(75);
    }
    assert_eq!(queued_ids(sandbox).len(), count);
}

#[test]
fn two_flushes_racing_never_send_a_message_twice() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    queue_many(&sandbox, port, 12);
    let server = MailServer::start_on(port);
    let spawn = || {
        sandbox
            .command()
            .args(["queue", "flush", "--now"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut first, mut second) = (spawn(), spawn());
    first.wait().unwrap();
    second.wait().unwrap();
    let counts = deliveries_by_id(&server);
    assert_eq!(counts.len(), 12, "every message delivered");
    assert!(counts.values().all(|&n| n == 1), "a duplicate: {counts:?}");
    assert!(queued_ids(&sandbox).is_empty());
}

#[test]
fn flushes_killed_at_random_points_lose_nothing() {
    const MESSAGES: usize = 6;
    const KILLS: usize = 50;
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let gate = Gate::to(server.port);
    let started = Instant::now();
    let mut queued = 0;
    // The kill points come from a seed that is printed, and taken from KILL_SEED when set, so
    // a failing run can be repeated.
    let seed = std::env::var("KILL_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| u64::from(std::process::id()) | 1);
    eprintln!("kill points from KILL_SEED={seed}");
    let mut state = seed;
    for round in 0..KILLS {
        if queued_ids(&sandbox).is_empty() {
            // Everything went out: queue the next batch, with the server unreachable.
            gate.set_open(false);
            for n in 0..MESSAGES {
                run(&mut queued_send(&sandbox, gate.port, round * 100 + n)).assert_code(75);
                queued += 1;
            }
            gate.set_open(true);
        }
        // xorshift: a spread of kill points without a randomness crate.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut flush = sandbox
            .command()
            .args(["queue", "flush", "--now"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(state % 30_000));
        let _ = flush.kill();
        let _ = flush.wait();
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "bounded in time"
        );
    }
    flush(&sandbox).assert_code(0);
    assert!(queued_ids(&sandbox).is_empty(), "the outbox drains");
    let counts = deliveries_by_id(&server);
    let duplicates = counts.values().sum::<usize>() - counts.len();
    eprintln!(
        "{KILLS} kills over {queued} queued messages: {} delivered, {duplicates} delivered twice or more",
        counts.len()
    );
    assert_eq!(counts.len(), queued, "no message lost (KILL_SEED={seed})");
    let leftovers: Vec<_> = std::fs::read_dir(sandbox.path("data/smtpsend/outbox"))
        .unwrap()
        .flatten()
        .filter(|f| !f.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "only temporary files may remain: {leftovers:?}"
    );
}

#[test]
fn the_delivery_log_has_one_line_per_message_and_never_the_body() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let log = sandbox.path("delivery.log");
    std::fs::create_dir_all(sandbox.path("config/smtpsend")).unwrap();
    sandbox.write(
        "config/smtpsend/config.toml",
        format!(
            "default = \"a\"\n[accounts.a]\nserver = \"smtp+plain://localhost:{}\"\n\
             from = \"a@example.org\"\nlog = \"{}\"\n",
            server.port,
            log.display()
        ),
    );
    run(sandbox
        .command()
        .args(["-t", "b@example.org", "-m", "secret body text"]))
    .assert_code(0);
    let line = std::fs::read_to_string(&log).unwrap();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.starts_with("20") && line.contains("Z account=a "),
        "{line}"
    );
    assert!(
        line.contains("from=<a@example.org> to=<b@example.org>"),
        "{line}"
    );
    assert!(
        line.contains("result=\"250 2.0.0 Ok: queued as TEST42\" exit=0"),
        "{line}"
    );
    assert!(!line.contains("secret body"), "{line}");

    // A log that cannot be written warns and sends all the same.
    std::fs::remove_file(&log).unwrap();
    std::fs::create_dir(&log).unwrap();
    let warned = run(sandbox.command().args(["-t", "b@example.org", "-m", "x"]));
    warned.assert_code(0);
    assert!(
        warned
            .stderr
            .contains("warning: cannot write the delivery log"),
        "{}",
        warned.stderr
    );
    assert_eq!(server.messages().len(), 2);
}

#[test]
fn retry_reconnects_when_the_server_comes_up() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        sender.send(MailServer::start_on(port)).unwrap();
    });
    let run = run(sandbox.command().args(send_args("smtp+plain", port)).args([
        "--retry",
        "3",
        "-v",
        "-f",
        "a@example.org",
        "-t",
        "b@example.org",
        "-m",
        "hi",
    ]));
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("connecting failed; retry 1 of 3 in 1 s"),
        "{}",
        run.stderr
    );
    let server = receiver.recv().unwrap();
    assert_eq!(server.messages().len(), 1);
    assert!(queued_ids(&sandbox).is_empty());
}

/// A message typed on a terminal is not lost with the error: util-linux `script` gives the
/// binary a terminal, and the "typing" comes through it.
#[cfg(target_os = "linux")]
#[test]
fn a_message_typed_by_hand_is_kept_when_it_cannot_be_sent() {
    use std::io::Write as _;
    let sandbox = Sandbox::new();
    let port = closed_port();
    let command = format!(
        "{} --server smtp+plain://localhost:{port} -f a@example.org -t b@example.org -s typed",
        env!("CARGO_BIN_EXE_smtpsend")
    );
    let mut child = sandbox
        .command_for("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut typing = child.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    typing
        .write_all(b"words nobody wants to type twice\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    typing.write_all(b"\x04").unwrap();
    let output = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("the message is saved in"), "{shown}");
    let dead = sandbox.path("data/smtpsend/dead");
    let kept: Vec<_> = std::fs::read_dir(&dead)
        .unwrap()
        .flatten()
        .filter(|f| f.path().extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(kept.len(), 1);
    let message = std::fs::read_to_string(kept[0].path()).unwrap();
    assert!(
        message.contains("words nobody wants to type twice"),
        "{message}"
    );
}

#[test]
fn a_queued_8bit_message_is_declared_8bit_when_flushed() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    run_with_stdin(
        sandbox
            .command()
            .args(["sendmail", "-t", "--server"])
            .arg(format!("smtp+plain://localhost:{port}")),
        Some("From: a@example.org\nTo: b@example.org\nSubject: x\n\nGrüße\n".as_bytes()),
    )
    .assert_code(75);
    let server = ScriptedServer::start_on(port, happy(EHLO_REPLY));
    flush(&sandbox).assert_code(0);
    let heard = server.heard();
    assert!(
        heard
            .iter()
            .any(|l| l.starts_with("MAIL FROM:<a@example.org>") && l.ends_with(" BODY=8BITMIME")),
        "{heard:?}"
    );
    assert!(heard.iter().any(|l| l == "Grüße"), "{heard:?}");
}

#[test]
fn queue_list_and_show_into_a_closed_pipe_end_quietly() {
    let sandbox = Sandbox::new();
    assert_quiet_into_a_closed_pipe(sandbox.command().args(["queue", "list"]), 0);
    run(&mut queued_send(&sandbox, closed_port(), 1)).assert_code(75);
    let id = queued_ids(&sandbox).remove(0);
    assert_quiet_into_a_closed_pipe(sandbox.command().args(["queue", "list"]), 0);
    assert_quiet_into_a_closed_pipe(sandbox.command().args(["queue", "show", &id]), 0);
}

#[test]
fn queue_show_and_list_escape_a_hostile_stored_reply() {
    const HOSTILE: [char; 5] = ['\u{202E}', '\u{2066}', '\u{200F}', '\u{85}', '\u{9B}'];
    let sandbox = Sandbox::new();
    run(&mut queued_send(&sandbox, closed_port(), 1)).assert_code(75);
    let id = queued_ids(&sandbox).remove(0);
    let path = sandbox.path(&format!("data/smtpsend/outbox/{id}.json"));
    let mut stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let reply = "451 \u{202E}detavitca\u{2066}x\u{200F}y\u{85}z\u{9B}2J";
    stored["attempts"][0]["result"] = reply.into();
    std::fs::write(&path, serde_json::to_vec(&stored).unwrap()).unwrap();

    let shown = run(sandbox.command().args(["queue", "show", "--json", &id]));
    shown.assert_code(0);
    assert!(!shown.stdout.contains(HOSTILE), "{:?}", shown.stdout);
    assert!(
        shown
            .stdout
            .contains(r#""result": "451 \u202edetavitca\u2066x\u200fy\u0085z\u009b2J""#),
        "{}",
        shown.stdout
    );
    let parsed: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(
        parsed["attempts"][0]["result"], reply,
        "still the same JSON"
    );
    let shown = run(sandbox.command().args(["queue", "show", &id]));
    shown.assert_code(0);
    assert!(!shown.stdout.contains(HOSTILE), "{:?}", shown.stdout);
    assert!(
        shown
            .stdout
            .contains(r"451 \u{202e}detavitca\u{2066}x\u{200f}y\u{85}z\u{9b}2J"),
        "{}",
        shown.stdout
    );

    let listed = run(sandbox.command().args(["queue", "list"]));
    listed.assert_code(0);
    assert!(!listed.stdout.contains(HOSTILE), "{:?}", listed.stdout);
    assert!(
        listed
            .stdout
            .contains(r"last: 451 \u{202e}detavitca\u{2066}x\u{200f}y\u{85}z\u{9b}2J"),
        "{}",
        listed.stdout
    );
}

#[test]
fn a_message_without_its_description_is_listed_and_delivered_from_its_header() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    run(&mut queued_send(&sandbox, port, 1)).assert_code(75);
    let id = queued_ids(&sandbox).remove(0);
    // A crash between the two writes: the message is there, its description is not.
    std::fs::remove_file(sandbox.path(&format!("data/smtpsend/outbox/{id}.json"))).unwrap();

    let listed = run(sandbox.command().args(["queue", "list"]));
    listed.assert_code(0);
    // Its age in seconds: a loaded machine may take one or two between the writes and the list.
    let line = listed
        .stdout
        .lines()
        .find(|line| line.starts_with(&id))
        .unwrap_or_default();
    assert!(
        line.starts_with(&format!("{id}  damaged: no description, queued "))
            && line.contains(" s ago; `smtpsend queue flush` sends it"),
        "{}",
        listed.stdout
    );

    let server = MailServer::start_on(port);
    let flushed = run(sandbox
        .command()
        .env("SMTPSEND_SERVER", format!("smtp+plain://localhost:{port}"))
        .args(["queue", "flush", "-v"]));
    flushed.assert_code(0);
    assert!(
        flushed.stdout.contains(&format!(
            "{id}: damaged entry (no description) recovered from its header: \
             <a@example.org> -> <b@example.org>"
        )),
        "{}",
        flushed.stdout
    );
    assert!(flushed.stdout.contains("1 delivered, 0 deferred, 0 dead"));
    let received = server.only_message();
    assert_eq!(received.from, "a@example.org");
    assert_eq!(received.recipients, ["b@example.org"]);
    assert_eq!(received.parsed().subject(), Some("message 1"));
    assert!(
        std::fs::read_dir(sandbox.path("data/smtpsend/outbox"))
            .unwrap()
            .next()
            .is_none()
    );
}

#[test]
fn a_message_without_description_or_recipients_becomes_a_dead_letter() {
    let sandbox = Sandbox::new();
    run(sandbox.command().args(["queue", "list"])).assert_code(0);
    let id = "1700000000000-00000000abcd";
    sandbox.write(
        &format!("data/smtpsend/outbox/{id}.eml"),
        "From: a@example.org\r\nSubject: lost\r\n\r\nbody\r\n",
    );
    let flushed = run(sandbox
        .command()
        .env(
            "SMTPSEND_SERVER",
            format!("smtp+plain://localhost:{}", closed_port()),
        )
        .args(["queue", "flush"]));
    flushed.assert_code(65);
    assert!(
        flushed.stdout.contains(&format!(
            "{id}: dead letter, kept in {}: damaged entry (no description), and its header \
             names no recipient",
            sandbox
                .path(&format!("data/smtpsend/dead/{id}.eml"))
                .display()
        )),
        "{}",
        flushed.stdout
    );
    let listed = run(sandbox.command().args(["queue", "list"]));
    assert!(
        listed.stdout.contains(&format!("{id}  dead letter")),
        "{}",
        listed.stdout
    );
    run(sandbox.command().args(["queue", "drop", id])).assert_code(0);
    let listed = run(sandbox.command().args(["queue", "list"]));
    assert!(
        listed.stdout.contains("the outbox is empty"),
        "{}",
        listed.stdout
    );
}

#[test]
fn a_symlinked_outbox_directory_is_refused() {
    let sandbox = Sandbox::new();
    let elsewhere = sandbox.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(sandbox.path("data/smtpsend")).unwrap();
    let outbox = sandbox.path("data/smtpsend/outbox");
    std::os::unix::fs::symlink(&elsewhere, &outbox).unwrap();
    let sent = run(&mut queued_send(&sandbox, closed_port(), 1));
    sent.assert_code(73);
    // The send's own failure is said too: the message was neither sent nor kept.
    assert!(
        sent.stderr.contains(&format!(
            "connection refused; and the message could not be queued: refusing to use the \
             outbox: {} is a symbolic link\n",
            outbox.display()
        )),
        "{}",
        sent.stderr
    );
    assert!(std::fs::read_dir(&elsewhere).unwrap().next().is_none());
    run(sandbox.command().args(["queue", "list"])).assert_code(73);
}

#[test]
fn a_group_writable_outbox_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    let outbox = sandbox.path("data/smtpsend/outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    std::fs::set_permissions(&outbox, std::fs::Permissions::from_mode(0o770)).unwrap();
    let listed = run(sandbox.command().args(["queue", "list"]));
    listed.assert_code(73);
    assert!(
        listed.stderr.contains(&format!(
            "refusing to use the outbox: {} is writable by others",
            outbox.display()
        )),
        "{}",
        listed.stderr
    );
    assert!(
        listed.stderr.contains("hint: chmod go-w it"),
        "{}",
        listed.stderr
    );
}

#[test]
fn a_symlinked_message_file_is_not_followed() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    run(&mut queued_send(&sandbox, port, 1)).assert_code(75);
    run(&mut queued_send(&sandbox, port, 2)).assert_code(75);
    let ids = queued_ids(&sandbox);
    let secret = sandbox.write("secret", "Subject: secret\r\n\r\nthe secret\r\n");
    let planted = sandbox.path(&format!("data/smtpsend/outbox/{}.eml", ids[0]));
    std::fs::remove_file(&planted).unwrap();
    std::os::unix::fs::symlink(&secret, &planted).unwrap();

    let server = MailServer::start_on(port);
    let flushed = flush(&sandbox);
    flushed.assert_code(73);
    assert!(
        flushed.stdout.contains(&format!(
            "{}: left in the outbox: cannot open {}: it is a symbolic link, which the outbox \
             never follows",
            ids[0],
            planted.display()
        )),
        "{}",
        flushed.stdout
    );
    assert!(flushed.stdout.contains("1 delivered, 1 deferred, 0 dead"));
    assert_eq!(server.only_message().parsed().subject(), Some("message 2"));
    assert_eq!(queued_ids(&sandbox), [ids[0].clone()]);
}

/// A description that does not read, or whose id is not its file name (an id is joined to the
/// outbox directory, so `../../x` must never be followed), is listed and left alone; the
/// other entries are listed and flushed as ever.
#[test]
fn a_damaged_description_is_left_alone_and_the_others_go() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let gate = Gate::to(server.port);
    gate.set_open(false);
    for n in 0..3 {
        run(&mut queued_send(&sandbox, gate.port, n)).assert_code(75);
    }
    gate.set_open(true);
    let ids = queued_ids(&sandbox);
    let outbox = sandbox.path("data/smtpsend/outbox");
    let description = |id: &str| outbox.join(format!("{id}.json"));
    std::fs::write(description(&ids[0]), "{ not json").unwrap();
    let stored = std::fs::read_to_string(description(&ids[1])).unwrap();
    let escaping = stored.replace(&ids[1], "../../escape");
    assert_ne!(stored, escaping);
    std::fs::write(description(&ids[1]), escaping).unwrap();

    let listed = run(sandbox.command().args(["queue", "list"]));
    listed.assert_code(0);
    for (id, problem) in [(&ids[0], "is damaged: "), (&ids[1], "is not its file name")] {
        let line = listed
            .stdout
            .lines()
            .find(|line| line.starts_with(id.as_str()))
            .unwrap_or_else(|| panic!("{id} not listed: {}", listed.stdout));
        assert!(
            line.contains("damaged description, left as it is") && line.contains(problem),
            "{line}"
        );
    }
    assert!(
        listed.stdout.contains(&format!("{}  queued", ids[2])),
        "{}",
        listed.stdout
    );

    let flushed = flush(&sandbox);
    flushed.assert_code(65);
    assert!(
        flushed.stdout.contains("1 delivered, 2 deferred, 0 dead"),
        "{}",
        flushed.stdout
    );
    assert_eq!(server.messages().len(), 1);
    assert!(
        server
            .only_message()
            .data
            .windows(9)
            .any(|w| w == b"message 2")
    );
    assert!(description(&ids[0]).exists() && description(&ids[1]).exists());
    assert!(!sandbox.path("escape.eml").exists() && !sandbox.path("data/escape.eml").exists());
}

/// Issue "a newcomer's first hour": `*/5 * * * * smtpsend queue flush` in a crontab must mail
/// its owner nothing while all is well, since cron mails whatever a job prints.
#[test]
fn a_flush_with_nothing_due_says_nothing_unless_asked() {
    let sandbox = Sandbox::new();
    for quiet in [&["queue", "flush"][..], &["queue", "flush", "-q"]] {
        let flushed = run(sandbox.command().args(quiet));
        flushed.assert_code(0);
        assert_eq!((&*flushed.stdout, &*flushed.stderr), ("", ""), "{quiet:?}");
    }
    let told = run(sandbox.command().args(["queue", "flush", "-v"]));
    told.assert_code(0);
    assert_eq!(told.stdout, "0 delivered, 0 deferred, 0 dead\n");
    let both = run(sandbox.command().args(["queue", "flush", "-q", "-v"]));
    both.assert_code(64);
}

#[test]
fn a_flush_before_anything_is_due_says_when_only_with_verbose() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    run(&mut queued_send(&sandbox, port, 1)).assert_code(75);
    run(&mut queued_send(&sandbox, port, 2)).assert_code(75);

    let early = run(sandbox.command().args(["queue", "flush"]));
    early.assert_code(0);
    assert_eq!((&*early.stdout, &*early.stderr), ("", ""));

    // TZ=XYZ-2 is two hours east of UTC, in POSIX's spelling.
    let told = run(sandbox
        .command()
        .env("TZ", "XYZ-2")
        .args(["queue", "flush", "-v"]));
    told.assert_code(0);
    let line = told.stdout.lines().nth(1).unwrap_or_default();
    let (date, rest) = line
        .strip_prefix("2 messages waiting, the next due ")
        .and_then(|rest| rest.split_once(' '))
        .unwrap_or_else(|| panic!("{}", told.stdout));
    assert!(
        date.len() == 25 && date.as_bytes()[10] == b'T' && date.ends_with("+02:00"),
        "{date}"
    );
    assert!(
        rest.starts_with("(in ")
            && rest.ends_with("); `smtpsend queue flush --now` sends them now"),
        "{rest}"
    );
    assert_eq!(queued_ids(&sandbox).len(), 2);
}

#[test]
fn a_quiet_flush_says_nothing_on_success_and_what_failed_on_stderr() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    run(&mut queued_send(&sandbox, port, 1)).assert_code(75);
    let server = MailServer::start_on(port);
    let flushed = run(sandbox.command().args(["queue", "flush", "-q", "--now"]));
    flushed.assert_code(0);
    assert_eq!((&*flushed.stdout, &*flushed.stderr), ("", ""));
    assert_eq!(server.messages().len(), 1);
    drop(server);

    let port = closed_port();
    run(&mut queued_send(&sandbox, port, 2)).assert_code(75);
    let id = queued_ids(&sandbox).remove(0);
    let _server = refusing_sender(port);
    let flushed = run(sandbox.command().args(["queue", "flush", "-q", "--now"]));
    flushed.assert_code(65);
    assert_eq!(flushed.stdout, "");
    assert!(
        flushed
            .stderr
            .contains(&format!("smtpsend: {id}: dead letter, kept in ")),
        "{}",
        flushed.stderr
    );
}

/// A failure under cron is worth a mail: then the whole report, what went out included.
#[test]
fn an_unwatched_flush_reports_everything_when_something_is_deferred() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    run(&mut queued_send(&sandbox, port, 1)).assert_code(75);
    let mut deferred = queued_send(&sandbox, port, 2);
    deferred.args(["-t", "deferred@example.org"]);
    run(&mut deferred).assert_code(75);
    let _server = MailServer::start_on(port);
    let flushed = flush(&sandbox);
    flushed.assert_code(75);
    assert!(
        flushed
            .stdout
            .contains(": delivered to <b@example.org>: 250"),
        "{}",
        flushed.stdout
    );
    assert!(
        flushed.stdout.contains(": deferred, next try in "),
        "{}",
        flushed.stdout
    );
    assert!(
        flushed.stdout.contains("1 delivered, 1 deferred, 0 dead"),
        "{}",
        flushed.stdout
    );
}

#[test]
fn a_retried_dead_letter_goes_with_the_next_flush_exactly_once() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    run(queued_send(&sandbox, port, 1).args(["-b", "hidden@example.org"])).assert_code(75);
    let id = queued_ids(&sandbox).remove(0);
    let refusing = refusing_sender(port);
    flush(&sandbox).assert_code(65);
    drop(refusing);
    assert!(queued_ids(&sandbox).is_empty());

    let unknown = run(sandbox.command().args(["queue", "retry", "1-nosuch"]));
    unknown.assert_code(64);
    assert!(
        unknown.stderr.contains("no dead letter \"1-nosuch\""),
        "{}",
        unknown.stderr
    );
    run(sandbox.command().args(["queue", "retry"])).assert_code(64);

    let retried = run(sandbox.command().args(["queue", "retry", &id]));
    retried.assert_code(0);
    assert!(
        retried.stdout.contains(&format!(
            "{id}: queued again, due now: <a@example.org> -> <b@example.org>, \
             <hidden@example.org>\n`smtpsend queue flush` sends it\n"
        )),
        "{}",
        retried.stdout
    );
    assert_eq!(queued_ids(&sandbox), std::slice::from_ref(&id));
    assert!(
        !sandbox
            .path(&format!("data/smtpsend/dead/{id}.eml"))
            .exists()
    );
    let shown = run(sandbox.command().args(["queue", "show", "--json", &id]));
    let entry: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(entry["attempts"].as_array().map(Vec::len), Some(0));
    assert_eq!(entry["reason"], serde_json::Value::Null);
    let again = run(sandbox.command().args(["queue", "retry", &id]));
    again.assert_code(64);
    assert!(again.stderr.contains("is queued, not a dead letter"));

    let server = MailServer::start_on(port);
    // Due now: a plain flush, as cron runs it, sends it, and says nothing.
    let flushed = run(sandbox.command().args(["queue", "flush"]));
    flushed.assert_code(0);
    assert_eq!((&*flushed.stdout, &*flushed.stderr), ("", ""));
    run(sandbox.command().args(["queue", "flush", "--now"])).assert_code(0);
    let received = server.only_message();
    assert_eq!(received.recipients, ["b@example.org", "hidden@example.org"]);
    assert_eq!(received.parsed().subject(), Some("message 1"));
    assert!(queued_ids(&sandbox).is_empty());

    let none = run(sandbox.command().args(["queue", "retry", "--all-dead"]));
    none.assert_code(0);
    assert_eq!(none.stdout, "no dead letters\n");
}

#[test]
fn retry_all_dead_queues_every_dead_letter() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    queue_many(&sandbox, port, 3);
    let refusing = ScriptedServer::start_on(
        port,
        script([
            greeted(),
            vec![Act::Hear, Act::Say("550 5.7.1 Sender rejected\r\n")],
            vec![Act::Hear, Act::Say("250 2.0.0 Reset\r\n")],
            vec![Act::Hear, Act::Say("550 5.7.1 Sender rejected\r\n")],
            vec![Act::Hear, Act::Say("250 2.0.0 Reset\r\n")],
            vec![Act::Hear, Act::Say("550 5.7.1 Sender rejected\r\n")],
            listen(),
        ]),
    );
    flush(&sandbox).assert_code(65);
    drop(refusing);
    assert!(queued_ids(&sandbox).is_empty());
    let retried = run(sandbox.command().args(["queue", "retry", "--all-dead"]));
    retried.assert_code(0);
    assert_eq!(
        retried.stdout.matches(": queued again, due now: ").count(),
        3,
        "{}",
        retried.stdout
    );
    assert!(
        retried
            .stdout
            .ends_with("`smtpsend queue flush` sends them\n")
    );
    let server = MailServer::start_on(port);
    flush(&sandbox).assert_code(0);
    assert_eq!(
        deliveries_by_id(&server)
            .values()
            .copied()
            .collect::<Vec<_>>(),
        [1, 1, 1]
    );
}

#[test]
fn show_prints_dates_and_the_bcc_recipients() {
    let sandbox = Sandbox::new();
    run(queued_send(&sandbox, closed_port(), 1).args([
        "-c",
        "cc@example.org",
        "-b",
        "hidden@example.org",
    ]))
    .assert_code(75);
    let id = queued_ids(&sandbox).remove(0);
    let shown = run(sandbox
        .command()
        .env("TZ", "XYZ-2")
        .args(["queue", "show", &id]));
    shown.assert_code(0);
    let row = |key: &str| -> Vec<&str> {
        shown
            .stdout
            .lines()
            .filter_map(|line| line.strip_prefix(&format!("{key:<12} ")))
            .collect()
    };
    assert_eq!(row("id"), [id.as_str()]);
    assert_eq!(row("from"), ["<a@example.org>"]);
    assert_eq!(
        row("to"),
        [
            "<b@example.org>",
            "<cc@example.org>",
            "<hidden@example.org> (Bcc: not in the header)"
        ],
        "{}",
        shown.stdout
    );
    let queued = row("queued");
    assert!(
        queued.len() == 1 && queued[0].contains("+02:00 (") && queued[0].ends_with(" ago)"),
        "{}",
        shown.stdout
    );
    let next = row("next try");
    assert!(
        next.len() == 1 && next[0].contains("+02:00 (in "),
        "{}",
        shown.stdout
    );
    let attempt = row("attempt");
    assert!(
        attempt.len() == 1
            && attempt[0].contains("+02:00  exit 75  ")
            && attempt[0].contains("connection refused"),
        "{}",
        shown.stdout
    );
    assert!(!shown.stdout.contains("\"created\""), "{}", shown.stdout);

    let json = run(sandbox.command().args(["queue", "show", "--json", &id]));
    json.assert_code(0);
    let entry: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(entry["id"], id.as_str());
    assert_eq!(
        entry["recipients"],
        serde_json::json!(["b@example.org", "cc@example.org", "hidden@example.org"])
    );
    assert!(entry["created"].is_u64());
    assert_eq!(
        entry["message_file"],
        sandbox
            .path(&format!("data/smtpsend/outbox/{id}.eml"))
            .display()
            .to_string()
    );
}
