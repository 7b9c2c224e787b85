//! sendmail mode against the real in-process server: the flags real callers pass, the fixes a
//! submission client makes, aliases, `-bs`, and the binary called `sendmail`.

use std::process::Command;

use crate::support::*;

/// A sandbox whose default account points at `server`, with an aliases file.
pub fn configured(server: &MailServer) -> Sandbox {
    let sandbox = Sandbox::new();
    let aliases = sandbox.write(
        "aliases",
        "# local names\nroot: admin\nadmin: alice@example.net\nwww-data: root\n",
    );
    std::fs::create_dir_all(sandbox.path("config/smtpsend")).unwrap();
    sandbox.write(
        "config/smtpsend/config.toml",
        format!(
            "default = \"relay\"\n[accounts.relay]\nserver = \"smtp://localhost:{port}\"\n\
             ca_file = \"{ca}\"\nuser = \"{USER}\"\npassword_command = \"echo '{PASSWORD}'\"\n\
             from = \"Host Robot <robot@host.example>\"\naliases = \"{aliases}\"\n\
             local_domain = \"host.example\"\n",
            port = server.port,
            ca = server.ca_file().display(),
            aliases = aliases.display(),
        ),
    );
    sandbox
}

fn sendmail(sandbox: &Sandbox, args: &[&str]) -> Command {
    let mut command = sandbox.command();
    command.arg("sendmail").args(args);
    command
}

#[test]
fn cron_mail_to_root_reaches_a_person_through_the_aliases() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let run = run_with_stdin(
        &mut sendmail(&sandbox, &["root"]),
        Some(b"backup finished\n"),
    );
    run.assert_code(0);
    assert_eq!(run.stdout, "", "sendmail is silent on success");
    let received = server.only_message();
    assert_eq!(received.recipients, ["alice@example.net"]);
    assert_eq!(received.from, "robot@host.example");
    let message = received.parsed();
    assert_eq!(
        message.from().unwrap().first().unwrap().name(),
        Some("Host Robot")
    );
    assert!(message.date().is_some() && message.message_id().is_some());
    assert_eq!(message.body_text(0).unwrap().trim_end(), "backup finished");
}

#[test]
fn vixie_cron_flags_through_a_binary_called_sendmail() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let link = sandbox.path("sendmail");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_smtpsend"), &link).unwrap();
    let mut command = Command::new(&link);
    command
        .env("HOME", sandbox.dir.path())
        .env("XDG_CONFIG_HOME", sandbox.path("config"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .args(["-FCronDaemon", "-odi", "-oem", "-oi", "-t"]);
    let input = b"To: root\nSubject: Cron <root@host> /usr/local/bin/job\n\nline one\n.\nline after a lone dot\n";
    run_with_stdin(&mut command, Some(input)).assert_code(0);
    let received = server.only_message();
    assert_eq!(received.recipients, ["alice@example.net"]);
    let message = received.parsed();
    assert_eq!(
        message.from().unwrap().first().unwrap().name(),
        Some("CronDaemon")
    );
    assert_eq!(
        message.subject(),
        Some("Cron <root@host> /usr/local/bin/job")
    );
    let body = message.body_text(0).unwrap().replace("\r\n", "\n");
    assert_eq!(
        body, "line one\n.\nline after a lone dot\n",
        "-oi keeps the lone dot"
    );
}

#[test]
fn dash_t_takes_recipients_from_the_headers_and_drops_bcc() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let input = b"From: Me <me@example.org>\r\nTo: a@example.net, \"B, Person\" <b@example.net>\r\nCc: c@example.net\r\nBcc: hidden@example.net,\r\n  also-hidden@example.net\r\nSubject: t\r\nX-Custom: kept as is\r\n\r\nbody\r\n";
    run_with_stdin(
        &mut sendmail(&sandbox, &["-t", "-i", "extra@example.net"]),
        Some(input),
    )
    .assert_code(0);
    let received = server.only_message();
    assert_eq!(
        received.from, "me@example.org",
        "the From header's address is the sender"
    );
    let mut recipients = received.recipients.clone();
    recipients.sort();
    assert_eq!(
        recipients,
        [
            "a@example.net",
            "also-hidden@example.net",
            "b@example.net",
            "c@example.net",
            "extra@example.net",
            "hidden@example.net"
        ]
    );
    let raw = String::from_utf8(received.data.clone()).unwrap();
    assert!(
        !raw.to_ascii_lowercase().contains("\nbcc:")
            && !raw.to_ascii_lowercase().starts_with("bcc:")
            && !raw.contains("hidden"),
        "{raw}"
    );
    assert!(raw.contains("X-Custom: kept as is\r\n"));
    assert!(
        raw.starts_with("Message-ID: <"),
        "a missing Message-ID is added: {raw}"
    );
}

