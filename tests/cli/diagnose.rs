//! Errors that diagnose the setup (issue "a newcomer's first hour"): a URL in the wrong TLS
//! mode, no login where the server wants one, a machine never set up, a password in a URL, the
//! words of timeouts and connection failures, and `--json` for errors in the command line.
//!
//! Each asserts the exit code, the first line on stderr and its hint, and, where a message must
//! not wait in the outbox for a fix only the user can make, that nothing was queued.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::*;

/// The first line on stderr, and the hint after it if any.
fn said(run: &Run) -> (&str, &str) {
    let mut lines = run.stderr.lines();
    let first = lines.next().unwrap_or_default();
    let hint = lines
        .find_map(|line| line.strip_prefix("smtpsend: hint: "))
        .unwrap_or_default();
    (first, hint)
}

/// Whether the outbox holds nothing.
fn nothing_queued(sandbox: &Sandbox) -> bool {
    std::fs::read_dir(sandbox.path("data/smtpsend/outbox"))
        .map(|dir| dir.count() == 0)
        .unwrap_or(true)
}

const MESSAGE: [&str; 6] = ["-f", "a@example.org", "-t", "b@example.org", "-m", "hi"];

// 1. smtp:// (STARTTLS) where the server speaks TLS from the first byte.

#[test]
fn starttls_to_an_implicit_tls_server_says_no_greeting_and_names_smtps() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::Implicit);
    let started = Instant::now();
    let run = run(sandbox
        .command()
        .args(["--server", &format!("smtp://localhost:{}", server.port)])
        .args(["--timeout", "2", "--ca-file"])
        .arg(server.ca_file())
        .args(MESSAGE));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    run.assert_code(75);
    let (first, hint) = said(&run);
    assert_eq!(first, "smtpsend: no greeting within 2 s", "{}", run.stderr);
    assert!(
        hint.contains(&format!("use smtps://localhost:{}", server.port)),
        "{hint}"
    );
    assert!(server.messages().is_empty());
}

/// Port 465 is for TLS from the first byte (RFC 8314): silence there is a configuration error
/// after a short wait, not a 60 s timeout, and the message is not queued. Binding port 465 needs
/// privileges; without them the test has nothing to bind and says so.
#[test]
fn starttls_to_port_465_is_a_configuration_error_after_a_short_wait() {
    if TcpListener::bind("127.0.0.1:465").is_err() {
        eprintln!("skipped: port 465 cannot be bound here");
        return;
    }
    let server = ScriptedServer::start_on(465, vec![Act::Pause(Duration::from_secs(15))]);
    let sandbox = Sandbox::new();
    let started = Instant::now();
    let run = run(sandbox
        .command()
        .args([
            "--server",
            "smtp://localhost:465",
            "--timeout",
            "60",
            "--queue",
        ])
        .args(MESSAGE));
    let elapsed = started.elapsed();
    run.assert_code(78);
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
    let (first, hint) = said(&run);
    assert!(
        first.starts_with(
            "smtpsend: no greeting from localhost:465 within 5 s: port 465 speaks TLS"
        ),
        "{first}"
    );
    assert!(hint.starts_with("use smtps://localhost:465"), "{hint}");
    assert!(nothing_queued(&sandbox));
    assert!(server.heard().is_empty(), "nothing was said");
}

// 2. smtps:// where the server speaks plain SMTP first.

#[test]
fn implicit_tls_to_a_starttls_server_says_to_use_smtp() {
    for encryption in [Encryption::StartTls, Encryption::None] {
        let sandbox = Sandbox::new();
        let server = MailServer::start(encryption);
        let run = run(sandbox
            .command()
            .args(send_args("smtps", server.port))
            .arg("--queue")
            .args(MESSAGE));
        run.assert_code(78);
        let (first, hint) = said(&run);
        assert!(
            first.starts_with(&format!(
                "smtpsend: localhost:{} speaks plain SMTP first (it said \"220 ",
                server.port
            )),
            "{first}"
        );
        assert!(!first.contains("InvalidContentType"), "{first}");
        assert_eq!(
            hint,
            format!(
                "this server speaks plain SMTP first: use smtp://localhost:{} (STARTTLS)",
                server.port
            )
        );
        assert!(nothing_queued(&sandbox));
        assert!(server.messages().is_empty());
    }
}

