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
    says(&run1, &["missing.md"]);

    let latin1 = sandbox.write("latin1.md", b"caf\xe9\n");
    let run2 = run(send_to(&sandbox, &server).arg("--markdown").arg(&latin1));
    run2.assert_code(65);
    says(&run2, &["latin1.md", "not UTF-8"]);

    let page = sandbox.write("page.html", "<p>x</p>");
    run(send_to(&sandbox, &server)
        .arg("--markdown")
        .arg(&latin1)
        .arg("--html")
        .arg(&page))
    .assert_code(64);
    let run4 = run(send_to(&sandbox, &server).args(["-m", "x", "--markdown-allow-html"]));
    run4.assert_code(64);
    says(&run4, &["--markdown"]);
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

/// Asserts that the run's error names each of `words` (the file, the variable, the flag).
fn says(run: &Run, words: &[&str]) {
    for word in words {
        assert!(run.stderr.contains(word), "no {word:?} in {}", run.stderr);
    }
}

/// A PNG of one pixel: its bytes must arrive exactly.
const PIXEL_PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";

/// The part of `message` whose Content-ID is `<cid>`.
fn part_with_cid<'a>(message: &'a mail_parser::Message, cid: &str) -> &'a MessagePart<'a> {
    message
        .parts
        .iter()
        .find(|part| part.content_id() == Some(cid))
        .unwrap_or_else(|| panic!("no part with Content-ID <{cid}>"))
}

#[test]
fn inline_images_go_in_related_inside_the_alternative_and_attachments_outside() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let chart = sandbox.write("chart.png", PIXEL_PNG);
    let page = sandbox.write("page.html", "<p>Today:</p><img src=\"cid:chart\">\n");
    let log = sandbox.write("log.zip", b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
    run(send_to(&sandbox, &server)
        .args(["-m", "Today: see the chart"])
        .arg("--html")
        .arg(&page)
        .arg("--inline")
        .arg(format!("{}=chart", chart.display()))
        .arg("-a")
        .arg(&log))
    .assert_code(0);

    let received = server.only_message();
    let message = received.parsed();
    assert_eq!(
        tree(&message),
        "multipart/mixed[multipart/alternative[text/plain,multipart/related[text/html,image/png]],application/zip]"
    );
    let related = message
        .parts
        .iter()
        .find(|p| {
            p.content_type()
                .is_some_and(|ct| ct.subtype() == Some("related"))
        })
        .unwrap();
    assert_eq!(
        related.content_type().unwrap().attribute("type"),
        Some("text/html"),
        "RFC 2387: the root's type"
    );
    let image = part_with_cid(&message, "chart");
    assert_eq!(image.contents(), PIXEL_PNG);
    let disposition = image.content_disposition().unwrap();
    assert_eq!(disposition.ctype(), "inline");
    assert_eq!(disposition.attribute("filename"), Some("chart.png"));
    assert!(message.body_html(0).unwrap().contains("src=\"cid:chart\""));
    let raw = String::from_utf8_lossy(&received.data);
    assert!(raw.contains("Content-ID: <chart>\r\n"), "{raw}");
    let zip = message
        .attachments()
        .find(|a| a.attachment_name() == Some("log.zip"))
        .expect("the zip is an attachment");
    assert_eq!(zip.content_disposition().unwrap().ctype(), "attachment");
    // mail-parser files parts as JMAP does (RFC 8621 4.1.4): a part inside the alternative
    // that is not a body is in `attachments`, and a client shows it in place by its cid.
    assert_eq!(message.html_body.len(), 1);
    assert_eq!(message.attachment_count(), 2);
}

