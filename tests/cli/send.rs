//! Sending to a real SMTP server (mailin-embedded, in process): composition, TLS, AUTH,
//! recipients, reporting. Every test asserts on what the server received.

use std::process::Command;

use mail_parser::MimeHeaders;

use crate::support::*;

/// A send over STARTTLS with AUTH to `server`, password in the environment.
fn starttls_send(sandbox: &Sandbox, server: &MailServer) -> Command {
    let mut command = sandbox.command();
    command
        .args(send_args("smtp", server.port))
        .arg("--ca-file")
        .arg(server.ca_file())
        .args(["--user", USER])
        .env("SMTPSEND_PASSWORD", PASSWORD);
    command
}

fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn starttls_auth_delivers_a_utf8_message_with_html_and_attachments() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let binary: Vec<u8> = (0..50_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    let pdf = sandbox.write("report with spaces.pdf", &binary);
    let notes = sandbox.write("naïve-résumé.txt", "line one\nline two\n");
    let html = sandbox.write("page.html", "<p>Grüße <b>bold</b></p>\n");

    let run = run(starttls_send(&sandbox, &server).args([
        "-f",
        "Ålice Ünïcode <alice@example.org>",
        "-t",
        "Bob <bob@example.net>, carol@example.net",
        "-c",
        "dan@example.net",
        "-b",
        "eve@example.net",
        "-s",
        "Grüße – a test ✓",
        "-H",
        "X-Mailer-Test: yes",
        "-m",
        "Body with ümlauts\n.leading dot line\nlast line\n",
        "--html",
        html.to_str().unwrap(),
        "-a",
        pdf.to_str().unwrap(),
        "-a",
        notes.to_str().unwrap(),
    ]));
    run.assert_code(0);

    let received = server.only_message();
    assert_eq!(received.from, "alice@example.org");
    assert_eq!(
        received.recipients,
        [
            "bob@example.net",
            "carol@example.net",
            "dan@example.net",
            "eve@example.net"
        ]
    );
    assert!(received.data.is_ascii(), "the message is 7-bit clean");
    for line in received.data.split(|&b| b == b'\n') {
        assert!(line.len() < 998);
    }
    let raw = String::from_utf8_lossy(&received.data);
    assert!(
        !raw.to_ascii_lowercase().contains("\nbcc:")
            && !raw.to_ascii_lowercase().starts_with("bcc:"),
        "no Bcc header"
    );
    assert!(
        !raw.contains("eve@"),
        "Bcc recipients stay out of the message"
    );

    let message = received.parsed();
    assert_eq!(message.subject(), Some("Grüße – a test ✓"));
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Ålice Ünïcode"));
    assert_eq!(message.to().unwrap().iter().count(), 2);
    assert_eq!(
        message.cc().unwrap().first().unwrap().address(),
        Some("dan@example.net")
    );
    assert!(message.date().is_some());
    let message_id = message.message_id().unwrap();
    assert!(message_id.ends_with("@example.org"));
    assert_eq!(
        message.header_raw("X-Mailer-Test").map(str::trim),
        Some("yes")
    );

    let text = message.body_text(0).unwrap().replace("\r\n", "\n");
    assert_eq!(text, "Body with ümlauts\n.leading dot line\nlast line\n");
    let html_body = message.body_html(0).unwrap().replace("\r\n", "\n");
    assert_eq!(html_body, "<p>Grüße <b>bold</b></p>\n");

    assert_eq!(message.attachment_count(), 2);
    let first = message.attachment(0).unwrap();
    assert_eq!(first.attachment_name(), Some("report with spaces.pdf"));
    assert_eq!(first.content_type().unwrap().ctype(), "application");
    assert_eq!(first.content_type().unwrap().subtype(), Some("pdf"));
    assert_eq!(first.contents(), binary.as_slice());
    let second = message.attachment(1).unwrap();
    assert_eq!(second.attachment_name(), Some("naïve-résumé.txt"));
    assert_eq!(second.contents(), b"line one\nline two\n");

    // One line: the server's final reply and the Message-ID.
    assert_eq!(run.stdout.lines().count(), 1);
    assert!(
        run.stdout.starts_with("250 2.0.0 Ok: queued as TEST42"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("<{message_id}>")),
        "{}",
        run.stdout
    );
    assert_eq!(server.logins(), [(USER.to_string(), true)]);
}

