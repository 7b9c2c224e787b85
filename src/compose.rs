//! Composing the message: read the bodies and attachments a `MessageSpec` names, then build the
//! MIME message with mail-builder in a pure function.
//!
//! The result is 7-bit clean apart from a non-ASCII address (which needs SMTPUTF8 anyway) and
//! a body that is not UTF-8: headers use encoded words, text bodies 7bit, quoted-printable or
//! base64 as mail-builder judges best, attachments base64 so their bytes survive exactly. A
//! body in no charset we know goes as it is, 8bit, for the session to convert when the server
//! lacks 8BITMIME (`content::downgrade`). Every line
//! ends in CRLF, so the bytes `--dry-run` prints are the bytes that go on the wire.
//! Nothing here touches the network or decides where the message goes.

use std::path::PathBuf;

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address as MimeAddress;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::mime::MimePart;

use crate::address::Mailbox;
use crate::clock;
use crate::content::markdown::MarkdownOptions;
use crate::content::{Content, crlf_line_endings};
use crate::error::{Error, Kind, io_reason};
use crate::terminal::size;

mod attach;
mod inline;
mod parts;
mod read;

pub use attach::{AttachmentSource, AttachmentSpec};
pub use inline::{ContentId, InlineSpec};

use parts::{body_part, canonical_text, placeholder, utf8_type, with_attachments};
use read::read_attachment;
pub use read::read_contents;

/// Where a body comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodySource {
    Text(String),
    File(PathBuf),
    /// Standard input, piped or named `-`.
    Stdin,
    /// Standard input is a terminal: the user types the body and ends it with Ctrl-D.
    Terminal,
    None,
}

/// A header given with `-H`, already checked: a valid name and a value without CR or LF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraHeader {
    pub name: String,
    pub value: String,
}

/// Everything the message is made of, as validated settings.
#[derive(Debug, Clone)]
pub struct MessageSpec {
    pub from: Mailbox,
    /// MAIL FROM; the From address unless `--envelope-from` says otherwise.
    pub envelope_from: String,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub bcc: Vec<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub subject: Option<String>,
    pub headers: Vec<ExtraHeader>,
    pub body: BodySource,
    pub html: Option<BodySource>,
    /// The body is Markdown, to be rendered as the HTML alternative (`html` is then None).
    pub markdown: Option<MarkdownOptions>,
    /// Parts the HTML shows in place by `cid:`, beyond the Markdown's own local images.
    pub inline: Vec<InlineSpec>,
    pub attachments: Vec<AttachmentSpec>,
    /// `--max-size`: a larger message is refused before anything connects.
    pub max_size: Option<u64>,
}

/// Who the message goes to, as the SMTP envelope says (RFC 5321 section 3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub from: String,
    pub recipients: Vec<String>,
    pub dsn: Dsn,
}

/// Delivery status notification requests (RFC 3461), sent only to servers that offer DSN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsn {
    /// NOTIFY for every recipient: NEVER, or a list of SUCCESS, FAILURE, DELAY.
    pub notify: Option<String>,
    /// ENVID: the sender's identifier for the message, echoed in notifications.
    pub envelope_id: Option<String>,
    /// RET: FULL or HDRS, how much of the message a failure notice returns.
    pub ret: Option<String>,
}

impl Envelope {
    pub fn needs_smtputf8(&self) -> bool {
        !self.from.is_ascii() || self.recipients.iter().any(|r| !r.is_ascii())
    }
}

/// A message ready to submit.
#[derive(Debug, Clone)]
pub struct Composed {
    pub envelope: Envelope,
    /// With its angle brackets, as in the header.
    pub message_id: String,
    pub content: Content,
}

/// An attachment found on disk. Its bytes are read when the message is sent, not before, so
/// its size costs no memory.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub file_name: String,
    pub content_type: String,
    pub data: AttachmentData,
    pub size: u64,
}

/// Where an attachment's bytes are.
#[derive(Debug, Clone)]
pub enum AttachmentData {
    /// Read while the message is written.
    File(PathBuf),
    /// Read already, from standard input (`-a -`), at most `attach::MAX_STDIN`.
    InMemory(Vec<u8>),
}

/// A text body as read: UTF-8, or octets in a charset nobody said, sent as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyText {
    Utf8(String),
    /// Labelled charset=unknown-8bit (RFC 1428).
    Unknown8bit(Vec<u8>),
}