// 3. No login where the server wants one.

#[test]
fn check_without_a_user_on_a_server_offering_auth_says_how_to_set_one() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let run = run(sandbox
        .command()
        .args([
            "check",
            "--server",
            &format!("smtp://localhost:{}", server.port),
        ])
        .arg("--ca-file")
        .arg(server.ca_file()));
    run.assert_code(0);
    let warning = run.stderr.lines().next().unwrap_or_default();
    assert!(
        warning.starts_with("smtpsend: warning: no user is set"),
        "{}",
        run.stderr
    );
    assert!(
        warning.contains("will probably refuse to relay"),
        "{warning}"
    );
    assert!(
        warning.contains("--user NAME, set SMTPSEND_USER, or set `user` in the account"),
        "{warning}"
    );
}

#[test]
fn a_refusal_to_relay_without_a_login_says_how_to_set_the_user() {
    let refusals = [
        (
            // Postfix's smtpd_relay_restrictions, at RCPT.
            vec![
                Act::Hear,
                Act::Say("250 2.1.0 Ok\r\n"),
                Act::Hear,
                Act::Say("554 5.7.1 <b@example.org>: Relay access denied\r\n"),
                Act::Hear,
                Act::Say("250 2.0.0 Ok\r\n"),
            ],
            67,
        ),
        (
            // RFC 4954 section 6, at MAIL.
            vec![Act::Hear, Act::Say("530 5.7.0 Authentication required\r\n")],
            65,
        ),
    ];
    for (refusal, code) in refusals {
        let sandbox = Sandbox::new();
        let server = ScriptedServer::start(script([greeted(), refusal, listen()]));
        let run = run(sandbox
            .command()
            .args(send_args("smtp+plain", server.port))
            .args(MESSAGE));
        run.assert_code(code);
        let (_, hint) = said(&run);
        assert!(hint.starts_with("no user is set"), "{}", run.stderr);
        assert!(hint.contains("--user NAME"), "{hint}");
    }
}

// 4. A machine never set up.

#[test]
fn a_fresh_machine_leads_with_setting_up() {
    let sandbox = Sandbox::new();
    let bare = run(&mut sandbox.command());
    bare.assert_code(64);
    assert_eq!(said(&bare).0, "smtpsend: nothing to send");
    assert!(
        said(&bare).1.contains("smtpsend init ADDRESS"),
        "{}",
        bare.stderr
    );
    assert!(said(&bare).1.contains("smtpsend --help"), "{}", bare.stderr);

    let to_bob = run(sandbox.command().arg("bob@x.com"));
    to_bob.assert_code(78);
    let (first, hint) = said(&to_bob);
    assert!(first.contains("no server and no account"), "{first}");
    assert!(hint.contains("smtpsend init ADDRESS"), "{hint}");
    assert!(
        hint.contains("--server") && hint.contains("SMTPSEND_SERVER"),
        "{hint}"
    );

    let typo = run(sandbox.command().arg("chek"));
    typo.assert_code(64);
    assert_eq!(
        said(&typo),
        (
            "smtpsend: unknown command \"chek\"",
            "did you mean `smtpsend check`?"
        )
    );
}

#[test]
fn a_mistyped_command_is_named_whatever_else_is_missing() {
    let sandbox = Sandbox::new();
    // A server but no sender: the typo still comes first.
    let run = run(sandbox
        .command()
        .env("SMTPSEND_SERVER", "smtp://localhost:1")
        .arg("chek"));
    run.assert_code(64);
    assert_eq!(said(&run).1, "did you mean `smtpsend check`?");
}