#[test]
fn inline_parts_from_markdown_local_images() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    std::fs::create_dir_all(sandbox.path("out/img")).unwrap();
    sandbox.write("out/img/my chart.png", PIXEL_PNG);
    let report = sandbox.write(
        "out/report.md",
        "# Build\n\n![chart](img/my%20chart.png)\n\n![again](img/my%20chart.png)\n\n![logo](https://example.org/logo.png)\n",
    );
    run(send_to(&sandbox, &server).arg("--markdown").arg(&report)).assert_code(0);

    let received = server.only_message();
    let message = received.parsed();
    assert_eq!(
        tree(&message),
        "multipart/alternative[text/plain,multipart/related[text/html,image/png]]",
        "one part for an image shown twice"
    );
    let html = message.body_html(0).unwrap();
    assert_eq!(
        html.matches("src=\"cid:my_chart.png\"").count(),
        2,
        "{html}"
    );
    assert!(
        html.contains("src=\"https://example.org/logo.png\""),
        "{html}"
    );
    assert_eq!(
        part_with_cid(&message, "my_chart.png").contents(),
        PIXEL_PNG
    );
    assert!(
        message
            .body_text(0)
            .unwrap()
            .contains("![chart](img/my%20chart.png)"),
        "the text part is the Markdown as written"
    );
}

#[test]
fn inline_bad_input_is_named_and_nothing_is_sent() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let chart = sandbox.write("chart.png", PIXEL_PNG);

    let no_html = run(send_to(&sandbox, &server)
        .args(["-m", "text only", "--inline"])
        .arg(&chart));
    no_html.assert_code(64);
    says(&no_html, &["chart.png"]);

    let report = sandbox.write("report.md", "![chart](missing.png)\n");
    let missing = run(send_to(&sandbox, &server).arg("--markdown").arg(&report));
    missing.assert_code(66);
    says(&missing, &["missing.png"]);

    let page = sandbox.write("page.html", "<img src=\"cid:x\">");
    let other = sandbox.write("other.png", PIXEL_PNG);
    let twice = run(send_to(&sandbox, &server)
        .arg("--html")
        .arg(&page)
        .args(["-m", "x", "--inline"])
        .arg(format!("{}=x", chart.display()))
        .arg("--inline")
        .arg(format!("{}=x", other.display())));
    twice.assert_code(64);
    says(&twice, &["other.png", "Content-ID x"]);
    assert!(server.messages().is_empty());
}

#[test]
fn inline_parts_are_listed_by_dry_run() {
    let sandbox = Sandbox::new();
    sandbox.write("chart.png", PIXEL_PNG);
    let report = sandbox.write("report.md", "![chart](chart.png)\n");
    let mut command = sandbox.command();
    command
        .args([
            "--dry-run=readable",
            "-f",
            "a@example.org",
            "-t",
            "b@example.org",
        ])
        .arg("--markdown")
        .arg(&report);
    let shown = run(&mut command);
    shown.assert_code(0);
    assert!(
        shown
            .stdout
            .contains("--- inline chart.png as cid:chart.png, image/png, 70 bytes"),
        "{}",
        shown.stdout
    );
}

#[test]
fn attach_with_a_name_and_a_type_and_from_standard_input() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let log = sandbox.write("build-1234.out", "step 1 ok\nstep 2 ok\n");
    run_with_stdin(
        send_to(&sandbox, &server)
            .args(["-m", "logs attached", "-a"])
            .arg(format!("{};name=build.log;type=text/plain", log.display()))
            .args(["-a", "-;name=résumé.csv"]),
        Some(b"a,b\n1,2\n"),
    )
    .assert_code(0);

    let received = server.only_message();
    let message = received.parsed();
    assert_eq!(
        tree(&message),
        "multipart/mixed[text/plain,text/plain,text/csv]"
    );
    let first = message.attachment(0).unwrap();
    assert_eq!(first.attachment_name(), Some("build.log"));
    assert_eq!(first.contents(), b"step 1 ok\nstep 2 ok\n");
    let second = message.attachment(1).unwrap();
    assert_eq!(second.attachment_name(), Some("résumé.csv"));
    assert_eq!(second.contents(), b"a,b\n1,2\n");
}

