//! `queue flush`: what is due, one session per server, each entry settled the moment its
//! transaction ends; and how much it says, so that cron, which mails whatever a job prints,
//! hears nothing while all is well.

use std::collections::HashMap;

use super::addresses;
use crate::address::parse_mailbox;
use crate::clock;
use crate::compose::{Composed, Dsn, Envelope};
use crate::content::Content;
use crate::delivery_log;
use crate::error::Error;
use crate::outbox::policy::{self, Settlement};
use crate::outbox::{Attempt, Entry, Held, Listing, Outbox, Route};
use crate::route;
use crate::sendmail;
use crate::settings::Environment;
use crate::submit::Transcript;
use crate::submit::{self, Delivery};
use crate::terminal::{escape, outln};

/// How much a flush says. Cron mails whatever a job prints, so a flush that nobody watches
/// says nothing while all is well.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Talk {
    /// `-q`: nothing on success; what failed on standard error.
    Quiet,
    /// No terminal, as under cron: nothing, unless something failed or was deferred; then the
    /// whole report, what went out included.
    WhenFailed,
    /// `-v` or a terminal: each line as it happens, the count, what waits.
    #[default]
    Always,
}

/// Delivers what is due: one session per server, each message in it in turn.
pub fn flush(
    account: Option<&str>,
    all_now: bool,
    verbose: bool,
    talk: Talk,
    env: &Environment,
) -> Result<(), Error> {
    let outbox = Outbox::open(env.var)?;
    outbox.finish_interrupted_removals()?;
    let mut tally = Tally {
        talk,
        ..Tally::default()
    };
    adopt_orphans(&outbox, account, &mut tally)?;
    let clock = clock::unix_now();
    let mut groups: Vec<(Route, Vec<Entry>)> = Vec::new();
    let mut index: HashMap<Route, usize> = HashMap::new();
    let mut waiting: Vec<u64> = Vec::new();
    let Listing { entries, damaged } = outbox.entries()?;
    for entry in &damaged {
        // Its envelope cannot be trusted: a person must look at it.
        tally.warn(format!(
            "{}: left in the outbox: {}",
            escape(&entry.id),
            escape(&entry.problem)
        ));
        tally.deferred += 1;
        tally.failed(Error::bad_message(entry.problem.clone()));
    }
    for entry in entries {
        let due = all_now || entry.next_attempt <= clock;
        let wanted = account.is_none_or(|a| entry.route.account.as_deref() == Some(a));
        if wanted && !due {
            waiting.push(entry.next_attempt);
        }
        if due && wanted {
            let at = *index.entry(entry.route.clone()).or_insert_with(|| {
                groups.push((entry.route.clone(), Vec::new()));
                groups.len() - 1
            });
            groups[at].1.push(entry);
        }
    }
    for (route, entries) in groups {
        flush_group(&outbox, &route, entries, verbose, env, &mut tally)?;
    }
    tally.say(format!(
        "{} delivered, {} deferred, {} dead",
        tally.delivered, tally.deferred, tally.dead
    ));
    if let Some(next) = waiting.iter().min() {
        let count = waiting.len();
        tally.say(format!(
            "{count} message{} waiting, the next due {} (in {}); `smtpsend queue flush --now` \
             sends {} now",
            if count == 1 { "" } else { "s" },
            clock::local_timestamp(*next),
            clock::span(next.saturating_sub(clock)),
            if count == 1 { "it" } else { "them" },
        ));
    }
    tally.finish()
}

/// Completes the entries a crash left without a description, so this flush delivers them: the
/// envelope from the message's header (From; To, Cc and Bcc, though a Bcc was removed before
/// the message was stored), the server from the configuration as it is now (`--account`, else
/// the default). A message whose header gives no envelope becomes a dead letter.
fn adopt_orphans(outbox: &Outbox, account: Option<&str>, tally: &mut Tally) -> Result<(), Error> {
    for orphan in outbox.orphans()? {
        // Being written right now, or completed by another flush since the listing.
        let Some(held) = outbox.hold_orphan(&orphan.id)? else {
            continue;
        };
        let bytes = outbox.held_bytes(&orphan.id, &held)?;
        let header = sendmail::header_envelope(&bytes);
        let address = |raw: &str, what: &str| {
            parse_mailbox(raw, what)
                .ok()
                .map(|m| m.address)
                .filter(|a| a.contains('@'))
        };
        let (from, recipients, message_id) = match &header {
            Ok(header) => (
                header.from.as_deref().and_then(|f| address(f, "From")),
                header
                    .recipients
                    .iter()
                    .filter_map(|r| address(r, "To"))
                    .collect(),
                header.message_id.clone(),
            ),
            Err(_) => (None, Vec::new(), None),
        };
        let problem = match (&header, &from) {
            (Err(error), _) => Some(error.message.clone()),
            (Ok(_), None) => Some("its header has no From address".to_string()),
            (Ok(_), Some(_)) if recipients.is_empty() => {
                Some("its header names no recipient".to_string())
            }
            _ => None,
        };
        let mut entry = Entry {
            id: orphan.id,
            created: orphan.created,
            message_id: message_id.unwrap_or_default(),
            from: from.unwrap_or_default(),
            recipients,
            dsn_notify: None,
            dsn_envid: None,
            dsn_ret: None,
            ascii: Content::from_bytes(bytes).ascii(),
            route: Route {
                account: account.map(str::to_string),
                ..Route::default()
            },
            attempts: Vec::new(),
            next_attempt: 0,
            reason: None,
        };
        match problem {
            None => {
                outbox.save(&entry)?;
                tally.say(format!(
                    "{}: damaged entry (no description) recovered from its header: <{}> -> {}",
                    escape(&entry.id),
                    escape(&entry.from),
                    addresses(&entry.recipients)
                ));
            }
            Some(problem) => {
                let reason = format!("damaged entry (no description), and {problem}");
                let path = outbox.bury(&mut entry, &reason)?;
                buried(tally, &entry.id, &path, &reason);
                tally.failed(Error::bad_message(reason));
            }
        }
    }
    Ok(())
}

