//! Faults a real server will not produce on demand, and the OAuth2 mechanisms and LMTP the
//! in-process server does not offer, played by a scripted server.
//!
//! Every test asserts the exit code, the one-line error on stderr and what the server heard.
//! The scripted server speaks plain TCP on loopback (`smtp+plain://`) unless TLS is the point.

use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

/// `send_args` with another `--timeout`.
fn server_args(scheme: &str, port: u16, timeout: u64) -> Vec<String> {
    let mut args = send_args(scheme, port);
    let at = args.iter().position(|a| a == "--timeout").unwrap() + 1;
    args[at] = timeout.to_string();
    args
}

/// The binary sending from a@example.org over plain TCP to `port`; no recipient, no body.
fn bare_send(sandbox: &Sandbox, port: u16) -> Command {
    let mut command = sandbox.command();
    command
        .args(send_args("smtp+plain", port))
        .args(["-f", "a@example.org"]);
    command
}

/// The common send: `-f a@example.org -t b@example.org -m hi` over plain TCP to `port`.
fn send(sandbox: &Sandbox, port: u16) -> Command {
    let mut command = bare_send(sandbox, port);
    command.args(["-t", "b@example.org", "-m", "hi"]);
    command
}

/// The error line on stderr, checked to be `smtpsend: ...` and the only thing said apart
/// from a hint.
fn error_line(run: &Run) -> &str {
    let mut lines = run.stderr.lines();
    let first = lines.next().unwrap_or_default();
    assert!(
        first.starts_with("smtpsend: ") && !first.starts_with("smtpsend: warning"),
        "stderr:\n{}",
        run.stderr
    );
    for rest in lines {
        assert!(
            rest.starts_with("smtpsend: hint: "),
            "only a hint may follow the error:\n{}",
            run.stderr
        );
    }
    first
}

/// What the server heard, once it has caught up with a client that has already exited.
fn heard(server: &ScriptedServer) -> Vec<String> {
    let mut last = server.heard();
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(25));
        let now = server.heard();
        if now == last {
            break;
        }
        last = now;
    }
    last
}

fn verbs(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            l.split([' ', ':'])
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase()
        })
        .collect()
}

fn count_verb(lines: &[String], verb: &str) -> usize {
    verbs(lines).iter().filter(|v| *v == verb).count()
}

#[test]
fn starttls_not_offered_sends_nothing() {
    let sandbox = Sandbox::new();
    let pki = Pki::localhost();
    let server = ScriptedServer::start(script([greeted(), listen()]));
    let run = run(sandbox
        .command()
        .args(send_args("smtp", server.port))
        .arg("--ca-file")
        .arg(&pki.ca_file)
        .args(["-f", "a@example.org", "-t", "b@example.org", "-m", "hi"]));
    run.assert_code(69);
    let error = error_line(&run);
    assert!(error.contains("does not offer STARTTLS"), "{error}");
    assert!(error.contains("nothing was sent"), "{error}");
    let heard = heard(&server);
    assert!(heard[0].starts_with("EHLO "), "{heard:?}");
    assert!(
        heard[1..].iter().all(|l| l.eq_ignore_ascii_case("QUIT")),
        "nothing but QUIT after EHLO: {heard:?}"
    );
    assert!(!server.heard_command("MAIL"));
    assert_eq!(server.connections(), 1);
}

#[test]
fn a_certificate_for_another_host_is_rejected() {
    let sandbox = Sandbox::new();
    let server = MailServer::start_with(
        Encryption::StartTls,
        Some(Pki::for_names(&["other.example"], false)),
    );
    let run = run(sandbox
        .command()
        .args(send_args("smtp", server.port))
        .arg("--ca-file")
        .arg(server.ca_file())
        .args(["-f", "a@example.org", "-t", "b@example.org", "-m", "hi"]));
    run.assert_code(69);
    let error = error_line(&run);
    assert!(
        error.contains("certificate of localhost was rejected: not valid for this host name"),
        "{error}"
    );
    assert!(error.contains("nothing was sent"), "{error}");
    assert!(server.messages().is_empty());
}

/// RFC 5280 4.2.1.3: a CA whose keyUsage lacks keyCertSign may not sign certificates, and a
/// chain through one is refused, as OpenSSL refuses it; with keyCertSign the same chain is good.
#[test]
fn an_intermediate_ca_without_key_cert_sign_is_rejected() {
    use rcgen::KeyUsagePurpose::{DigitalSignature, KeyCertSign};
    for (key_usages, code) in [
        (vec![KeyCertSign, DigitalSignature], 0),
        (vec![DigitalSignature], 69),
    ] {
        let sandbox = Sandbox::new();
        let server = MailServer::start_with(
            Encryption::Implicit,
            Some(Pki::through_intermediate(key_usages)),
        );
        let run = run(sandbox
            .command()
            .args(send_args("smtps", server.port))
            .arg("--ca-file")
            .arg(server.ca_file())
            .args(["--user", USER, "-t", "b@example.org", "-m", "hi"])
            .env("SMTPSEND_PASSWORD", PASSWORD));
        run.assert_code(code);
        if code == 0 {
            assert_eq!(server.only_message().recipients, ["b@example.org"]);
            continue;
        }
        let error = error_line(&run);
        assert!(
            error.contains(
                "the certificate of localhost was rejected: the intermediate CA \
                 CN=smtpsend test intermediate CA may not sign certificates: its keyUsage lacks \
                 keyCertSign (RFC 5280 4.2.1.3); nothing was sent"
            ),
            "{error}"
        );
        assert!(server.messages().is_empty());
    }
}

#[test]
fn a_slow_greeting_times_out() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        vec![Act::Pause(Duration::from_secs(3))],
        greeted(),
        listen(),
    ]));
    let started = Instant::now();
    let run = run(sandbox
        .command()
        .args(server_args("smtp+plain", server.port, 1))
        .args(["-f", "a@example.org", "-t", "b@example.org", "-m", "hi"]));
    let elapsed = started.elapsed();
    run.assert_code(75);
    assert!(elapsed < Duration::from_millis(2500), "took {elapsed:?}");
    let error = error_line(&run);
    assert!(error.contains("no greeting within 1 s"), "{error}");
    assert!(heard(&server).is_empty(), "nothing was said");
}

#[test]
fn the_deadline_bounds_a_reply_that_never_ends() {
    let sandbox = Sandbox::new();
    let mut acts = vec![Act::Say(GREETING), Act::Hear];
    // Twelve seconds of an EHLO reply, one line every 300 ms: each read is well within
    // --timeout, only --deadline can stop it.
    for _ in 0..40 {
        acts.push(Act::Say("250-x\r\n"));
        acts.push(Act::Pause(Duration::from_millis(300)));
    }
    acts.push(Act::Say("250 8BITMIME\r\n"));
    acts.extend(listen());
    let server = ScriptedServer::start(acts);
    let started = Instant::now();
    let run = run(sandbox
        .command()
        .args(server_args("smtp+plain", server.port, 5))
        .args(["--deadline", "2"])
        .args(["-f", "a@example.org", "-t", "b@example.org", "-m", "hi"]));
    let elapsed = started.elapsed();
    run.assert_code(75);
    let error = error_line(&run);
    assert!(error.contains("--deadline"), "{error}");
    assert!(
        elapsed < Duration::from_millis(3500),
        "took {elapsed:?}: {error}"
    );
    let heard = heard(&server);
    assert!(heard[0].starts_with("EHLO "), "{heard:?}");
    assert!(!server.heard_command("MAIL"), "{heard:?}");
}

