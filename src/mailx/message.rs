//! The message mailx hands to sendmail: To, Cc, Subject and the `-a` fields, then the body and
//! the attachments (`compose::body_with_attachments`). No From unless `-a From:` gives one, no
//! Bcc, no Date or Message-ID: the intake adds what is missing and keeps Bcc in the envelope.

use mail_builder::headers::Header;
use mail_builder::headers::address::Address as MimeAddress;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;

use super::flags::Mailx;
use crate::address::{Mailbox, parse_mailbox, split_list};
use crate::compose;
use crate::error::Error;
use crate::settings::reject_line_breaks;

/// What `build` made: the message, and the envelope the flags give it.
#[derive(Debug)]
pub struct Message {
    pub bytes: Vec<u8>,
    /// Every To, Cc and Bcc address, local names as given.
    pub recipients: Vec<String>,
    /// -r's address, or local name.
    pub sender: Option<String>,
    /// -r's display name.
    pub full_name: Option<String>,
}

/// Builds the message of `mailx` with `body`, reading the attachments.
pub fn build(mailx: &Mailx, body: &[u8]) -> Result<Message, Error> {
    let to = parties(&mailx.to, "mail: recipient")?;
    let cc = parties(&mailx.cc, "mail: -c")?;
    let bcc = parties(&mailx.bcc, "mail: -b")?;
    let from = mailx
        .from
        .as_deref()
        .map(|from| Party::parse(from, "mail: -r"))
        .transpose()?;

    let mut bytes = Vec::new();
    address_field(&mut bytes, "To", &to);
    if !cc.is_empty() {
        address_field(&mut bytes, "Cc", &cc);
    }
    if let Some(subject) = &mailx.subject {
        unstructured_field(&mut bytes, "Subject", subject);
    }
    for (name, value) in &mailx.headers {
        if ["From", "Reply-To", "Sender"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
        {
            let what = format!("mail: -a {name}");
            address_field(
                &mut bytes,
                name,
                &parties(std::slice::from_ref(value), &what)?,
            );
        } else {
            unstructured_field(&mut bytes, name, value);
        }
    }
    bytes.extend_from_slice(b"MIME-Version: 1.0\r\n");
    bytes.extend(compose::body_with_attachments(body, &mailx.attachments)?);

    let (sender, full_name) = match from {
        Some(Party::Mailbox(mailbox)) => (Some(mailbox.address), mailbox.name),
        Some(Party::Local(name)) => (Some(name), None),
        None => (None, None),
    };
    Ok(Message {
        bytes,
        recipients: to
            .iter()
            .chain(&cc)
            .chain(&bcc)
            .map(|party| party.envelope().to_string())
            .collect(),
        sender,
        full_name,
    })
}

/// A recipient or sender as mailx takes them: an address, `Name <addr>`, or a local name such
/// as `root`, which the intake completes through the aliases and the local domain.
#[derive(Debug, PartialEq, Eq)]
enum Party {
    Mailbox(Mailbox),
    Local(String),
}

impl Party {
    fn parse(item: &str, what: &str) -> Result<Party, Error> {
        reject_line_breaks(item, what)?;
        if item.contains('@') {
            return parse_mailbox(item, what).map(Party::Mailbox);
        }
        let atom = |b: u8| b.is_ascii_graphic() && !b"<>()[]:;,\"\\".contains(&b);
        if item.is_empty() || !item.bytes().all(atom) {
            return Err(Error::usage(format!(
                "{what}: {item:?} is neither an address nor a local name"
            )));
        }
        Ok(Party::Local(item.to_string()))
    }

    fn envelope(&self) -> &str {
        match self {
            Party::Mailbox(mailbox) => &mailbox.address,
            Party::Local(name) => name,
        }
    }

    /// As it stands in a header field: a display name encoded where it must be.
    fn header_text(&self) -> String {
        match self {
            Party::Mailbox(Mailbox {
                name: Some(name),
                address,
            }) => {
                let mut text = Vec::new();
                MimeAddress::new_address(Some(name.clone()), address.clone())
                    .write_header(&mut text, 0);
                String::from_utf8_lossy(&text).trim_end().to_string()
            }
            other => other.envelope().to_string(),
        }
    }
}

/// Every item of comma-separated lists.
fn parties(lists: &[String], what: &str) -> Result<Vec<Party>, Error> {
    lists
        .iter()
        .flat_map(|list| split_list(list))
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| Party::parse(item, what))
        .collect()
}

