//! Reading a complete RFC 5322 message and making only the changes a submission client must
//! make (RFC 6409 section 8): Bcc removed, Date, Message-ID and From added when missing, line
//! endings made CRLF. The envelope comes from the flags (or the `-bs` dialogue) and the
//! header, local names through the aliases; the server from `settings`. With an account's DKIM
//! keys the message is signed last (`dkim`).

use std::io::BufRead;

use mail_builder::headers::Header;
use mail_builder::headers::address::Address as MimeAddress;

use super::aliases::{Aliases, expand_recipients, read_aliases};
use super::flags::Invocation;
use crate::address::{Mailbox, parse_mailbox};
use crate::cli::SendmailOptions;
use crate::compose::{Composed, Dsn, Envelope, new_message_id};
use crate::config::Config;
use crate::content::{Content, crlf_line_endings};
use crate::dkim;
use crate::error::Error;
use crate::settings::{self, DkimFlags, Environment, ServerSettings};

/// The message on standard input. A line holding a lone dot ends it only when `typed` (a
/// person at a terminal, without -i): from a pipe such a line is content, since a script's
/// output that happens to hold one would otherwise be cut short without a word.
pub fn read_message(input: &mut dyn BufRead, typed: bool) -> std::io::Result<Vec<u8>> {
    let mut message = Vec::new();
    if !typed {
        input.read_to_end(&mut message)?;
        return Ok(message);
    }
    let mut line = Vec::new();
    while input.read_until(b'\n', &mut line)? > 0 {
        if matches!(line.as_slice(), b".\n" | b".\r\n" | b".") {
            break;
        }
        message.append(&mut line);
    }
    Ok(message)
}

