//! sendmail mode: what runs as `smtpsend sendmail` or when the binary is called `sendmail`.
//!
//! It takes sendmail's own flags (parsed here: they do not follow clap's grammar, e.g. `-oi`,
//! `-FCronDaemon`, `-ti`), reads a complete RFC 5322 message on standard input, and makes only
//! the changes a submission client must make (RFC 6409 section 8): Bcc removed, Date,
//! Message-ID and From added when missing, line endings made CRLF. Local recipients go through
//! the aliases file. `-bs` speaks the server side of SMTP on standard input and output and
//! relays each accepted message. The connection itself is `submit`'s, the configuration
//! `settings`'.

use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use clap::Parser;
use mail_builder::headers::Header;
use mail_builder::headers::address::Address as MimeAddress;

use crate::address::{Mailbox, parse_mailbox};
use crate::cli::SendmailOptions;
use crate::compose::{Composed, Dsn, Envelope, new_message_id};
use crate::config::{self, Config};
use crate::content::Content;
use crate::delivery_log;
use crate::error::{Error, Kind, io_reason};
use crate::queue;
use crate::report::{self, Transcript};
use crate::send::session_options;
use crate::settings::{self, Environment, ServerSettings};
use crate::submit::{self, Delivery};

/// What the caller asked for with sendmail's flags.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    /// -t: recipients from To, Cc and Bcc as well.
    pub recipients_from_headers: bool,
    /// -i, -oi: a line with a lone dot does not end the input.
    pub ignore_dots: bool,
    /// -f, -r: the envelope sender.
    pub sender: Option<String>,
    /// -F: the full name for a From header smtpsend adds.
    pub full_name: Option<String>,
    /// -N: DSN NOTIFY for every recipient.
    pub dsn_notify: Option<String>,
    /// -R: DSN RET, the whole message or its header in a bounce.
    pub dsn_return: Option<String>,
    /// -V: DSN ENVID.
    pub envelope_id: Option<String>,
    /// -bs: an SMTP dialogue on standard input and output.
    pub smtp_dialogue: bool,
    /// -v
    pub verbose: bool,
    pub recipients: Vec<String>,
    /// The main command's long options, for clap.
    pub long_options: Vec<String>,
}

/// Flags that take an argument, attached (`-fme@x`) or as the next word (`-f me@x`).
const WITH_ARGUMENT: &str = "frFNRVoOBhL";

/// Parses sendmail's command line (everything after the program name or `sendmail`).
pub fn parse_flags(args: &[String]) -> Result<Invocation, Error> {
    let mut invocation = Invocation::default();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if word == "--" {
            invocation.recipients.extend(words.by_ref().cloned());
            break;
        }
        if word.starts_with("--") {
            invocation.long_options.push(word.clone());
            // A long option's value may be the next word; clap sorts out which.
            if !word.contains('=') && long_option_takes_value(word) {
                invocation.long_options.extend(words.next().cloned());
            }
            continue;
        }
        let Some(flags) = word.strip_prefix('-').filter(|f| !f.is_empty()) else {
            invocation.recipients.push(word.clone());
            continue;
        };
        for (at, flag) in flags.char_indices() {
            if WITH_ARGUMENT.contains(flag) {
                let attached = &flags[at + flag.len_utf8()..];
                let value = if attached.is_empty() {
                    words.next().cloned().ok_or_else(|| {
                        Error::usage(format!("sendmail: -{flag} needs an argument"))
                    })?
                } else {
                    attached.to_string()
                };
                apply_with_argument(&mut invocation, flag, value)?;
                break;
            }
            match flag {
                't' => invocation.recipients_from_headers = true,
                'i' => invocation.ignore_dots = true,
                'v' => invocation.verbose = true,
                // Accepted and ignored: -G (gateway), -U (initial submission; it always is).
                // Accepted and ignored: -G (gateway), -U (initial submission; it always is),
                // -m (also to the sender if in an alias: smtpsend never drops the sender).
                'G' | 'U' | 'm' => {}
                'q' | 'C' | 'X' | 'p' | 'd' | 'I' => {
                    return Err(Error::usage(format!(
                        "sendmail: -{flag} is not supported (the outbox is flushed with `smtpsend queue flush`; the configuration is config.toml)"
                    )));
                }
                'b' => {
                    match &flags[at + 1..] {
                        "m" | "" => {}
                        "s" => invocation.smtp_dialogue = true,
                        mode => {
                            return Err(Error::usage(format!(
                                "sendmail: -b{mode} is not supported (only -bm and -bs)"
                            )));
                        }
                    }
                    break;
                }
                'A' => break, // -Am / -Ac: which configuration; there is only one.
                other => {
                    return Err(Error::usage(format!(
                        "sendmail: unknown option -{other} (in {word:?})"
                    )));
                }
            }
        }
    }
    Ok(invocation)
}