/// `Name: a, b, c`, folded before an item that would pass 78 characters (RFC 5322 2.1.1).
fn address_field(out: &mut Vec<u8>, name: &str, parties: &[Party]) {
    let mut line = format!("{name}:");
    for (index, party) in parties.iter().enumerate() {
        let text = party.header_text();
        if index > 0 {
            line.push(',');
        }
        let column = line.rsplit("\r\n").next().unwrap_or_default().len();
        if index > 0 && column + 1 + text.len() > 78 {
            line.push_str("\r\n");
        }
        line.push(' ');
        line.push_str(&text);
    }
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// A field of free text. Printable ASCII goes as it is, so a subject already in encoded words
/// (`=?utf-8?B?...?=`, as Icinga 2 sends it) is not encoded again; other text is encoded.
fn unstructured_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    let column = name.len() + 2;
    if value.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        Raw::new(value).write_header(out, column);
    } else {
        Text::new(value).write_header(out, column);
    }
}

#[cfg(test)]
mod tests {
    use mail_parser::{MessageParser, MimeHeaders};

    use super::*;

    fn mailx(to: &[&str]) -> Mailx {
        Mailx {
            to: to.iter().map(|t| t.to_string()).collect(),
            ..Mailx::default()
        }
    }

    fn text(message: &Message) -> String {
        String::from_utf8(message.bytes.clone()).unwrap()
    }

    #[test]
    fn local_names_and_addresses_stand_as_given_and_bcc_only_in_the_envelope() {
        let mut request = mailx(&["root", "Ops Team <ops@example.org>"]);
        request.cc = vec!["a@example.org, \"Doe, Jane\" <jane@example.org>".into()];
        request.bcc = vec!["hidden@example.org".into()];
        let message = build(&request, b"hi\n").unwrap();
        assert_eq!(
            message.recipients,
            [
                "root",
                "ops@example.org",
                "a@example.org",
                "jane@example.org",
                "hidden@example.org"
            ]
        );
        let raw = text(&message);
        assert!(
            raw.starts_with("To: root, \"Ops Team\" <ops@example.org>\r\n"),
            "{raw}"
        );
        assert!(!raw.contains("hidden"), "{raw}");
        assert!(
            !raw.contains("\r\nFrom:") && !raw.contains("Message-ID"),
            "{raw}"
        );
        let parsed = MessageParser::default().parse(&message.bytes).unwrap();
        let cc: Vec<_> = parsed.cc().unwrap().iter().map(|a| a.address()).collect();
        assert_eq!(cc, [Some("a@example.org"), Some("jane@example.org")]);
    }

    #[test]
    fn an_encoded_subject_stays_and_a_utf8_one_is_encoded() {
        let encoded = "=?utf-8?B?W1BST0JMRU1dIEhvc3QgZGIwMSDigJMgRE9XTiAoQ1JJVElDQUwpIGZvciBtb3JlIHRoYW4gZml2ZSBtaW51dGVz?=";
        let mut request = mailx(&["root"]);
        request.subject = Some(encoded.into());
        let message = build(&request, b"").unwrap();
        assert!(
            text(&message).contains(&format!("Subject: {encoded}\r\n")),
            "{}",
            text(&message)
        );
        let parsed = MessageParser::default().parse(&message.bytes).unwrap();
        assert_eq!(
            parsed.subject(),
            Some("[PROBLEM] Host db01 – DOWN (CRITICAL) for more than five minutes")
        );
        request.subject = Some("Grüße – Störung".into());
        let message = build(&request, b"").unwrap();
        assert!(text(&message).is_ascii());
        let parsed = MessageParser::default().parse(&message.bytes).unwrap();
        assert_eq!(parsed.subject(), Some("Grüße – Störung"));
    }