#[test]
fn attach_a_glob_pattern_attaches_every_match_and_none_is_an_error() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    std::fs::create_dir_all(sandbox.path("reports")).unwrap();
    sandbox.write("reports/b.pdf", "%PDF-1.7 b");
    sandbox.write("reports/a.pdf", "%PDF-1.7 a");
    sandbox.write("reports/c.txt", "not me");
    let pattern = format!("{}/*.pdf", sandbox.path("reports").display());
    run(send_to(&sandbox, &server).args(["-m", "reports", "-a", &pattern])).assert_code(0);
    let received = server.only_message();
    let message = received.parsed();
    let names: Vec<_> = message
        .attachments()
        .map(|a| a.attachment_name().unwrap().to_string())
        .collect();
    assert_eq!(names, ["a.pdf", "b.pdf"]);

    let nothing = format!("{}/*.xml", sandbox.path("reports").display());
    let failed = run(send_to(&sandbox, &server).args(["-m", "reports", "-a", &nothing]));
    failed.assert_code(66);
    says(&failed, &["*.xml", "matches no file"]);
    let named = run(send_to(&sandbox, &server)
        .args(["-m", "x", "-a"])
        .arg(format!("{pattern};name=one.pdf")));
    named.assert_code(64);
    assert_eq!(server.messages().len(), 1, "nothing more was sent");
}

#[test]
fn attach_bad_values_are_usage_errors_and_nothing_is_sent() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let file = sandbox.write("data.bin", [0u8, 1, 2]);
    for (value, says) in [
        ("-".to_string(), "name="),
        (format!("{};type=csv", file.display()), "media type"),
    ] {
        let failed = run(send_to(&sandbox, &server).args(["-m", "x", "-a", &value]));
        failed.assert_code(64);
        assert!(failed.stderr.contains(says), "{value}: {}", failed.stderr);
    }
    // The body would come from standard input too.
    let both = run_with_stdin(
        send_to(&sandbox, &server).args(["-a", "-;name=x.txt"]),
        Some(b"body"),
    );
    both.assert_code(64);
    says(&both, &["standard input"]);
    assert!(server.messages().is_empty());
}

#[test]
fn attach_max_size_refuses_before_connecting() {
    let sandbox = Sandbox::new();
    let big = sandbox.write("big.bin", vec![7u8; 200_000]);
    let mut command = sandbox.command();
    // Nothing listens there: the refusal must come before any connection.
    command
        .args(send_args("smtp+plain", closed_port()))
        .args(["-f", "a@example.org", "-t", "b@example.org", "-m", "x"])
        .arg("-a")
        .arg(&big)
        .args(["--max-size", "100K"]);
    let failed = run(&mut command);
    failed.assert_code(65);
    says(&failed, &["--max-size 100.0 KiB", "big.bin"]);

    let server = MailServer::start(Encryption::None);
    run(send_to(&sandbox, &server)
        .args(["-m", "x", "-a"])
        .arg(&big)
        .env("SMTPSEND_MAX_SIZE", "1M"))
    .assert_code(0);
    assert_eq!(
        server
            .only_message()
            .parsed()
            .attachment(0)
            .unwrap()
            .contents()
            .len(),
        200_000
    );
}

const CI_TEMPLATE: &str = "Subject: Build {{ build }}: {{ status }}\nX-Build-Id: {{ env.BUILD_ID }}\n\n# Build {{ build }} is {{ status }}\n\nDetails: {{ env.BUILD_URL }}\n\\{{ not a placeholder }}\n";

#[test]
fn template_fills_subject_headers_and_a_markdown_body() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let template = sandbox.write("report.tmpl", CI_TEMPLATE);
    let mut command = sandbox.command();
    command
        .args(send_args("smtp+plain", server.port))
        .args(["-f", "ci@example.org", "-t", "team@example.org"])
        .arg("--template")
        .arg(&template)
        .args([
            "--var",
            "build=1234",
            "--var",
            "status=green ✓",
            "--markdown-body",
        ])
        .env("BUILD_ID", "b-77")
        .env("BUILD_URL", "https://ci.example.com/1234");
    run(&mut command).assert_code(0);

    let received = server.only_message();
    let message = received.parsed();
    assert_eq!(message.subject(), Some("Build 1234: green ✓"));
    assert_eq!(
        message.header_raw("X-Build-Id").map(str::trim),
        Some("b-77")
    );
    let text = message.body_text(0).unwrap().replace("\r\n", "\n");
    assert_eq!(
        text,
        "# Build 1234 is green ✓\n\nDetails: https://ci.example.com/1234\n{{ not a placeholder }}\n"
    );
    let html = message.body_html(0).unwrap();
    assert!(html.contains(">Build 1234 is green ✓</h1>"), "{html}");
}