#[test]
fn implicit_tls_reads_the_body_from_stdin_and_reports_json() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::Implicit);
    let secret = sandbox.write("secret", format!("{PASSWORD}\n"));
    let run = run_with_stdin(
        sandbox
            .command()
            .args(send_args("smtps", server.port))
            .arg("--ca-file")
            .arg(server.ca_file())
            .args([
                "--user",
                USER,
                "-t",
                "bob@example.net",
                "-t",
                "carol@example.net",
            ])
            .args(["-s", "from stdin", "--json"])
            .env("SMTPSEND_PASSWORD_FILE", &secret),
        Some(b"windows line\r\nold mac line\rlast\n"),
    );
    run.assert_code(0);

    let received = server.only_message();
    assert_eq!(
        received.from, USER,
        "the login address is the default sender"
    );
    let text = received.parsed().body_text(0).unwrap().into_owned();
    assert_eq!(text, "windows line\r\nold mac line\r\nlast\r\n");

    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["status"], "sent");
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["server"]["security"], "implicit");
    assert!(
        report["tls"]["version"]
            .as_str()
            .unwrap()
            .starts_with("TLSv1.")
    );
    assert!(!report["tls"]["cipher"].as_str().unwrap().is_empty());
    assert_eq!(report["auth"]["mechanism"], "PLAIN");
    assert_eq!(report["final_reply"]["code"], 250);
    assert_eq!(report["final_reply"]["enhanced"], "2.0.0");
    assert_eq!(report["final_reply"]["queue_id"], "TEST42");
    let recipients = report["recipients"].as_array().unwrap();
    assert_eq!(recipients.len(), 2);
    assert!(recipients.iter().all(|r| r["accepted"] == true));
    assert_eq!(recipients[1]["address"], "carol@example.net");
    assert_eq!(
        report["message_id"].as_str().unwrap(),
        format!("<{}>", received.parsed().message_id().unwrap())
    );
    assert!(report["timings"]["total_ms"].is_u64());
}

#[test]
fn spelled_out_host_port_and_tls_work_like_a_url() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let port = server.port.to_string();
    run(sandbox
        .command()
        .args(["--host", "localhost", "--port", &port, "--tls", "starttls"])
        .arg("--ca-file")
        .arg(server.ca_file())
        .args(["--user", USER, "-t", "bob@example.net", "-m", "hi", "-q"])
        .env("SMTPSEND_PASSWORD", PASSWORD))
    .assert_code(0);
    assert_eq!(server.only_message().recipients, ["bob@example.net"]);
}

#[test]
fn environment_supplies_every_setting() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let run = run(sandbox
        .command()
        .args(["-t", "bob@example.net", "-m", "hi"])
        .env(
            "SMTPSEND_SERVER",
            format!("smtp://localhost:{}", server.port),
        )
        .env("SMTPSEND_CA_FILE", server.ca_file())
        .env("SMTPSEND_USER", USER)
        .env("SMTPSEND_FROM", "Robot <robot@example.org>")
        .env("SMTPSEND_PASSWORD", PASSWORD));
    run.assert_code(0);
    assert_eq!(server.only_message().from, "robot@example.org");
}