    #[test]
    fn dash_a_fields_and_dash_r() {
        let mut request = mailx(&["ops@example.org"]);
        request.headers = vec![
            ("From".into(), "Icinga Ä <icinga@example.com>".into()),
            ("Comments".into(), "1 (Höchste)".into()),
        ];
        request.from = Some("Monitor <mon@example.com>".into());
        let message = build(&request, b"down\n").unwrap();
        assert_eq!(message.sender.as_deref(), Some("mon@example.com"));
        assert_eq!(message.full_name.as_deref(), Some("Monitor"));
        let parsed = MessageParser::default().parse(&message.bytes).unwrap();
        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!(
            (from.name(), from.address()),
            (Some("Icinga Ä"), Some("icinga@example.com"))
        );
        assert_eq!(
            parsed.header("Comments").and_then(|h| h.as_text()),
            Some("1 (Höchste)")
        );
        request.from = Some("root".into());
        assert_eq!(
            build(&request, b"").unwrap().sender.as_deref(),
            Some("root")
        );
    }

    #[test]
    fn a_body_that_is_not_utf8_goes_as_it_is() {
        let body = b"Gr\xfc\xdfe aus dem Cron\n.\nnoch eine Zeile\n";
        let message = build(&mailx(&["root"]), body).unwrap();
        let raw = &message.bytes;
        let parsed = MessageParser::default().parse(raw).unwrap();
        let content_type = parsed.content_type().unwrap();
        assert_eq!(content_type.attribute("charset"), Some("unknown-8bit"));
        let marker = b"Content-Transfer-Encoding: 8bit\r\n";
        assert!(raw.windows(marker.len()).any(|w| w == marker));
        assert!(raw.ends_with(b"Gr\xfc\xdfe aus dem Cron\r\n.\r\nnoch eine Zeile\r\n"));
        let utf8 = build(&mailx(&["root"]), "Grüße\n".as_bytes()).unwrap();
        let parsed = MessageParser::default().parse(&utf8.bytes).unwrap();
        assert_eq!(
            parsed.content_type().unwrap().attribute("charset"),
            Some("utf-8")
        );
        assert_eq!(parsed.body_text(0).unwrap().trim_end(), "Grüße");
    }

    #[test]
    fn attachments_make_it_multipart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.bin");
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        std::fs::write(&path, &bytes).unwrap();
        let mut request = mailx(&["root"]);
        request.attachments = vec![path];
        let message = build(&request, b"see attached\n").unwrap();
        let parsed = MessageParser::default().parse(&message.bytes).unwrap();
        assert_eq!(parsed.body_text(0).unwrap().trim_end(), "see attached");
        let attachment = parsed.attachment(0).unwrap();
        assert_eq!(attachment.attachment_name(), Some("data.bin"));
        assert_eq!(attachment.contents(), bytes.as_slice());
    }

    #[test]
    fn names_that_are_no_address_are_refused() {
        for bad in ["two words", "a<b", "x@"] {
            assert!(build(&mailx(&["root", bad]), b"").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn long_lists_are_folded() {
        let many: Vec<String> = (0..8).map(|i| format!("someone{i}@example.org")).collect();
        let request = mailx(&[&many.join(",")]);
        let message = build(&request, b"").unwrap();
        let raw = text(&message);
        for line in raw.lines() {
            assert!(line.len() <= 78, "{line:?}");
        }
        let parsed = MessageParser::default().parse(&message.bytes).unwrap();
        assert_eq!(parsed.to().unwrap().iter().count(), 8);
    }
}