#[test]
fn template_unknown_or_unset_variables_are_errors_and_nothing_is_sent() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let template = sandbox.write("report.tmpl", CI_TEMPLATE);
    let attempt = |vars: &[&str], env: &[(&str, &str)]| {
        let mut command = send_to(&sandbox, &server);
        command.arg("--template").arg(&template).args(vars);
        for (key, value) in env {
            command.env(key, value);
        }
        run(&mut command)
    };
    let unknown = attempt(
        &["--var", "build=1"],
        &[("BUILD_ID", "x"), ("BUILD_URL", "y")],
    );
    unknown.assert_code(64);
    says(&unknown, &["report.tmpl", "line 1", "{{ status }}"]);
    let unset = attempt(
        &["--var", "build=1", "--var", "status=ok"],
        &[("BUILD_ID", "x")],
    );
    unset.assert_code(64);
    says(&unset, &["line 6", "BUILD_URL is not set"]);
    // A value that would end the header field and start another is refused.
    let injected = attempt(
        &[
            "--var",
            "build=1\nBcc: eve@example.org",
            "--var",
            "status=ok",
        ],
        &[("BUILD_ID", "x"), ("BUILD_URL", "y")],
    );
    injected.assert_code(65);
    says(&injected, &["CR or LF"]);
    let missing = run(send_to(&sandbox, &server)
        .arg("--template")
        .arg(sandbox.path("none.tmpl")));
    missing.assert_code(66);
    says(&missing, &["none.tmpl"]);
    run(send_to(&sandbox, &server).args(["-m", "x", "--var", "a=b"])).assert_code(64);
    assert!(server.messages().is_empty());
}

/// Whether `message` carries a DKIM signature that verifies against `txt`, the record
/// `SELECTOR._domainkey.DOMAIN` would publish, as mail-auth's verifier says (a receiving MTA's
/// check; tests/rich/run.sh asks dkimpy too).
fn dkim_verifies(message: &[u8], name: &str, txt: &str) -> Result<(), String> {
    use mail_auth::common::parse::TxtRecordParser;
    use mail_auth::common::verify::DomainKey;
    use mail_auth::{AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters, Txt};
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// The one record a test publishes, as the verifier's DNS cache.
    struct Published(Mutex<HashMap<String, Txt>>);
    impl mail_auth::ResolverCache<String, Txt> for Published {
        fn get<Q>(&self, name: &Q) -> Option<Txt>
        where
            String: std::borrow::Borrow<Q>,
            Q: std::hash::Hash + Eq + ?Sized,
        {
            self.0.lock().unwrap().get(name).cloned()
        }
        fn remove<Q>(&self, name: &Q) -> Option<Txt>
        where
            String: std::borrow::Borrow<Q>,
            Q: std::hash::Hash + Eq + ?Sized,
        {
            self.0.lock().unwrap().remove(name)
        }
        fn insert(&self, key: String, value: Txt, _: std::time::Instant) {
            self.0.lock().unwrap().insert(key, value);
        }
    }
    let key = DomainKey::parse(txt.as_bytes()).map_err(|e| format!("record: {e}"))?;
    let published = Published(Mutex::new(HashMap::from([(
        name.to_string(),
        Txt::DomainKey(std::sync::Arc::new(key)),
    )])));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = runtime.block_on(async {
        let verifier = MessageAuthenticator::new(
            mail_auth::hickory_resolver::config::ResolverConfig::from_parts(None, vec![], vec![]),
            Default::default(),
        )
        .unwrap();
        let parsed = AuthenticatedMessage::parse(message).ok_or("not a message")?;
        let outputs = verifier
            .verify_dkim(Parameters::new(&parsed).with_txt_cache(&published))
            .await;
        Ok::<_, String>(
            outputs
                .iter()
                .map(|o| o.result().clone())
                .collect::<Vec<_>>(),
        )
    })?;
    match results.as_slice() {
        [DkimResult::Pass] => Ok(()),
        other => Err(format!("{other:?}")),
    }
}