impl BodyText {
    /// The text for a person to read: bytes that are not UTF-8 as U+FFFD.
    pub fn lossy(&self) -> std::borrow::Cow<'_, str> {
        match self {
            BodyText::Utf8(text) => text.as_str().into(),
            BodyText::Unknown8bit(bytes) => String::from_utf8_lossy(bytes),
        }
    }
}

/// A file the HTML shows in place, and the Content-ID it is referred to by.
#[derive(Debug, Clone)]
pub struct InlinePart {
    pub cid: ContentId,
    pub file: Attachment,
}

/// The inputs of a message once every file has been read.
#[derive(Debug, Clone)]
pub struct Contents {
    pub text: Option<BodyText>,
    pub html: Option<BodyText>,
    pub inline: Vec<InlinePart>,
    pub attachments: Vec<Attachment>,
}

impl Contents {
    /// Every part sent along the text, in the order the parts are written: inline, then
    /// attached.
    fn parts(&self) -> impl Iterator<Item = &Attachment> {
        self.inline
            .iter()
            .map(|part| &part.file)
            .chain(&self.attachments)
    }

    /// The parts read from a file while the message is written.
    fn files(&self) -> impl Iterator<Item = &Attachment> {
        self.parts()
            .filter(|file| matches!(file.data, AttachmentData::File(_)))
    }
}

/// Reads every input the spec names and builds the message.
pub fn compose(spec: &MessageSpec) -> Result<Composed, Error> {
    build_from(spec, &read_contents(spec)?)
}

/// The message of inputs already read, with the Message-ID `-H` gave or a new one.
pub fn build_from(spec: &MessageSpec, contents: &Contents) -> Result<Composed, Error> {
    let message_id = spec
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("Message-ID"))
        .map(|h| h.value.clone())
        .unwrap_or_else(|| new_message_id(spec.from.domain()));
    let composed = build(spec, contents, &message_id)?;
    match spec.max_size {
        Some(max) if composed.content.len() > max => Err(too_large(&composed, contents, max)),
        _ => Ok(composed),
    }
}

/// The error of a message over `--max-size`, naming its largest attachment.
fn too_large(composed: &Composed, contents: &Contents, max: u64) -> Error {
    let mut message = format!(
        "the message is {}, more than --max-size {}",
        size(composed.content.len()),
        size(max)
    );
    if let Some(largest) = contents.parts().max_by_key(|file| file.size) {
        message.push_str(&format!(
            "; the largest part is {} ({})",
            largest.file_name,
            size(largest.size)
        ));
    }
    Error::bad_message(message)
}

/// Builds the message. Pure: the same inputs give the same bytes apart from Date.
pub fn build(spec: &MessageSpec, contents: &Contents, message_id: &str) -> Result<Composed, Error> {
    let mut builder = MessageBuilder::new()
        .from(mime_address(&spec.from))
        .message_id(message_id.trim_start_matches('<').trim_end_matches('>'));
    if !spec.to.is_empty() {
        builder = builder.to(mime_list(&spec.to));
    }
    if !spec.cc.is_empty() {
        builder = builder.cc(mime_list(&spec.cc));
    }
    // Bcc recipients are deliberately absent: they live in the envelope alone.
    if let Some(reply_to) = &spec.reply_to {
        builder = builder.reply_to(mime_address(reply_to));
    }
    if let Some(subject) = &spec.subject {
        builder = builder.subject(Text::new(subject.as_str()));
    }
    for header in &spec.headers {
        if header.name.eq_ignore_ascii_case("Message-ID") {
            continue;
        }
        builder = if header.name.eq_ignore_ascii_case("Date") {
            builder.header("Date", Raw::new(header.value.as_str()))
        } else {
            builder.header(header.name.as_str(), Text::new(header.value.as_str()))
        };
    }
    let placeholders: Vec<String> = (0..contents.files().count()).map(placeholder).collect();
    let mut bytes = builder
        .body(body_part(contents, &placeholders))
        .write_to_vec()
        .map_err(|err| Error::new(Kind::Internal, format!("composing the message: {err}")))?;
    // A body without a final line break still ends its last line: the size declared to the
    // server and the bytes --dry-run shows are then exactly what goes on the wire.
    if !bytes.ends_with(b"\r\n") {
        bytes.extend_from_slice(b"\r\n");
    }

    let envelope = Envelope {
        from: spec.envelope_from.clone(),
        recipients: unique_addresses(spec.to.iter().chain(&spec.cc).chain(&spec.bcc)),
        dsn: Dsn::default(),
    };
    Ok(Composed {
        envelope,
        message_id: format!(
            "<{}>",
            message_id.trim_start_matches('<').trim_end_matches('>')
        ),
        content: spliced(bytes, placeholders, contents.files()),
    })
}

