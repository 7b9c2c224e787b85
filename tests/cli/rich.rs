//! Rich messages (issue #17): Markdown rendered into a styled HTML alternative. Each test runs
//! the binary against the in-process server and parses back what it received.

use std::process::Command;

use mail_parser::{MessagePart, MimeHeaders, PartType};

use crate::support::*;

/// A plain send to `server` from alice to bob.
fn send_to(sandbox: &Sandbox, server: &MailServer) -> Command {
    let mut command = sandbox.command();
    command.args(send_args("smtp+plain", server.port)).args([
        "-f",
        "alice@example.org",
        "-t",
        "bob@example.net",
        "-s",
        "Nightly build",
    ]);
    command
}

/// The MIME tree of a message as `type[child,child]`, e.g.
/// `multipart/alternative[text/plain,text/html]`.
pub fn tree(message: &mail_parser::Message) -> String {
    fn walk(message: &mail_parser::Message, part: &MessagePart) -> String {
        let essence = part
            .content_type()
            .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()))
            .unwrap_or_else(|| "text/plain".into());
        match &part.body {
            PartType::Multipart(children) => format!(
                "{essence}[{}]",
                children
                    .iter()
                    .map(|&at| walk(message, &message.parts[at as usize]))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            _ => essence,
        }
    }
    walk(message, &message.parts[0])
}

const REPORT: &str = "# Nightly build\n\n| job | result |\n|---|---|\n| lint | ok |\n| test | ~~flaky~~ ok |\n\n- [x] built\n- [ ] deployed\n\nLogs: https://ci.example.com/42\n";

#[test]
fn markdown_file_becomes_text_and_a_styled_html_alternative() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let report = sandbox.write("report.md", REPORT);
    run(send_to(&sandbox, &server).arg("--markdown").arg(&report)).assert_code(0);

    let received = server.only_message();
    let message = received.parsed();
    assert_eq!(
        tree(&message),
        "multipart/alternative[text/plain,text/html]"
    );
    assert_eq!(
        message.body_text(0).unwrap().replace("\r\n", "\n"),
        REPORT,
        "the Markdown source is the text part"
    );
    let html = message.body_html(0).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains(">Nightly build</h1>"), "{html}");
    assert!(html.contains("<table style="), "{html}");
    assert!(html.contains(">flaky</del> ok</td>"), "{html}");
    assert!(html.contains("type=\"checkbox\""), "{html}");
    assert!(
        html.contains("href=\"https://ci.example.com/42\""),
        "{html}"
    );
    assert_eq!(message.attachment_count(), 0);
}

#[test]
fn markdown_raw_html_is_text_unless_allowed() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let source = "Build <b>failed</b>\n\n<script>alert(1)</script>\n";
    run(send_to(&sandbox, &server).args(["-m", source, "--markdown-body"])).assert_code(0);
    run(send_to(&sandbox, &server).args([
        "-m",
        source,
        "--markdown-body",
        "--markdown-allow-html",
    ]))
    .assert_code(0);

    let messages = server.messages();
    let escaped = messages[0].parsed().body_html(0).unwrap().into_owned();
    assert!(
        escaped.contains("Build &lt;b&gt;failed&lt;/b&gt;"),
        "{escaped}"
    );
    assert!(!escaped.contains("<script>"), "{escaped}");
    let allowed = messages[1].parsed().body_html(0).unwrap().into_owned();
    assert!(allowed.contains("Build <b>failed</b>"), "{allowed}");
}

#[test]
fn markdown_from_standard_input() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    run_with_stdin(
        send_to(&sandbox, &server).args(["--markdown", "-"]),
        Some(b"*all green*\n"),
    )
    .assert_code(0);
    let received = server.only_message();
    let message = received.parsed();
    assert_eq!(message.body_text(0).unwrap().trim(), "*all green*");
    assert!(message.body_html(0).unwrap().contains("<em>all green</em>"));
}

#[test]
fn markdown_bad_input_is_named_and_nothing_is_sent() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let missing = sandbox.path("missing.md");
    let run1 = run(send_to(&sandbox, &server).arg("--markdown").arg(&missing));
    run1.assert_code(66);
    assert!(run1.stderr.contains("missing.md"), "{}", run1.stderr);

    let latin1 = sandbox.write("latin1.md", b"caf\xe9\n");
    let run2 = run(send_to(&sandbox, &server).arg("--markdown").arg(&latin1));
    run2.assert_code(65);
    assert!(
        run2.stderr.contains("latin1.md") && run2.stderr.contains("not UTF-8"),
        "{}",
        run2.stderr
    );

    let page = sandbox.write("page.html", "<p>x</p>");
    run(send_to(&sandbox, &server)
        .arg("--markdown")
        .arg(&latin1)
        .arg("--html")
        .arg(&page))
    .assert_code(64);
    let run4 = run(send_to(&sandbox, &server).args(["-m", "x", "--markdown-allow-html"]));
    run4.assert_code(64);
    assert!(run4.stderr.contains("--markdown"), "{}", run4.stderr);
    assert!(server.messages().is_empty());
}

/// A server without 8BITMIME gets the rendered page 7-bit, and it parses back the same.
#[test]
fn markdown_with_non_ascii_text_downgrades_for_a_seven_bit_server() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(happy("250-test\r\n250 SIZE 10000000\r\n"));
    let mut command = sandbox.command();
    command
        .args(send_args("smtp+plain", server.port))
        .args(["-f", "a@example.org", "-t", "b@example.org"])
        .args(["-m", "# Grüße ✓\n\nÄrger: none\n", "--markdown-body"]);
    run(&mut command).assert_code(0);
    let data = server.data();
    assert!(data.is_ascii());
    let message = mail_parser::MessageParser::default().parse(&data).unwrap();
    assert_eq!(
        tree(&message),
        "multipart/alternative[text/plain,text/html]"
    );
    assert!(message.body_html(0).unwrap().contains(">Grüße ✓</h1>"));
}