#[test]
fn from_a_pipe_a_lone_dot_is_content_with_or_without_dash_i() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    // fail2ban, logwatch and aerc pass no -i: a report holding a lone dot must arrive whole.
    let input = b"Subject: dots\n\nkept\n.\nstill part of the message\n";
    for args in [&["bob@example.net"][..], &["-i", "bob@example.net"]] {
        run_with_stdin(&mut sendmail(&sandbox, args), Some(input)).assert_code(0);
    }
    for message in server.messages() {
        let body = message.parsed().body_text(0).unwrap().replace("\r\n", "\n");
        assert_eq!(body, "kept\n.\nstill part of the message\n");
    }
    assert_eq!(server.messages().len(), 2);
}

#[test]
fn dash_f_sets_the_envelope_sender_and_chooses_nothing_else() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let input = b"Subject: bounce here\n\nx\n";
    run_with_stdin(
        &mut sendmail(
            &sandbox,
            &[
                "-f",
                "bounces@example.org",
                "-F",
                "Jörg Bot",
                "bob@example.net",
            ],
        ),
        Some(input),
    )
    .assert_code(0);
    let received = server.only_message();
    assert_eq!(received.from, "bounces@example.org");
    let message = received.parsed();
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Jörg Bot"));
    assert_eq!(from.address(), Some("bounces@example.org"));
    assert!(
        received.data.is_ascii(),
        "the added name is an encoded word"
    );
}

#[test]
fn long_options_of_the_main_command_work_after_sendmail() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = Sandbox::new();
    let run = run_with_stdin(
        sandbox
            .command()
            .args(["sendmail", "-t", "--server"])
            .arg(format!("smtp://localhost:{}", server.port))
            .arg("--ca-file")
            .arg(server.ca_file())
            .args(["--user", USER, "--json"])
            .env("SMTPSEND_PASSWORD", PASSWORD),
        Some(b"From: me@example.org\nTo: bob@example.net\nSubject: x\n\nhi\n"),
    );
    run.assert_code(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["status"], "sent");
    assert_eq!(server.only_message().recipients, ["bob@example.net"]);
}

#[test]
fn the_smtp_dialogue_on_stdio_relays_to_the_server() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let session = b"EHLO app.example\r\nMAIL FROM:<app@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\nFrom: app@example.org\r\nTo: bob@example.net\r\nSubject: via -bs\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n";
    let run = run_with_stdin(&mut sendmail(&sandbox, &["-bs"]), Some(session));
    run.assert_code(0);
    // The last line of each reply: "250-" continues, "250 " ends.
    let replies: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.as_bytes().get(3) == Some(&b' '))
        .map(|l| &l[..3])
        .collect();
    assert_eq!(
        replies,
        ["220", "250", "250", "250", "354", "250", "221"],
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("queued as TEST42"), "{}", run.stdout);
    let received = server.only_message();
    assert_eq!(
        (received.from.as_str(), received.recipients.as_slice()),
        ("app@example.org", &["bob@example.net".to_string()][..])
    );
    let body = received
        .parsed()
        .body_text(0)
        .unwrap()
        .replace("\r\n", "\n");
    assert_eq!(body, ".leading dot\n");
}

#[test]
fn sendmail_failures_name_the_culprit() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let cases: [(&[&str], &[u8], i32, &str); 4] = [
        (&["-t"], b"Subject: nobody\n\nx\n", 64, "no recipients"),
        (&["bob@example.net"], b"Subject: x\0y\n\nbody\n", 65, "NUL"),
        (&["-q", "bob@example.net"], b"Subject: x\n\nx\n", 64, "-q"),
        (&["nobody-here"], b"Subject: x\n\nx\n", 0, ""),
    ];
    for (args, input, code, culprit) in cases {
        let run = run_with_stdin(&mut sendmail(&sandbox, args), Some(input));
        assert_eq!(run.code, code, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(culprit), "{args:?}: {}", run.stderr);
    }
    // The local name without an alias got the local domain.
    assert_eq!(
        server.only_message().recipients,
        ["nobody-here@host.example"]
    );
}

#[test]
fn cron_with_its_own_local_from_gets_one_from_and_a_qualified_sender() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    // cronie: `-f root` and a From with a local name, as its source writes them.
    let input =
        b"From: \"(Cron Daemon)\" <root>\nTo: root\nSubject: Cron <root@host> job\n\noutput\n";
    run_with_stdin(
        &mut sendmail(
            &sandbox,
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
        ),
        Some(input),
    )
    .assert_code(0);
    let received = server.only_message();
    assert_eq!(
        received.from, "root@host.example",
        "the local name gets local_domain"
    );
    let raw = String::from_utf8(received.data.clone()).unwrap();
    assert_eq!(
        raw.matches("\r\nFrom: ").count() + usize::from(raw.starts_with("From: ")),
        1,
        "{raw}"
    );
    assert!(
        raw.contains("From: \"Cron Daemon\" <root@host.example>\r\n"),
        "the caller's From gets the local domain and keeps its name: {raw}"
    );
}