fn apply_with_argument(
    invocation: &mut Invocation,
    flag: char,
    value: String,
) -> Result<(), Error> {
    match flag {
        'f' | 'r' => invocation.sender = Some(value),
        'F' => invocation.full_name = Some(value),
        'N' => invocation.dsn_notify = Some(dsn_notify(&value)?),
        'R' => {
            invocation.dsn_return = Some(match value.to_ascii_lowercase().as_str() {
                "full" => "FULL".to_string(),
                "hdrs" => "HDRS".to_string(),
                _ => {
                    return Err(Error::usage(format!(
                        "sendmail: -R takes full or hdrs, got {value:?}"
                    )));
                }
            });
        }
        'V' => invocation.envelope_id = Some(value),
        'o' => match value.as_str() {
            "i" => invocation.ignore_dots = true,
            // Error and delivery modes, message-to-self, queue directory: smtpsend hands every
            // message straight to the server and reports errors by exit status.
            "em" | "ee" | "ep" | "eq" | "ew" | "di" | "db" | "dq" | "m" => {}
            _ if value.starts_with('Q') => {}
            other => {
                return Err(Error::usage(format!("sendmail: unknown option -o{other}")));
            }
        },
        // -O option=value, -B body type, -h hop count, -L syslog tag: nothing to act on.
        'O' | 'B' | 'h' | 'L' => {}
        other => {
            return Err(Error::usage(format!(
                "sendmail: option -{other} is not supported"
            )));
        }
    }
    Ok(())
}

/// `never`, or a comma list of success, failure and delay (RFC 3461 section 4.1).
fn dsn_notify(value: &str) -> Result<String, Error> {
    let words: Vec<String> = value
        .split(',')
        .map(|w| w.trim().to_ascii_uppercase())
        .collect();
    let valid = words == ["NEVER"]
        || words
            .iter()
            .all(|w| matches!(w.as_str(), "SUCCESS" | "FAILURE" | "DELAY"));
    if !valid {
        return Err(Error::usage(format!(
            "sendmail: -N takes never or a list of success, failure, delay; got {value:?}"
        )));
    }
    Ok(words.join(","))
}

fn long_option_takes_value(option: &str) -> bool {
    use clap::CommandFactory;
    let name = option.trim_start_matches('-');
    SendmailOptions::command()
        .get_arguments()
        .find(|a| a.get_long() == Some(name))
        .is_some_and(|a| a.get_action().takes_values())
}

