//! A server or container with no MTA and no configuration file: every setting from the
//! environment, as `docker run -e` gives them, for sendmail mode, the main command and
//! `queue flush`; and an error caused by a variable names the variable.

use std::process::Command;

use crate::support::*;

/// The binary with the server, login and CA from the environment alone.
fn configured_by_environment(sandbox: &Sandbox, server: &MailServer) -> Command {
    let mut command = sandbox.command();
    command
        .env(
            "SMTPSEND_SERVER",
            format!("smtp://localhost:{}", server.port),
        )
        .env("SMTPSEND_CA_FILE", server.ca_file())
        .env("SMTPSEND_USER", USER)
        .env("SMTPSEND_PASSWORD", PASSWORD);
    command
}

fn sendmail_by_environment(sandbox: &Sandbox, server: &MailServer, args: &[&str]) -> Command {
    let mut command = configured_by_environment(sandbox, server);
    command.arg("sendmail").args(args);
    command
}

#[test]
fn sendmail_adds_the_from_of_smtpsend_from() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = Sandbox::new();
    let mut command = sendmail_by_environment(&sandbox, &server, &["-t"]);
    command.env("SMTPSEND_FROM", "c@example.com");
    run_with_stdin(&mut command, Some(b"To: bob@example.com\n\nx\n")).assert_code(0);
    let received = server.only_message();
    assert_eq!(received.from, "c@example.com");
    assert_eq!(received.recipients, ["bob@example.com"]);
    let message = received.parsed();
    assert_eq!(
        message.from().unwrap().first().unwrap().address(),
        Some("c@example.com")
    );
}

#[test]
fn cron_mail_to_root_through_inline_aliases_and_the_local_domain() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = Sandbox::new();
    let mut command = sendmail_by_environment(
        &sandbox,
        &server,
        &[
            "-FCronDaemon",
            "-i",
            "-odi",
            "-oem",
            "-oi",
            "-t",
            "-f",
            "root",
        ],
    );
    command
        .env(
            "SMTPSEND_ALIASES",
            "root: admin; admin: ops@example.net, oncall@example.net",
        )
        .env("SMTPSEND_LOCAL_DOMAIN", "host.example.org");
    let input = b"From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@host> job\n\noutput\n";
    run_with_stdin(&mut command, Some(input)).assert_code(0);
    let received = server.only_message();
    assert_eq!(received.from, "root@host.example.org");
    assert_eq!(
        received.recipients,
        ["ops@example.net", "oncall@example.net"]
    );
    let raw = String::from_utf8(received.data.clone()).unwrap();
    assert!(
        raw.contains("From: \"Cron Daemon\" <root@host.example.org>\r\n"),
        "{raw}"
    );
    assert!(raw.contains("\r\nTo: <root@host.example.org>\r\n"), "{raw}");
}

#[test]
fn a_bare_from_word_is_sent_as_smtpsend_from_with_its_name() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = Sandbox::new();
    let aliases = sandbox.write("aliases", "root: admin@example.net\n");
    // logwatch: `sendmail -t` with `From: Logwatch`, no -i.
    let mut command = sendmail_by_environment(&sandbox, &server, &["-t"]);
    command
        .env("SMTPSEND_FROM", "alerts@example.org")
        .env("SMTPSEND_ALIASES", &aliases);
    let input = b"From: Logwatch\nTo: root\nSubject: Logwatch for host\n\n .\n.\nend\n";
    run_with_stdin(&mut command, Some(input)).assert_code(0);
    let received = server.only_message();
    assert_eq!(received.from, "alerts@example.org");
    assert_eq!(received.recipients, ["admin@example.net"]);
    let message = received.parsed();
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(
        (from.name(), from.address()),
        (Some("Logwatch"), Some("alerts@example.org"))
    );
    assert_eq!(
        message.body_text(0).unwrap().replace("\r\n", "\n"),
        " .\n.\nend\n"
    );
}

#[test]
fn local_names_that_cannot_be_qualified_name_the_variables_before_connecting() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = Sandbox::new();
    // No login either: a login name that is an address would be the sender.
    let mut from_root = sendmail_by_environment(&sandbox, &server, &["-t"]);
    from_root
        .env_remove("SMTPSEND_USER")
        .env_remove("SMTPSEND_PASSWORD");
    let from_root = run_with_stdin(
        &mut from_root,
        Some(b"From: root (Cron Daemon)\nTo: bob@example.com\n\nx\n"),
    );
    from_root.assert_code(78);
    assert!(
        from_root.stderr.contains("\"root\"")
            && from_root.stderr.contains("SMTPSEND_LOCAL_DOMAIN")
            && from_root.stderr.contains("SMTPSEND_FROM"),
        "{}",
        from_root.stderr
    );
    let mut to_root = sendmail_by_environment(&sandbox, &server, &["root"]);
    to_root.env("SMTPSEND_FROM", "c@example.com");
    let to_root = run_with_stdin(&mut to_root, Some(b"x\n"));
    to_root.assert_code(64);
    assert!(
        to_root.stderr.contains("SMTPSEND_ALIASES")
            && to_root.stderr.contains("SMTPSEND_LOCAL_DOMAIN"),
        "{}",
        to_root.stderr
    );
    assert!(server.messages().is_empty() && server.logins().is_empty());
}

