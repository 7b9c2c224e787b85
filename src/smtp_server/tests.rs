use std::cell::RefCell;
use std::io::Read;

use super::*;

const ENVELOPE: &[u8] = b"MAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nDATA\r\n";

fn policy(auth: AuthRule) -> Policy {
    Policy {
        hostname: "relay.test".into(),
        limits: Limits::default(),
        auth,
        tls: None,
        relay_domains: Vec::new(),
        stop: None,
        memory: None,
        busy: None,
    }
}

/// A message received, its envelope and the login it came under.
type Kept = (Vec<u8>, Envelope, Option<String>);

/// Takes the login `grafana` / `s3cret` and keeps what it receives, with the login it came
/// under.
#[derive(Default)]
struct Keeper {
    received: RefCell<Vec<Kept>>,
}

impl Receiver for Keeper {
    fn authenticate(&self, user: &str, password: &Secret) -> bool {
        user == "grafana" && password.expose() == "s3cret"
    }

    fn receive(
        &self,
        message: &[u8],
        envelope: &Envelope,
        login: Option<&str>,
    ) -> Result<String, Error> {
        self.received.borrow_mut().push((
            message.to_vec(),
            envelope.clone(),
            login.map(str::to_string),
        ));
        Ok("Ok: queued as Q1".into())
    }
}

/// What a session under `policy` said to `input`, and what it received.
fn session_with(policy: &Policy, input: impl Read) -> (String, Keeper) {
    let keeper = Keeper::default();
    let mut output = Vec::new();
    let stream = Duplex {
        input,
        output: &mut output,
    };
    serve(Box::new(stream), policy, &keeper).unwrap();
    (String::from_utf8(output).unwrap(), keeper)
}

fn dialogue(input: impl Read) -> (String, Vec<Kept>) {
    let (output, keeper) = session_with(&policy(AuthRule::NotOffered), input);
    (output, keeper.received.into_inner())
}

/// The three-digit codes of the replies, the last line of each.
fn codes(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|l| l.as_bytes().get(3) == Some(&b' '))
        .map(|l| &l[..3])
        .collect()
}

#[test]
fn the_smtp_dialogue_receives_each_message() {
    let input = b"EHLO client\r\nMAIL FROM:<a@x.org> RET=HDRS ENVID=e1\r\nRCPT TO:<b@y.org> NOTIFY=FAILURE\r\nDATA\r\nSubject: t\r\n\r\n..dot\r\n.\r\nQUIT\r\n";
    let (output, received) = dialogue(&input[..]);
    assert!(
        output.starts_with("220 relay.test ESMTP ready\r\n"),
        "{output}"
    );
    for extension in ["PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 67108864", "DSN"] {
        assert!(output.contains(&format!("250-{extension}\r\n")), "{output}");
    }
    assert!(!output.contains("AUTH"), "{output}");
    assert!(
        output.contains("250 2.0.0 Ok: queued as Q1\r\n"),
        "{output}"
    );
    assert!(output.ends_with("221 2.0.0 Bye\r\n"));
    assert_eq!(received.len(), 1);
    let (data, envelope, login) = &received[0];
    assert_eq!(data, b"Subject: t\r\n\r\n.dot\r\n");
    assert_eq!(envelope.from, "a@x.org");
    assert_eq!(envelope.recipients, ["b@y.org"]);
    assert_eq!(
        envelope.dsn,
        Dsn {
            notify: Some("FAILURE".into()),
            envelope_id: Some("e1".into()),
            ret: Some("HDRS".into()),
        }
    );
    assert_eq!(login, &None);
}

#[test]
fn a_failed_receipt_becomes_the_matching_reply() {
    let input = b"HELO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n";
    for (kind, reply) in [
        (Kind::Temporary, "451 4.3.0 cannot store"),
        (Kind::BadMessage, "554 5.3.0 cannot store"),
    ] {
        let mut output = Vec::new();
        let stream = Duplex {
            input: &input[..],
            output: &mut output,
        };
        let failing = |_: &[u8], _: &Envelope| Err(Error::new(kind, "cannot store"));
        serve(Box::new(stream), &policy(AuthRule::NotOffered), &failing).unwrap();
        assert!(String::from_utf8(output).unwrap().contains(reply));
    }
}

#[test]
fn only_crlf_dot_crlf_ends_the_data_of_a_session() {
    let smuggled = [
        ENVELOPE,
        b"Subject: s\r\n\r\nx\n.\nMAIL FROM:<evil@x.org>\nRCPT TO:<victim@y.org>\nDATA\n\nSMUGGLED\n.\n\r\n.\r\nQUIT\r\n",
    ]
    .concat();
    let (output, received) = dialogue(&smuggled[..]);
    assert_eq!(codes(&output), ["220", "250", "250", "354", "250", "221"]);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].1.recipients, ["b@y.org"]);
    assert!(received[0].0.ends_with(b"DATA\n\nSMUGGLED\n.\n\r\n"));
}

#[test]
fn data_over_the_limit_is_read_to_its_end_and_refused() {
    let endless = std::io::repeat(b'x').take(Limits::default().message_size as u64 + 10);
    let (output, received) = dialogue(
        ENVELOPE
            .chain(endless)
            .chain(&b"\r\n.\r\nNOOP\r\nQUIT\r\n"[..]),
    );
    assert!(received.is_empty());
    assert_eq!(
        codes(&output),
        ["220", "250", "250", "354", "552", "250", "221"]
    );
    let (output, _) = dialogue(&b"MAIL FROM:<a@x.org> SIZE=99999999999\r\nQUIT\r\n"[..]);
    assert_eq!(codes(&output), ["220", "552", "221"], "{output}");
}