/// The entry point for `smtpsend sendmail ARGS` and for a binary called `sendmail`.
pub fn run(args: &[String], env: &Environment) -> Result<(), Error> {
    let invocation = parse_flags(args)?;
    let options = SendmailOptions::try_parse_from(&invocation.long_options)
        .map_err(|err| Error::usage(format!("sendmail: {}", first_line(&err.to_string()))))?;
    let verbose = invocation.verbose || options.verbose;
    let config = config::load(options.connection.config.as_deref(), env.var)?;
    // The caller of sendmail cannot retry: a message the server cannot take now waits in the
    // outbox unless the account says queue = "never".
    let relay =
        |raw: &[u8], envelope: Option<&Envelope>| -> Result<(Composed, Delivery, Outcome), Error> {
            let (composed, server) =
                prepare(raw, envelope, &invocation, &options, config.as_ref(), env)?;
            let mut transcript = Transcript::new(verbose);
            let delivery = match session_options(&server, &mut transcript) {
                Ok(options) => submit::submit(&composed, &options, &mut transcript),
                // Credentials out of reach for now (a token endpoint that does not answer):
                // queued like any temporary failure.
                Err(error) if error.kind == crate::error::Kind::Temporary => {
                    Delivery::not_attempted(&server.endpoint, submit::Step::Credentials, error)
                }
                Err(error) => return Err(error),
            };
            let outcome = match &delivery.failure {
                None => Outcome::Sent,
                Some(_) if server.queue != Some(false) && queue::should_queue(&delivery) => {
                    let route = queue::route_of(&server, &options.connection);
                    Outcome::Queued(queue::keep(&composed, &delivery, route, env)?)
                }
                Some((_, error)) => Outcome::Failed(error.clone()),
            };
            let error = match &outcome {
                Outcome::Sent => None,
                Outcome::Queued(error) | Outcome::Failed(error) => Some(error),
            };
            delivery_log::note(
                server.log.as_ref(),
                server.account.as_deref(),
                &composed,
                &delivery,
                error,
            );
            Ok((composed, delivery, outcome))
        };
    if invocation.smtp_dialogue {
        let stdin = std::io::stdin();
        let stdout = std::io::stdout();
        return serve_smtp(
            &mut stdin.lock(),
            &mut stdout.lock(),
            &|message: &[u8], envelope: &Envelope| match relay(message, Some(envelope))? {
                (_, delivery, Outcome::Sent) => Ok(delivery
                    .final_reply
                    .map(|r| r.one_line())
                    .unwrap_or_default()),
                // Like any MTA, once it is queued we have taken responsibility for it.
                (_, _, Outcome::Queued(note)) => Ok(note.message),
                (_, _, Outcome::Failed(error)) => Err(error),
            },
        );
    }
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).map_err(|err| {
        Error::new(
            Kind::NoInput,
            format!("cannot read the message from standard input: {err}"),
        )
    })?;
    let (composed, delivery, outcome) =
        relay(until_lone_dot(&input, invocation.ignore_dots), None)?;
    let error = match outcome {
        Outcome::Sent => None,
        Outcome::Queued(error) | Outcome::Failed(error) => Some(error),
    };
    if options.json {
        report::print_delivery_json(&delivery, &composed, None, error.as_ref());
    }
    match error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// `smtpsend batch DIR`: every message file in DIR, in name order, treated as `sendmail -t`
/// treats one, through one session per server with each message's commands pipelined.
pub fn batch(dir: &Path, options: &SendmailOptions, env: &Environment) -> Result<(), Error> {
    let listing =
        std::fs::read_dir(dir).map_err(|err| Error::unreadable("directory", dir, &err))?;
    let mut files: Vec<PathBuf> = listing
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && !path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::new(
            Kind::NoInput,
            format!("no message files in {}", dir.display()),
        ));
    }
    let invocation = Invocation {
        recipients_from_headers: true,
        ignore_dots: true,
        ..Invocation::default()
    };
    let config = config::load(options.connection.config.as_deref(), env.var)?;
    let mut worst: Option<Error> = None;
    // Prepared messages, grouped by the server and login they go through, in file order.
    let mut groups: Vec<(ServerSettings, Vec<(PathBuf, Composed)>)> = Vec::new();
    for file in files {
        let prepared = std::fs::read(&file)
            .map_err(|err| Error::unreadable("message", &file, &err))
            .and_then(|raw| prepare(&raw, None, &invocation, options, config.as_ref(), env));
        match prepared {
            Ok((composed, server)) => {
                let key = |s: &ServerSettings| {
                    (s.endpoint.url(), s.login.as_ref().map(|l| l.user.clone()))
                };
                match groups.last_mut() {
                    Some((current, messages)) if key(current) == key(&server) => {
                        messages.push((file, composed));
                    }
                    _ => groups.push((server, vec![(file, composed)])),
                }
            }
            Err(error) => {
                println!("{}: {}", file.display(), report::escape(&error.message));
                Error::keep_worst(&mut worst, error);
            }
        }
    }
    for (server, messages) in groups {
        let mut transcript = Transcript::new(options.verbose);
        let session = session_options(&server, &mut transcript)?;
        let composed: Vec<Composed> = messages.iter().map(|(_, c)| c.clone()).collect();
        let mut outcomes: Vec<Option<Error>> = Vec::new();
        submit::submit_batch(
            &composed,
            &session,
            &mut transcript,
            &mut |index, delivery| {
                let (file, message) = &messages[index];
                let error = delivery.failure.as_ref().map(|(_, e)| e.clone());
                delivery_log::note(
                    server.log.as_ref(),
                    server.account.as_deref(),
                    message,
                    delivery,
                    error.as_ref(),
                );
                if options.json {
                    report::print_delivery_json(
                        delivery,
                        message,
                        server.login.as_ref().map(|l| l.user.as_str()),
                        error.as_ref(),
                    );
                } else {
                    let outcome = match (&error, &delivery.final_reply) {
                        (Some(error), _) => error.message.clone(),
                        (None, Some(reply)) => reply.one_line(),
                        (None, None) => String::new(),
                    };
                    println!("{}: {}", file.display(), report::escape(&outcome));
                }
                outcomes.push(error);
            },
        );
        for error in outcomes.into_iter().flatten() {
            Error::keep_worst(&mut worst, error);
        }
    }
    match worst {
        Some(error) => Err(Error {
            message: format!(
                "not every message was sent; the first failure: {}",
                error.message
            ),
            ..error
        }),
        None => Ok(()),
    }
}