/// A key pair for a test: the PEM private key's file and the TXT record of its public key.
fn dkim_keys(sandbox: &Sandbox, algorithm: &str) -> (std::path::PathBuf, String) {
    use base64::Engine;
    let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    match algorithm {
        "ed25519" => {
            let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
            let key = sandbox.write("ed25519.pem", pair.serialize_pem());
            // RFC 8463 3: the bare 32-octet public key.
            (
                key,
                format!("v=DKIM1; k=ed25519; p={}", encode(pair.public_key_raw())),
            )
        }
        _ => (
            // ring generates no RSA keys: a fixed test key, used nowhere else.
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/cli/fixtures/dkim-test-rsa.pem"),
            format!(
                "v=DKIM1; k=rsa; p={}",
                include_str!("fixtures/dkim-test-rsa.pub").trim()
            ),
        ),
    }
}

#[test]
fn dkim_signed_messages_verify_with_rsa_and_ed25519() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    sandbox.write("chart.png", PIXEL_PNG);
    let report = sandbox.write("report.md", "# Grüße ✓\n\n![chart](chart.png)\n");
    let log = sandbox.write("log.txt", "caf\u{e9}\n");
    for algorithm in ["rsa", "ed25519"] {
        let (key, txt) = dkim_keys(&sandbox, algorithm);
        run(send_to(&sandbox, &server)
            .arg("--markdown")
            .arg(&report)
            .arg("-a")
            .arg(&log)
            .arg("--dkim-key")
            .arg(&key)
            .args(["--dkim-selector", "ci2026"]))
        .assert_code(0);
        let received = server.messages().pop().unwrap();
        let raw = String::from_utf8_lossy(&received.data);
        assert!(raw.starts_with("DKIM-Signature: v=1; a="), "{raw}");
        let expected = format!("a={algorithm}-sha256;");
        assert!(raw.contains(&expected), "{raw}");
        assert!(
            raw.contains("d=example.org;") && raw.contains("s=ci2026;"),
            "{raw}"
        );
        dkim_verifies(&received.data, "ci2026._domainkey.example.org.", &txt)
            .unwrap_or_else(|e| panic!("{algorithm}: {e}\n{raw}"));
        // The CI job: the styled report, the chart in place, the log attached.
        let message = received.parsed();
        assert_eq!(
            tree(&message),
            "multipart/mixed[multipart/alternative[text/plain,multipart/related[text/html,image/png]],text/plain]"
        );
        assert_eq!(part_with_cid(&message, "chart.png").contents(), PIXEL_PNG);
        // Changed on the way, it no longer verifies.
        let tampered = raw.replacen("Subject: Nightly build", "Subject: Nightly b", 1);
        assert!(
            dkim_verifies(tampered.as_bytes(), "ci2026._domainkey.example.org.", &txt).is_err()
        );
    }
}

#[test]
fn dkim_comes_from_the_account_and_config_show_names_only_the_key_file() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let (key, txt) = dkim_keys(&sandbox, "ed25519");
    let pem = std::fs::read_to_string(&key).unwrap();
    let config = sandbox.write(
        "config.toml",
        format!(
            "default = \"ci\"\n[accounts.ci]\nserver = \"smtp+plain://localhost:{}\"\nfrom = \"ci@example.org\"\ndkim_key = \"{}\"\ndkim_selector = \"s1\"\ndkim_domain = \"mail.example.org\"\n",
            server.port,
            key.display()
        ),
    );
    let mut command = sandbox.command();
    command.arg("--config").arg(&config).args([
        "-t",
        "b@example.org",
        "-s",
        "signed",
        "-m",
        "hi",
        "-v",
    ]);
    let sent = run(&mut command);
    sent.assert_code(0);
    let received = server.only_message();
    dkim_verifies(&received.data, "s1._domainkey.mail.example.org.", &txt).unwrap();

    let mut show = sandbox.command();
    show.args(["config", "show", "--config"]).arg(&config);
    let shown = run(&mut show);
    shown.assert_code(0);
    assert!(
        shown.stdout.contains(&key.display().to_string()),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("mail.example.org"),
        "{}",
        shown.stdout
    );
    // The key material appears nowhere: not in -v, not in config show.
    let material: String = pem.lines().nth(1).unwrap().chars().take(24).collect();
    for output in [&sent.stdout, &sent.stderr, &shown.stdout, &shown.stderr] {
        assert!(!output.contains(&material), "{output}");
    }
}