#[test]
fn quiet_prints_nothing_on_success() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let run =
        run(starttls_send(&sandbox, &server).args(["-t", "bob@example.net", "-m", "hi", "-q"]));
    run.assert_code(0);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn auth_login_is_used_when_asked() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let run = run(starttls_send(&sandbox, &server).args([
        "-t",
        "bob@example.net",
        "-m",
        "hi",
        "--auth",
        "login",
        "-v",
    ]));
    run.assert_code(0);
    assert!(
        run.stderr.contains("> AUTH LOGIN <redacted>"),
        "{}",
        run.stderr
    );
    assert_eq!(server.logins(), [(USER.to_string(), true)]);
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn verbose_transcript_shows_the_dialogue_and_never_the_password() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    for mechanism in ["plain", "login"] {
        let run = run(starttls_send(&sandbox, &server).args([
            "-t",
            "bob@example.net",
            "-m",
            "hi",
            "-v",
            "--auth",
            mechanism,
        ]));
        run.assert_code(0);
        let all = format!("{}{}", run.stdout, run.stderr);
        for line in [
            "< 220 ",
            "> EHLO ",
            "> STARTTLS",
            "* TLS established",
            "> MAIL FROM:<alice@example.org>",
            "> RCPT TO:<bob@example.net>",
            "> DATA",
            "< 354",
            "> .",
            "< 250 2.0.0 Ok: queued as TEST42",
            "> QUIT",
        ] {
            assert!(
                all.contains(line),
                "{mechanism}: missing {line:?} in\n{all}"
            );
        }
        assert!(all.contains("password from SMTPSEND_PASSWORD"), "{all}");
        for secret in [
            PASSWORD.to_string(),
            base64(PASSWORD),
            base64(&format!("\0{USER}\0{PASSWORD}")),
        ] {
            assert!(!all.contains(&secret), "{mechanism}: secret leaked:\n{all}");
        }
    }
}

#[test]
fn a_wrong_password_exits_77_and_is_never_echoed() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let wrong = "not-the-password-123";
    let run = run(starttls_send(&sandbox, &server)
        .env("SMTPSEND_PASSWORD", wrong)
        .args(["-t", "bob@example.net", "-m", "hi", "-v"]));
    run.assert_code(77);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        !all.contains(wrong) && !all.contains(&base64(wrong)),
        "{all}"
    );
    assert!(
        run.stderr
            .contains("smtpsend: authentication as alice@example.org refused: 535 5.7.8"),
        "{}",
        run.stderr
    );
    assert!(server.messages().is_empty());
    assert_eq!(server.logins(), [(USER.to_string(), false)]);
}

#[test]
fn the_password_command_is_used_and_its_failure_explained() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let mut ok = starttls_send(&sandbox, &server);
    ok.env_remove("SMTPSEND_PASSWORD")
        .args(["--password-command", &format!("echo '{PASSWORD}'")])
        .args(["-t", "bob@example.net", "-m", "hi"]);
    run(&mut ok).assert_code(0);
    assert_eq!(server.messages().len(), 1);

    let mut failing = starttls_send(&sandbox, &server);
    failing
        .env_remove("SMTPSEND_PASSWORD")
        .args(["--password-command", "echo 'vault is sealed' >&2; exit 3"])
        .args(["-t", "bob@example.net", "-m", "hi"]);
    let run = run(&mut failing);
    run.assert_code(78);
    assert!(
        run.stderr.contains("exit status 3: vault is sealed"),
        "{}",
        run.stderr
    );
    assert_eq!(server.messages().len(), 1, "nothing more was sent");
}

#[test]
fn no_password_source_and_no_terminal_exits_78() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let run = run(starttls_send(&sandbox, &server)
        .env_remove("SMTPSEND_PASSWORD")
        .args(["-t", "bob@example.net", "-m", "hi"]));
    run.assert_code(78);
    assert!(
        run.stderr.contains("no password for alice@example.org"),
        "{}",
        run.stderr
    );
    assert!(server.messages().is_empty());
}

#[test]
fn a_refused_recipient_means_nothing_is_sent() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let run = run(starttls_send(&sandbox, &server).args([
        "-t",
        "bob@example.net",
        "-t",
        "refused@example.net",
        "-m",
        "hi",
    ]));
    run.assert_code(67);
    assert!(
        run.stderr.contains("<refused@example.net> (550 5.1.1"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was sent"), "{}", run.stderr);
    assert!(server.messages().is_empty());
}

#[test]
fn allow_partial_sends_to_the_accepted_and_says_who_was_refused() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let run = run(starttls_send(&sandbox, &server).args([
        "-t",
        "bob@example.net",
        "-t",
        "refused@example.net",
        "-m",
        "hi",
        "--allow-partial",
        "--json",
    ]));
    run.assert_code(67);
    assert_eq!(server.only_message().recipients, ["bob@example.net"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["status"], "partial");
    assert_eq!(report["exit_code"], 67);
    assert_eq!(report["recipients"][0]["accepted"], true);
    assert_eq!(report["recipients"][1]["accepted"], false);
    assert_eq!(report["recipients"][1]["reply"]["code"], 550);
    assert_eq!(report["final_reply"]["code"], 250);
    assert_eq!(report["error"]["step"], "rcpt_to");
}

#[test]
fn a_deferred_recipient_is_a_temporary_failure() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let run = run(starttls_send(&sandbox, &server).args([
        "-t",
        "bob@example.net",
        "-t",
        "deferred@example.net",
        "-m",
        "hi",
    ]));
    run.assert_code(75);
    assert!(run.stderr.contains("deferred"), "{}", run.stderr);
    assert!(server.messages().is_empty());
}