/// What became of a message handed to sendmail mode.
enum Outcome {
    Sent,
    /// Kept in the outbox; the error says where.
    Queued(Error),
    Failed(Error),
}

fn first_line(text: &str) -> &str {
    text.lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
}

/// Without -i, a line holding a lone dot ends the message, as it always has for sendmail.
fn until_lone_dot(input: &[u8], ignore_dots: bool) -> &[u8] {
    if ignore_dots {
        return input;
    }
    let mut start = 0;
    for line in input.split_inclusive(|&b| b == b'\n') {
        if matches!(line, b".\n" | b".\r\n" | b".") {
            return &input[..start];
        }
        start += line.len();
    }
    input
}

/// The message as it will be sent, its envelope and the server to send it to.
fn prepare(
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
    let has_from_header = parsed
        .as_ref()
        .is_some_and(|p| p.header_raw("From").is_some());
    let header_from = parsed
        .as_ref()
        .and_then(|p| p.from())
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(str::to_string);
    // Callers pass local names as senders (cron: `-f root`, `From: root (Cron Daemon)`): they
    // choose no account, and get the local domain, or else the account's address, below.
    let with_domain = |raw: &str, what: &str| -> Result<Option<Mailbox>, Error> {
        if raw.contains('@') {
            parse_mailbox(raw, what).map(Some)
        } else {
            Ok(None)
        }
    };
    let flag_sender = match &invocation.sender {
        Some(sender) => with_domain(sender, "-f")?,
        None => None,
    };
    let sender_hint = dialogue_envelope
        .and_then(|e| parse_mailbox(&e.from, "MAIL FROM").ok())
        .or(flag_sender.clone())
        .or(header_from
            .as_deref()
            .and_then(|f| parse_mailbox(f, "From").ok()));
    let (account, server) = settings::resolve_with_config(
        config,
        options.account.as_deref(),
        &options.connection,
        sender_hint.as_ref(),
        env,
    )?;
    let local_domain = account.as_ref().and_then(|a| a.local_domain.clone());
    let qualify = |raw: &str| -> Option<Mailbox> {
        match (raw.contains('@'), &local_domain) {
            (true, _) => parse_mailbox(raw, "sender").ok(),
            (false, Some(domain)) => parse_mailbox(&format!("{raw}@{domain}"), "sender").ok(),
            (false, None) => None,
        }
    };
    let account_from = account.as_ref().and_then(|a| a.from.clone()).or_else(|| {
        server
            .login
            .as_ref()
            .and_then(|l| parse_mailbox(&l.user, "user").ok())
    });
    let flag_sender = flag_sender.or_else(|| invocation.sender.as_deref().and_then(qualify));
    let header_sender = header_from.as_deref().and_then(qualify);

    // A From header only when there is none at all: -F's name with the sender's address.
    let new_from = if has_from_header {
        None
    } else {
        let address = flag_sender
            .clone()
            .or(account_from.clone())
            .ok_or_else(|| {
                Error::config("sendmail: the message has no From and there is no sender to add")
                    .with_hint("give -f ADDR, or set `from` in the account or SMTPSEND_FROM")
            })?;
        Some(Mailbox {
            name: invocation.full_name.clone().or(address.name.clone()),
            address: address.address,
        })
    };
    let envelope_from = match dialogue_envelope {
        Some(envelope) => envelope.from.clone(),
        None => flag_sender
            .or(header_sender)
            .or(new_from.clone())
            .or(account_from)
            .map(|m| m.address)
            .ok_or_else(|| {
                Error::config("sendmail: no sender address for the envelope")
                    .with_hint("give -f ADDR, or set `from` or local_domain in the account")
            })?,
    };

    let mut recipients: Vec<String> = match dialogue_envelope {
        Some(envelope) => envelope.recipients.clone(),
        None => invocation.recipients.clone(),
    };
    if invocation.recipients_from_headers && dialogue_envelope.is_none() {
        let lists = parsed.iter().flat_map(|p| [p.to(), p.cc(), p.bcc()]);
        for list in lists.flatten() {
            // A bare local name (`To: root`) parses as a name without an address.
            recipients.extend(list.iter().filter_map(|a| {
                a.address()
                    .or(a.name().filter(|n| !n.contains(char::is_whitespace)))
                    .map(str::to_string)
            }));
        }
    }
    // Read only when a local name needs it: most messages name full addresses.
    let aliases = match account.as_ref().and_then(|a| a.aliases.as_ref()) {
        Some(path) if recipients.iter().any(|r| !r.contains('@')) => read_aliases(path)?,
        _ => Aliases::default(),
    };
    let recipients = expand_recipients(&recipients, &aliases, local_domain.as_deref())?;
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
    let (bytes, message_id) = fix_headers(&message, new_from.as_ref(), &domain)?;
    let composed = Composed {
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
    Ok((composed, server))
}

/// Every line break as CRLF: CRLF, a bare LF and a bare CR each count as one.
fn canonical_crlf(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + input.len() / 32 + 2);
    let mut bytes = input.iter().peekable();
    while let Some(&byte) = bytes.next() {
        match byte {
            b'\r' => {
                if bytes.peek() == Some(&&b'\n') {
                    bytes.next();
                }
                out.extend_from_slice(b"\r\n");
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            other => out.push(other),
        }
    }
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
    if message.contains(&0) {
        return Err(Error::bad_message(
            "sendmail: the message contains a NUL byte",
        ));
    }
    if let Some(long) = message
        .split(|&b| b == b'\n')
        .position(|line| line.len() > 1000)
    {
        return Err(Error::bad_message(format!(
            "sendmail: line {} is longer than SMTP allows (998 octets); it cannot be sent as it is",
            long + 1
        )));
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
    Ok((header, rest.strip_prefix(b"\r\n").unwrap_or(rest)))
}

/// `Name:` with a name of printable ASCII (RFC 5322 section 2.2).
fn is_field(line: &[u8]) -> bool {
    line.iter()
        .position(|&b| b == b':')
        .is_some_and(|colon| colon > 0 && line[..colon].iter().all(|&b| (33..=126).contains(&b)))
}

/// Removes Bcc and adds Date, Message-ID and From where missing; the rest passes unchanged.
fn fix_headers(
    message: &[u8],
    new_from: Option<&Mailbox>,
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
        if !matches!(name_of(field).as_str(), "bcc" | "resent-bcc") {
            out.extend_from_slice(field);
        }
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Ok((out, message_id))
}

/// `/etc/aliases`: `name: target, target`, continuation lines indented, `#` comments.
#[derive(Debug, Default)]
struct Aliases(BTreeMap<String, Vec<String>>);

fn read_aliases(path: &Path) -> Result<Aliases, Error> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        Error::config(format!(
            "cannot read the aliases file {}: {}",
            path.display(),
            io_reason(&err)
        ))
    })?;
    parse_aliases(&text, path)
}