#[test]
fn a_temporary_refusal_of_the_sender_is_temporary() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted(),
        vec![Act::Hear, Act::Say("451 4.3.0 try later\r\n")],
        listen(),
    ]));
    let run = run(&mut send(&sandbox, server.port));
    run.assert_code(75);
    let error = error_line(&run);
    assert!(
        error.contains("sender <a@example.org> refused: 451 4.3.0 try later"),
        "{error}"
    );
    let heard = heard(&server);
    assert_eq!(count_verb(&heard, "MAIL"), 1, "{heard:?}");
    assert_eq!(count_verb(&heard, "RCPT"), 0, "{heard:?}");
    assert_eq!(count_verb(&heard, "DATA"), 0, "{heard:?}");
}

/// MAIL, b@example.org accepted, c@example.org refused.
fn one_of_two_refused() -> Vec<Act> {
    vec![
        Act::Hear,
        Act::Say("250 2.1.0 Ok\r\n"),
        Act::Hear,
        Act::Say("250 2.1.5 Ok\r\n"),
        Act::Hear,
        Act::Say("550 5.1.1 <c@example.org>: Recipient address rejected\r\n"),
    ]
}

#[test]
fn one_refused_recipient_of_two_means_nothing_is_sent() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted(),
        one_of_two_refused(),
        vec![
            Act::Hear,
            Act::Say("250 2.0.0 Ok\r\n"),
            Act::Hear,
            Act::Say("221 bye\r\n"),
        ],
        listen(),
    ]));
    let run = run(send(&sandbox, server.port).args(["-t", "c@example.org"]));
    run.assert_code(67);
    let error = error_line(&run);
    assert!(
        error.contains("<c@example.org> (550 5.1.1 <c@example.org>: Recipient address rejected)"),
        "{error}"
    );
    assert!(error.contains("nothing was sent"), "{error}");
    assert!(!error.contains("<b@example.org>"), "{error}");
    assert!(run.stderr.contains("--allow-partial"), "{}", run.stderr);
    let heard = heard(&server);
    assert_eq!(
        verbs(&heard),
        ["EHLO", "MAIL", "RCPT", "RCPT", "RSET", "QUIT"],
        "{heard:?}"
    );
    assert!(!server.heard_command("DATA"));
}

#[test]
fn allow_partial_sends_to_the_accepted_recipient_and_reports_both() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted(),
        one_of_two_refused(),
        vec![Act::Hear, Act::Say("354 go\r\n")],
        data_accepted(),
        listen(),
    ]));
    let run =
        run(send(&sandbox, server.port).args(["-t", "c@example.org", "--allow-partial", "--json"]));
    run.assert_code(67);
    let error = error_line(&run);
    assert!(
        error.contains("<c@example.org> (550 5.1.1 <c@example.org>: Recipient address rejected)"),
        "{error}"
    );
    assert!(error.contains("sent to the others"), "{error}");

    let heard = heard(&server);
    assert_eq!(heard[2], "RCPT TO:<b@example.org>", "{heard:?}");
    assert_eq!(heard[3], "RCPT TO:<c@example.org>", "{heard:?}");
    assert_eq!(heard[4], "DATA", "{heard:?}");
    assert_eq!(heard.iter().filter(|l| *l == ".").count(), 1, "{heard:?}");
    assert!(!server.heard_command("RSET"), "{heard:?}");
    assert_eq!(heard.last().map(String::as_str), Some("QUIT"), "{heard:?}");

    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["status"], "partial", "{report}");
    assert_eq!(report["exit_code"], 67);
    let recipients = report["recipients"].as_array().unwrap();
    assert_eq!(recipients.len(), 2, "{report}");
    assert_eq!(recipients[0]["address"], "b@example.org");
    assert_eq!(recipients[0]["accepted"], true);
    assert_eq!(recipients[1]["address"], "c@example.org");
    assert_eq!(recipients[1]["accepted"], false);
    assert_eq!(recipients[1]["reply"]["code"], 550);
    assert_eq!(report["final_reply"]["code"], 250);
    assert_eq!(report["final_reply"]["queue_id"], "X");
}

#[test]
fn a_connection_dropped_in_the_middle_of_the_data_is_temporary() {
    let sandbox = Sandbox::new();
    // Far more than the socket buffers on both ends hold, so the client is still writing
    // when the server goes away.
    let line = "a line of a long message, long enough to take a while to send\n";
    let body = sandbox.write("body.txt", line.repeat(8 * 1024 * 1024 / line.len()));
    let server = ScriptedServer::start(script([
        greeted(),
        envelope_accepted(),
        vec![Act::HearBytes(1000), Act::Hang],
    ]));
    let started = Instant::now();
    let run = run(bare_send(&sandbox, server.port)
        .args(["-t", "b@example.org", "--body-file"])
        .arg(&body));
    let elapsed = started.elapsed();
    run.assert_code(75);
    let error = error_line(&run);
    assert!(
        error.contains("connection lost while sending the message")
            || error.contains("the server closed the connection while sending the message"),
        "{error}"
    );
    assert!(
        !error.contains("sent in full"),
        "the message was not sent in full: {error}"
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    let heard = heard(&server);
    assert_eq!(
        verbs(&heard[..4]),
        ["EHLO", "MAIL", "RCPT", "DATA"],
        "{heard:?}"
    );
    assert_eq!(heard.len(), 5, "then 1000 bytes of data: {heard:?}");
}

#[test]
fn the_deadline_bounds_writing_to_a_server_that_stops_reading() {
    let sandbox = Sandbox::new();
    // Far more than the socket buffers on both ends hold: the writes block once they are full.
    let line = "a line of a long message that the server will never read\n";
    let body = sandbox.write("body.txt", line.repeat(20 * 1024 * 1024 / line.len()));
    let server = ScriptedServer::start(script([
        greeted(),
        envelope_accepted(),
        vec![Act::Pause(Duration::from_secs(30))],
    ]));
    let started = Instant::now();
    let run = run(bare_send(&sandbox, server.port)
        .args(["--deadline", "2", "-t", "b@example.org", "--body-file"])
        .arg(&body));
    let elapsed = started.elapsed();
    run.assert_code(75);
    let error = error_line(&run);
    assert!(
        error.contains("--deadline reached while sending the message"),
        "{error}"
    );
    assert!(
        elapsed < Duration::from_secs(6),
        "took {elapsed:?}: {error}"
    );
}

#[test]
fn no_reply_after_the_final_dot_may_or_may_not_have_been_accepted() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted(),
        envelope_accepted(),
        vec![Act::HearData, Act::Hang],
    ]));
    let run = run(&mut send(&sandbox, server.port));
    run.assert_code(75);
    let error = error_line(&run);
    assert!(
        error.contains("the server closed the connection while sending the message"),
        "{error}"
    );
    assert!(
        error.contains("the server may or may not have accepted it"),
        "{error}"
    );
    let heard = heard(&server);
    assert_eq!(heard.last().map(String::as_str), Some("."), "{heard:?}");
    assert_eq!(count_verb(&heard, "DATA"), 1, "{heard:?}");
}