#[test]
fn dkim_bad_settings_are_named_and_nothing_is_sent() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let (key, _) = dkim_keys(&sandbox, "ed25519");
    let no_selector = run(send_to(&sandbox, &server)
        .args(["-m", "x", "--dkim-key"])
        .arg(&key));
    no_selector.assert_code(78);
    says(&no_selector, &["selector"]);
    let missing = run(send_to(&sandbox, &server)
        .args(["-m", "x", "--dkim-selector", "s1", "--dkim-key"])
        .arg(sandbox.path("none.pem")));
    missing.assert_code(66);
    says(&missing, &["none.pem"]);
    let garbage = sandbox.write(
        "garbage.pem",
        "-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----\n",
    );
    let bad = run(send_to(&sandbox, &server)
        .args(["-m", "x", "--dkim-selector", "s1", "--dkim-key"])
        .arg(&garbage));
    bad.assert_code(78);
    assert!(
        bad.stderr.contains("garbage.pem") && !bad.stderr.contains("QUJD"),
        "{}",
        bad.stderr
    );
    let selector = run(send_to(&sandbox, &server)
        .args(["-m", "x", "--dkim-selector", "a b", "--dkim-key"])
        .arg(&key));
    selector.assert_code(64);
    assert!(server.messages().is_empty());
}

#[test]
fn dkim_dry_run_shows_the_signature_unfolded_on_one_line() {
    let sandbox = Sandbox::new();
    let (key, _) = dkim_keys(&sandbox, "ed25519");
    let mut command = sandbox.command();
    command
        .args([
            "--dry-run=readable",
            "-f",
            "a@example.org",
            "-t",
            "b@example.org",
        ])
        .args(["-m", "x", "--dkim-selector", "s1", "--dkim-key"])
        .arg(&key);
    let shown = run(&mut command);
    shown.assert_code(0);
    let line = shown
        .stdout
        .lines()
        .find(|line| line.starts_with("DKIM-Signature: v=1; a=ed25519-sha256;"))
        .unwrap_or_else(|| panic!("{}", shown.stdout));
    assert!(
        line.contains(" d=example.org;") && line.contains(" b="),
        "{line}"
    );
    assert!(!line.contains("\\u{d}"), "{line}");
}

#[test]
fn markdown_too_large_is_refused_before_it_is_read_whole() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let big = sandbox.path("huge.md");
    // Sparse: 17 MiB that cost no disk.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(17 << 20)
        .unwrap();
    let failed = run(send_to(&sandbox, &server).arg("--markdown").arg(&big));
    failed.assert_code(65);
    says(&failed, &["huge.md", "16 MiB"]);
    assert!(server.messages().is_empty());
}

/// msmtp's users asked for it: sendmail mode signs with the account's keys too.
#[test]
fn dkim_signs_in_sendmail_mode_with_the_accounts_keys() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::None);
    let (key, txt) = dkim_keys(&sandbox, "rsa");
    let config = sandbox.write(
        "config.toml",
        format!(
            "default = \"cron\"\n[accounts.cron]\nserver = \"smtp+plain://localhost:{}\"\nfrom = \"cron@example.org\"\ndkim_key = \"{}\"\ndkim_selector = \"host1\"\n",
            server.port,
            key.display()
        ),
    );
    let mut command = sandbox.command();
    command.args(["sendmail", "-t", "--config"]).arg(&config);
    run_with_stdin(
        &mut command,
        Some("From: Cron <cron@example.org>\nTo: admin@example.net\nSubject: backup done ✓\n\nall fine, café\n".as_bytes()),
    )
    .assert_code(0);
    let received = server.only_message();
    // Signed as 7-bit, so no relay's conversion can change it after.
    assert!(
        received.data.is_ascii(),
        "{}",
        String::from_utf8_lossy(&received.data)
    );
    assert_eq!(received.parsed().subject(), Some("backup done ✓"));
    dkim_verifies(&received.data, "host1._domainkey.example.org.", &txt)
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&received.data)));
}
