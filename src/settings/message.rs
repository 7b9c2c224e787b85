//! The message part of the settings: sender, recipients, subject, header fields, the body's
//! source and format (plain, Markdown, a template), inline parts and attachments, each checked
//! and turned into a `MessageSpec` before anything is read or sent.

use std::path::PathBuf;

use super::{Environment, template};
use crate::address::{Mailbox, parse_list, parse_mailbox};
use crate::cli::SendArgs;
use crate::compose::{AttachmentSource, AttachmentSpec, BodySource, ExtraHeader, MessageSpec};
use crate::config::Account;
use crate::content::markdown::MarkdownOptions;
use crate::error::Error;

pub(super) fn message_spec(
    args: &SendArgs,
    sender: Option<Mailbox>,
    account: Option<&Account>,
    env: &Environment,
) -> Result<MessageSpec, Error> {
    let user = args
        .connection
        .user
        .as_deref()
        .or_else(|| account.and_then(|a| a.user.as_deref()));
    let from = sender
        .or_else(|| account.and_then(|a| a.from.clone()))
        // A login name that is an address is the natural sender.
        .or_else(|| user.and_then(|user| parse_mailbox(user, "--user").ok()))
        .ok_or_else(|| {
            Error::usage("no sender address")
                .with_hint("give -f/--from ADDR, set SMTPSEND_FROM, or set `from` in the account")
        })?;
    let envelope_from = match &args.envelope_from {
        Some(addr) => {
            let mailbox = parse_mailbox(addr, "--envelope-from")?;
            if mailbox.name.is_some() {
                return Err(Error::usage(format!(
                    "--envelope-from takes a bare address, not {addr:?}"
                )));
            }
            mailbox.address
        }
        None => from.address.clone(),
    };

    let mut to = Vec::new();
    for item in &args.recipients {
        to.extend(parse_list(item, "RECIPIENT")?);
    }
    for item in &args.to {
        to.extend(parse_list(item, "--to")?);
    }
    let cc = parse_all(&args.cc, "--cc")?;
    let bcc = parse_all(&args.bcc, "--bcc")?;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(Error::usage("no recipients")
            .with_hint("give -t ADDR, -c ADDR, -b ADDR or a RECIPIENT"));
    }
    let reply_to = match &args.reply_to {
        Some(addr) => Some(parse_mailbox(addr, "--reply-to")?),
        None => None,
    };
    if let Some(subject) = &args.subject {
        reject_line_breaks(subject, "--subject")?;
    }
    let template = match (&args.rich.template, args.rich.vars.first()) {
        (Some(path), _) => Some(template::fill(path, &args.rich.vars, env)?),
        (None, Some(var)) => {
            return Err(Error::usage(format!(
                "--var {}=...: there is no --template to fill",
                var.name
            )));
        }
        (None, None) => None,
    };
    let subject = args
        .subject
        .clone()
        .or_else(|| template.as_ref().and_then(|t| t.subject.clone()));
    let mut headers = template
        .as_ref()
        .map(|t| t.headers.clone())
        .unwrap_or_default();
    for header in &args.headers {
        headers.push(parse_header(header)?);
    }
    if args.ignore_tls_policy {
        headers.push(parse_header("TLS-Required: No")?);
    }

    let is_stdin = |path: &PathBuf| path.as_os_str() == "-";
    if args.body_file.as_ref().is_some_and(is_stdin) && args.html.as_ref().is_some_and(is_stdin) {
        return Err(Error::usage(
            "--body-file - and --html - both want standard input; give one of them a file",
        ));
    }
    let rich = &args.rich;
    if rich.markdown_allow_html && rich.markdown.is_none() && !rich.markdown_body {
        return Err(Error::usage(
            "--markdown-allow-html needs --markdown PATH or --markdown-body",
        ));
    }
    let markdown = (rich.markdown.is_some() || rich.markdown_body).then_some(MarkdownOptions {
        allow_html: rich.markdown_allow_html,
    });
    let text = args.body.clone().or(template.map(|t| t.body));
    let body = match (text, rich.markdown.as_ref().or(args.body_file.as_ref())) {
        (Some(text), _) => BodySource::Text(text),
        (None, Some(path)) if is_stdin(path) => BodySource::Stdin,
        (None, Some(path)) => BodySource::File(path.clone()),
        (None, None) if args.html.as_ref().is_some_and(is_stdin) => BodySource::None,
        (None, None) if !env.stdin_is_terminal => BodySource::Stdin,
        (None, None) => BodySource::Terminal,
    };
    let attachments = args
        .attach
        .iter()
        .map(|value| {
            AttachmentSpec::parse(value)
                .map_err(|reason| Error::usage(format!("-a {}: {reason}", value.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if attachments
        .iter()
        .any(|a| a.source == AttachmentSource::Stdin)
        && (matches!(body, BodySource::Stdin | BodySource::Terminal)
            || args.html.as_ref().is_some_and(is_stdin))
    {
        return Err(Error::usage(
            "-a - and the body both want standard input; give the body with -m or a file",
        ));
    }
    if let Some(first) = rich.inline.first()
        && args.html.is_none()
        && markdown.is_none()
    {
        return Err(Error::usage(format!(
            "--inline {} needs an HTML body to show it in",
            first.path.display()
        ))
        .with_hint("give --html PATH or --markdown PATH"));
    }
    let html = args.html.as_ref().map(|path| {
        if is_stdin(path) {
            BodySource::Stdin
        } else {
            BodySource::File(path.clone())
        }
    });

    Ok(MessageSpec {
        from,
        envelope_from,
        to,
        cc,
        bcc,
        reply_to,
        subject,
        headers,
        body,
        html,
        markdown,
        inline: rich.inline.clone(),
        attachments,
        max_size: rich.max_size,
    })
}

fn parse_all(items: &[String], what: &str) -> Result<Vec<Mailbox>, Error> {
    let mut all = Vec::new();
    for item in items {
        all.extend(parse_list(item, what)?);
    }
    Ok(all)
}

/// A header value must stay on its line: CR or LF would end the field and start another.
pub fn reject_line_breaks(value: &str, what: &str) -> Result<(), Error> {
    if value.contains(['\r', '\n']) {
        return Err(Error::bad_message(format!(
            "{what}: CR or LF in a header value: {value:?}"
        )));
    }
    Ok(())
}

/// Headers that other flags write: `-H` may not set them, and the error names the flag.
const OWNED_HEADERS: &[(&str, &str)] = &[
    ("from", "-f/--from"),
    ("to", "-t/--to"),
    ("cc", "-c/--cc"),
    ("bcc", "-b/--bcc"),
    ("subject", "-s/--subject"),
    ("reply-to", "--reply-to"),
    ("mime-version", "nothing: smtpsend writes it"),
    ("content-type", "--html and -a"),
    ("content-transfer-encoding", "nothing: smtpsend chooses it"),
];

/// `Name: value`, with a name of printable ASCII (RFC 5322 section 2.2) and no CR or LF.
pub(super) fn parse_header(raw: &str) -> Result<ExtraHeader, Error> {
    let (name, value) = raw
        .split_once(':')
        .ok_or_else(|| Error::usage(format!("-H: expected 'Name: value', got {raw:?}")))?;
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b)) {
        return Err(Error::usage(format!("-H: invalid header name {name:?}")));
    }
    if let Some((_, flag)) = OWNED_HEADERS
        .iter()
        .find(|(owned, _)| owned.eq_ignore_ascii_case(name))
    {
        return Err(Error::usage(format!("-H: {name} is set by {flag}, not -H")));
    }
    let value = value.trim();
    reject_line_breaks(value, &format!("-H {name}"))?;
    if let Some(bad) = value.chars().find(|c| c.is_control() && *c != '\t') {
        return Err(Error::bad_message(format!(
            "-H {name}: control character {bad:?} in the value"
        )));
    }
    if name.eq_ignore_ascii_case("Message-ID")
        && !(value.starts_with('<') && value.ends_with('>') && value.contains('@'))
    {
        return Err(Error::usage(format!(
            "-H Message-ID: expected <id@domain>, got {value:?}"
        )));
    }
    Ok(ExtraHeader {
        name: name.to_string(),
        value: value.to_string(),
    })
}
