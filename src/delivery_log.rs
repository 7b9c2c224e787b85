//! The delivery log, off unless an account sets `log = "PATH"` or `log = "syslog"`: one line
//! per message, what an administrator greps for when someone asks "did it go out?". It never
//! holds a body or a secret, and a log that cannot be written is a warning, never a failed send.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use crate::compose::Composed;
use crate::error::Error;
use crate::report::print_warning;
use crate::submit::Delivery;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    File(PathBuf),
    /// The local syslog daemon, facility mail.
    Syslog,
}

impl LogTarget {
    pub fn parse(value: &str) -> LogTarget {
        if value == "syslog" {
            LogTarget::Syslog
        } else {
            LogTarget::File(PathBuf::from(value))
        }
    }
}

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
    let line = format_line(account, message, delivery, &outcome, exit_code);
    let written = match target {
        LogTarget::File(path) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut file| writeln!(file, "{} {line}", utc_timestamp(now_secs()))),
        LogTarget::Syslog => syslog(&line),
    };
    if let Err(err) = written {
        let place = match target {
            LogTarget::File(path) => path.display().to_string(),
            LogTarget::Syslog => "syslog".to_string(),
        };
        print_warning(&format!("cannot write the delivery log {place}: {err}"));
    }
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
        " from=<{}> to={} size={} msgid={} result=\"{}\" exit={exit_code}",
        message.envelope.from,
        message
            .envelope
            .recipients
            .iter()
            .map(|r| format!("<{r}>"))
            .collect::<Vec<_>>()
            .join(","),
        message.content.len(),
        message.message_id,
        crate::report::escape(outcome).replace('"', "'"),
    );
    line
}

/// RFC 3164 to the local daemon's socket: facility mail (2), severity info (6).
fn syslog(line: &str) -> std::io::Result<()> {
    let socket = std::os::unix::net::UnixDatagram::unbound()?;
    let datagram = format!("<22>smtpsend[{}]: {line}", std::process::id());
    socket.send_to(datagram.as_bytes(), "/dev/log").map(|_| ())
}

fn now_secs() -> u64 {
    crate::outbox::now()
}

/// `2026-11-23T19:27:02Z`: UTC, so lines from machines in different zones sort together.
fn utc_timestamp(seconds: u64) -> String {
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let rest = seconds % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_iso_8601() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(1_795_462_022), "2026-11-23T19:27:02Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn targets() {
        assert_eq!(LogTarget::parse("syslog"), LogTarget::Syslog);
        assert_eq!(
            LogTarget::parse("/var/log/smtpsend.log"),
            LogTarget::File("/var/log/smtpsend.log".into())
        );
    }
}