/// The body of a message whose header fields another writes (the mailx personality): its
/// Content-* fields, a blank line and the content. A text that is UTF-8 is text/plain as in
/// any message built here; other bytes go as they are, labelled `charset=unknown-8bit`
/// (RFC 1428) and 8bit, since their charset is not known here either. Attachments make it
/// multipart/mixed; they are read whole, for the caller wants the bytes.
pub fn body_with_attachments(text: &[u8], attachments: &[PathBuf]) -> Result<Vec<u8>, Error> {
    let attachments = attachments
        .iter()
        .map(|path| read_attachment(path, "attachment"))
        .collect::<Result<Vec<_>, _>>()?;
    let text = match std::str::from_utf8(text) {
        Ok(text) if !text.contains('\0') => {
            MimePart::new(utf8_type("text/plain"), canonical_text(text))
        }
        _ => MimePart::new(
            ContentType::new("text/plain").attribute("charset", "unknown-8bit"),
            crlf_line_endings(text),
        )
        .transfer_encoding("8bit"),
    };
    let placeholders: Vec<String> = (0..attachments.len()).map(placeholder).collect();
    let mut bytes = Vec::new();
    with_attachments(Some(text), &attachments, &mut placeholders.iter()).write_part(&mut bytes);
    let mut out = Vec::with_capacity(bytes.len());
    spliced(bytes, placeholders, &attachments)
        .write_to(&mut out)
        .map_err(|err| {
            Error::new(
                Kind::NoInput,
                format!("cannot read an attachment: {}", io_reason(&err)),
            )
        })?;
    Ok(out)
}

/// The bytes of a message with each attachment's base64 where its placeholder stands.
fn spliced<'a>(
    bytes: Vec<u8>,
    placeholders: Vec<String>,
    attachments: impl IntoIterator<Item = &'a Attachment>,
) -> Content {
    let files: Vec<_> = placeholders
        .into_iter()
        .zip(attachments)
        .filter_map(|(placeholder, a)| match &a.data {
            AttachmentData::File(path) => Some((placeholder, path.clone(), a.size)),
            AttachmentData::InMemory(_) => None,
        })
        .collect();
    Content::with_base64_files(bytes, &files)
}

fn mime_address(mailbox: &Mailbox) -> MimeAddress<'static> {
    MimeAddress::new_address(mailbox.name.clone(), mailbox.address.clone())
}

fn mime_list(mailboxes: &[Mailbox]) -> MimeAddress<'static> {
    MimeAddress::new_list(mailboxes.iter().map(mime_address).collect())
}

fn unique_addresses<'a>(mailboxes: impl Iterator<Item = &'a Mailbox>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for mailbox in mailboxes {
        if !seen
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&mailbox.address))
        {
            seen.push(mailbox.address.clone());
        }
    }
    seen
}