#[test]
fn no_reply_after_a_pipelined_bdat_last_may_or_may_not_have_been_accepted() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted_with("250-test\r\n250-PIPELINING\r\n250 CHUNKING\r\n"),
        hear(2),
        vec![Act::HearChunk, Act::Hang],
    ]));
    let run = run(send(&sandbox, server.port).arg("--queue"));
    run.assert_code(75);
    let error = error_line(&run);
    assert!(
        error.contains("the server closed the connection while MAIL FROM"),
        "{error}"
    );
    assert!(
        error.contains(
            "the message was sent in full but not confirmed: the server may or may not have \
             accepted it; queued as "
        ),
        "{error}"
    );
    let heard = heard(&server);
    assert_eq!(
        verbs(&heard)[..4],
        ["EHLO", "MAIL", "RCPT", "BDAT"],
        "{heard:?}"
    );
    assert!(heard[4].ends_with("hi\r\n"), "the whole message: {heard:?}");
}

#[test]
fn a_message_refused_after_the_data_is_bad_data() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted(),
        envelope_accepted(),
        vec![
            Act::HearData,
            Act::Say("554 5.7.1 Message rejected as spam\r\n"),
        ],
        listen(),
    ]));
    let run = run(&mut send(&sandbox, server.port));
    run.assert_code(65);
    let error = error_line(&run);
    assert!(
        error.contains("message refused: 554 5.7.1 Message rejected as spam"),
        "{error}"
    );
    let heard = heard(&server);
    assert_eq!(heard.iter().filter(|l| *l == ".").count(), 1, "{heard:?}");
    assert_eq!(count_verb(&heard, "MAIL"), 1, "nothing resent: {heard:?}");
    assert_eq!(count_verb(&heard, "DATA"), 1, "nothing resent: {heard:?}");
}

#[test]
fn a_554_greeting_is_permanent_and_a_421_greeting_temporary() {
    for (greeting, code, quoted) in [
        (
            "554 5.3.2 No SMTP service here\r\n",
            69,
            "554 5.3.2 No SMTP service here",
        ),
        (
            "421 4.3.2 Too busy, try later\r\n",
            75,
            "421 4.3.2 Too busy, try later",
        ),
    ] {
        let sandbox = Sandbox::new();
        let server = ScriptedServer::start(script([vec![Act::Say(greeting)], listen()]));
        let run = run(&mut send(&sandbox, server.port));
        run.assert_code(code);
        let error = error_line(&run);
        assert!(
            error.contains(&format!("the server turned us away: {quoted}")),
            "{error}"
        );
        let heard = heard(&server);
        assert!(
            heard.iter().all(|l| l.eq_ignore_ascii_case("QUIT")),
            "no EHLO, no MAIL: {heard:?}"
        );
    }
}

#[test]
fn control_characters_from_the_server_are_escaped() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted(),
        vec![
            Act::Hear,
            Act::Say("250 2.1.0 Ok\r\n"),
            Act::Hear,
            Act::Say("550 5.1.1 \x1b[31mred\r\n"),
            Act::Hear,
            Act::Say("250 2.0.0 Ok\r\n"),
            Act::Hear,
            Act::Say("221 bye\r\n"),
        ],
        listen(),
    ]));
    let run = run(&mut send(&sandbox, server.port));
    run.assert_code(67);
    let error = error_line(&run);
    assert!(
        error.contains(r"<b@example.org> (550 5.1.1 \u{1b}[31mred)"),
        "{error}"
    );
    assert!(
        !run.stderr.contains('\x1b') && !run.stdout.contains('\x1b'),
        "a raw ESC reached the terminal: {:?}",
        run.stderr
    );
    assert!(!server.heard_command("DATA"), "{:?}", heard(&server));
}

#[test]
fn a_server_speaking_garbage_is_a_protocol_error() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([vec![Act::Say("hello there\r\n")], listen()]));
    let run = run(&mut send(&sandbox, server.port));
    run.assert_code(76);
    let error = error_line(&run);
    assert!(
        error.contains(r#"unintelligible reply while waiting for the greeting: "hello there""#),
        "{error}"
    );
    let heard = heard(&server);
    assert!(
        heard.iter().all(|l| l.eq_ignore_ascii_case("QUIT")),
        "no EHLO, no MAIL: {heard:?}"
    );
}

#[test]
fn a_reply_without_end_is_a_protocol_error() {
    let sandbox = Sandbox::new();
    let endless: &'static str = "250-x\r\n".repeat(1000).leak();
    let server = ScriptedServer::start(script([
        vec![Act::Say(GREETING), Act::Hear, Act::Say(endless)],
        listen(),
    ]));
    let run = run(&mut send(&sandbox, server.port));
    run.assert_code(76);
    assert!(
        error_line(&run).contains("reply too long while EHLO"),
        "{}",
        run.stderr
    );
    assert!(!server.heard_command("MAIL"), "{:?}", heard(&server));
}

#[test]
fn a_non_ascii_local_part_needs_smtputf8() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([greeted(), listen()]));
    let run = run(bare_send(&sandbox, server.port).args(["-t", "jörg@example.de", "-m", "hi"]));
    run.assert_code(69);
    let error = error_line(&run);
    assert!(
        error.contains("<jörg@example.de> needs SMTPUTF8, which the server does not offer"),
        "{error}"
    );
    let heard = heard(&server);
    assert_eq!(verbs(&heard), ["EHLO", "QUIT"], "{heard:?}");
    assert!(!server.heard_command("MAIL"), "{heard:?}");
}

#[test]
fn a_non_ascii_local_part_is_sent_with_smtputf8_when_offered() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(happy("250-test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"));
    let run = run(bare_send(&sandbox, server.port).args(["-t", "jörg@example.de", "-m", "hi"]));
    run.assert_code(0);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert!(
        run.stdout.starts_with("250 2.0.0 Ok: queued as X"),
        "{}",
        run.stdout
    );
    let heard = heard(&server);
    // The To header carries the UTF-8 address, so the message is 8-bit too (RFC 6531 3.4).
    assert_eq!(
        heard[1], "MAIL FROM:<a@example.org> SMTPUTF8 BODY=8BITMIME",
        "{heard:?}"
    );
    assert_eq!(heard[2], "RCPT TO:<jörg@example.de>", "{heard:?}");
    assert_eq!(heard.last().map(String::as_str), Some("QUIT"), "{heard:?}");
}

#[test]
fn a_message_over_the_advertised_size_is_never_offered() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted_with("250-test\r\n250-SIZE 100\r\n250 8BITMIME\r\n"),
        listen(),
    ]));
    let run = run(&mut send(&sandbox, server.port));
    run.assert_code(65);
    let error = error_line(&run);
    assert!(
        error.contains("the server takes at most 100 bytes"),
        "{error}"
    );
    let heard = heard(&server);
    assert_eq!(verbs(&heard), ["EHLO", "QUIT"], "{heard:?}");
    assert!(!server.heard_command("MAIL"), "{heard:?}");
}

