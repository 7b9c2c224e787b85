//! Queueing: keeping a message whose send failed for now, and the `queue` commands that show,
//! flush and drop what is kept. Storage is `outbox`'s; the session is `submit`'s.
//!
//! Delivery is at least once. A message leaves the outbox only after the server's final 250
//! for it, so a crash or kill at any earlier point keeps it; the one window that can duplicate
//! a message is between that 250 and the removal of its entry, a few system calls long. A send
//! whose connection was lost after the whole message went out but before the server confirmed
//! it is queued too: the server may have taken it, so it may arrive twice.

use std::collections::HashMap;

use clap::ValueEnum;

use crate::cli::{AuthMechanism, ConnectionArgs};
use crate::compose::{Composed, Dsn, Envelope};
use crate::content::Content;
use crate::delivery_log;
use crate::error::{Error, Kind};
use crate::outbox::{Attempt, Entry, Held, Outbox, Route, now};
use crate::report::{Transcript, escape};
use crate::send::session_options;
use crate::settings::{self, Environment, ServerSettings};
use crate::submit::{self, Delivery};

/// Retries back off from a minute, doubling, to at most four hours apart.
const FIRST_RETRY_SECS: u64 = 60;
const LONGEST_RETRY_SECS: u64 = 4 * 3600;
/// A message not delivered within this long becomes a dead letter.
const MAX_AGE_SECS: u64 = 5 * 24 * 3600;

/// Whether a failed delivery should wait in the outbox: a temporary failure, before the
/// server accepted the message or for the recipients it deferred; or a protocol error, after
/// which the server has not accepted the message, may not even have refused it, and a
/// message never confirmed must not be lost.
pub fn should_queue(delivery: &Delivery) -> bool {
    delivery
        .failure
        .as_ref()
        .is_some_and(|(_, error)| waits(error.kind))
}

/// The failures after which a message waits for another try rather than becoming a dead letter.
fn waits(kind: Kind) -> bool {
    matches!(kind, Kind::Temporary | Kind::Protocol)
}

/// The recipients still to deliver to after `delivery`: all of them when the message was not
/// accepted, else those the server deferred (4xx).
fn remaining_recipients(message: &Composed, delivery: &Delivery) -> Vec<String> {
    if !delivery.accepted() {
        return message.envelope.recipients.clone();
    }
    delivery
        .recipients
        .iter()
        .filter(|r| !r.accepted && r.reply.as_ref().is_some_and(|reply| reply.code < 500))
        .map(|r| r.address.clone())
        .collect()
}

/// How to reach this server again from the outbox.
pub fn route_of(server: &ServerSettings, connection: &ConnectionArgs) -> Route {
    Route {
        account: server.account.clone(),
        config: connection.config.clone(),
        server: Some(server.endpoint.url()),
        ca_file: server.ca_file.clone(),
        user: server.login.as_ref().map(|l| l.user.clone()),
        auth: server
            .login
            .as_ref()
            .map(|l| l.mechanism.name().to_string()),
        timeout: Some(server.timeout.as_secs()),
    }
}

/// Keeps a message after a failure `should_queue` accepts; returns the error to report, of
/// the same kind, which now says where the message is.
pub fn keep(
    message: &Composed,
    delivery: &Delivery,
    route: Route,
    env: &Environment,
) -> Result<Error, Error> {
    let (_, error) = delivery.failure.as_ref().expect("a failed delivery");
    let outbox = Outbox::open(env.var)?;
    let attempt = Attempt {
        at: now(),
        result: error.message.clone(),
        exit_code: error.exit_code(),
    };
    let recipients = remaining_recipients(message, delivery);
    let entry = outbox.enqueue(
        message,
        &recipients,
        route,
        attempt,
        now() + FIRST_RETRY_SECS,
    )?;
    Ok(Error::new(
        error.kind,
        format!(
            "{}; queued as {} in {} for `smtpsend queue flush`",
            error.message,
            entry.id,
            outbox.dir.display()
        ),
    ))
}

pub fn list(env: &Environment) -> Result<(), Error> {
    let outbox = Outbox::open(env.var)?;
    let queued = outbox.entries()?;
    let dead = outbox.dead_entries()?;
    if queued.is_empty() && dead.is_empty() {
        println!("the outbox is empty");
        return Ok(());
    }
    let clock = now();
    for entry in &queued {
        let next = if entry.next_attempt <= clock {
            "due now".to_string()
        } else {
            format!("next try in {}", duration(entry.next_attempt - clock))
        };
        println!(
            "{}  queued {} ago, {} attempt{}, {next}  <{}> -> {}",
            entry.id,
            duration(clock.saturating_sub(entry.created)),
            entry.attempts.len(),
            if entry.attempts.len() == 1 { "" } else { "s" },
            entry.from,
            addresses(&entry.recipients)
        );
        if let Some(last) = entry.attempts.last() {
            println!("    last: {}", escape(&last.result));
        }
    }
    for entry in &dead {
        println!(
            "{}  dead letter  <{}> -> {}",
            entry.id,
            entry.from,
            addresses(&entry.recipients)
        );
        println!(
            "    {}",
            escape(entry.reason.as_deref().unwrap_or_default())
        );
    }
    Ok(())
}

