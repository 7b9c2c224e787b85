//! Messages the server cannot take as they are, converted on the way: to a scripted server
//! that offers neither 8BITMIME nor SMTPUTF8, and to the real one, which offers 8BITMIME.

use crate::support::*;

/// A server that offers SIZE and nothing that lets 8-bit octets through.
const SEVEN_BIT_EHLO: &str = "250-test\r\n250 SIZE 10000000\r\n";

/// The header and the body of a message, split at the blank line.
fn split(message: &[u8]) -> (&[u8], &[u8]) {
    let at = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a blank line");
    (&message[..at + 2], &message[at + 4..])
}

fn assert_seven_bit_in_short_lines(data: &[u8]) {
    assert!(data.is_ascii(), "{}", String::from_utf8_lossy(data));
    assert!(!data.contains(&0));
    assert!(
        data.split(|&b| b == b'\n').all(|line| line.len() <= 999),
        "a line over 998 octets"
    );
}

/// `smtpsend sendmail --server smtp+plain://localhost:PORT ARGS`.
fn sendmail_to(sandbox: &Sandbox, port: u16, args: &[&str]) -> std::process::Command {
    let mut command = sandbox.command();
    command
        .args(["sendmail", "--server"])
        .arg(format!("smtp+plain://localhost:{port}"))
        .args(args);
    command
}

fn mail_from(server: &ScriptedServer) -> String {
    server
        .heard()
        .into_iter()
        .find(|l| l.starts_with("MAIL FROM:"))
        .expect("MAIL FROM")
}

#[test]
fn sendmail_converts_a_cron_mail_for_a_server_without_8bitmime() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(happy(SEVEN_BIT_EHLO));
    let long_line = "é".repeat(1000);
    let body = [
        format!("backup ✓\n{long_line}\n").as_bytes(),
        b"latin-1: caf\xe9\n",
    ]
    .concat();
    let input = [
        "To: b@example.org\nSubject: Grüße ✓ from cron\nContent-Transfer-Encoding: binary\n\n"
            .as_bytes(),
        &body,
    ]
    .concat();
    let run = run_with_stdin(
        &mut sendmail_to(&sandbox, server.port, &["-f", "a@example.org", "-t"]),
        Some(&input),
    );
    run.assert_code(0);
    let data = server.data();
    assert_seven_bit_in_short_lines(&data);
    assert_eq!(
        mail_from(&server),
        format!("MAIL FROM:<a@example.org> SIZE={}", data.len())
    );
    let (header, encoded) = split(&data);
    let header = String::from_utf8_lossy(header);
    assert!(
        header.contains("Content-Transfer-Encoding: quoted-printable\r\n")
            && header.contains("Content-Type: text/plain; charset=unknown-8bit\r\n")
            && header.contains("MIME-Version: 1.0\r\n"),
        "{header}"
    );
    assert_eq!(decode_quoted_printable(encoded), crlf(&body));
    let message = mail_parser::MessageParser::default().parse(&data).unwrap();
    assert_eq!(message.subject(), Some("Grüße ✓ from cron"));
}

/// `bytes` with each LF made CRLF.
fn crlf(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .flat_map(|&b| {
            if b == b'\n' {
                vec![b'\r', b'\n']
            } else {
                vec![b]
            }
        })
        .collect()
}

#[test]
fn a_nul_in_the_body_sends_its_part_base64_even_with_8bitmime() {
    let server = MailServer::start(Encryption::None);
    let sandbox = Sandbox::new();
    let body = "a\0b ✓\n".as_bytes();
    let input = [b"To: b@example.org\nSubject: nul\n\n".as_slice(), body].concat();
    let run = run_with_stdin(
        &mut sendmail_to(&sandbox, server.port, &["-f", "a@example.org", "-t"]),
        Some(&input),
    );
    run.assert_code(0);
    let received = server.only_message();
    assert!(!received.data.contains(&0));
    let text = String::from_utf8_lossy(&received.data);
    assert!(
        text.contains("Content-Transfer-Encoding: base64\r\n"),
        "{text}"
    );
    assert_eq!(received.parsed().parts[0].contents(), crlf(body));
}

#[test]
fn a_body_that_is_not_utf8_goes_as_it_is_or_quoted_printable() {
    let sandbox = Sandbox::new();
    let body = b"caf\xe9 cr\xe8me\n";
    let file = sandbox.write("latin1.txt", body);
    let args = |port: u16| {
        let mut args = send_args("smtp+plain", port);
        args.extend(
            ["-f", "a@example.org", "-t", "b@example.org", "--body-file"].map(String::from),
        );
        args.push(file.to_string_lossy().into_owned());
        args
    };

    // A server with 8BITMIME gets the octets themselves.
    let server = MailServer::start(Encryption::None);
    let sent = run(sandbox.command().args(args(server.port)));
    sent.assert_code(0);
    assert!(
        sent.stderr.is_empty(),
        "no warning off a terminal: {}",
        sent.stderr
    );
    let received = server.only_message();
    let (header, sent_body) = split(&received.data);
    let header = String::from_utf8_lossy(header);
    assert!(
        header.contains("Content-Type: text/plain; charset=\"unknown-8bit\"")
            || header.contains("Content-Type: text/plain; charset=unknown-8bit"),
        "{header}"
    );
    assert!(
        header.contains("Content-Transfer-Encoding: 8bit\r\n"),
        "{header}"
    );
    assert_eq!(sent_body, crlf(body));

    // One without gets quoted-printable that decodes to them.
    let server = ScriptedServer::start(happy(SEVEN_BIT_EHLO));
    let run = run(sandbox.command().args(args(server.port)));
    run.assert_code(0);
    let data = server.data();
    assert_seven_bit_in_short_lines(&data);
    assert!(!mail_from(&server).contains("BODY="));
    let (header, encoded) = split(&data);
    let header = String::from_utf8_lossy(header);
    assert!(
        header.contains("Content-Transfer-Encoding: quoted-printable\r\n")
            && !header.contains("Content-Transfer-Encoding: 8bit"),
        "{header}"
    );
    assert_eq!(decode_quoted_printable(encoded), crlf(body));
}

#[test]
fn utf8_in_a_name_is_encoded_but_not_in_an_address() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(happy(SEVEN_BIT_EHLO));
    let input = "From: Jörg Müller <a@example.org>\nTo: b@example.org\nSubject: Grüße\n\nhi\n";
    let run = run_with_stdin(
        &mut sendmail_to(&sandbox, server.port, &["-t"]),
        Some(input.as_bytes()),
    );
    run.assert_code(0);
    let data = server.data();
    assert_seven_bit_in_short_lines(&data);
    let message = mail_parser::MessageParser::default().parse(&data).unwrap();
    assert_eq!(
        message.from().unwrap().first().unwrap().name(),
        Some("Jörg Müller")
    );
    assert_eq!(message.subject(), Some("Grüße"));

    let server = ScriptedServer::start(script([greeted_with(SEVEN_BIT_EHLO), listen()]));
    let input = "From: a@example.org\nTo: b@example.org\nCc: jörg@example.de\n\nhi\n";
    let run = run_with_stdin(
        &mut sendmail_to(&sandbox, server.port, &["b@example.org"]),
        Some(input.as_bytes()),
    );
    run.assert_code(69);
    assert!(
        run.stderr
            .contains("<jörg@example.de> in the Cc field needs SMTPUTF8"),
        "{}",
        run.stderr
    );
    assert!(!server.heard_command("MAIL"), "{:?}", server.heard());
}