/// Sends `body` to a server with a SIZE limit; gives the size declared on MAIL FROM and the
/// size of what the server heard after 354: the data lines with their CRLF, without the
/// terminating dot (RFC 1870 section 6; nothing here needs dot-stuffing).
fn declared_and_sent_size(body: &str) -> (usize, usize) {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(happy("250-test\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n"));
    let run = run(bare_send(&sandbox, server.port).args(["-t", "b@example.org", "-m", body]));
    run.assert_code(0);
    let heard = heard(&server);
    let declared: usize = heard[1]
        .strip_prefix("MAIL FROM:<a@example.org> SIZE=")
        .unwrap_or_else(|| panic!("{heard:?}"))
        .parse()
        .unwrap_or_else(|_| panic!("{heard:?}"));
    assert_eq!(heard[3], "DATA", "{heard:?}");
    assert_eq!(heard[heard.len() - 2], ".", "{heard:?}");
    let data = &heard[4..heard.len() - 2];
    assert!(data.iter().all(|l| !l.starts_with('.')), "{heard:?}");
    (declared, data.iter().map(|l| l.len() + 2).sum())
}

#[test]
fn the_message_size_is_declared_when_the_server_has_a_limit() {
    let (declared, sent) = declared_and_sent_size("hi\n");
    assert!(declared > 0);
    assert_eq!(declared, sent, "SIZE= is what was sent");
}

#[test]
fn the_declared_size_is_what_goes_on_the_wire_for_a_body_without_a_final_newline() {
    let (declared, sent) = declared_and_sent_size("hi");
    assert_eq!(declared, sent, "SIZE= is what was sent");
}

#[test]
fn a_refused_connection_is_temporary() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let sandbox = Sandbox::new();
    let run = run(&mut send(&sandbox, port));
    run.assert_code(75);
    let error = error_line(&run);
    assert!(
        error.contains(&format!("cannot connect to localhost:{port}")),
        "{error}"
    );
    assert!(error.contains("connection refused"), "{error}");
}

// Issue 11: a name that does not exist is permanent (69); a resolver that cannot answer for
// now is temporary (75), told by getaddrinfo's code, which the unit tests in submit::connect map.
// The machine's own resolver says which of the two this machine gives: on one without a name
// server, getaddrinfo answers EAI_AGAIN, and then the send must be temporary.
#[test]
fn an_unknown_host_is_permanent_unless_the_resolver_cannot_answer() {
    let resolver = dns_lookup::getaddrinfo(Some("nonexistent.invalid"), None, None).map(drop);
    let no_answer =
        matches!(&resolver, Err(e) if matches!(e.kind(), dns_lookup::LookupErrorKind::Again));
    let sandbox = Sandbox::new();
    let run = run(sandbox.command().args([
        "--server",
        "smtps://nonexistent.invalid:465",
        "--timeout",
        "10",
        "-f",
        "a@example.org",
        "-t",
        "b@example.org",
        "-m",
        "hi",
    ]));
    let error = error_line(&run);
    if no_answer {
        run.assert_code(75);
        assert!(
            error.contains("cannot look up nonexistent.invalid"),
            "{error}"
        );
    } else {
        assert!(resolver.is_err(), "nonexistent.invalid resolved");
        run.assert_code(69);
        assert!(
            error.contains("unknown host nonexistent.invalid"),
            "{error}"
        );
    }
}

#[test]
fn lone_dots_and_bare_line_endings_in_the_body_cannot_end_the_data() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(happy(EHLO_REPLY));
    let run = run(bare_send(&sandbox, server.port).args([
        "-t",
        "b@example.org",
        "-m",
        "a\n.\nb\r.\r\nc\r\n.\r\nd",
    ]));
    run.assert_code(0);
    let heard = heard(&server);
    assert_eq!(count_verb(&heard, "MAIL"), 1, "{heard:?}");
    assert_eq!(count_verb(&heard, "RCPT"), 1, "{heard:?}");
    assert_eq!(count_verb(&heard, "DATA"), 1, "{heard:?}");

    let data_at = heard.iter().position(|l| l == "DATA").unwrap() + 1;
    let terminators: Vec<usize> = heard
        .iter()
        .enumerate()
        .filter(|(_, l)| *l == ".")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(terminators.len(), 1, "exactly one end of data: {heard:?}");
    let end = terminators[0];
    assert_eq!(heard[end + 1..], ["QUIT"], "{heard:?}");
    let data = &heard[data_at..end];
    for line in data {
        assert!(
            !line.starts_with('.') || line.starts_with(".."),
            "not dot-stuffed: {line:?} in {heard:?}"
        );
    }
    assert_eq!(
        data.iter().filter(|l| *l == "..").count(),
        3,
        "the three lone dots, stuffed: {heard:?}"
    );

    // Unstuffed, the data is the message with its body intact, line endings made CRLF.
    let mut message = String::new();
    for line in data {
        message.push_str(line.strip_prefix('.').unwrap_or(line));
        message.push_str("\r\n");
    }
    let parsed = mail_parser::MessageParser::default()
        .parse(message.as_bytes())
        .unwrap();
    assert_eq!(
        parsed.body_text(0).unwrap().trim_end(),
        "a\r\n.\r\nb\r\n.\r\nc\r\n.\r\nd"
    );
}

/// A dialogue in which the server offers OAuth2 mechanisms and takes the login.
fn oauth_accepted() -> Vec<Act> {
    script([
        greeted_with("250-test\r\n250 AUTH XOAUTH2 OAUTHBEARER\r\n"),
        vec![Act::Hear, Act::Say("235 2.7.0 Accepted\r\n")],
        envelope_accepted(),
        data_accepted(),
    ])
}

fn base64(bytes: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn an_account_token_command_logs_in_with_xoauth2() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(oauth_accepted());
    std::fs::create_dir_all(sandbox.path("config/smtpsend")).unwrap();
    sandbox.write(
        "config/smtpsend/config.toml",
        format!(
            "default = \"mail\"\n[accounts.mail]\nserver = \"smtp+plain://localhost:{}\"\n\
             user = \"alice@example.org\"\n\
             oauth2_token_command = \"echo '{{\\\"access_token\\\": \\\"tok123\\\", \\\"expires_in\\\": 3600}}'\"\n",
            server.port
        ),
    );
    let run = run(sandbox
        .command()
        .args(["-t", "b@example.org", "-m", "hi", "-v"]));
    run.assert_code(0);
    let expected = format!(
        "AUTH XOAUTH2 {}",
        base64("user=alice@example.org\x01auth=Bearer tok123\x01\x01")
    );
    assert!(heard(&server).contains(&expected), "{:?}", heard(&server));
    assert!(
        run.stderr.contains("password from oauth2_token_command"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("tok123"),
        "the token never shows: {}",
        run.stderr
    );
}

#[test]
fn oauthbearer_sends_the_rfc_7628_initial_response() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(oauth_accepted());
    let run = run(send(&sandbox, server.port)
        .args(["--user", "alice@example.org", "--auth", "oauthbearer"])
        .env("SMTPSEND_PASSWORD", "tok456"));
    run.assert_code(0);
    let expected = format!(
        "AUTH OAUTHBEARER {}",
        base64(&format!(
            "n,a=alice@example.org,\x01host=localhost\x01port={}\x01auth=Bearer tok456\x01\x01",
            server.port
        ))
    );
    assert!(heard(&server).contains(&expected), "{:?}", heard(&server));
}

