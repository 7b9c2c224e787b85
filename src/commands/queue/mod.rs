//! `queue list`, `show`, `drop`, `retry` and `flush`: the outbox as a person or a cron job
//! sees it. Storage and the decisions about an entry are `outbox`'s; the session is `submit`'s;
//! this only puts them in order and says what happened to each entry.

use crate::address::parse_mailbox;
use crate::clock;
use crate::error::{Error, Kind};
use crate::outbox::{Listing, Orphan, Outbox, Route};
use crate::sendmail;
use crate::settings::Environment;
use crate::terminal::{escape, escape_json, outln};

mod flush;

pub use flush::{Talk, flush};

pub fn list(env: &Environment) -> Result<(), Error> {
    let outbox = Outbox::open(env.var)?;
    let Listing {
        entries: queued,
        damaged,
    } = outbox.entries()?;
    let Listing {
        entries: dead,
        damaged: dead_damaged,
    } = outbox.dead_entries()?;
    let orphans = outbox.orphans()?;
    let dead_orphans = outbox.dead_orphans()?;
    if queued.is_empty()
        && dead.is_empty()
        && orphans.is_empty()
        && dead_orphans.is_empty()
        && damaged.is_empty()
        && dead_damaged.is_empty()
    {
        outln!("the outbox is empty");
        return Ok(());
    }
    for entry in damaged.iter().chain(&dead_damaged) {
        outln!(
            "{}  damaged description, left as it is: {}",
            escape(&entry.id),
            escape(&entry.problem)
        );
    }
    let clock = clock::unix_now();
    let age = |orphan: &Orphan| clock::span(clock.saturating_sub(orphan.created));
    for orphan in &orphans {
        outln!(
            "{}  damaged: no description, queued {} ago; `smtpsend queue flush` sends it to the \
             addresses in its header",
            escape(&orphan.id),
            age(orphan)
        );
    }
    for entry in &queued {
        let next = if entry.next_attempt <= clock {
            "due now".to_string()
        } else {
            format!("next try in {}", clock::span(entry.next_attempt - clock))
        };
        // All of it read from a file: escaped, every part.
        let line = format!(
            "{}  queued {} ago, {} attempt{}, {next}  <{}> -> {}",
            entry.id,
            clock::span(clock.saturating_sub(entry.created)),
            entry.attempts.len(),
            if entry.attempts.len() == 1 { "" } else { "s" },
            entry.from,
            addresses(&entry.recipients)
        );
        outln!("{}", escape(&line));
        if let Some(last) = entry.attempts.last() {
            outln!("    last: {}", escape(&last.result));
        }
    }
    for entry in &dead {
        let line = format!(
            "{}  dead letter  <{}> -> {}",
            entry.id,
            entry.from,
            addresses(&entry.recipients)
        );
        outln!("{}", escape(&line));
        outln!(
            "    {}",
            escape(entry.reason.as_deref().unwrap_or_default())
        );
    }
    for orphan in &dead_orphans {
        outln!(
            "{}  dead letter, damaged: no description, kept {} ago",
            escape(&orphan.id),
            age(orphan)
        );
    }
    Ok(())
}

/// One entry for a person: its envelope (Bcc recipients too: the envelope has them, the
/// message does not), its times as dates, where it goes and each attempt; with `--json`, its
/// stored description and the path of its message.
pub fn show(id: &str, json: bool, env: &Environment) -> Result<(), Error> {
    let outbox = Outbox::open(env.var)?;
    let (entry, message) = outbox.find(id)?;
    if json {
        let mut value = serde_json::to_value(&entry)
            .map_err(|err| Error::new(Kind::Internal, err.to_string()))?;
        value["message_file"] = message.display().to_string().into();
        let json = serde_json::to_string_pretty(&value)
            .map_err(|err| Error::new(Kind::Internal, err.to_string()))?;
        // The stored replies are the server's text: escaped, and still JSON.
        outln!("{}", escape_json(&json));
        return Ok(());
    }
    let now = clock::unix_now();
    let in_header = outbox
        .message_head(&message)
        .ok()
        .and_then(|head| sendmail::header_envelope(&head).ok())
        .map(|header| header_addresses(&header.recipients))
        .unwrap_or_default();
    // All of it read from a file: escaped, every part.
    let row = |key: &str, value: &str| outln!("{key:<12} {}", escape(value));
    row("id", &entry.id);
    row(
        "state",
        match &entry.reason {
            Some(_) => "dead letter (`smtpsend queue retry` queues it again)",
            None if entry.next_attempt <= now => "queued, due now",
            None => "queued",
        },
    );
    if let Some(reason) = &entry.reason {
        row("reason", reason);
    }
    row("message-id", &entry.message_id);
    row("from", &format!("<{}>", entry.from));
    for recipient in &entry.recipients {
        let bcc = !in_header.is_empty() && !in_header.contains(&recipient.to_ascii_lowercase());
        let note = if bcc { " (Bcc: not in the header)" } else { "" };
        row("to", &format!("<{recipient}>{note}"));
    }
    for (key, value) in [
        ("dsn notify", &entry.dsn_notify),
        ("dsn envid", &entry.dsn_envid),
        ("dsn ret", &entry.dsn_ret),
    ] {
        if let Some(value) = value {
            row(key, value);
        }
    }
    row("route", &route_text(&entry.route));
    row("queued", &when(entry.created, now));
    if entry.reason.is_none() {
        row("next try", &when(entry.next_attempt, now));
    }
    for attempt in &entry.attempts {
        row(
            "attempt",
            &format!(
                "{}  exit {}  {}",
                clock::local_timestamp(attempt.at),
                attempt.exit_code,
                attempt.result
            ),
        );
    }
    row("message", &message.display().to_string());
    Ok(())
}