#[test]
fn bad_command_lines_get_a_reply_and_run_nothing() {
    let long = (&b"NOOP "[..])
        .chain(std::io::repeat(b'x').take(10_000_000))
        .chain(&b"\r\n"[..]);
    let (output, _) = dialogue(long.chain(&b"QUIT\r\n"[..]));
    assert_eq!(codes(&output), ["220", "500", "221"], "{output}");
    for bad in [
        &b"MAIL FROM:<a@x.org>\rRCPT TO:<victim@y.org>\r\n"[..],
        b"MAIL FROM:<a@x.org\xff>\r\n",
    ] {
        let (output, received) = dialogue(bad.chain(&b"RCPT TO:<b@y.org>\r\nQUIT\r\n"[..]));
        assert_eq!(codes(&output), ["220", "500", "503", "221"], "{output}");
        assert!(received.is_empty());
    }
}

#[test]
fn a_required_login_comes_before_mail_and_only_over_tls() {
    let plain = |user: &str, password: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
    };
    // Not encrypted: no AUTH offered, none taken, no mail.
    let input = format!(
        "EHLO c\r\nAUTH PLAIN {}\r\nMAIL FROM:<a@x.org>\r\nQUIT\r\n",
        plain("grafana", "s3cret")
    );
    let (output, keeper) = session_with(&policy(AuthRule::Required), input.as_bytes());
    assert!(!output.contains("AUTH"), "{output}");
    assert_eq!(
        codes(&output),
        ["220", "250", "538", "530", "221"],
        "{output}"
    );
    assert!(keeper.received.into_inner().is_empty());
    // Optional: offered and taken; the message carries the login.
    let input = format!(
        "EHLO c\r\nAUTH PLAIN {}\r\nAUTH PLAIN {}\r\n{}x\r\n.\r\nQUIT\r\n",
        plain("grafana", "wrong"),
        plain("grafana", "s3cret"),
        String::from_utf8_lossy(ENVELOPE)
    );
    let (output, keeper) = session_with(&policy(AuthRule::Optional), input.as_bytes());
    assert!(output.contains("250 AUTH PLAIN LOGIN\r\n"), "{output}");
    assert_eq!(
        codes(&output),
        [
            "220", "250", "535", "235", "250", "250", "354", "250", "221"
        ],
        "{output}"
    );
    assert_eq!(
        keeper.received.into_inner()[0].2.as_deref(),
        Some("grafana")
    );
    // LOGIN, by challenges; then three failures close the session.
    let b64 = |text: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(text)
    };
    let input = format!(
        "AUTH LOGIN\r\n{}\r\n{}\r\nQUIT\r\n",
        b64("grafana"),
        b64("s3cret")
    );
    let (output, _) = session_with(&policy(AuthRule::Optional), input.as_bytes());
    assert_eq!(
        codes(&output),
        ["220", "334", "334", "235", "221"],
        "{output}"
    );
    let wrong = format!("AUTH PLAIN {}\r\n", plain("grafana", "guess"));
    let (output, _) = session_with(&policy(AuthRule::Optional), wrong.repeat(5).as_bytes());
    assert_eq!(codes(&output), ["220", "535", "535", "421"], "{output}");
}

#[test]
fn limits_are_refused_with_their_codes() {
    let mut strict = policy(AuthRule::NotOffered);
    strict.limits = Limits {
        message_size: 100,
        recipients: 2,
        commands: 6,
    };
    strict.relay_domains = vec!["example.org".into()];
    let input = b"MAIL FROM:<a@x.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@sub.example.org>\r\nRCPT TO:<d@example.org>\r\nRCPT TO:<e@elsewhere.net>\r\nRCPT TO:<f@badexample.org>\r\nNOOP\r\nNOOP\r\n";
    let (output, _) = session_with(&strict, &input[..]);
    assert_eq!(
        codes(&output),
        ["220", "250", "250", "250", "452", "554", "554", "421"],
        "{output}"
    );
    assert!(
        output.contains("<e@elsewhere.net>: Relay access denied"),
        "{output}"
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::sendmail::strategies::{hostile, no_bare_line_breaks};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn the_dialogue_takes_any_bytes(input in hostile()) {
            let mut output = Vec::new();
            let relayed = std::cell::Cell::new(0);
            let counting = |data: &[u8], _: &Envelope| {
                relayed.set(relayed.get() + data.len());
                Ok("ok".into())
            };
            let stream = Duplex { input: &input[..], output: &mut output };
            let result = serve(Box::new(stream), &policy(AuthRule::Optional), &counting);
            prop_assert!(relayed.get() <= input.len());
            prop_assert!(output.starts_with(b"220 ") && output.ends_with(b"\r\n"));
            prop_assert!(no_bare_line_breaks(&output), "{:?}", String::from_utf8_lossy(&output));
            if let Err(error) = result {
                prop_assert_eq!(error.kind, Kind::Temporary);
            }
        }
    }
}

#[test]
fn message_data_beyond_the_shared_memory_is_refused_for_now() {
    let mut tight = policy(AuthRule::NotOffered);
    tight.memory = Some(Arc::new(DataBudget::new(10)));
    let big = [ENVELOPE, b"0123456789abcdef\r\n.\r\n"].concat();
    let small = [ENVELOPE, b"0123\r\n.\r\n"].concat();
    // What the refused message took is given back: the next one fits.
    let input = [&big[..], &small, &small, b"QUIT\r\n"].concat();
    let (output, keeper) = session_with(&tight, &input[..]);
    assert_eq!(
        codes(&output),
        [
            "220", "250", "250", "354", "452", "250", "250", "354", "250", "250", "250", "354",
            "250", "221"
        ],
        "{output}"
    );
    assert!(output.contains("452 4.3.1 "), "{output}");
    assert_eq!(keeper.received.into_inner().len(), 2);
}
