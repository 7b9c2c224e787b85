//! The mailx personality against the real in-process server: the command lines of smartd,
//! Icinga 2 and unattended-upgrades, as `smtpsend mail` and through binaries called `mail` and
//! `mailx`, each asserted on what the server received.

use std::process::Command;

use mail_parser::MimeHeaders;

use crate::sendmail::configured;
use crate::support::*;

/// The three ways to reach the mailx personality.
#[derive(Clone, Copy, Debug)]
enum Called {
    Subcommand,
    Mail,
    Mailx,
}

const EVERY_WAY: [Called; 3] = [Called::Subcommand, Called::Mail, Called::Mailx];

fn mail(sandbox: &Sandbox, called: Called, args: &[&str]) -> Command {
    let mut command = match called {
        Called::Subcommand => {
            let mut command = sandbox.command();
            command.arg("mail");
            command
        }
        Called::Mail | Called::Mailx => {
            let name = if matches!(called, Called::Mail) {
                "mail"
            } else {
                "mailx"
            };
            let link = sandbox.path(name);
            if !link.exists() {
                std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_smtpsend"), &link).unwrap();
            }
            sandbox.command_for(&link)
        }
    };
    command.args(args);
    command
}

/// The same command line each way, with `stdin`: each run, and how it was called.
fn every_way(sandbox: &Sandbox, args: &[&str], stdin: &[u8]) -> Vec<(Called, Run)> {
    EVERY_WAY
        .iter()
        .map(|&called| {
            (
                called,
                run_with_stdin(&mut mail(sandbox, called, args), Some(stdin)),
            )
        })
        .collect()
}

fn body_of(received: &Received) -> String {
    received
        .parsed()
        .body_text(0)
        .unwrap()
        .replace("\r\n", "\n")
}

#[test]
fn smartd_mail_to_root_reaches_a_person_and_a_piped_lone_dot_is_text() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let subject = "SMART error (FailedReadSmartData) detected on host: db01";
    let body =
        "The following warning/error was logged by the smartd daemon:\n.\nDevice: /dev/sda\n";
    for (called, run) in every_way(&sandbox, &["-s", subject, "root"], body.as_bytes()) {
        run.assert_code(0);
        assert_eq!(run.stdout, "", "{called:?}: silent on success");
    }
    let received = server.messages();
    assert_eq!(received.len(), 3);
    for message in &received {
        assert_eq!(
            message.recipients,
            ["alice@example.net"],
            "through the aliases"
        );
        assert_eq!(message.from, "robot@host.example", "the account's From");
        let parsed = message.parsed();
        assert_eq!(parsed.subject(), Some(subject));
        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!(from.name(), Some("Host Robot"));
        assert!(parsed.date().is_some() && parsed.message_id().is_some());
        let raw = String::from_utf8(message.data.clone()).unwrap();
        assert!(
            raw.contains("\r\nTo: <root@host.example>\r\n"),
            "the local domain: {raw}"
        );
        assert_eq!(body_of(message), body);
    }
}

#[test]
fn icinga2_from_header_and_encoded_subject_arrive_as_meant() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    // "[PROBLEM] Host db01 – DOWN (CRITICAL)", encoded the way Icinga 2's script does it.
    let encoded = "=?utf-8?B?W1BST0JMRU1dIEhvc3QgZGIwMSDigJMgRE9XTiAoQ1JJVElDQUwpIGZvciBtb3JlIHRoYW4gZml2ZSBtaW51dGVz?=";
    let args = [
        "-a",
        "From: icinga@example.com",
        "-s",
        encoded,
        "ops@example.net",
    ];
    let body = b"***** Host Monitoring on icinga *****\n\ndb01 is DOWN!\n";
    for (_, run) in every_way(&sandbox, &args, body) {
        run.assert_code(0);
    }
    for message in server.messages() {
        assert_eq!(
            message.from, "icinga@example.com",
            "the -a From is the sender"
        );
        assert_eq!(message.recipients, ["ops@example.net"]);
        let raw = String::from_utf8(message.data.clone()).unwrap();
        assert!(raw.contains(&format!("Subject: {encoded}\r\n")), "{raw}");
        let parsed = message.parsed();
        assert_eq!(
            parsed.subject(),
            Some("[PROBLEM] Host db01 – DOWN (CRITICAL) for more than five minutes")
        );
        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!(from.address(), Some("icinga@example.com"));
        assert_eq!(raw.matches("From: ").count(), 1, "{raw}");
    }
}