#[test]
fn a_directory_of_messages_goes_through_one_session() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let dir = sandbox.path("outgoing");
    std::fs::create_dir(&dir).unwrap();
    for n in 0..5 {
        std::fs::write(
            dir.join(format!("{n:02}.eml")),
            format!("From: me@example.org\nTo: r{n}@example.net\nBcc: hidden@example.net\nSubject: batch {n}\n\nbody {n}\n"),
        )
        .unwrap();
    }
    std::fs::write(dir.join("05.eml"), b"Subject: broken\0\n\nx\n").unwrap();
    let run = run(sandbox.command().args(["batch", "-v"]).arg(&dir));
    run.assert_code(65);
    assert_eq!(
        run.stderr.matches("* connecting to").count(),
        1,
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout.lines().count(), 6, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("05.eml: sendmail: the message contains a NUL byte"),
        "{}",
        run.stdout
    );
    let received = server.messages();
    assert_eq!(received.len(), 5);
    for (n, message) in received.iter().enumerate() {
        assert_eq!(
            message.recipients,
            [format!("r{n}@example.net"), "hidden@example.net".into()]
        );
        assert_eq!(
            message.parsed().subject(),
            Some(format!("batch {n}").as_str())
        );
    }
}

#[test]
fn a_bare_lf_dot_in_bs_data_is_content_not_the_end() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    // Only CRLF.CRLF ends the data (RFC 5321 section 4.1.1.4): what follows `\n.\n` here is
    // message text, not a second transaction.
    let session = b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n\
Subject: s\r\n\r\nline1\n.\nMAIL FROM:<smuggler@evil.test>\nRCPT TO:<victim@example.com>\n\
DATA\n\nSMUGGLED\n.\n\r\n.\r\nQUIT\r\n";
    let run = run_with_stdin(&mut sendmail(&sandbox, &["-bs"]), Some(session));
    run.assert_code(0);
    let received = server.only_message();
    assert_eq!(received.recipients, ["b@example.com"]);
    let raw = String::from_utf8(received.data.clone()).unwrap();
    assert!(
        raw.ends_with(
            "line1\r\n.\r\nMAIL FROM:<smuggler@evil.test>\r\nRCPT TO:<victim@example.com>\r\n\
             DATA\r\n\r\nSMUGGLED\r\n.\r\n\r\n"
        ),
        "{raw}"
    );
}

#[test]
fn a_full_name_with_a_line_break_is_refused_not_stripped() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    for name in ["Eve\r\nBcc: victim@example.net", "Eve\nX: y", "Eve\rX: y"] {
        let run = run_with_stdin(
            &mut sendmail(&sandbox, &["-F", name, "bob@example.net"]),
            Some(b"Subject: x\n\nbody\n"),
        );
        run.assert_code(65);
        assert!(
            run.stderr.contains("-F") && run.stderr.contains("CR or LF"),
            "{}",
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
    assert!(server.messages().is_empty(), "nothing is sent");
}

#[test]
fn sendmail_help_is_the_help_of_the_subcommand() {
    let sandbox = Sandbox::new();
    let help = run(sandbox.command().args(["help", "sendmail"]));
    help.assert_code(0);
    assert!(
        help.stdout.contains("Usage: smtpsend sendmail"),
        "{}",
        help.stdout
    );
    let link = sandbox.path("sendmail");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_smtpsend"), &link).unwrap();
    let mut called_sendmail = sandbox.command_for(&link);
    called_sendmail.arg("--help");
    for mut command in [
        sendmail(&sandbox, &["--help"]),
        sendmail(&sandbox, &["-t", "--help"]),
        called_sendmail,
    ] {
        let run = run(&mut command);
        run.assert_code(0);
        assert_eq!(run.stdout, help.stdout);
        assert_eq!(run.stderr, "");
    }
}

#[test]
fn an_argument_that_is_not_utf8_is_a_usage_error_naming_it() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let sandbox = Sandbox::new();
    let link = sandbox.path("sendmail");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_smtpsend"), &link).unwrap();
    let bad = OsStr::from_bytes(b"-f\xff");
    let mut called_sendmail = sandbox.command_for(&link);
    called_sendmail.arg(bad).arg("bob@example.net");
    let mut subcommand = sendmail(&sandbox, &[]);
    subcommand.arg(bad).arg("bob@example.net");
    for mut command in [called_sendmail, subcommand] {
        let run = run_with_stdin(&mut command, Some(b"Subject: x\n\nbody\n"));
        run.assert_code(64);
        assert!(run.stderr.contains(r"-f\xFF"), "{}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
}