pub fn show(id: &str, env: &Environment) -> Result<(), Error> {
    let outbox = Outbox::open(env.var)?;
    let (entry, message) = outbox.find(id)?;
    let json = serde_json::to_string_pretty(&entry)
        .map_err(|err| Error::new(Kind::Internal, err.to_string()))?;
    println!("{json}");
    println!("message: {}", message.display());
    Ok(())
}

pub fn drop(id: &str, env: &Environment) -> Result<(), Error> {
    Outbox::open(env.var)?.drop_entry(id)?;
    println!("dropped {id}");
    Ok(())
}

/// Delivers what is due: one session per server, each message in it in turn.
pub fn flush(
    account: Option<&str>,
    all_now: bool,
    verbose: bool,
    env: &Environment,
) -> Result<(), Error> {
    let outbox = Outbox::open(env.var)?;
    outbox.finish_interrupted_removals()?;
    let clock = now();
    let mut groups: Vec<(Route, Vec<Entry>)> = Vec::new();
    let mut index: HashMap<Route, usize> = HashMap::new();
    for entry in outbox.entries()? {
        let due = all_now || entry.next_attempt <= clock;
        let wanted = account.is_none_or(|a| entry.route.account.as_deref() == Some(a));
        if due && wanted {
            let at = *index.entry(entry.route.clone()).or_insert_with(|| {
                groups.push((entry.route.clone(), Vec::new()));
                groups.len() - 1
            });
            groups[at].1.push(entry);
        }
    }
    let mut tally = Tally::default();
    for (route, entries) in groups {
        flush_group(&outbox, &route, entries, verbose, env, &mut tally)?;
    }
    println!(
        "{} delivered, {} deferred, {} dead",
        tally.delivered, tally.deferred, tally.dead
    );
    match tally.worst {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

#[derive(Default)]
struct Tally {
    delivered: usize,
    deferred: usize,
    dead: usize,
    /// The error that decides the exit status (`Error::keep_worst`).
    worst: Option<Error>,
}

impl Tally {
    fn failed(&mut self, error: Error) {
        Error::keep_worst(&mut self.worst, error);
    }
}

fn flush_group(
    outbox: &Outbox,
    route: &Route,
    entries: Vec<Entry>,
    verbose: bool,
    env: &Environment,
    tally: &mut Tally,
) -> Result<(), Error> {
    let mut held = Vec::new();
    for entry in entries {
        // Skipped when another flush is delivering it right now.
        if let Some(lock) = outbox.hold(&entry.id)? {
            let bytes = outbox.message(&entry)?;
            held.push((entry, lock, bytes));
        }
    }
    if held.is_empty() {
        return Ok(());
    }
    let mut transcript = Transcript::new(verbose);
    let resolved = resolve_route(route, env).and_then(|server| {
        let mut options = session_options(&server, &mut transcript)?;
        // Deliver to whoever the server takes; the deferred stay queued.
        options.allow_partial = true;
        Ok((server, options))
    });
    let (server, options) = match resolved {
        Ok(resolved) => resolved,
        Err(error) => {
            // Nothing was tried: the entries wait, and the reason is said once.
            eprintln!(
                "smtpsend: cannot flush {} message(s): {}",
                held.len(),
                escape(&error.message)
            );
            tally.deferred += held.len();
            tally.failed(error);
            return Ok(());
        }
    };
    let messages: Vec<Composed> = held
        .iter()
        .map(|(entry, _, content)| Composed {
            envelope: Envelope {
                from: entry.from.clone(),
                recipients: entry.recipients.clone(),
                dsn: Dsn {
                    notify: entry.dsn_notify.clone(),
                    envelope_id: entry.dsn_envid.clone(),
                    ret: entry.dsn_ret.clone(),
                },
            },
            message_id: entry.message_id.clone(),
            content: content.clone(),
        })
        .collect();
    let mut held: Vec<Option<(Entry, Held, Content)>> = held.into_iter().map(Some).collect();
    let mut storage_error = None;
    submit::submit_batch(
        &messages,
        &options,
        &mut transcript,
        &mut |index, delivery| {
            // Settled the moment its transaction ends: a kill after the server's 250 can duplicate
            // this message only, and only in the few system calls before its entry is gone.
            if let Some((mut entry, lock, _)) = held[index].take() {
                match record(outbox, &mut entry, &messages[index], delivery, tally) {
                    Ok(error) => delivery_log::note(
                        server.log.as_ref(),
                        server.account.as_deref(),
                        &messages[index],
                        delivery,
                        error.as_ref(),
                    ),
                    Err(error) => {
                        storage_error.get_or_insert(error);
                    }
                }
                std::mem::drop(lock);
            }
        },
    );
    storage_error.map_or(Ok(()), Err)
}

/// Settles one entry after its attempt: removed, kept for later, or buried. Gives the
/// message's error, if it had one, for the delivery log.
fn record(
    outbox: &Outbox,
    entry: &mut Entry,
    message: &Composed,
    delivery: &Delivery,
    tally: &mut Tally,
) -> Result<Option<Error>, Error> {
    let reply = delivery
        .final_reply
        .as_ref()
        .map(|r| r.one_line())
        .unwrap_or_default();
    let Some((_, error)) = &delivery.failure else {
        outbox.remove(&entry.id)?;
        tally.delivered += 1;
        println!(
            "{}: delivered to {}: {}",
            entry.id,
            addresses(&entry.recipients),
            escape(&reply)
        );
        return Ok(None);
    };
    let remaining = remaining_recipients(message, delivery);
    if delivery.accepted() {
        println!("{}: delivered to some: {}", entry.id, escape(&reply));
    }
    if waits(error.kind) && !remaining.is_empty() {
        entry.attempts.push(Attempt {
            at: now(),
            result: error.message.clone(),
            exit_code: error.exit_code(),
        });
        entry.recipients = remaining;
        if now().saturating_sub(entry.created) > MAX_AGE_SECS {
            let reason = format!(
                "not delivered within {} days; last: {}",
                MAX_AGE_SECS / 86_400,
                error.message
            );
            let path = outbox.bury(entry, &reason)?;
            tally.dead += 1;
            println!(
                "{}: dead letter, kept in {}: {}",
                entry.id,
                path.display(),
                escape(&reason)
            );
            let dead = Error::new(Kind::Unavailable, reason);
            tally.failed(dead.clone());
            return Ok(Some(dead));
        }
        let delay = backoff(entry.attempts.len());
        entry.next_attempt = now() + delay;
        outbox.save(entry)?;
        tally.deferred += 1;
        println!(
            "{}: deferred, next try in {}: {}",
            entry.id,
            duration(delay),
            escape(&error.message)
        );
        tally.failed(error.clone());
        return Ok(Some(error.clone()));
    }
    if delivery.accepted() && remaining.is_empty() {
        // Accepted for some, refused for the rest: nothing left to retry.
        outbox.remove(&entry.id)?;
        tally.delivered += 1;
        println!(
            "{}: refused for the others: {}",
            entry.id,
            escape(&error.message)
        );
        tally.failed(error.clone());
        return Ok(Some(error.clone()));
    }
    let path = outbox.bury(entry, &error.message)?;
    tally.dead += 1;
    println!(
        "{}: dead letter, kept in {}: {}",
        entry.id,
        path.display(),
        escape(&error.message)
    );
    tally.failed(error.clone());
    Ok(Some(error.clone()))
}

/// Seconds until the next try after `attempts` attempts.
fn backoff(attempts: usize) -> u64 {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(16);
    (FIRST_RETRY_SECS << doublings).min(LONGEST_RETRY_SECS)
}

/// The server settings for an entry's route: its account as the configuration says now, or
/// the server it was sent to.
fn resolve_route(route: &Route, env: &Environment) -> Result<ServerSettings, Error> {
    let by_account = route.account.is_some();
    let explicit = |value: &Option<String>| if by_account { None } else { value.clone() };
    let connection = ConnectionArgs {
        config: route.config.clone(),
        server: explicit(&route.server),
        host: None,
        port: None,
        tls: None,
        ca_file: if by_account {
            None
        } else {
            route.ca_file.clone()
        },
        timeout: route.timeout,
        deadline: None,
        user: explicit(&route.user),
        auth: explicit(&route.auth).and_then(|a| AuthMechanism::from_str(&a, true).ok()),
        password_command: None,
    };
    settings::resolve_connection(route.account.as_deref(), &connection, None, env)
        .map(|(_, server)| server)
}

fn addresses(list: &[String]) -> String {
    list.iter()
        .map(|a| format!("<{a}>"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn duration(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_a_ceiling() {
        assert_eq!(backoff(1), 60);
        assert_eq!(backoff(2), 120);
        assert_eq!(backoff(5), 960);
        assert_eq!(backoff(50), LONGEST_RETRY_SECS);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(5), "5 s");
        assert_eq!(duration(600), "10 min");
        assert_eq!(duration(3 * 3600), "3 h");
        assert_eq!(duration(3 * 86_400), "3 days");
    }
}