#[test]
fn unattended_upgrades_dash_r_is_the_sender_and_bcc_stays_out_of_the_message() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let args = [
        "-r",
        "Upgrades <root@host.example>",
        "-s",
        "[reboot required] unattended-upgrades result for host",
        "-c",
        "cc@example.net",
        "-b",
        "hidden@example.net",
        "root",
    ];
    for (_, run) in every_way(&sandbox, &args, "Paketliste: überprüft\n".as_bytes()) {
        run.assert_code(0);
    }
    for message in server.messages() {
        assert_eq!(message.from, "root@host.example");
        assert_eq!(
            message.recipients,
            ["alice@example.net", "cc@example.net", "hidden@example.net"]
        );
        let raw = String::from_utf8(message.data.clone()).unwrap();
        assert!(
            !raw.to_ascii_lowercase().contains("bcc:") && !raw.contains("hidden"),
            "{raw}"
        );
        let parsed = message.parsed();
        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!(
            (from.name(), from.address()),
            (Some("Upgrades"), Some("root@host.example"))
        );
        assert_eq!(body_of(&message), "Paketliste: überprüft\n");
    }
}

#[test]
fn dash_big_e_sends_no_message_with_an_empty_body() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    for (_, run) in every_way(&sandbox, &["-E", "-s", "nothing new", "root"], b"") {
        run.assert_code(0);
        assert_eq!(run.stderr, "");
    }
    assert!(server.messages().is_empty(), "nothing is sent");
    run_with_stdin(
        &mut mail(&sandbox, Called::Subcommand, &["-s", "empty", "root"]),
        Some(b""),
    )
    .assert_code(0);
    assert_eq!(server.only_message().parsed().subject(), Some("empty"));
}

#[test]
fn an_attachment_arrives_byte_for_byte() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let file = sandbox.write("dump.bin", &bytes);
    let text = sandbox.write("report.txt", b"line one\nline two\n");
    run_with_stdin(
        &mut mail(
            &sandbox,
            Called::Mailx,
            &[
                "-a",
                file.to_str().unwrap(),
                "-a",
                text.to_str().unwrap(),
                "-s",
                "dump",
                "bob@example.net",
            ],
        ),
        Some(b"attached\n"),
    )
    .assert_code(0);
    let received = server.only_message();
    let parsed = received.parsed();
    assert_eq!(parsed.attachment_count(), 2);
    let first = parsed.attachment(0).unwrap();
    assert_eq!(first.attachment_name(), Some("dump.bin"));
    assert_eq!(first.contents(), bytes.as_slice());
    assert_eq!(
        parsed.attachment(1).unwrap().contents(),
        b"line one\nline two\n"
    );
    assert_eq!(body_of(&received), "attached\n");
}

#[test]
fn a_refused_recipient_is_a_failure() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    for (called, run) in every_way(&sandbox, &["-s", "x", "refused@example.net"], b"body\n") {
        assert_eq!(run.code, 67, "{called:?}: {}", run.stderr);
        assert!(run.stderr.contains("refused@example.net"), "{}", run.stderr);
    }
    assert!(server.messages().is_empty());
}

#[test]
fn usage_errors_name_the_culprit() {
    use std::os::unix::ffi::OsStrExt;
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let cases: [(&[&str], i32, &str); 5] = [
        (&["-s", "x"], 64, "only sends"),
        (&[], 64, "only sends"),
        (&["-q", "root"], 64, "-q"),
        (
            &["-a", "/no/such/file.pdf", "root"],
            64,
            "/no/such/file.pdf",
        ),
        (
            &["-s", "a\nBcc: victim@example.net", "root"],
            65,
            "CR or LF",
        ),
    ];
    for (args, code, culprit) in cases {
        for (called, run) in every_way(&sandbox, args, b"x\n") {
            assert_eq!(run.code, code, "{called:?} {args:?}: {}", run.stderr);
            assert!(run.stderr.contains(culprit), "{args:?}: {}", run.stderr);
        }
    }
    for called in EVERY_WAY {
        let mut command = mail(&sandbox, called, &["-s"]);
        command
            .arg(std::ffi::OsStr::from_bytes(b"caf\xe9"))
            .arg("root");
        let run = run_with_stdin(&mut command, Some(b"x\n"));
        run.assert_code(64);
        assert!(run.stderr.contains(r"caf\xE9"), "{}", run.stderr);
        assert!(run.stderr.starts_with("smtpsend: mail:"), "{}", run.stderr);
    }
    assert!(server.messages().is_empty());
}

#[test]
fn long_options_follow_the_mailx_flags() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let run = run_with_stdin(
        &mut mail(
            &sandbox,
            Called::Mail,
            &[
                "-s",
                "json",
                "--json",
                "--account",
                "relay",
                "bob@example.net",
            ],
        ),
        Some(b"x\n"),
    );
    run.assert_code(0);
    assert!(run.stdout.trim_start().starts_with('{'), "{}", run.stdout);
    assert_eq!(server.only_message().recipients, ["bob@example.net"]);
    let help = run_with_stdin(&mut mail(&sandbox, Called::Mailx, &["--help"]), None);
    help.assert_code(0);
    assert!(
        help.stdout.contains("Usage: smtpsend mail"),
        "{}",
        help.stdout
    );
}