fn parse_aliases(text: &str, path: &Path) -> Result<Aliases, Error> {
    let mut entries: Vec<(usize, String)> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default();
        if line.trim().is_empty() {
            continue;
        }
        match (line.starts_with([' ', '\t']), entries.last_mut()) {
            (true, Some((_, entry))) => {
                entry.push(' ');
                entry.push_str(line.trim());
            }
            _ => entries.push((number + 1, line.trim().to_string())),
        }
    }
    let mut aliases = BTreeMap::new();
    for (line, entry) in entries {
        let (name, targets) = entry.split_once(':').ok_or_else(|| {
            Error::config(format!(
                "{}:{line}: expected `name: address, ...`",
                path.display()
            ))
        })?;
        let targets: Vec<String> = targets
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if let Some(unsupported) = targets.iter().find(|t| t.starts_with(['|', '/', ':'])) {
            return Err(Error::config(format!(
                "{}:{line}: {unsupported:?}: smtpsend delivers to addresses only, not to commands, files or includes",
                path.display()
            )));
        }
        aliases.insert(name.trim().to_ascii_lowercase(), targets);
    }
    Ok(Aliases(aliases))
}

/// Local names (no `@`) through the aliases, recursively, then `default:`, then the local
/// domain; addresses with a domain pass unchanged. Duplicates are dropped.
fn expand_recipients(
    recipients: &[String],
    aliases: &Aliases,
    local_domain: Option<&str>,
) -> Result<Vec<String>, Error> {
    let mut out: Vec<String> = Vec::new();
    let mut pending: Vec<(String, usize)> =
        recipients.iter().rev().map(|r| (r.clone(), 0)).collect();
    while let Some((name, depth)) = pending.pop() {
        let name = name
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string();
        let address = if name.contains('@') {
            parse_mailbox(&name, "recipient")?.address
        } else {
            if depth > 10 {
                return Err(Error::config(format!(
                    "aliases: {name:?} expands in a loop"
                )));
            }
            let key = name.to_ascii_lowercase();
            let targets = aliases
                .0
                .get(&key)
                .or_else(|| (depth == 0).then(|| aliases.0.get("default")).flatten());
            match (targets, local_domain) {
                (Some(targets), _) => {
                    pending.extend(targets.iter().rev().map(|t| (t.clone(), depth + 1)));
                    continue;
                }
                (None, Some(domain)) => {
                    parse_mailbox(&format!("{name}@{domain}"), "recipient")?.address
                }
                (None, None) => {
                    return Err(Error::usage(format!(
                        "sendmail: {name:?} is a local name with no alias and no local_domain to add"
                    ))
                    .with_hint("set aliases = \"/etc/aliases\" or local_domain in the account"));
                }
            }
        };
        if !out.iter().any(|a| a.eq_ignore_ascii_case(&address)) {
            out.push(address);
        }
    }
    Ok(out)
}