/// The message as it will be sent, its envelope and the server to send it to.
pub fn prepare(
    raw: &[u8],
    dialogue_envelope: Option<&Envelope>,
    invocation: &Invocation,
    options: &SendmailOptions,
    config: Option<&Config>,
    env: &Environment,
) -> Result<(Composed, ServerSettings), Error> {
    let message = canonical_crlf(raw);
    let (header_block, _) = split_header(&message)?;
    // mail-parser wants the blank line that ends a header; a message may have no header at all.
    let header_with_end = [header_block, b"\r\n"].concat();
    let parsed = mail_parser::MessageParser::default().parse_headers(&header_with_end);
    let header_from = HeaderFrom::of(parsed.as_ref());
    // Callers pass local names as senders (cron: `-f root`, `From: root (Cron Daemon)`): they
    // choose no account, and get the local domain, or else the configured sender, below.
    let flag_sender = match &invocation.sender {
        Some(sender) if sender.contains('@') => Some(parse_mailbox(sender, "-f")?),
        _ => None,
    };
    let sender_hint = dialogue_envelope
        .and_then(|e| parse_mailbox(&e.from, "MAIL FROM").ok())
        .or(flag_sender.clone())
        .or(header_from.address());
    let (account, server) = settings::resolve_with_config(
        config,
        options.account.as_deref(),
        &options.connection,
        sender_hint.as_ref(),
        env,
    )?;
    let local = settings::local_names(account.as_ref(), env)?;
    let qualify = |local_part: &str| -> Option<Mailbox> {
        let domain = local.local_domain.as_ref()?;
        parse_mailbox(&format!("{local_part}@{domain}"), "sender").ok()
    };
    // SMTPSEND_FROM or the account's `from`, else a login name that is an address.
    let configured_sender = local.from.clone().or_else(|| {
        server
            .login
            .as_ref()
            .and_then(|l| parse_mailbox(&l.user, "user").ok())
    });
    let flag_sender = flag_sender.or_else(|| {
        let local_part = invocation.sender.as_deref()?;
        qualify(local_part).or(configured_sender.clone())
    });

    // A From header is added when there is none, and rewritten when it names no domain: a
    // server would refuse it, and a receiver could not answer it.
    let new_from = match &header_from {
        HeaderFrom::Address(_) => None,
        HeaderFrom::Absent => {
            let address = flag_sender
                .clone()
                .or(configured_sender.clone())
                .ok_or_else(|| {
                    Error::config("sendmail: the message has no From and there is no sender to add")
                        .with_hint("set SMTPSEND_FROM (or `from` in the account), or give -f ADDR")
                })?;
            Some(Mailbox {
                name: invocation.full_name.clone().or(address.name.clone()),
                address: address.address,
            })
        }
        HeaderFrom::Local { local_part, name } => {
            let address = local_part
                .as_deref()
                .and_then(qualify)
                .or(configured_sender.clone())
                .ok_or_else(|| {
                    Error::config(format!(
                        "sendmail: the From header names {:?}, which has no domain",
                        local_part.as_deref().or(name.as_deref()).unwrap_or_default()
                    ))
                    .with_hint(
                        "set SMTPSEND_LOCAL_DOMAIN (`local_domain`) to qualify local names, or SMTPSEND_FROM (`from`) to send as that address",
                    )
                })?;
            Some(Mailbox {
                name: name.clone().or(address.name.clone()),
                address: address.address,
            })
        }
    };
    let envelope_from = match dialogue_envelope {
        Some(envelope) => envelope.from.clone(),
        None => flag_sender
            .or(header_from.address())
            .or(new_from.clone())
            .or(configured_sender)
            .map(|m| m.address)
            .ok_or_else(|| {
                Error::config("sendmail: no sender address for the envelope")
                    .with_hint("set SMTPSEND_FROM (or `from` in the account), or give -f ADDR")
            })?,
    };

    let mut recipients: Vec<String> = match dialogue_envelope {
        Some(envelope) => envelope.recipients.clone(),
        None => invocation.recipients.clone(),
    };
    if invocation.recipients_from_headers && dialogue_envelope.is_none() {
        recipients.extend(parsed.iter().flat_map(header_recipients));
    }
    // Read only when a local name needs it: most messages name full addresses.
    let aliases = match &local.aliases {
        Some(source) if recipients.iter().any(|r| !r.contains('@')) => read_aliases(source)?,
        _ => Aliases::default(),
    };
    let recipients = expand_recipients(&recipients, &aliases, local.local_domain.as_deref())?;
    if recipients.is_empty() {
        return Err(Error::usage("sendmail: no recipients").with_hint(
            "name them on the command line, or use -t to take them from To, Cc and Bcc",
        ));
    }

    let domain = new_from
        .as_ref()
        .map(|m| m.domain().to_string())
        .unwrap_or_else(|| {
            envelope_from
                .rsplit('@')
                .next()
                .unwrap_or_default()
                .to_string()
        });
    let (bytes, message_id) = fix_headers(
        &message,
        new_from.as_ref(),
        local.local_domain.as_deref(),
        &domain,
    )?;
    let mut composed = Composed {
        envelope: Envelope {
            from: envelope_from,
            recipients,
            dsn: Dsn {
                notify: invocation.dsn_notify.clone(),
                envelope_id: invocation.envelope_id.clone(),
                ret: invocation.dsn_return.clone(),
            },
        },
        message_id,
        content: Content::from_bytes(bytes),
    };
    // The account's DKIM keys (or SMTPSEND_DKIM_*) sign the message as fixed up, last, so
    // nothing here changes it after (RFC 6376 5); d= defaults to the From header's domain.
    let from = new_from.or_else(|| header_from.address());
    if let Some(signing) =
        settings::dkim(DkimFlags::default(), account.as_ref(), env, from.as_ref())?
    {
        dkim::sign(&mut composed, &signing)?;
    }
    Ok((composed, server))
}

/// What a message's From header says of its sender.
#[derive(Debug, PartialEq, Eq)]
enum HeaderFrom {
    Absent,
    /// An address with a domain: the header stays as it is.
    Address(String),
    /// A local name (`root (Cron Daemon)`, `mdadm monitoring <root>`), a bare word
    /// (`Logwatch`) or only a display name: the header is rewritten.
    Local {
        local_part: Option<String>,
        name: Option<String>,
    },
}

