//! The delivery log, off unless an account sets `log = "PATH"`, `"syslog"` or `"stderr"` (and
//! `serve`, which logs to standard error by default, adds a line per message it accepts): one line
//! per message, what an administrator greps for when someone asks "did it go out?". It never
//! holds a body or a secret, and a log that cannot be written is a warning, never a failed send.

use std::fmt::Write as _;
use std::io::Write;

use crate::clock::{self, utc_timestamp};
use crate::compose::Composed;
use crate::config::LogTarget;
use crate::error::Error;
use crate::submit::Delivery;
use crate::terminal::print_warning;

/// Records one message's fate, when there is a log: the server's final reply, or the error the
/// command reports (which says where a queued message is).
pub fn note(
    target: Option<&LogTarget>,
    account: Option<&str>,
    message: &Composed,
    delivery: &Delivery,
    error: Option<&Error>,
) {
    let Some(target) = target else {
        return;
    };
    let (outcome, exit_code) = match error {
        Some(error) => (error.message.clone(), error.exit_code()),
        None => (
            delivery
                .final_reply
                .as_ref()
                .map(|r| r.one_line())
                .unwrap_or_default(),
            0,
        ),
    };
    write(
        target,
        &format_line(account, message, delivery, &outcome, exit_code),
    );
}

/// Records a message `serve` took from a local client and stored in the outbox as `id`, before
/// it is relayed: who sent it, from where, for whom.
pub fn accepted(target: &LogTarget, id: &str, peer: &str, login: Option<&str>, message: &Composed) {
    let mut line = format!("accepted id={id} client={peer}");
    if let Some(login) = login {
        let _ = write!(line, " login={login}");
    }
    let _ = write!(line, " {}", envelope_fields(message));
    write(target, &crate::terminal::escape(&line));
}

fn write(target: &LogTarget, line: &str) {
    let written = match target {
        LogTarget::File(path) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut file| writeln!(file, "{} {line}", utc_timestamp(clock::unix_now()))),
        LogTarget::Syslog => syslog(line),
        LogTarget::Stderr => writeln!(std::io::stderr().lock(), "smtpsend: {line}"),
    };
    if let Err(err) = written {
        let place = match target {
            LogTarget::File(path) => path.display().to_string(),
            LogTarget::Syslog => "syslog".to_string(),
            LogTarget::Stderr => "standard error".to_string(),
        };
        print_warning(&format!("cannot write the delivery log {place}: {err}"));
    }
}

/// `from=<..> to=<..>,<..> size=N msgid=<..>`: who, for whom, how big, which message.
fn envelope_fields(message: &Composed) -> String {
    let recipients = message
        .envelope
        .recipients
        .iter()
        .map(|r| format!("<{r}>"))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "from=<{}> to={recipients} size={} msgid={}",
        message.envelope.from,
        message.content.len(),
        message.message_id
    )
}

fn format_line(
    account: Option<&str>,
    message: &Composed,
    delivery: &Delivery,
    outcome: &str,
    exit_code: u8,
) -> String {
    let mut line = String::new();
    if let Some(account) = account {
        let _ = write!(line, "account={account} ");
    }
    let _ = write!(line, "server={}", delivery.endpoint.url());
    if let Some(tls) = &delivery.tls {
        let _ = write!(line, " tls={}", tls.version);
    }
    let _ = write!(
        line,
        " {} result=\"{}\" exit={exit_code}",
        envelope_fields(message),
        crate::terminal::escape(outcome).replace('"', "'"),
    );
    line
}

/// RFC 3164 to the local daemon's socket: facility mail (2), severity info (6).
fn syslog(line: &str) -> std::io::Result<()> {
    let socket = std::os::unix::net::UnixDatagram::unbound()?;
    let datagram = format!("<22>smtpsend[{}]: {line}", std::process::id());
    socket.send_to(datagram.as_bytes(), "/dev/log").map(|_| ())
}