/// Relays one message received in the `-bs` dialogue; returns the server's final reply.
type Relay<'a> = dyn Fn(&[u8], &Envelope) -> Result<String, Error> + 'a;

/// The server side of a minimal SMTP session (RFC 5321) on standard input and output, for
/// callers that speak SMTP to `sendmail -bs` (symfony/mailer among them). Each message is
/// relayed when its data ends, and the real server's verdict becomes our reply.
fn serve_smtp(
    input: &mut impl BufRead,
    output: &mut impl Write,
    relay: &Relay,
) -> Result<(), Error> {
    let io = |err: std::io::Error| Error::new(Kind::Temporary, format!("sendmail -bs: {err}"));
    let say = |output: &mut dyn Write, text: &str| -> Result<(), Error> {
        output
            .write_all(text.as_bytes())
            .and_then(|()| output.flush())
            .map_err(io)
    };
    say(output, "220 smtpsend ESMTP ready\r\n")?;
    let mut envelope: Option<Envelope> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line).map_err(io)? == 0 {
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']);
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let argument = |prefix: &str| -> Option<String> {
            let rest = command.get(prefix.len()..)?;
            command[..prefix.len()]
                .eq_ignore_ascii_case(prefix)
                .then(|| {
                    let rest = rest.trim();
                    let end = rest.find('>').map_or(rest.len(), |i| i + 1);
                    rest[..end]
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_string()
                })
        };
        match verb.as_str() {
            "EHLO" => say(
                output,
                "250-smtpsend\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n",
            )?,
            "HELO" => say(output, "250 smtpsend\r\n")?,
            "MAIL" => match argument("MAIL FROM:") {
                Some(from) => {
                    envelope = Some(Envelope {
                        from,
                        recipients: Vec::new(),
                        dsn: Dsn::default(),
                    });
                    say(output, "250 2.1.0 Ok\r\n")?;
                }
                None => say(output, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n")?,
            },
            "RCPT" => match (argument("RCPT TO:"), envelope.as_mut()) {
                (Some(to), Some(envelope)) => {
                    envelope.recipients.push(to);
                    say(output, "250 2.1.5 Ok\r\n")?;
                }
                (None, _) => say(output, "501 5.5.4 Syntax: RCPT TO:<address>\r\n")?,
                (_, None) => say(output, "503 5.5.1 MAIL first\r\n")?,
            },
            "DATA" => {
                let Some(current) = envelope.take().filter(|e| !e.recipients.is_empty()) else {
                    say(output, "503 5.5.1 RCPT first\r\n")?;
                    continue;
                };
                say(output, "354 End data with <CR><LF>.<CR><LF>\r\n")?;
                let data = read_data(input).map_err(io)?;
                let reply = match relay(&data, &current) {
                    Ok(reply) => format!("250 2.0.0 Ok: relayed ({})\r\n", report::escape(&reply)),
                    Err(error) if error.kind == Kind::Temporary => {
                        format!("451 4.3.0 {}\r\n", report::escape(&error.message))
                    }
                    Err(error) => format!("554 5.3.0 {}\r\n", report::escape(&error.message)),
                };
                say(output, &reply)?;
            }
            "RSET" => {
                envelope = None;
                say(output, "250 2.0.0 Ok\r\n")?;
            }
            "NOOP" => say(output, "250 2.0.0 Ok\r\n")?,
            "VRFY" => say(output, "252 2.5.2 Cannot verify, send anyway\r\n")?,
            "QUIT" => {
                say(output, "221 2.0.0 Bye\r\n")?;
                return Ok(());
            }
            _ => say(output, "502 5.5.2 Command not implemented\r\n")?,
        }
    }
}