impl HeaderFrom {
    fn of(parsed: Option<&mail_parser::Message>) -> HeaderFrom {
        let Some(parsed) = parsed.filter(|p| p.header_raw("From").is_some()) else {
            return HeaderFrom::Absent;
        };
        let first = parsed.from().and_then(|a| a.first());
        let name = first
            .and_then(|a| a.name())
            .map(|n| n.trim().trim_matches(['(', ')']).trim().to_string())
            .filter(|n| !n.is_empty());
        match first.and_then(|a| a.address()) {
            Some(address) if address.contains('@') => HeaderFrom::Address(address.to_string()),
            Some(local_part) => HeaderFrom::Local {
                local_part: Some(local_part.to_string()),
                name,
            },
            // `From: Logwatch` parses as a name: one word is a local name.
            None => match name {
                Some(word) if !word.contains(char::is_whitespace) => HeaderFrom::Local {
                    local_part: Some(word.clone()),
                    name: Some(word),
                },
                name => HeaderFrom::Local {
                    local_part: None,
                    name,
                },
            },
        }
    }

    fn address(&self) -> Option<Mailbox> {
        match self {
            HeaderFrom::Address(address) => parse_mailbox(address, "From").ok(),
            _ => None,
        }
    }
}

/// The address of the header's From.
fn header_from(parsed: &mail_parser::Message) -> Option<String> {
    parsed
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(str::to_string)
}

/// Everyone in To, Cc and Bcc. A bare local name (`To: root`) parses as a name without an
/// address, and is given as it is.
fn header_recipients(parsed: &mail_parser::Message) -> Vec<String> {
    [parsed.to(), parsed.cc(), parsed.bcc()]
        .into_iter()
        .flatten()
        .flat_map(|list| list.iter())
        .filter_map(|a| {
            a.address()
                .or(a.name().filter(|n| !n.contains(char::is_whitespace)))
                .map(str::to_string)
        })
        .collect()
}

/// What a message's own header says of its envelope, for a queued message whose envelope
/// was lost (`queue flush`). Nothing here is checked yet.
pub struct HeaderEnvelope {
    pub from: Option<String>,
    pub recipients: Vec<String>,
    /// With its angle brackets, as `Composed` has it.
    pub message_id: Option<String>,
}

pub fn header_envelope(message: &[u8]) -> Result<HeaderEnvelope, Error> {
    let (header_block, _) = split_header(message)?;
    let header_with_end = [header_block, b"\r\n"].concat();
    let parsed = mail_parser::MessageParser::default().parse_headers(&header_with_end);
    Ok(HeaderEnvelope {
        from: parsed.as_ref().and_then(header_from),
        recipients: parsed.as_ref().map(header_recipients).unwrap_or_default(),
        message_id: parsed
            .as_ref()
            .and_then(|p| p.message_id())
            .map(|id| format!("<{id}>")),
    })
}