#[test]
fn an_untrusted_certificate_stops_before_anything_is_sent() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let run = run(sandbox
        .command()
        .args(send_args("smtp", server.port))
        .args(["-f", "a@example.org", "-t", "bob@example.net", "-m", "hi"]));
    run.assert_code(69);
    assert!(
        run.stderr
            .contains("certificate of localhost was rejected: issued by an unknown authority"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--ca-file"),
        "the hint names the fix: {}",
        run.stderr
    );
    assert!(server.messages().is_empty());
}

#[test]
fn plain_smtp_must_be_asked_for_and_works_to_loopback() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let run = run(sandbox
        .command()
        .args(send_args("smtp+plain", server.port))
        .args(["-f", "a@example.org", "-t", "bob@example.net", "-m", "hi"]));
    run.assert_code(0);
    assert!(
        run.stderr.is_empty(),
        "no warning for loopback: {}",
        run.stderr
    );
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn a_missing_attachment_fails_before_connecting() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let run = run(sandbox
        .command()
        .args(send_args("smtp+plain", server.port))
        .args(["-f", "a@example.org", "-t", "bob@example.net", "-m", "hi"])
        .args(["-a", "/nonexistent/report.pdf"]));
    run.assert_code(66);
    assert_eq!(
        run.stderr.trim(),
        "smtpsend: cannot read attachment /nonexistent/report.pdf: No such file or directory"
    );
    assert!(server.messages().is_empty());
}

#[test]
fn bad_input_is_refused_with_the_culprit_named() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let cases: [(&[&str], i32, &str); 6] = [
        (&["-t", "bob@", "-m", "x"], 65, "--to: "),
        (
            &[
                "-t",
                "bob@example.net",
                "-m",
                "x",
                "-s",
                "hi\r\nBcc: x@y.org",
            ],
            65,
            "CR or LF",
        ),
        (
            &["-t", "bob@example.net", "-m", "x", "-H", "X-Evil: a\nb"],
            65,
            "CR or LF",
        ),
        (
            &["-t", "bob@example.net", "-m", "x", "-H", "To: x@y.org"],
            64,
            "-t/--to",
        ),
        (&["-m", "x", "-s", "no recipients"], 64, "no recipients"),
        (
            &["-t", "bob@example.net", "--body-file", "/nonexistent"],
            66,
            "/nonexistent",
        ),
    ];
    for (args, code, culprit) in cases {
        let run = run(sandbox
            .command()
            .args(send_args("smtp+plain", server.port))
            .args(["-f", "a@example.org"])
            .args(args));
        assert_eq!(run.code, code, "{args:?}: {}", run.stderr);
        assert_eq!(
            run.stderr.lines().count(),
            1 + usize::from(run.stderr.contains("hint:")),
            "{args:?}"
        );
        assert!(run.stderr.starts_with("smtpsend: "), "{args:?}");
        assert!(run.stderr.contains(culprit), "{args:?}: {}", run.stderr);
    }
    assert!(server.messages().is_empty());
}