#[test]
fn a_retired_password_login_is_explained() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted_with("250-test\r\n250 AUTH LOGIN PLAIN XOAUTH2\r\n"),
        vec![
            Act::Hear,
            Act::Say(
                "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [5.7.30]\r\n",
            ),
        ],
        listen(),
    ]));
    let run = run(send(&sandbox, server.port)
        .args(["--user", "alice@example.org"])
        .env("SMTPSEND_PASSWORD", "pw"));
    run.assert_code(77);
    assert!(error_line(&run).contains("535 5.7.139"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("hint: this server no longer accepts passwords"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--auth xoauth2"), "{}", run.stderr);
    assert_eq!(count_verb(&heard(&server), "MAIL"), 0);
}

/// Reads `n` commands before saying anything: a client that waited for a reply between them
/// would stall here until its timeout.
fn hear(n: usize) -> Vec<Act> {
    (0..n).map(|_| Act::Hear).collect()
}

#[test]
fn with_pipelining_the_envelope_and_data_go_in_one_flight() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted_with("250-test\r\n250 PIPELINING\r\n"),
        hear(3),
        vec![Act::Say("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n")],
        data_accepted(),
    ]));
    let started = Instant::now();
    let run = run(&mut send(&sandbox, server.port));
    run.assert_code(0);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "no stall waiting for replies"
    );
    assert_eq!(
        verbs(&heard(&server))[..4],
        ["EHLO", "MAIL", "RCPT", "DATA"]
    );
}

#[test]
fn with_chunking_the_whole_message_goes_with_the_envelope() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted_with("250-test\r\n250-PIPELINING\r\n250 CHUNKING\r\n"),
        hear(2),
        vec![
            Act::HearChunk,
            Act::Say("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: queued as C1\r\n"),
            Act::Hear,
        ],
    ]));
    let run = run(bare_send(&sandbox, server.port).args([
        "-t",
        "b@example.org",
        "-m",
        ".a line with a dot\n",
    ]));
    run.assert_code(0);
    assert!(
        run.stdout.starts_with("250 2.0.0 Ok: queued as C1"),
        "{}",
        run.stdout
    );
    let heard = heard(&server);
    let bdat = &heard[3];
    let chunk = &heard[4];
    assert_eq!(bdat, &format!("BDAT {} LAST", chunk.len()), "{heard:?}");
    assert!(
        chunk.contains("\r\n.a line with a dot\r\n"),
        "BDAT sends the message unstuffed: {chunk:?}"
    );
    assert_eq!(heard.last().map(String::as_str), Some("QUIT"));
}

#[test]
fn a_hundred_recipients_cost_one_round_trip() {
    let sandbox = Sandbox::new();
    let replies: &'static str = Box::leak(
        std::iter::once("250 2.1.0 Ok\r\n".to_string())
            .chain((0..100).map(|_| "250 2.1.5 Ok\r\n".to_string()))
            .collect::<String>()
            .into_boxed_str(),
    );
    let server = ScriptedServer::start(script([
        greeted_with("250-test\r\n250 PIPELINING\r\n"),
        hear(101),
        vec![Act::Say(replies), Act::Hear, Act::Say("354 go\r\n")],
        data_accepted(),
    ]));
    let recipients: Vec<String> = (0..100).map(|i| format!("r{i}@example.org")).collect();
    let run = run(bare_send(&sandbox, server.port)
        .args(["-m", "hi", "-t"])
        .arg(recipients.join(",")));
    run.assert_code(0);
    assert_eq!(count_verb(&heard(&server), "RCPT"), 100);
}

#[test]
fn a_3xx_to_rcpt_in_a_flight_sends_nothing() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted_with("250-test\r\n250 PIPELINING\r\n"),
        hear(3),
        vec![Act::Say("250 2.1.0 Ok\r\n354 go\r\n354 go\r\n")],
        listen(),
    ]));
    let run = run(&mut send(&sandbox, server.port));
    run.assert_code(76);
    let error = error_line(&run);
    assert!(
        error.contains(
            "1 recipient answered unexpectedly: <b@example.org> (354 go); nothing was sent"
        ),
        "{error}"
    );
    // After the 354 to DATA only dropping the connection keeps the message from going out.
    let heard = heard(&server);
    assert_eq!(verbs(&heard), ["EHLO", "MAIL", "RCPT", "DATA"], "{heard:?}");
}

#[test]
fn a_refused_sender_in_a_flight_keeps_the_dialogue_in_step() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted_with("250-test\r\n250 PIPELINING\r\n"),
        hear(3),
        vec![
            Act::Say(
                "550 5.7.1 Sender not allowed\r\n503 5.5.1 No sender\r\n503 5.5.1 No recipients\r\n",
            ),
            Act::Hear,
            Act::Say("221 bye\r\n"),
        ],
    ]));
    let run = run(&mut send(&sandbox, server.port));
    run.assert_code(65);
    assert!(
        error_line(&run).contains("550 5.7.1 Sender not allowed"),
        "{}",
        run.stderr
    );
    assert_eq!(
        verbs(&heard(&server)),
        ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"]
    );
}

// Issue 14: a server that takes only so many recipients per transaction answers the rest 452
// (RFC 5321 section 4.5.3.1.10): they follow in another transaction, and nobody is dropped.
#[test]
fn recipients_over_the_server_limit_go_in_another_transaction() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted(),
        vec![
            Act::Hear,
            Act::Say("250 2.1.0 Ok\r\n"),
            Act::Hear,
            Act::Say("250 2.1.5 Ok\r\n"),
            Act::Hear,
            Act::Say("250 2.1.5 Ok\r\n"),
            Act::Hear,
            Act::Say("452 4.5.3 Error: too many recipients\r\n"),
            Act::Hear,
            Act::Say("354 go\r\n"),
            Act::HearData,
            Act::Say("250 2.0.0 Ok: queued as A\r\n"),
        ],
        envelope_accepted(),
        data_accepted(),
    ]));
    let run = run(bare_send(&sandbox, server.port).args([
        "-t",
        "a@example.org,b@example.org,c@example.org",
        "-m",
        "hi",
        "--json",
    ]));
    run.assert_code(0);
    let heard = heard(&server);
    assert_eq!(
        verbs(&heard)
            .into_iter()
            .filter(|v| ["MAIL", "RCPT", "DATA"].contains(&v.as_str()))
            .collect::<Vec<_>>(),
        [
            "MAIL", "RCPT", "RCPT", "RCPT", "DATA", "MAIL", "RCPT", "DATA"
        ],
        "{heard:?}"
    );
    let second_rcpt = heard
        .iter()
        .filter(|l| l.starts_with("RCPT"))
        .nth(3)
        .unwrap();
    assert_eq!(second_rcpt, "RCPT TO:<c@example.org>");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let accepted: Vec<bool> = json["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["accepted"].as_bool().unwrap())
        .collect();
    assert_eq!(accepted, [true, true, true], "{}", run.stdout);
}

/// One transaction without PIPELINING: MAIL, `recipients` RCPTs and DATA accepted, the
/// message read and queued.
fn transaction_of(recipients: usize) -> Vec<Act> {
    let mut acts = vec![Act::Hear, Act::Say("250 2.1.0 Ok\r\n")];
    for _ in 0..recipients {
        acts.extend([Act::Hear, Act::Say("250 2.1.5 Ok\r\n")]);
    }
    acts.extend([
        Act::Hear,
        Act::Say("354 go\r\n"),
        Act::HearData,
        Act::Say("250 2.0.0 Ok: queued as X\r\n"),
    ]);
    acts
}

fn quit() -> Vec<Act> {
    vec![Act::Hear, Act::Say("221 bye\r\n")]
}