/// A whole message with CRLF line endings, its last line ended too.
fn canonical_crlf(input: &[u8]) -> Vec<u8> {
    let mut out = crlf_line_endings(input);
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The header block (with its final CRLF) and the body. As Postfix does, the header ends at
/// the first line that is neither a field nor a continuation: input with no header at all
/// (`echo body | sendmail root`) is all body.
fn split_header(message: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    if message.is_empty() {
        return Err(Error::bad_message("sendmail: the message is empty"));
    }
    let mut end = 0;
    for line in message.split_inclusive(|&b| b == b'\n') {
        let continuation = end > 0 && line.starts_with(b" ") || line.starts_with(b"\t");
        if !(continuation || is_field(line)) {
            break;
        }
        end += line.len();
    }
    let (header, rest) = message.split_at(end);
    // A NUL or a long line in the body is converted when the message is sent (content::
    // downgrade); in the header nothing can carry them.
    if header.contains(&0) {
        return Err(Error::bad_message(
            "sendmail: the message contains a NUL byte in its header",
        ));
    }
    // RFC 5321 section 4.5.3.1.6: 1000 octets with the CRLF.
    if let Some(long) = header
        .split(|&b| b == b'\n')
        .position(|line| line.strip_suffix(b"\r").unwrap_or(line).len() > 998)
    {
        return Err(Error::bad_message(format!(
            "sendmail: line {} is longer than SMTP allows (998 octets); it cannot be sent as it is",
            long + 1
        )));
    }
    Ok((header, rest.strip_prefix(b"\r\n").unwrap_or(rest)))
}

/// `Name:` with a name of printable ASCII (RFC 5322 section 2.2).
fn is_field(line: &[u8]) -> bool {
    line.iter()
        .position(|&b| b == b':')
        .is_some_and(|colon| colon > 0 && line[..colon].iter().all(|&b| (33..=126).contains(&b)))
}

/// Removes Bcc, adds Date and Message-ID where missing, writes `new_from` in place of any
/// From, and gives local names in To and Cc the local domain (a server checking header syntax,
/// as Exim's `verify = header_syntax` does, refuses `To: root`); the rest passes unchanged.
fn fix_headers(
    message: &[u8],
    new_from: Option<&Mailbox>,
    local_domain: Option<&str>,
    domain: &str,
) -> Result<(Vec<u8>, String), Error> {
    let (header, body) = split_header(message)?;
    let mut fields: Vec<&[u8]> = Vec::new();
    for line in header.split_inclusive(|&b| b == b'\n') {
        match (line.first(), fields.last_mut()) {
            // A continuation line belongs to the field before it.
            (Some(b' ' | b'\t'), Some(last)) => {
                let start = last.as_ptr() as usize - header.as_ptr() as usize;
                *last = &header[start..start + last.len() + line.len()];
            }
            _ => fields.push(line),
        }
    }
    let name_of = |field: &[u8]| -> String {
        let end = field.iter().position(|&b| b == b':').unwrap_or(0);
        String::from_utf8_lossy(&field[..end])
            .trim()
            .to_ascii_lowercase()
    };
    let has = |name: &str| fields.iter().any(|f| name_of(f) == name);
    let mut out = Vec::with_capacity(message.len() + 256);
    let message_id = match fields.iter().find(|f| name_of(f) == "message-id") {
        Some(field) => {
            let value = &field[field.iter().position(|&b| b == b':').unwrap_or(0) + 1..];
            String::from_utf8_lossy(value).trim().to_string()
        }
        None => {
            let id = new_message_id(domain);
            out.extend_from_slice(format!("Message-ID: {id}\r\n").as_bytes());
            id
        }
    };
    if !has("date") {
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(
            mail_builder::headers::date::Date::now()
                .to_rfc822()
                .as_bytes(),
        );
        out.extend_from_slice(b"\r\n");
    }
    if let Some(from) = new_from {
        out.extend_from_slice(b"From: ");
        MimeAddress::new_address(from.name.clone(), from.address.clone()).write_header(&mut out, 6);
    }
    for field in &fields {
        let name = name_of(field);
        let replaced = new_from.is_some() && name == "from";
        if replaced || matches!(name.as_str(), "bcc" | "resent-bcc") {
            continue;
        }
        match local_domain.filter(|_| matches!(name.as_str(), "to" | "cc")) {
            Some(local_domain) => match qualified_field(field, local_domain) {
                Some(qualified) => out.extend_from_slice(&qualified),
                None => out.extend_from_slice(field),
            },
            None => out.extend_from_slice(field),
        }
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Ok((out, message_id))
}

/// A To or Cc field (`To: root, bob@x.org`) with each local name qualified, or None when it
/// names none (or is a group, left as it is).
fn qualified_field(field: &[u8], local_domain: &str) -> Option<Vec<u8>> {
    let colon = field.iter().position(|&b| b == b':')?;
    let with_end = [field, b"\r\n"].concat();
    let parsed = mail_parser::MessageParser::default().parse_headers(&with_end)?;
    let name = String::from_utf8_lossy(&field[..colon]).into_owned();
    let list = parsed
        .header_values(name.as_str())
        .next()?
        .as_address()?
        .as_list()?;
    let local_part = |addr: &mail_parser::Addr| -> Option<String> {
        match (addr.address(), addr.name()) {
            (Some(address), _) if !address.contains('@') => Some(address.to_string()),
            (None, Some(word)) if !word.contains(char::is_whitespace) => Some(word.to_string()),
            _ => None,
        }
    };
    if !list.iter().any(|addr| local_part(addr).is_some()) {
        return None;
    }
    let mut entries = Vec::new();
    for addr in list {
        let (name, address) = match local_part(addr) {
            Some(local) => (
                addr.name().filter(|n| *n != local).map(str::to_string),
                format!("{local}@{local_domain}"),
            ),
            None => (addr.name().map(str::to_string), addr.address()?.to_string()),
        };
        entries.push(MimeAddress::new_address(name, address));
    }
    let mut out = field[..=colon].to_vec();
    out.push(b' ');
    MimeAddress::new_list(entries).write_header(&mut out, colon + 2);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_dot_ends_only_typed_input() {
        let input = b"Subject: x\n\nline\n.\nafter\n";
        let read = |typed| read_message(&mut &input[..], typed).unwrap();
        assert_eq!(read(true), b"Subject: x\n\nline\n");
        assert_eq!(read(false), input);
    }

    #[test]
    fn headers_are_fixed_and_nothing_else_changes() {
        let message = canonical_crlf(
            b"To: a@x.org\nBcc: secret@x.org,\n  other@x.org\nSubject: hi\n\nbody\n.dot\n",
        );
        let from = Mailbox {
            name: Some("Cron Daemon".into()),
            address: "root@host.example".into(),
        };
        let (fixed, id) = fix_headers(&message, Some(&from), None, "host.example").unwrap();
        let text = String::from_utf8(fixed).unwrap();
        assert!(
            !text.to_ascii_lowercase().contains("\nbcc:")
                && !text.to_ascii_lowercase().starts_with("bcc:")
                && !text.contains("secret"),
            "{text}"
        );
        assert!(text.contains(&format!("Message-ID: {id}\r\n")));
        assert!(text.contains("\r\nDate: "));
        assert!(
            text.contains("From: \"Cron Daemon\" <root@host.example>\r\n"),
            "{text}"
        );
        assert!(
            text.ends_with("To: a@x.org\r\nSubject: hi\r\n\r\nbody\r\n.dot\r\n"),
            "{text}"
        );
    }

    #[test]
    fn present_headers_are_kept() {
        let message = canonical_crlf(b"From: me@x.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <given@x.org>\n\nbody\n");
        let (fixed, id) = fix_headers(&message, None, None, "x.org").unwrap();
        assert_eq!(id, "<given@x.org>");
        assert_eq!(fixed, message);
    }

    #[test]
    fn local_names_in_from_are_found() {
        let of = |header: &str| {
            let header = format!("{header}\r\n\r\n");
            let parsed = mail_parser::MessageParser::default().parse_headers(header.as_bytes());
            HeaderFrom::of(parsed.as_ref())
        };
        let local = |local_part: Option<&str>, name: Option<&str>| HeaderFrom::Local {
            local_part: local_part.map(str::to_string),
            name: name.map(str::to_string),
        };
        assert_eq!(of("To: a@x.org"), HeaderFrom::Absent);
        assert_eq!(
            of("From: A <a@x.org>"),
            HeaderFrom::Address("a@x.org".into())
        );
        assert_eq!(
            of("From: root (Cron Daemon)"),
            local(Some("root"), Some("Cron Daemon"))
        );
        assert_eq!(
            of("From: \"(Cron Daemon)\" <root>"),
            local(Some("root"), Some("Cron Daemon"))
        );
        assert_eq!(
            of("From: mdadm monitoring <root>"),
            local(Some("root"), Some("mdadm monitoring"))
        );
        assert_eq!(
            of("From: Logwatch"),
            local(Some("Logwatch"), Some("Logwatch"))
        );
        assert_eq!(of("From: root"), local(Some("root"), Some("root")));
    }

    #[test]
    fn local_names_in_to_and_cc_get_the_local_domain() {
        let qualify = |field: &str| {
            qualified_field(field.as_bytes(), "host.example").map(|f| String::from_utf8(f).unwrap())
        };
        assert_eq!(
            qualify("To: root\r\n").as_deref(),
            Some("To: <root@host.example>\r\n")
        );
        assert_eq!(
            qualify("Cc: Admin <admin>, bob@x.org\r\n").as_deref(),
            Some("Cc: \"Admin\" <admin@host.example>, <bob@x.org>\r\n")
        );
        assert_eq!(qualify("To: bob@x.org\r\n"), None);
        assert_eq!(qualify("To: undisclosed-recipients:;\r\n"), None);
    }

    #[test]
    fn line_endings_become_crlf() {
        assert_eq!(canonical_crlf(b"a\nb\r\nc\rd"), b"a\r\nb\r\nc\r\nd\r\n");
    }

    #[test]
    fn malformed_input_is_refused() {
        assert_eq!(split_header(b"").unwrap_err().exit_code(), 65);
        assert_eq!(
            split_header(b"Subject: a\0b\r\n").unwrap_err().exit_code(),
            65
        );
        let field = |octets: usize| format!("To: a@x.org\r\nSubject: {}\r\n", "x".repeat(octets));
        assert!(split_header(field(989).as_bytes()).is_ok());
        let err = split_header(field(990).as_bytes()).unwrap_err();
        assert_eq!(err.exit_code(), 65);
        assert!(err.message.contains("line 2"), "{}", err.message);
    }

    #[test]
    fn nul_and_long_lines_in_the_body_are_left_to_the_downgrade() {
        let line = |octets: usize| format!("Subject: x\r\n\r\n{}\r\n", "x".repeat(octets));
        assert!(split_header(line(2000).as_bytes()).is_ok());
        let (header, body) = split_header(b"Subject: x\r\n\r\na\0b\r\n").unwrap();
        assert_eq!((header, body), (&b"Subject: x\r\n"[..], &b"a\0b\r\n"[..]));
    }

    #[test]
    fn the_header_ends_at_the_first_line_that_is_no_field() {
        let split = |text: &'static [u8]| split_header(text).unwrap();
        assert_eq!(
            split(b"just some text\r\n"),
            (&b""[..], &b"just some text\r\n"[..])
        );
        assert_eq!(
            split(b"Subject: a\r\n b\r\nnot a field\r\n"),
            (&b"Subject: a\r\n b\r\n"[..], &b"not a field\r\n"[..])
        );
        assert_eq!(
            split(b"Subject: a\r\n\r\nbody\r\n"),
            (&b"Subject: a\r\n"[..], &b"body\r\n"[..])
        );
    }

    mod properties {
        use clap::Parser;
        use proptest::prelude::*;

        use super::*;
        use crate::sendmail::strategies::{hostile, no_bare_line_breaks};

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            #[test]
            fn the_intake_takes_any_bytes(raw in hostile(), dash_t in any::<bool>()) {
                let message = canonical_crlf(&raw);
                prop_assert!(no_bare_line_breaks(&message));
                prop_assert!(read_message(&mut &raw[..], true).unwrap().len() <= raw.len());
                if split_header(&message).is_ok() {
                    let from = Mailbox { name: Some("Robot".into()), address: "r@x.org".into() };
                    let (fixed, _) = fix_headers(&message, Some(&from), Some("x.org"), "x.org").unwrap();
                    let (header, _) = split_header(&fixed).unwrap();
                    let bcc = header.split_inclusive(|&b| b == b'\n').find(|line| {
                        let line = line.to_ascii_lowercase();
                        line.starts_with(b"bcc:") || line.starts_with(b"resent-bcc:")
                    });
                    prop_assert!(bcc.is_none(), "{:?}", String::from_utf8_lossy(&fixed));
                }
                let invocation = Invocation {
                    recipients_from_headers: dash_t,
                    sender: Some("me@x.org".into()),
                    recipients: vec!["a@x.org".into()],
                    ..Invocation::default()
                };
                let options =
                    SendmailOptions::try_parse_from(["--server", "smtp+plain://localhost"]).unwrap();
                let env = Environment {
                    var: &|_| None,
                    stdin_is_terminal: false,
                    stdout_is_terminal: false,
                    stderr_is_terminal: false,
                    can_prompt: false,
                };
                if let Ok((composed, _)) = prepare(&raw, None, &invocation, &options, None, &env) {
                    prop_assert!(!composed.envelope.recipients.is_empty());
                }
            }
        }
    }
}