/// A time as a local date, and how long ago or ahead it is.
fn when(at: u64, now: u64) -> String {
    let date = clock::local_timestamp(at);
    if at > now {
        format!("{date} (in {})", clock::span(at - now))
    } else {
        format!("{date} ({} ago)", clock::span(now - at))
    }
}

/// The addresses of To and Cc fields, lower case.
fn header_addresses(fields: &[String]) -> Vec<String> {
    fields
        .iter()
        .filter_map(|raw| parse_mailbox(raw, "To").ok())
        .map(|mailbox| mailbox.address.to_ascii_lowercase())
        .collect()
}

/// Where a flush sends the entry: its account, or the server it was given.
fn route_text(route: &Route) -> String {
    let mut parts = Vec::new();
    if let Some(account) = &route.account {
        parts.push(format!("account {account}"));
    }
    if let Some(config) = &route.config {
        parts.push(format!("in {}", config.display()));
    }
    if let Some(server) = &route.server {
        parts.push(server.url());
    }
    if let Some(user) = &route.user {
        parts.push(format!("user {user}"));
    }
    if parts.is_empty() {
        "the default account".to_string()
    } else {
        parts.join(", ")
    }
}

/// Moves dead letters back into the outbox, due now, for the next flush.
pub fn retry(id: Option<&str>, all_dead: bool, env: &Environment) -> Result<(), Error> {
    let outbox = Outbox::open(env.var)?;
    let ids: Vec<String> = match id {
        Some(id) if !all_dead => vec![id.to_string()],
        _ => outbox
            .dead_entries()?
            .entries
            .into_iter()
            .map(|entry| entry.id)
            .collect(),
    };
    if ids.is_empty() {
        outln!("no dead letters");
        return Ok(());
    }
    let mut worst = None;
    let mut revived = 0;
    for id in &ids {
        match outbox.revive(id) {
            Ok(entry) => {
                revived += 1;
                outln!(
                    "{}: queued again, due now: <{}> -> {}",
                    escape(&entry.id),
                    escape(&entry.from),
                    addresses(&entry.recipients)
                );
            }
            // With --all-dead, one that cannot be moved is said, and the others still go.
            Err(error) if all_dead => {
                eprintln!("smtpsend: {}: {}", escape(id), escape(&error.message));
                Error::keep_worst(&mut worst, error);
            }
            Err(error) => return Err(error),
        }
    }
    if revived > 0 {
        let them = if revived == 1 { "it" } else { "them" };
        outln!("`smtpsend queue flush` sends {them}");
    }
    match worst {
        Some(worst) => Err(Error {
            message: format!(
                "{} of {} dead letters not queued again",
                ids.len() - revived,
                ids.len()
            ),
            hint: None,
            ..worst
        }),
        None => Ok(()),
    }
}

pub fn drop(id: &str, env: &Environment) -> Result<(), Error> {
    Outbox::open(env.var)?.drop_entry(id)?;
    outln!("dropped {id}");
    Ok(())
}

/// For a person: each address as stored, escaped (the entry is read from a file).
fn addresses(list: &[String]) -> String {
    list.iter()
        .map(|a| format!("<{}>", escape(a)))
        .collect::<Vec<_>>()
        .join(", ")
}