#[test]
fn a_password_in_a_server_url_is_never_repeated() {
    let sandbox = Sandbox::new();
    let config = sandbox.write(
        "other.toml",
        "[accounts.mail]\nserver = \"smtp://alice:secret@localhost:587\"\n",
    );
    let send = || {
        let mut command = sandbox.command();
        command.args([
            "--json",
            "-f",
            "a@example.org",
            "-t",
            "b@example.org",
            "-m",
            "hi",
        ]);
        command
    };
    let runs = [
        run(send().args(["--server", "smtp://alice:secret@localhost:587"])),
        run(send().args(["--server", "smtpx://alice:secret@localhost"])),
        run(send().args(["--server", "alice:secret@localhost"])),
        run(send().env("SMTPSEND_SERVER", "smtp://alice:secret@localhost:587")),
        run(send()
            .arg("--config")
            .arg(&config)
            .args(["--account", "mail"])),
    ];
    for run in runs {
        assert_ne!(run.code, 0);
        assert!(
            run.stderr.contains("alice:<redacted>@localhost"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("secret"), "{}", run.stderr);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert!(
            report["error"].to_string().contains("<redacted>"),
            "{report}"
        );
        assert!(!run.stdout.contains("secret"), "{}", run.stdout);
    }
}

#[test]
fn contradictory_flags_are_usage_errors() {
    let sandbox = Sandbox::new();
    for args in [
        &["--server", "smtp://a.example", "--host", "b.example"][..],
        &["-m", "x", "--body-file", "f"],
        &["-q", "-v"],
        &["--no-such-flag"],
    ] {
        let run = run(sandbox
            .command()
            .args(["-f", "a@example.org", "-t", "b@example.org"])
            .args(args));
        assert_eq!(run.code, 64, "{args:?}: {}", run.stderr);
    }
}

#[test]
fn dry_run_prints_the_message_and_connects_nowhere() {
    let sandbox = Sandbox::new();
    let attachment = sandbox.write("data.bin", [0u8, 1, 2, 255]);
    let run = run(sandbox.command().args([
        "--dry-run",
        "-f",
        "a@example.org",
        "-t",
        "b@example.org",
        "-b",
        "hidden@example.org",
        "-s",
        "Dry ✓",
        "-m",
        "hello",
        "-a",
        attachment.to_str().unwrap(),
        "--server",
        "smtp://unreachable.invalid",
    ]));
    run.assert_code(0);
    let message = mail_parser::MessageParser::default()
        .parse(run.stdout.as_bytes())
        .unwrap();
    assert_eq!(message.subject(), Some("Dry ✓"));
    assert_eq!(message.body_text(0).unwrap().trim_end(), "hello");
    assert_eq!(message.attachment(0).unwrap().contents(), [0u8, 1, 2, 255]);
    assert!(!run.stdout.contains("hidden@"));
    assert!(
        run.stdout.contains("\r\n"),
        "the exact wire form, CRLF line endings"
    );
}

// Issue 10: a NUL went out raw in a part labelled 7bit from --body-file, stdin and --html.
#[test]
fn a_text_body_with_a_nul_byte_is_refused_on_every_path() {
    let sandbox = Sandbox::new();
    let with_nul = sandbox.write("nul.txt", b"a\0b\n");
    let path = with_nul.to_str().unwrap();
    let base = ["--dry-run", "-f", "a@example.org", "-t", "b@example.org"];
    let from_stdin: &[u8] = b"a\0b\n";
    let cases = [
        (vec!["--body-file", path], None, "body"),
        (vec![], Some(from_stdin), "body"),
        (vec!["-m", "text", "--html", path], None, "HTML"),
    ];
    for (args, stdin, what) in cases {
        let run = run_with_stdin(sandbox.command().args(base).args(&args), stdin);
        run.assert_code(65);
        assert!(
            run.stdout.is_empty(),
            "{args:?}: nothing printed: {}",
            run.stdout
        );
        assert!(
            run.stderr.contains("contains a NUL byte at offset 1")
                && run.stderr.to_lowercase().contains(&what.to_lowercase()),
            "{args:?}: {}",
            run.stderr
        );
    }
}

// Issue 10: `SMTPSEND_PASSWORD_FILE=/dev/zero` grew memory without bound.
#[test]
fn an_endless_password_source_is_refused_and_nothing_is_sent() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let started = std::time::Instant::now();
    let run = run(sandbox
        .command()
        .args(send_args("smtp", server.port))
        .arg("--ca-file")
        .arg(server.ca_file())
        .args([
            "--user",
            USER,
            "-f",
            USER,
            "-t",
            "bob@example.net",
            "-m",
            "x",
        ])
        .env("SMTPSEND_PASSWORD_FILE", "/dev/zero"));
    run.assert_code(78);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(
        run.stderr.contains("gave more than 32 KiB"),
        "{}",
        run.stderr
    );
    assert!(server.messages().is_empty());
}