// A server that announces RCPTMAX (RFC 9422) gets no more recipients per transaction than it
// said, from the first transaction on: nothing is sent to it that it would have to put off.
#[test]
fn rcptmax_splits_the_recipients_before_anything_is_sent() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted_with("250-test\r\n250-8BITMIME\r\n250 LIMITS RCPTMAX=2 MAILMAX=10\r\n"),
        transaction_of(2),
        transaction_of(2),
        transaction_of(1),
        quit(),
    ]));
    let run = run(bare_send(&sandbox, server.port).args([
        "-t",
        "a@example.org,b@example.org,c@example.org,d@example.org,e@example.org",
        "-m",
        "hi",
        "--json",
    ]));
    run.assert_code(0);
    let heard = heard(&server);
    let envelope: Vec<&str> = heard
        .iter()
        .map(String::as_str)
        .filter(|l| l.starts_with("MAIL") || l.starts_with("RCPT"))
        .collect();
    assert_eq!(
        envelope,
        [
            "MAIL FROM:<a@example.org>",
            "RCPT TO:<a@example.org>",
            "RCPT TO:<b@example.org>",
            "MAIL FROM:<a@example.org>",
            "RCPT TO:<c@example.org>",
            "RCPT TO:<d@example.org>",
            "MAIL FROM:<a@example.org>",
            "RCPT TO:<e@example.org>",
        ],
        "{heard:?}"
    );
    assert_eq!(count_verb(&heard, "DATA"), 3, "{heard:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let recipients = json["recipients"].as_array().unwrap();
    assert_eq!(recipients.len(), 5, "{}", run.stdout);
    assert!(
        recipients.iter().all(|r| r["accepted"] == true),
        "{}",
        run.stdout
    );
}

// Kept for a later transaction by RCPTMAX and never reached: reported as not sent to, with
// the rest, and the exit status of the refusal that stopped it.
#[test]
fn recipients_kept_for_a_later_transaction_are_reported_when_the_first_fails() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted_with("250-test\r\n250 LIMITS RCPTMAX=1\r\n"),
        vec![
            Act::Hear,
            Act::Say("550 5.7.1 sender refused\r\n"),
            Act::Hear,
            Act::Say("250 ok\r\n"),
        ],
        listen(),
    ]));
    let run = run(bare_send(&sandbox, server.port).args([
        "-t",
        "a@example.org,b@example.org",
        "-m",
        "hi",
        "--json",
    ]));
    run.assert_code(65);
    let heard = heard(&server);
    assert_eq!(count_verb(&heard, "MAIL"), 1, "{heard:?}");
    assert!(!heard.iter().any(|l| l == "DATA"), "{heard:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let addresses: Vec<&str> = json["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["accepted"] == false)
        .map(|r| r["address"].as_str().unwrap())
        .collect();
    assert!(addresses.contains(&"b@example.org"), "{}", run.stdout);
}

// MAILMAX (RFC 9422): a batch of five over a server that takes two transactions per session
// goes in three sessions, each ended with QUIT, every message delivered and reported.
#[test]
fn mailmax_starts_a_new_session_for_the_rest_of_a_batch() {
    let sandbox = Sandbox::new();
    let ehlo = "250-test\r\n250-8BITMIME\r\n250 LIMITS MAILMAX=2\r\n";
    let session = |messages: usize| {
        let mut acts = greeted_with(ehlo);
        for _ in 0..messages {
            acts.extend(transaction_of(1));
        }
        acts.extend(quit());
        acts
    };
    let server = ScriptedServer::start_sessions(vec![session(2), session(2), session(1)]);
    let dir = sandbox.path("outgoing");
    std::fs::create_dir(&dir).unwrap();
    for n in 0..5 {
        std::fs::write(
            dir.join(format!("{n:02}.eml")),
            format!("From: a@example.org\nTo: r{n}@example.net\nSubject: m{n}\n\nbody {n}\n"),
        )
        .unwrap();
    }
    let run = run(sandbox
        .command()
        .arg("batch")
        .args(send_args("smtp+plain", server.port))
        .arg(&dir));
    run.assert_code(0);
    assert_eq!(server.connections(), 3, "{}", run.stderr);
    let heard = heard(&server);
    assert_eq!(count_verb(&heard, "EHLO"), 3, "{heard:?}");
    assert_eq!(count_verb(&heard, "QUIT"), 3, "{heard:?}");
    let rcpts: Vec<&str> = heard
        .iter()
        .map(String::as_str)
        .filter(|l| l.starts_with("RCPT"))
        .collect();
    assert_eq!(
        rcpts,
        (0..5)
            .map(|n| format!("RCPT TO:<r{n}@example.net>"))
            .collect::<Vec<_>>(),
        "{heard:?}"
    );
    assert_eq!(run.stdout.lines().count(), 5, "{}", run.stdout);
}

#[test]
fn check_shows_the_limits_a_server_announces() {
    let sandbox = Sandbox::new();
    let session = || {
        script([
            greeted_with("250-test\r\n250 LIMITS RCPTMAX=50 MAILMAX=3 RCPTDOMAINMAX=oops\r\n"),
            quit(),
        ])
    };
    let server = ScriptedServer::start_sessions(vec![session(), session()]);
    let check = |json: bool| {
        let mut command = sandbox.command();
        command
            .arg("check")
            .args(send_args("smtp+plain", server.port));
        if json {
            command.arg("--json");
        }
        run(&mut command)
    };
    let human = check(false);
    human.assert_code(0);
    assert!(
        human.stdout.lines().any(|l| l.starts_with("limits ")
            && l.ends_with("at most 50 recipients per transaction, 3 transactions per session")),
        "{}",
        human.stdout
    );
    let json = check(true);
    json.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["limits"]["rcpt_max"], 50, "{json}");
    assert_eq!(json["limits"]["mail_max"], 3, "{json}");
    assert!(json["limits"].get("rcpt_domain_max").is_none(), "{json}");
}

/// A send over implicit TLS to a scripted server with `pki`'s certificate.
fn tls_send(sandbox: &Sandbox, pki: &Pki, port: u16) -> Command {
    let mut command = sandbox.command();
    command
        .args(send_args("smtps", port))
        .arg("--ca-file")
        .arg(&pki.ca_file)
        .args(["-f", "a@example.org", "-t", "b@example.org", "-m", "hi"]);
    command
}

const REQUIRETLS_OFFERED: &str = "250-test\r\n250-8BITMIME\r\n250 REQUIRETLS\r\n";

// RFC 8689 section 4.1: with REQUIRETLS offered, MAIL FROM asks for it.
#[test]
fn require_tls_asks_for_requiretls_in_mail_from() {
    let sandbox = Sandbox::new();
    let pki = Pki::localhost();
    let server = ScriptedServer::start_tls(&pki, vec![happy(REQUIRETLS_OFFERED)]);
    let run = run(tls_send(&sandbox, &pki, server.port).arg("--require-tls"));
    run.assert_code(0);
    let heard = heard(&server);
    assert!(
        heard
            .iter()
            .any(|l| l == "MAIL FROM:<a@example.org> REQUIRETLS"),
        "{heard:?}"
    );
}

#[test]
fn require_tls_to_a_server_without_requiretls_sends_nothing() {
    let sandbox = Sandbox::new();
    let pki = Pki::localhost();
    let server = ScriptedServer::start_tls(&pki, vec![script([greeted(), listen()])]);
    let run = run(tls_send(&sandbox, &pki, server.port).arg("--require-tls"));
    run.assert_code(69);
    let error = error_line(&run);
    assert!(
        error.contains("does not offer REQUIRETLS") && error.contains("nothing was sent"),
        "{error}"
    );
    let heard = heard(&server);
    assert_eq!(verbs(&heard), ["EHLO", "QUIT"], "{heard:?}");
}