// 5. A password in a URL is never repeated.

#[test]
fn a_password_in_a_server_url_is_never_echoed() {
    let sandbox = Sandbox::new();
    let url = "smtp://alice:s3cret@localhost:1";
    let runs = [
        run(sandbox
            .command()
            .args(["--server", url, "-v", "--json"])
            .args(MESSAGE)),
        run(sandbox
            .command()
            .env("SMTPSEND_SERVER", url)
            .args(["-v"])
            .args(MESSAGE)),
        // clap's own errors quote the word.
        run(sandbox.command().args(["queue", url])),
        run(sandbox.command().args(["--json", "--timeout", url])),
    ];
    for run in runs {
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains("s3cret"), "{all}");
        assert!(all.contains("alice:<redacted>@"), "{all}");
    }
}

// 6. Words: timeouts name the step and the seconds; the address tried is said once; a key typo
// names the account and the closest key.

#[test]
fn a_timeout_names_the_step_and_the_seconds() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted(),
        vec![Act::Hear, Act::Pause(Duration::from_secs(3))],
        listen(),
    ]));
    let mut args = send_args("smtp+plain", server.port);
    args[3] = "1".into();
    let run = run(sandbox.command().args(args).args(MESSAGE));
    run.assert_code(75);
    assert_eq!(said(&run).0, "smtpsend: no reply within 1 s to MAIL FROM");
}

#[test]
fn a_connection_failure_says_the_address_once() {
    let port = closed_port();
    let sandbox = Sandbox::new();
    let by_address = run(sandbox
        .command()
        .args(["--server", &format!("smtp+plain://127.0.0.1:{port}")])
        .args(MESSAGE));
    by_address.assert_code(75);
    assert_eq!(
        said(&by_address).0,
        format!("smtpsend: cannot connect to 127.0.0.1:{port}: connection refused")
    );
    let by_name = run(sandbox
        .command()
        .args(send_args("smtp+plain", port))
        .args(MESSAGE));
    let first = said(&by_name).0;
    assert!(
        first.starts_with(&format!("smtpsend: cannot connect to localhost:{port} (")),
        "{first}"
    );
    assert_eq!(first.matches(&format!(":{port}")).count(), 1, "{first}");
}

#[test]
fn a_mistyped_account_key_names_the_account_and_the_closest_key() {
    let sandbox = Sandbox::new();
    let config = sandbox.path("config/smtpsend/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        "[accounts.work]\nserver = \"smtp://localhost:1\"\npasword = \"x\"\n",
    )
    .unwrap();
    let run = run(sandbox.command().args(MESSAGE));
    run.assert_code(78);
    let (first, hint) = said(&run);
    assert!(
        first.ends_with("config.toml:3: unknown key `pasword` in account `work`"),
        "{first}"
    );
    assert_eq!(hint, "did you mean `password`?");
}

// 7. --json for errors before any connection.

#[test]
fn json_reports_errors_in_the_command_line_and_the_environment() {
    let sandbox = Sandbox::new();
    let cases = [
        (run(sandbox.command().args(["--json", "--bogus"])), 64),
        (
            run(sandbox
                .command()
                .env("SMTPSEND_TIMEOUT", "soon")
                .args(["--json", "--server", "smtp://localhost:1"])
                .args(MESSAGE)),
            78,
        ),
        (run(sandbox.command().args(["check", "--json"])), 78),
    ];
    for (run, code) in cases {
        run.assert_code(code);
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(lines.len(), 1, "one JSON object: {}", run.stdout);
        let json: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(json["status"], "failed", "{json}");
        assert_eq!(json["exit_code"], code, "{json}");
        assert_eq!(json["error"]["step"], "settings", "{json}");
        let message = json["error"]["message"].as_str().unwrap();
        assert!(!message.is_empty());
        assert!(!run.stderr.is_empty(), "the human line too");
    }
}