#[test]
fn dry_run_into_a_closed_pipe_ends_quietly_and_into_a_full_disk_fails() {
    let sandbox = Sandbox::new();
    let dry_run = || {
        let mut command = sandbox.command();
        command.args(["--dry-run", "-f", "a@example.org", "-t", "b@example.org"]);
        command.args(["-m", "hello"]);
        command
    };
    assert_quiet_into_a_closed_pipe(&mut dry_run(), 0);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let failed = dry_run().stdout(full).output().unwrap();
    assert_eq!(failed.status.code(), Some(74));
    assert_eq!(
        String::from_utf8_lossy(&failed.stderr),
        "smtpsend: cannot write to standard output: No space left on device\n"
    );
}

#[test]
fn help_lists_the_exit_codes_and_version_answers() {
    let sandbox = Sandbox::new();
    let help = run(sandbox.command().arg("--help"));
    help.assert_code(0);
    for text in [
        "-t, --to <ADDR>",
        "--server <URL>",
        "--password-command <CMD>",
        "75  Temporary failure, try again later",
        "78  Configuration error",
    ] {
        assert!(help.stdout.contains(text), "missing {text:?}");
    }
    let short = run(sandbox.command().arg("-h"));
    short.assert_code(0);
    assert!(
        short
            .stdout
            .contains("75 temporary failure, try again later"),
        "{}",
        short.stdout
    );
    let version = run(sandbox.command().arg("--version"));
    version.assert_code(0);
    assert_eq!(
        version.stdout.trim(),
        format!("smtpsend {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_are_printed_for_each_shell() {
    let sandbox = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = run(sandbox.command().args(["completions", shell]));
        run.assert_code(0);
        assert!(run.stdout.contains("smtpsend"), "{shell}");
        assert!(run.stdout.contains("password-command"), "{shell}");
    }
}

#[test]
fn a_large_attachment_is_streamed_in_constant_memory() {
    use std::io::Write as _;
    let sandbox = Sandbox::new();
    let path = sandbox.path("large.bin");
    let mut file = std::fs::File::create(&path).unwrap();
    let block: Vec<u8> = (0..1024 * 1024)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for _ in 0..48 {
        file.write_all(&block).unwrap();
    }
    drop(file);
    let mut child = sandbox
        .command()
        .args([
            "--dry-run",
            "-f",
            "a@example.org",
            "-t",
            "b@example.org",
            "-m",
            "x",
            "-a",
        ])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The peak resident size, sampled while it runs (VmHWM only grows).
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    while child.try_wait().unwrap().is_none() {
        if let Some(kib) = std::fs::read_to_string(&status).ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        }) {
            peak_kib = peak_kib.max(kib);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(child.wait().unwrap().success());
    assert!(peak_kib > 0, "sampled");
    assert!(
        peak_kib < 32 * 1024,
        "peak RSS {peak_kib} KiB for a 48 MiB attachment"
    );
}

/// The progress bar appears on a terminal for a large upload, and never with -q or on a `dumb`
/// terminal, which cannot redraw a line. util-linux `script` gives the binary a terminal and
/// records what it shows there.
#[cfg(target_os = "linux")]
#[test]
fn a_large_upload_shows_progress_on_a_terminal_only() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let attachment = sandbox.write("big.bin", vec![7u8; 4 * 1024 * 1024]);
    let on_terminal = |term: &str, extra: &str| {
        let command = format!(
            "{} --server smtp+plain://localhost:{} -f a@example.org -t b@example.org -m hi -a {} {extra}",
            env!("CARGO_BIN_EXE_smtpsend"),
            server.port,
            attachment.display()
        );
        let output = sandbox
            .command_for("script")
            .args(["-qec", &command, "/dev/null"])
            .env("TERM", term)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let shown = on_terminal("xterm-256color", "");
    assert!(
        shown.contains("MiB/5.47 MiB"),
        "the total is the base64 size: {shown}"
    );
    assert!(shown.contains("250 2.0.0 Ok"), "{shown}");
    let quiet = on_terminal("xterm-256color", "-q");
    assert!(!quiet.contains("MiB"), "{quiet}");
    let dumb = on_terminal("dumb", "");
    assert!(!dumb.contains("MiB"), "{dumb}");
    assert!(dumb.contains("250 2.0.0 Ok"), "{dumb}");
    assert_eq!(server.messages().len(), 3);
}

// Issue 11: an argument that is not UTF-8 is a usage error naming it, never a panic; a file
// name may be any bytes.
#[test]
fn an_argument_that_is_not_utf8_is_named_but_a_file_name_may_be_any_bytes() {
    use std::os::unix::ffi::OsStrExt;
    let sandbox = Sandbox::new();
    let base = ["--dry-run", "-f", "a@example.org", "-m", "hi"];
    let recipient = std::ffi::OsStr::from_bytes(b"b\xffc@example.org");
    let run_bad = run(sandbox.command().args(base).arg("-t").arg(recipient));
    run_bad.assert_code(64);
    assert_eq!(
        run_bad.stderr.lines().next(),
        Some(r#"smtpsend: the argument "b\xFFc@example.org" is not UTF-8"#),
        "{}",
        run_bad.stderr
    );
    let name = std::ffi::OsStr::from_bytes(b"r\xe9sum\xe9.bin");
    std::fs::write(sandbox.path("x").with_file_name(name), [1u8, 2, 3]).unwrap();
    let attached = run(sandbox
        .command()
        .args(base)
        .args(["-t", "b@example.org", "-a"])
        .arg(sandbox.path("x").with_file_name(name)));
    attached.assert_code(0);
    let message = mail_parser::MessageParser::default()
        .parse(attached.stdout.as_bytes())
        .unwrap();
    assert_eq!(message.attachment(0).unwrap().contents(), [1u8, 2, 3]);
}

// Issue 14: a dry run a person can read; the exact bytes for a pipe or `--dry-run=raw`.
#[test]
fn a_dry_run_shows_the_envelope_header_text_and_attachments_readably() {
    let sandbox = Sandbox::new();
    let attachment = sandbox.write("photo.png", [0x89u8, b'P', b'N', b'G', 0, 1, 2, 3]);
    let base = [
        "-f",
        "Zoë <zoe@example.org>",
        "-t",
        "bob@example.org",
        "-b",
        "hidden@example.org",
        "-s",
        "Grüße",
        "-m",
        "line one\nline two",
    ];
    let readable = run(sandbox
        .command()
        .args(["--dry-run=readable"])
        .args(base)
        .arg("-a")
        .arg(&attachment));
    readable.assert_code(0);
    let shown = &readable.stdout;
    assert!(
        shown.starts_with(
            "MAIL FROM:<zoe@example.org>\nRCPT TO:<bob@example.org>\nRCPT TO:<hidden@example.org>\n"
        ),
        "{shown}"
    );
    assert!(shown.contains("\nSubject: Grüße\n"), "decoded: {shown}");
    assert!(
        shown.contains("\n--- text/plain\nline one\nline two\n"),
        "{shown}"
    );
    assert!(
        shown.contains("\n--- attachment photo.png, image/png, 8 bytes\n"),
        "{shown}"
    );
    assert!(!shown.contains("=?utf-8?"), "{shown}");
    // Not a terminal: `--dry-run` alone is the exact bytes, as `--dry-run=raw` is.
    for form in ["--dry-run", "--dry-run=raw"] {
        let raw = run(sandbox.command().arg(form).args(base));
        raw.assert_code(0);
        let message = mail_parser::MessageParser::default()
            .parse(raw.stdout.as_bytes())
            .unwrap();
        assert_eq!(message.subject(), Some("Grüße"), "{form}");
        assert!(raw.stdout.contains("\r\n"), "{form}: CRLF as sent");
    }
}