#[test]
fn a_bad_value_in_a_variable_names_the_variable_not_a_flag() {
    let sandbox = Sandbox::new();
    let cases: [(&str, &str, &[&str]); 6] = [
        (
            "SMTPSEND_TIMEOUT",
            "abc",
            &["-f", "a@x.org", "-t", "b@x.org", "-m", "x"],
        ),
        ("SMTPSEND_TIMEOUT", "abc", &["sendmail", "-t"]),
        ("SMTPSEND_AUTH", "bogus", &["check"]),
        (
            "SMTPSEND_FROM",
            "not an address",
            &["-t", "b@x.org", "-m", "x"],
        ),
        ("SMTPSEND_QUEUE", "sometimes", &["sendmail", "b@x.org"]),
        ("SMTPSEND_LOCAL_DOMAIN", "bad domain", &["sendmail", "root"]),
    ];
    for (variable, value, args) in cases {
        let mut command = sandbox.command();
        command
            .args(args)
            .env("SMTPSEND_SERVER", "smtp://localhost:1")
            .env(variable, value);
        let run = run_with_stdin(&mut command, Some(b"Subject: x\n\nx\n"));
        run.assert_code(78);
        let first = run.stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("smtpsend: {variable}: ")),
            "{variable}={value} {args:?}: {}",
            run.stderr
        );
        assert!(!first.contains(" --"), "{}", run.stderr);
    }
    // The same value on the command line is the flag's error, a usage error.
    let run = run(sandbox
        .command()
        .args(["--timeout", "abc", "-t", "b@x.org"]));
    run.assert_code(64);
    assert!(run.stderr.contains("--timeout"), "{}", run.stderr);
}

#[test]
fn smtpsend_queue_says_whether_sendmail_keeps_a_message() {
    let port = closed_port();
    let sandbox = Sandbox::new();
    let outbox = sandbox.path("data/smtpsend/outbox");
    for (queue, kept) in [("never", false), ("on-failure", true)] {
        let mut command = sandbox.command();
        command
            .args(["sendmail", "-f", "a@example.org", "b@example.org"])
            .env("SMTPSEND_SERVER", format!("smtp+plain://localhost:{port}"))
            .env("SMTPSEND_QUEUE", queue);
        run_with_stdin(&mut command, Some(b"Subject: x\n\nx\n")).assert_code(75);
        let queued = std::fs::read_dir(&outbox).map_or(0, |dir| dir.count());
        assert_eq!(queued > 0, kept, "SMTPSEND_QUEUE={queue}");
    }
    // The main command too: with SMTPSEND_QUEUE=on-failure it keeps what it could not send.
    let mut send = sandbox.command();
    send.args(["-f", "a@example.org", "-t", "b@example.org", "-m", "x"])
        .env("SMTPSEND_SERVER", format!("smtp+plain://localhost:{port}"))
        .env("SMTPSEND_QUEUE", "on-failure");
    let sent = run(&mut send);
    sent.assert_code(75);
    assert!(sent.stderr.contains("queued as"), "{}", sent.stderr);
}

#[test]
fn smtpsend_log_gets_a_line_per_message() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = Sandbox::new();
    let log = sandbox.path("deliveries.log");
    let mut command =
        sendmail_by_environment(&sandbox, &server, &["-f", "a@example.org", "b@example.net"]);
    command.env("SMTPSEND_LOG", &log);
    run_with_stdin(&mut command, Some(b"Subject: x\n\nx\n")).assert_code(0);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("b@example.net"), "{text}");
}

#[test]
fn a_message_queued_from_the_environment_is_flushed_with_the_flush_environment() {
    let sandbox = Sandbox::new();
    let mut queued = sandbox.command();
    queued
        .args(["sendmail", "-t"])
        .env(
            "SMTPSEND_SERVER",
            format!("smtp+plain://localhost:{}", closed_port()),
        )
        .env("SMTPSEND_FROM", "c@example.com");
    run_with_stdin(
        &mut queued,
        Some(b"To: bob@example.com\nSubject: later\n\nx\n"),
    )
    .assert_code(75);
    // The container comes back with its server moved: the environment of the flush says where.
    let server = MailServer::start(Encryption::StartTls);
    let mut flush = configured_by_environment(&sandbox, &server);
    run(flush.args(["queue", "flush", "--now"])).assert_code(0);
    let received = server.only_message();
    assert_eq!(received.recipients, ["bob@example.com"]);
    assert_eq!(
        server.logins().len(),
        1,
        "the flush logs in as its environment says"
    );
    assert_eq!(received.parsed().subject(), Some("later"));
}

#[test]
fn a_home_that_does_not_exist_is_not_created_and_the_failure_is_shown() {
    let sandbox = Sandbox::new();
    let home = sandbox.path("nonexistent");
    let mut command = sandbox.command();
    command
        .args(["sendmail", "-f", "a@example.org", "b@example.org"])
        .env(
            "SMTPSEND_SERVER",
            format!("smtp+plain://localhost:{}", closed_port()),
        )
        .env("HOME", &home)
        .env_remove("XDG_DATA_HOME");
    let run = run_with_stdin(&mut command, Some(b"Subject: x\n\nx\n"));
    run.assert_code(73);
    assert!(
        run.stderr.contains("connection refused")
            && run.stderr.contains("could not be queued")
            && run.stderr.contains("does not exist"),
        "{}",
        run.stderr
    );
    assert!(!home.exists(), "HOME was created");
}

#[test]
fn sendmail_says_what_it_is() {
    let sandbox = Sandbox::new();
    for flag in ["-bV", "--version"] {
        let run = run(sandbox.command().args(["sendmail", flag]));
        run.assert_code(0);
        assert!(
            run.stdout.starts_with("smtpsend ") && run.stdout.contains("sendmail drop-in"),
            "{}",
            run.stdout
        );
    }
}