/// Counts and says that an entry is now a dead letter.
fn buried(tally: &mut Tally, id: &str, path: &std::path::Path, reason: &str) {
    tally.dead += 1;
    tally.warn(format!(
        "{}: dead letter, kept in {}: {}",
        escape(id),
        path.display(),
        escape(reason)
    ));
}

/// What a flush did, and what it says about it (see [`Talk`]).
#[derive(Default)]
struct Tally {
    delivered: usize,
    deferred: usize,
    dead: usize,
    /// The error that decides the exit status (`Error::keep_worst`).
    worst: Option<Error>,
    talk: Talk,
    /// The lines said only if something fails (`Talk::WhenFailed`).
    held_back: Vec<String>,
}

impl Tally {
    fn failed(&mut self, error: Error) {
        Error::keep_worst(&mut self.worst, error);
    }

    /// A line about what went well, or about the whole flush.
    fn say(&mut self, line: String) {
        match self.talk {
            Talk::Always => outln!("{line}"),
            Talk::WhenFailed => self.held_back.push(line),
            Talk::Quiet => {}
        }
    }

    /// A line about what went wrong with an entry.
    fn warn(&mut self, line: String) {
        match self.talk {
            Talk::Quiet => eprintln!("smtpsend: {line}"),
            _ => self.say(line),
        }
    }

    /// Says what was held back if something failed, and gives the exit status.
    fn finish(self) -> Result<(), Error> {
        if self.worst.is_some() {
            for line in &self.held_back {
                outln!("{line}");
            }
        }
        self.worst.map_or(Ok(()), Err)
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
        let taken = outbox.hold(&entry.id).and_then(|lock| {
            lock.map(|lock| outbox.message(&entry, &lock).map(|content| (lock, content)))
                .transpose()
        });
        match taken {
            Ok(Some((lock, content))) => held.push((entry, lock, content)),
            // Another flush is delivering it right now.
            Ok(None) => {}
            // Its message cannot be opened (a symbolic link, say): it waits, and the rest go.
            Err(error) => {
                tally.warn(format!(
                    "{}: left in the outbox: {}",
                    escape(&entry.id),
                    escape(&error.message)
                ));
                tally.deferred += 1;
                tally.failed(error);
            }
        }
    }
    if held.is_empty() {
        return Ok(());
    }
    let mut transcript = Transcript::new(verbose);
    let resolved = route::resolve_kept(route, env).and_then(|server| {
        let mut options = route::session_options(&server, &mut transcript)?;
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
    let now = clock::unix_now();
    let attempts = entry.attempts.len() + 1;
    let settlement = policy::settle(message, delivery, entry.created, attempts, now);
    if delivery.accepted() && settlement != Settlement::Delivered {
        tally.warn(format!(
            "{}: delivered to some: {}",
            entry.id,
            escape(&reply)
        ));
    }
    if let Some((_, error)) = &delivery.failure {
        entry.attempts.push(Attempt {
            at: now,
            result: error.message.clone(),
            exit_code: error.exit_code(),
        });
    }
    let error = match settlement {
        Settlement::Delivered => {
            outbox.remove(&entry.id)?;
            tally.delivered += 1;
            tally.say(format!(
                "{}: delivered to {}: {}",
                entry.id,
                addresses(&entry.recipients),
                escape(&reply)
            ));
            return Ok(None);
        }
        Settlement::Deferred {
            error,
            recipients,
            retry_in,
        } => {
            entry.recipients = recipients;
            entry.next_attempt = now + retry_in;
            outbox.save(entry)?;
            tally.deferred += 1;
            tally.warn(format!(
                "{}: deferred, next try in {}: {}",
                entry.id,
                clock::span(retry_in),
                escape(&error.message)
            ));
            error
        }
        Settlement::RefusedForTheRest(error) => {
            outbox.remove(&entry.id)?;
            tally.delivered += 1;
            tally.warn(format!(
                "{}: refused for the others: {}",
                entry.id,
                escape(&error.message)
            ));
            error
        }
        Settlement::Dead { reason, error } => {
            let path = outbox.bury(entry, &reason)?;
            buried(tally, &entry.id, &path, &reason);
            error
        }
    };
    tally.failed(error.clone());
    Ok(Some(error))
}
