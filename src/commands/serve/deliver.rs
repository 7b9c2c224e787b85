//! The delivery of what `serve` accepted: `smtpsend queue flush` in a child process as soon as
//! a message arrives (one flush at a time; what arrives meanwhile goes with the next) and every
//! `RETRY_TICK` for the retries the outbox schedules. A child process, so that a delivery that
//! hangs or crashes never takes the listener with it; the outbox's locks already keep it from
//! sending what a flush from cron sends. After each flush the new dead letters are said in the
//! log and, when `[serve] bounce_to` is set, reported there.

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use mail_builder::MessageBuilder;
use mail_builder::headers::text::Text;

use crate::compose::{Composed, Dsn, Envelope};
use crate::content::Content;
use crate::outbox::{Entry, Outbox};
use crate::terminal::{escape, print_warning};

use super::Shared;

/// How often the outbox is looked at when nothing arrives: a retry falls due at most this
/// late (the first comes after a minute, `outbox::policy`).
const RETRY_TICK: Duration = Duration::from_secs(30);

/// Starts the delivery; a send on the channel says a message waits.
pub fn start(shared: std::sync::Arc<Shared>, outbox: Outbox) -> Sender<()> {
    let (wake, woken) = std::sync::mpsc::channel();
    std::thread::spawn(move || run(&shared, &outbox, &woken));
    wake
}

fn run(shared: &Shared, outbox: &Outbox, woken: &Receiver<()>) {
    let mut dead: HashSet<String> = dead_ids(outbox).into_iter().collect();
    // What an earlier run left (a crash, a stop with the upstream server down) goes at once.
    let mut all_now = true;
    loop {
        if !all_now {
            match woken.recv_timeout(RETRY_TICK) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        // Every message that arrived until now goes in this one flush.
        while woken.try_recv().is_ok() {}
        let setup = shared.setup();
        flush(&setup, all_now);
        // A bounce queued now goes with a flush of its own at once, not at the next tick.
        let mut bounced = false;
        for entry in new_dead_letters(outbox, &mut dead) {
            bounced |= bounce(&setup, outbox, &entry);
        }
        all_now = bounced;
    }
}

fn flush(setup: &super::Setup, all_now: bool) {
    let Some(mut command) = child(setup) else {
        return;
    };
    command
        .args(["queue", "flush", "-q"])
        .args(all_now.then_some("--now"))
        .env("SMTPSEND_LOG", setup.log_setting());
    // Its failures are said by itself on standard error; the entries settle themselves.
    if let Err(err) = command.status() {
        print_warning(&format!("cannot run the delivery: {err}"));
    }
}

/// This program again, to run one of its commands for `serve`.
fn child(setup: &super::Setup) -> Option<Command> {
    let Ok(program) = std::env::current_exe() else {
        print_warning("cannot deliver: the path of this program is unknown");
        return None;
    };
    let mut command = Command::new(program);
    command
        .stdin(Stdio::null())
        // The sockets systemd passed are ours, not the child's (sd_listen_fds(3)).
        .env_remove("LISTEN_PID")
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_FDNAMES");
    if let Some(config) = &setup.config_path {
        command.env("SMTPSEND_CONFIG", config);
    }
    Some(command)
}

/// Learns the upstream server's SIZE (RFC 1870) with `smtpsend check --json`, in a thread of
/// its own so a slow server delays nothing, and keeps it for the EHLO of later sessions: a
/// message the server would refuse for its size is refused at once (552) rather than taken
/// and made a dead letter.
pub fn learn_size(shared: std::sync::Arc<Shared>) {
    std::thread::spawn(move || {
        let setup = shared.setup();
        let Some(mut command) = child(&setup) else {
            return;
        };
        command
            .args(["check", "--json"])
            .args(setup.account.as_deref())
            .stderr(Stdio::null());
        let Ok(output) = command.output() else {
            return;
        };
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
        let size = report["extensions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                e.as_str()?
                    .strip_prefix("SIZE ")?
                    .trim()
                    .parse::<usize>()
                    .ok()
            })
            .find(|size| *size > 0);
        if let Some(size) = size {
            shared.set_upstream_size(size);
        }
    });
}

fn dead_ids(outbox: &Outbox) -> Vec<String> {
    outbox
        .dead_entries()
        .map(|listing| listing.entries.into_iter().map(|e| e.id).collect())
        .unwrap_or_default()
}

/// The dead letters not seen before, each said once in the log.
fn new_dead_letters(outbox: &Outbox, seen: &mut HashSet<String>) -> Vec<Entry> {
    let Ok(listing) = outbox.dead_entries() else {
        return Vec::new();
    };
    listing
        .entries
        .into_iter()
        .filter(|entry| seen.insert(entry.id.clone()))
        .inspect(|entry| {
            print_warning(&format!(
                "dead letter {} from <{}>: {}",
                entry.id,
                escape(&entry.from),
                escape(entry.reason.as_deref().unwrap_or("refused"))
            ));
        })
        .collect()
}

/// Reports a permanent failure to `bounce_to`. The envelope sender is `bounce_to` itself, not
/// the null sender of RFC 5321 section 4.5.5, which submission servers refuse from a logged-in
/// client; a notice that fails in its turn (from `bounce_to`, or from nobody) is not reported
/// again, so notices never loop, and Auto-Submitted (RFC 3834) tells responders to keep quiet.
/// A plain text notice, not a multipart/report (RFC 3464): it is read by an administrator.
/// Whether a notice was queued.
fn bounce(setup: &super::Setup, outbox: &Outbox, dead: &Entry) -> bool {
    let Some(to) = &setup.serve.bounce_to else {
        return false;
    };
    if dead.from.is_empty() || dead.from.eq_ignore_ascii_case(to) {
        return false;
    }
    let text = format!(
        "A message accepted by smtpsend serve on {host} could not be delivered.\n\n\
         Reason: {reason}\n\
         Sender: <{from}>\n\
         Recipients: {recipients}\n\
         Message-ID: {message_id}\n\n\
         It is kept as the dead letter {id}: `smtpsend queue show {id}` shows it, and\n\
         `smtpsend queue retry {id}` sends it again once the cause is fixed.\n",
        host = setup.hostname,
        reason = dead.reason.as_deref().unwrap_or("refused"),
        from = dead.from,
        recipients = dead
            .recipients
            .iter()
            .map(|r| format!("<{r}>"))
            .collect::<Vec<_>>()
            .join(", "),
        message_id = dead.message_id,
        id = dead.id,
    );
    let daemon = format!("MAILER-DAEMON@{}", setup.hostname);
    let built = MessageBuilder::new()
        .from(("Mail Delivery System", daemon.as_str()))
        .to(to.as_str())
        .subject("Undelivered mail")
        .header("Auto-Submitted", Text::new("auto-replied"))
        .text_body(text)
        .write_to_vec();
    let Ok(bytes) = built else {
        return false;
    };
    let notice = Composed {
        envelope: Envelope {
            from: to.clone(),
            recipients: vec![to.clone()],
            dsn: Dsn::default(),
        },
        message_id: String::new(),
        content: Content::from_bytes(bytes),
    };
    match outbox.accept(&notice, dead.route.clone()) {
        Ok(entry) => {
            print_warning(&format!(
                "dead letter {}: reported to <{to}> as {}",
                dead.id, entry.id
            ));
            true
        }
        Err(error) => {
            print_warning(&format!(
                "dead letter {}: cannot report it to <{to}>: {}",
                dead.id, error.message
            ));
            false
        }
    }
}