/// A Message-ID unique without coordination: 128 random bits (`clock::random_u64`).
pub fn new_message_id(domain: &str) -> String {
    let domain = if domain.is_empty() {
        "localhost"
    } else {
        domain
    };
    format!(
        "<{:016x}{:016x}@{domain}>",
        clock::random_u64(),
        clock::random_u64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::parse_mailbox;
    use mail_parser::MimeHeaders;

    fn spec() -> MessageSpec {
        MessageSpec {
            from: parse_mailbox("Ålice <alice@example.org>", "-f").unwrap(),
            envelope_from: "alice@example.org".into(),
            to: vec![parse_mailbox("Bob <bob@example.net>", "-t").unwrap()],
            cc: vec![parse_mailbox("carol@example.net", "-c").unwrap()],
            bcc: vec![parse_mailbox("dave@example.net", "-b").unwrap()],
            reply_to: None,
            subject: Some("Grüße ✓".into()),
            headers: vec![],
            body: BodySource::None,
            html: None,
            markdown: None,
            inline: vec![],
            attachments: vec![],
            max_size: None,
        }
    }

    fn contents(text: &str) -> Contents {
        Contents {
            text: Some(BodyText::Utf8(text.into())),
            html: None,
            inline: vec![],
            attachments: vec![],
        }
    }

    fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default().parse(bytes).unwrap()
    }

    #[test]
    fn bcc_is_in_the_envelope_only() {
        let composed = build(&spec(), &contents("hi"), "<id@example.org>").unwrap();
        let bytes = composed.content.to_vec();
        assert_eq!(
            composed.envelope.recipients,
            ["bob@example.net", "carol@example.net", "dave@example.net"]
        );
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            !text.to_ascii_lowercase().contains("\nbcc:")
                && !text.to_ascii_lowercase().starts_with("bcc:")
        );
        assert!(!text.contains("dave"));
    }

    #[test]
    fn headers_are_encoded_and_decode_back() {
        let composed = build(&spec(), &contents("hi"), "<id@example.org>").unwrap();
        let bytes = composed.content.to_vec();
        assert!(bytes.is_ascii());
        let message = parse(&bytes);
        assert_eq!(message.subject(), Some("Grüße ✓"));
        let from = message.from().unwrap().first().unwrap();
        assert_eq!(from.name(), Some("Ålice"));
        assert_eq!(message.message_id(), Some("id@example.org"));
        assert!(message.date().is_some());
    }

    #[test]
    fn every_line_ends_in_crlf_and_stays_short() {
        let long_line = "x".repeat(5000);
        let body = format!("a\nb\r\nc\rd\n{long_line}\nü\n.leading dot\n");
        let composed = build(&spec(), &contents(&body), "<id@example.org>").unwrap();
        let bytes = composed.content.to_vec();
        assert!(bytes.is_ascii());
        for line in bytes.split(|&b| b == b'\n') {
            assert!(line.len() < 998, "line of {} octets", line.len());
        }
        let stray = bytes.windows(2).enumerate().find(|(i, w)| {
            (w[0] == b'\r') != (w[1] == b'\n') && (w[1] == b'\n' || w[0] == b'\r') && *i > 0
        });
        assert!(stray.is_none(), "bare CR or LF at {stray:?}");
        let message = parse(&bytes);
        let decoded = message.body_text(0).unwrap().replace("\r\n", "\n");
        assert_eq!(
            decoded,
            format!("a\nb\nc\nd\n{long_line}\nü\n.leading dot\n")
        );
    }

    #[test]
    fn attachments_arrive_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let binary: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        let text_with_lf = b"line one\nline two\rthree\n".to_vec();
        let attachment = |name: &str, content_type: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            Attachment {
                file_name: name.into(),
                content_type: content_type.into(),
                data: AttachmentData::File(path),
                size: bytes.len() as u64,
            }
        };
        let contents = Contents {
            text: Some(BodyText::Utf8("see attached".into())),
            html: Some(BodyText::Utf8("<p>see attached</p>".into())),
            inline: vec![],
            attachments: vec![
                attachment("file with spaces.bin", "application/octet-stream", &binary),
                attachment(
                    "naïve résumé.txt",
                    "text/plain; charset=utf-8",
                    &text_with_lf,
                ),
            ],
        };
        let composed = build(&spec(), &contents, "<id@example.org>").unwrap();
        let bytes = composed.content.to_vec();
        assert!(bytes.is_ascii());
        let message = parse(&bytes);
        assert_eq!(message.attachment_count(), 2);
        let first = message.attachment(0).unwrap();
        assert_eq!(first.attachment_name(), Some("file with spaces.bin"));
        assert_eq!(first.contents(), binary.as_slice());
        let second = message.attachment(1).unwrap();
        assert_eq!(second.attachment_name(), Some("naïve résumé.txt"));
        assert_eq!(second.contents(), text_with_lf.as_slice());
        assert_eq!(message.body_html(0).unwrap().trim(), "<p>see attached</p>");
    }

    #[test]
    fn extra_headers_and_overrides() {
        let mut spec = spec();
        spec.headers = vec![
            ExtraHeader {
                name: "Comments".into(),
                value: "1 (Höchste)".into(),
            },
            ExtraHeader {
                name: "Date".into(),
                value: "Mon, 23 Nov 2026 10:00:00 +0000".into(),
            },
        ];
        let composed = build(&spec, &contents("hi"), "<given@example.org>").unwrap();
        let bytes = composed.content.to_vec();
        let message = parse(&bytes);
        assert_eq!(
            message.header("Comments").and_then(|h| h.as_text()),
            Some("1 (Höchste)")
        );
        assert_eq!(message.date().unwrap().to_rfc3339(), "2026-11-23T10:00:00Z");
        let raw = String::from_utf8(bytes).unwrap();
        assert_eq!(
            raw.matches("\r\nDate:").count() + raw.starts_with("Date:") as usize,
            1
        );
    }

    #[test]
    fn duplicate_recipients_get_one_rcpt() {
        let mut spec = spec();
        spec.cc = vec![parse_mailbox("BOB@example.net", "-c").unwrap()];
        spec.bcc = vec![];
        let composed = build(&spec, &contents("hi"), "<id@example.org>").unwrap();
        assert_eq!(composed.envelope.recipients, ["bob@example.net"]);
    }

    #[test]
    fn a_non_ascii_file_name_is_also_an_encoded_name_on_content_type() {
        let dir = tempfile::tempdir().unwrap();
        let long = format!(
            "Jahresabschluß {} Übersicht der Änderungen.pdf",
            "ü".repeat(30)
        );
        let names = ["naïve résumé.pdf", long.as_str(), "plain name.pdf"];
        let attachments = names
            .iter()
            .map(|name| {
                let path = dir.path().join(name);
                std::fs::write(&path, b"%PDF-1.7\n").unwrap();
                Attachment {
                    file_name: (*name).into(),
                    content_type: "application/pdf".into(),
                    data: AttachmentData::File(path),
                    size: 9,
                }
            })
            .collect();
        let contents = Contents {
            text: Some(BodyText::Utf8("see attached".into())),
            html: None,
            inline: vec![],
            attachments,
        };
        let bytes = build(&spec(), &contents, "<id@example.org>")
            .unwrap()
            .content
            .to_vec();
        assert!(bytes.is_ascii());
        let raw = String::from_utf8(bytes.clone()).unwrap();
        assert!(raw.lines().all(|line| line.len() <= 78), "{raw}");
        let message = parse(&bytes);
        for (index, name) in names.iter().enumerate() {
            let part = message.attachment(index as u32).unwrap();
            let content_type = part.content_type().unwrap();
            assert_eq!(content_type.ctype(), "application");
            assert_eq!(content_type.subtype(), Some("pdf"));
            assert_eq!(part.attachment_name(), Some(*name));
            let disposition = part.content_disposition().unwrap();
            assert_eq!(disposition.attribute("filename"), Some(*name));
            let expected = if name.is_ascii() { None } else { Some(*name) };
            assert_eq!(content_type.attribute("name"), expected, "{raw}");
            assert_eq!(part.contents(), b"%PDF-1.7\n");
        }
        assert!(raw.contains("name=\"=?utf-8?b?"), "{raw}");
        assert!(raw.contains("filename*"), "{raw}");
    }

    #[test]
    fn a_body_that_is_not_utf8_goes_as_it_is_labelled_unknown_8bit() {
        let contents = Contents {
            text: Some(BodyText::Unknown8bit(b"caf\xe9\nline two\n".to_vec())),
            html: None,
            inline: vec![],
            attachments: vec![],
        };
        let composed = build(&spec(), &contents, "<id@example.org>").unwrap();
        let bytes = composed.content.to_vec();
        assert!(
            bytes.ends_with(b"\r\n\r\ncaf\xe9\r\nline two\r\n"),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        let message = parse(&bytes);
        let part = &message.parts[0];
        assert_eq!(
            part.content_type().and_then(|ct| ct.attribute("charset")),
            Some("unknown-8bit")
        );
        let raw = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
        assert_eq!(
            raw.matches("content-transfer-encoding: 8bit\r\n").count(),
            1
        );
        assert!(!composed.content.ascii().message && composed.content.ascii().header);
    }

    #[test]
    fn message_ids_are_unique_and_use_the_sender_domain() {
        let a = new_message_id("example.org");
        let b = new_message_id("example.org");
        assert_ne!(a, b);
        assert!(a.starts_with('<') && a.ends_with("@example.org>"));
    }
}