/// The message data up to the lone dot, dot-stuffing undone (RFC 5321 section 4.5.2).
fn read_data(input: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "input ended inside DATA",
            ));
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(data);
        }
        let unstuffed = line
            .strip_prefix(b".")
            .filter(|_| line.starts_with(b".."))
            .unwrap_or(&line);
        data.extend_from_slice(unstuffed);
    }
}

/// Whether the binary was started under the name `sendmail` (a symlink).
pub fn invoked_as_sendmail(argv0: &str) -> bool {
    PathBuf::from(argv0)
        .file_name()
        .is_some_and(|name| name == "sendmail")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> Result<Invocation, Error> {
        parse_flags(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn what_real_callers_pass() {
        let cron = flags(&["-FCronDaemon", "-odi", "-oem", "-oi", "-t"]).unwrap();
        assert!(cron.recipients_from_headers && cron.ignore_dots);
        assert_eq!(cron.full_name.as_deref(), Some("CronDaemon"));
        let busybox = flags(&["-ti"]).unwrap();
        assert!(busybox.recipients_from_headers && busybox.ignore_dots);
        let php = flags(&["-t", "-i"]).unwrap();
        assert!(php.recipients_from_headers && php.ignore_dots);
        let git = flags(&["-i", "a@x.org", "b@y.org"]).unwrap();
        assert_eq!(git.recipients, ["a@x.org", "b@y.org"]);
        let mailx = flags(&[
            "-f",
            "me@x.org",
            "-N",
            "success,failure",
            "-V",
            "env1",
            "--",
            "-odd@x.org",
        ])
        .unwrap();
        assert_eq!(mailx.sender.as_deref(), Some("me@x.org"));
        assert_eq!(mailx.dsn_notify.as_deref(), Some("SUCCESS,FAILURE"));
        assert_eq!(mailx.envelope_id.as_deref(), Some("env1"));
        assert_eq!(mailx.recipients, ["-odd@x.org"]);
        assert!(flags(&["-bs"]).unwrap().smtp_dialogue);
        let snail = flags(&["-i", "-m", "--", "a@x.org"]).unwrap();
        assert_eq!(snail.recipients, ["a@x.org"]);
        let mutt = flags(&["-R", "hdrs", "-N", "failure", "a@x.org"]).unwrap();
        assert_eq!(mutt.dsn_return.as_deref(), Some("HDRS"));
        assert_eq!(
            flags(&["-rme@x.org"]).unwrap().sender.as_deref(),
            Some("me@x.org")
        );
    }

    #[test]
    fn ignored_flags_are_accepted() {
        for ignored in [
            &["-oem"][..],
            &["-odb"],
            &["-om"],
            &["-oQ/var/spool"],
            &["-Am"],
            &["-Ac"],
            &["-B", "8BITMIME"],
            &["-O", "x=y"],
            &["-G"],
            &["-h", "3"],
            &["-L", "tag"],
            &["-bm"],
        ] {
            assert!(flags(ignored).is_ok(), "{ignored:?}");
        }
    }

    #[test]
    fn unknown_flags_are_usage_errors_naming_the_flag() {
        for (args, named) in [
            (&["-q"][..], "-q"),
            (&["-bp"], "-bp"),
            (&["-oZ"], "-oZ"),
            (&["-tz"], "-z"),
            (&["-f"], "-f"),
        ] {
            let err = flags(args).unwrap_err();
            assert_eq!(err.exit_code(), 64, "{args:?}");
            assert!(err.message.contains(named), "{args:?}: {}", err.message);
        }
        assert!(flags(&["-N", "sometimes"]).is_err());
    }

    #[test]
    fn long_options_go_to_clap_with_their_values() {
        let invocation = flags(&[
            "-t",
            "--account",
            "work",
            "--json",
            "--server=smtp://h.example",
        ])
        .unwrap();
        assert_eq!(
            invocation.long_options,
            ["--account", "work", "--json", "--server=smtp://h.example"]
        );
        let options = SendmailOptions::try_parse_from(&invocation.long_options).unwrap();
        assert_eq!(options.account.as_deref(), Some("work"));
        assert!(options.json);
    }

    #[test]
    fn a_lone_dot_ends_the_input_unless_dash_i() {
        let input = b"Subject: x\n\nline\n.\nafter\n";
        assert_eq!(until_lone_dot(input, false), b"Subject: x\n\nline\n");
        assert_eq!(until_lone_dot(input, true), input);
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
        let (fixed, id) = fix_headers(&message, Some(&from), "host.example").unwrap();
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
        let (fixed, id) = fix_headers(&message, None, "x.org").unwrap();
        assert_eq!(id, "<given@x.org>");
        assert_eq!(fixed, message);
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
        let long = format!("Subject: x\r\n\r\n{}\r\n", "x".repeat(1200));
        assert_eq!(split_header(long.as_bytes()).unwrap_err().exit_code(), 65);
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

    #[test]
    fn aliases_expand_recursively_with_default_and_domain() {
        let aliases = parse_aliases(
            "# system\nroot: admin\nadmin: alice@example.org,\n  bob@example.org\npostmaster: root\ndefault: ops@example.org\n",
            Path::new("/etc/aliases"),
        )
        .unwrap();
        let expand = |names: &[&str], domain| {
            expand_recipients(
                &names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
                &aliases,
                domain,
            )
        };
        assert_eq!(
            expand(&["root"], None).unwrap(),
            ["alice@example.org", "bob@example.org"]
        );
        assert_eq!(
            expand(&["postmaster", "carol@x.org"], None).unwrap(),
            ["alice@example.org", "bob@example.org", "carol@x.org"]
        );
        assert_eq!(expand(&["www-data"], None).unwrap(), ["ops@example.org"]);
        let none = parse_aliases("", Path::new("/etc/aliases")).unwrap();
        assert_eq!(
            expand_recipients(&["backup".into()], &none, Some("host.example")).unwrap(),
            ["backup@host.example"]
        );
        assert_eq!(
            expand_recipients(&["backup".into()], &none, None)
                .unwrap_err()
                .exit_code(),
            64
        );
        let looped = parse_aliases("a: b\nb: a\n", Path::new("/etc/aliases")).unwrap();
        assert!(expand_recipients(&["a".into()], &looped, None).is_err());
        assert!(parse_aliases("x: |/usr/bin/procmail\n", Path::new("/etc/aliases")).is_err());
    }

    #[test]
    fn the_smtp_dialogue_relays_each_message() {
        let input = b"EHLO client\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nDATA\r\nSubject: t\r\n\r\n..dot\r\n.\r\nQUIT\r\n";
        let mut output = Vec::new();
        let relayed = std::cell::RefCell::new(Vec::new());
        serve_smtp(
            &mut &input[..],
            &mut output,
            &|data: &[u8], envelope: &Envelope| {
                relayed.borrow_mut().push((data.to_vec(), envelope.clone()));
                Ok("250 2.0.0 Ok: queued as Q1".into())
            },
        )
        .unwrap();
        let output = String::from_utf8(output).unwrap();
        assert!(output.starts_with("220 "), "{output}");
        assert!(output.contains("354 "));
        assert!(
            output.contains("250 2.0.0 Ok: relayed (250 2.0.0 Ok: queued as Q1)"),
            "{output}"
        );
        assert!(output.ends_with("221 2.0.0 Bye\r\n"));
        let relayed = relayed.into_inner();
        assert_eq!(relayed.len(), 1);
        assert_eq!(relayed[0].0, b"Subject: t\r\n\r\n.dot\r\n");
        assert_eq!(relayed[0].1.from, "a@x.org");
        assert_eq!(relayed[0].1.recipients, ["b@y.org"]);
    }

    #[test]
    fn a_failed_relay_becomes_the_matching_reply() {
        let input =
            b"HELO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n";
        let mut output = Vec::new();
        serve_smtp(&mut &input[..], &mut output, &|_: &[u8], _: &Envelope| {
            Err(Error::new(Kind::Temporary, "cannot connect"))
        })
        .unwrap();
        assert!(
            String::from_utf8(output)
                .unwrap()
                .contains("451 4.3.0 cannot connect")
        );
    }
}