#[test]
fn require_tls_never_goes_over_plain_text() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(happy("250-test\r\n250 REQUIRETLS\r\n"));
    let run = run(send(&sandbox, server.port).arg("--require-tls"));
    run.assert_code(69);
    assert!(
        error_line(&run).contains("--require-tls needs TLS"),
        "{}",
        run.stderr
    );
    assert_eq!(server.connections(), 0);

    let both = run_with_stdin(
        send(&sandbox, server.port).args(["--require-tls", "--ignore-tls-policy"]),
        None,
    );
    both.assert_code(64);
}

// --require-tls holds for a message the outbox kept: the flush asks for it too.
#[test]
fn require_tls_is_kept_with_a_queued_message() {
    let sandbox = Sandbox::new();
    let pki = Pki::localhost();
    let server = ScriptedServer::start_tls(
        &pki,
        vec![
            vec![Act::Say("421 4.3.2 busy, try later\r\n"), Act::Hear],
            happy(REQUIRETLS_OFFERED),
        ],
    );
    let queued = run(tls_send(&sandbox, &pki, server.port).args(["--require-tls", "--queue"]));
    queued.assert_code(75);
    let flushed = run(sandbox.command().args(["queue", "flush", "--now"]));
    flushed.assert_code(0);
    let heard = heard(&server);
    assert!(
        heard
            .iter()
            .any(|l| l == "MAIL FROM:<a@example.org> REQUIRETLS"),
        "{heard:?}\n{}",
        flushed.stderr
    );
}

#[test]
fn an_account_can_require_tls() {
    let sandbox = Sandbox::new();
    let pki = Pki::localhost();
    let server = ScriptedServer::start_tls(&pki, vec![script([greeted(), listen()])]);
    std::fs::create_dir_all(sandbox.path("config/smtpsend")).unwrap();
    sandbox.write(
        "config/smtpsend/config.toml",
        format!(
            "[accounts.strict]\nserver = \"smtps://localhost:{}\"\nca_file = \"{}\"\n\
             from = \"a@example.org\"\nrequire_tls = true\ntimeout = 10\n",
            server.port,
            pki.ca_file.display()
        ),
    );
    let sent =
        run(sandbox
            .command()
            .args(["--account", "strict", "-t", "b@example.org", "-m", "hi"]));
    sent.assert_code(69);
    assert!(
        error_line(&sent).contains("does not offer REQUIRETLS"),
        "{}",
        sent.stderr
    );
    assert!(!heard(&server).iter().any(|l| l.starts_with("MAIL")));

    let shown = run(sandbox.command().args(["config", "show", "strict"]));
    shown.assert_code(0);
    assert!(
        shown
            .stdout
            .lines()
            .any(|l| l.split_whitespace().take(2).eq(["require_tls", "true"])
                && l.contains("(account strict)")),
        "{}",
        shown.stdout
    );
    let garbled = run(sandbox
        .command()
        .env("SMTPSEND_REQUIRE_TLS", "maybe")
        .args(["config", "show", "strict"]));
    garbled.assert_code(78);
    assert!(
        garbled.stderr.contains("SMTPSEND_REQUIRE_TLS"),
        "{}",
        garbled.stderr
    );
}

// RFC 8689 section 5: the sender's request that recipient-side TLS policy be ignored.
#[test]
fn ignore_tls_policy_adds_the_tls_required_no_field() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(happy(EHLO_REPLY));
    let run = run(send(&sandbox, server.port).arg("--ignore-tls-policy"));
    run.assert_code(0);
    let data = String::from_utf8(server.data()).unwrap();
    let header = data.split("\r\n\r\n").next().unwrap();
    assert!(header.lines().any(|l| l == "TLS-Required: No"), "{header}");
    assert!(!heard(&server).iter().any(|l| l.contains("REQUIRETLS")));
}

/// The sender, the recipient and the body of `send`, for a send spelled otherwise.
const MESSAGE: [&str; 6] = ["-f", "a@example.org", "-t", "b@example.org", "-m", "hi"];

/// A server of before ESMTP: EHLO is a command it does not know (RFC 5321 section 3.2).
const EHLO_UNKNOWN: &str = "502 5.5.2 Error: command not recognized\r\n";

#[test]
fn a_helo_only_server_is_greeted_with_helo_when_nothing_needs_an_extension() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        vec![Act::Say(GREETING), Act::Hear, Act::Say(EHLO_UNKNOWN)],
        vec![Act::Hear, Act::Say("250 test\r\n")],
        envelope_accepted(),
        data_accepted(),
    ]));
    let run = run(send(&sandbox, server.port).args(["--ehlo-name", "client.example.org"]));
    run.assert_code(0);
    let heard = heard(&server);
    assert_eq!(
        heard[..3],
        [
            "EHLO client.example.org",
            "HELO client.example.org",
            "MAIL FROM:<a@example.org>"
        ],
        "{heard:?}"
    );
}

#[test]
fn a_server_refusing_ehlo_is_refused_when_starttls_or_auth_needs_it() {
    for (scheme, login) in [("smtp", false), ("smtp+plain", true)] {
        let sandbox = Sandbox::new();
        let server = ScriptedServer::start(script([
            vec![Act::Say(GREETING), Act::Hear, Act::Say(EHLO_UNKNOWN)],
            listen(),
        ]));
        let mut command = sandbox.command();
        command.args(send_args(scheme, server.port)).args(MESSAGE);
        if login {
            command
                .args(["--user", "a"])
                .env("SMTPSEND_PASSWORD", "secret");
        }
        let run = run(&mut command);
        run.assert_code(69);
        let error = error_line(&run);
        let needs = if login {
            "AUTH needs it"
        } else {
            "STARTTLS needs it"
        };
        assert!(
            error.contains(&format!(
                "the server does not speak ESMTP (EHLO refused: 502 5.5.2 Error: command not \
                 recognized); {needs}"
            )),
            "{error}"
        );
        let heard = heard(&server);
        assert!(
            heard[1..].iter().all(|l| l.eq_ignore_ascii_case("QUIT")),
            "no HELO, nothing after EHLO: {heard:?}"
        );
    }
}

#[test]
fn the_ehlo_name_comes_from_the_environment_and_the_account() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(happy(EHLO_REPLY));
    let by_env = run(send(&sandbox, server.port).env("SMTPSEND_EHLO_NAME", "env.example.org"));
    by_env.assert_code(0);
    assert_eq!(heard(&server)[0], "EHLO env.example.org");

    let server = ScriptedServer::start(happy(EHLO_REPLY));
    std::fs::create_dir_all(sandbox.path("config/smtpsend")).unwrap();
    sandbox.write(
        "config/smtpsend/config.toml",
        format!(
            "[accounts.a]\nserver = \"smtp+plain://localhost:{}\"\nhello_name = \"[192.0.2.1]\"\n\
             ip_family = \"4\"\nsource_address = \"127.0.0.1\"\n",
            server.port
        ),
    );
    let by_account = run(sandbox.command().args(["--account", "a"]).args(MESSAGE));
    by_account.assert_code(0);
    assert_eq!(heard(&server)[0], "EHLO [192.0.2.1]");

    run(sandbox
        .command()
        .args(["--ehlo-name", "bad name", "--dry-run"]))
    .assert_code(64);
}

#[test]
fn check_warns_when_the_server_dislikes_the_ehlo_name() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        vec![
            Act::Say(GREETING),
            Act::Hear,
            Act::Say("501 5.5.4 Invalid EHLO argument\r\n"),
        ],
        vec![Act::Hear, Act::Say("250 test\r\n")],
        listen(),
    ]));
    let run = run(sandbox.command().args([
        "check",
        "--server",
        &format!("smtp+plain://localhost:{}", server.port),
        "--ehlo-name",
        "localhost",
    ]));
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("HELO localhost (EHLO refused: 501 5.5.4 Invalid EHLO argument)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(
            "smtpsend: warning: the server seems to dislike the name localhost given in EHLO"
        ),
        "{}",
        run.stderr
    );
    let heard = heard(&server);
    assert_eq!(
        heard[..2],
        ["EHLO localhost", "HELO localhost"],
        "{heard:?}"
    );
}

#[test]
fn the_ip_family_and_the_source_address_choose_the_addresses_tried() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(happy(EHLO_REPLY));
    let run_from = |extra: &[&str], port: u16| run(send(&sandbox, port).args(extra).arg("-v"));
    // localhost has 127.0.0.1 whatever else it has; the server listens there.
    let sent = run_from(&["-4", "--source-address", "127.0.0.1"], server.port);
    sent.assert_code(0);
    assert!(
        !sent.stderr.contains("connecting to [::1]"),
        "{}",
        sent.stderr
    );
    assert!(server.heard_command("MAIL"));

    let mut literal = sandbox.command();
    literal
        .args(["--server", "smtp+plain://127.0.0.1:25", "-6"])
        .args(MESSAGE);
    let refused = run(&mut literal);
    refused.assert_code(69);
    assert!(
        error_line(&refused).contains("127.0.0.1 has no IPv6 address, and IPv6 only was asked for"),
        "{}",
        refused.stderr
    );

    let elsewhere = run(send(&sandbox, closed_port()).args(["--source-address", "192.0.2.9"]));
    elsewhere.assert_code(78);
    assert!(
        error_line(&elsewhere).contains("cannot connect from the source address 192.0.2.9"),
        "{}",
        elsewhere.stderr
    );

    let bad = run(sandbox
        .command()
        .env("SMTPSEND_IP_FAMILY", "5")
        .args(["--server", "smtp+plain://127.0.0.1:25"])
        .args(MESSAGE));
    bad.assert_code(78);
    assert!(
        error_line(&bad).contains("SMTPSEND_IP_FAMILY"),
        "{}",
        bad.stderr
    );
}

/// LMTP: LHLO, two recipients taken at RCPT, the message, then this reply for each mailbox.
fn lmtp_dialogue(mailbox_replies: [&'static str; 2]) -> Vec<Act> {
    script([
        vec![
            Act::Say("220 lmtp ready\r\n"),
            Act::Hear,
            Act::Say("250-lmtp\r\n250 ENHANCEDSTATUSCODES\r\n"),
            Act::Hear,
            Act::Say("250 2.1.0 Ok\r\n"),
            Act::Hear,
            Act::Say("250 2.1.5 Ok\r\n"),
            Act::Hear,
            Act::Say("250 2.1.5 Ok\r\n"),
            Act::Hear,
            Act::Say("354 go\r\n"),
            Act::HearData,
            Act::Say(mailbox_replies[0]),
        ],
        match mailbox_replies[1] {
            "" => vec![Act::Hang],
            reply => vec![Act::Say(reply)],
        },
        listen(),
    ])
}

fn lmtp_send(sandbox: &Sandbox, port: u16) -> Command {
    let mut command = sandbox.command();
    command
        .args(send_args("lmtp+plain", port))
        .args(["-f", "a@example.org", "-t", "b@example.org"])
        .args(["-t", "c@example.org", "-m", "hi", "--json"]);
    command
}

#[test]
fn an_lmtp_mailbox_that_defers_after_the_message_is_that_recipient_deferred() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(lmtp_dialogue([
        "250 2.0.0 <b@example.org> saved\r\n",
        "452 4.2.2 <c@example.org> mailbox full\r\n",
    ]));
    let run = run(&mut lmtp_send(&sandbox, server.port));
    run.assert_code(75);
    let error = error_line(&run);
    assert!(
        error.contains(
            "1 recipient deferred: <c@example.org> (452 4.2.2 <c@example.org> mailbox full)"
        ),
        "{error}"
    );
    assert!(error.contains("sent to the others"), "{error}");
    let heard = heard(&server);
    assert!(heard[0].starts_with("LHLO "), "{heard:?}");
    assert!(!server.heard_command("EHLO"), "{heard:?}");
    assert_eq!(heard.last().map(String::as_str), Some("QUIT"), "{heard:?}");

    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let recipients = report["recipients"].as_array().unwrap();
    assert_eq!(recipients[0]["accepted"], true, "{report}");
    assert_eq!(recipients[0]["reply"]["code"], 250, "{report}");
    assert_eq!(recipients[1]["accepted"], false, "{report}");
    assert_eq!(recipients[1]["reply"]["code"], 452, "{report}");
    assert_eq!(report["server"]["protocol"], "lmtp", "{report}");
}

#[test]
fn an_lmtp_server_that_hangs_up_between_mailbox_replies_leaves_the_message_unconfirmed() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(lmtp_dialogue(["250 2.0.0 <b@example.org> saved\r\n", ""]));
    let run = run(&mut lmtp_send(&sandbox, server.port));
    run.assert_code(75);
    let error = error_line(&run);
    assert!(error.contains("may or may not have accepted it"), "{error}");
    assert_eq!(heard(&server).iter().filter(|l| *l == ".").count(), 1);
}

#[test]
fn a_server_that_wants_a_client_certificate_is_a_setting_to_fix_and_nothing_is_queued() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted_with("421 4.7.1 No client certificate presented\r\n"),
        listen(),
    ]));
    let sent = run(send(&sandbox, server.port).arg("--queue"));
    sent.assert_code(78);
    assert!(
        error_line(&sent).contains("No client certificate presented"),
        "{}",
        sent.stderr
    );
    assert!(sent.stderr.contains("--client-cert"), "{}", sent.stderr);
    let queued = run(sandbox.command().args(["queue", "list"]));
    queued.assert_code(0);
    assert!(
        !queued.stdout.contains("b@example.org"),
        "{}",
        queued.stdout
    );
}

#[test]
fn a_silent_server_on_a_unix_socket_times_out_without_a_hint_about_tls_ports() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("smtp.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let held = std::thread::spawn(move || {
        let (_client, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(3));
    });
    let mut command = sandbox.command();
    command.args(["--server", &format!("smtp+unix://{}", path.display())]);
    command.args([
        "--timeout",
        "1",
        "-f",
        "a@example.org",
        "-t",
        "b@example.org",
        "-m",
        "hi",
    ]);
    let silent = run(&mut command);
    silent.assert_code(75);
    assert!(
        error_line(&silent).contains("greeting"),
        "{}",
        silent.stderr
    );
    assert!(!silent.stderr.contains("smtps://"), "{}", silent.stderr);
    held.join().unwrap();
}
