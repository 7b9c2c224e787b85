//! The one error type of smtpsend. Every failure carries the sysexits(3) code a script sees,
//! so "try again later" (75) is always distinguishable from "give up" (65, 67, 69, 73, 74, 77,
//! 78). Nothing here prints; `main` prints an error once.

use std::fmt;

/// What went wrong, as far as the exit status is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 64: the command line itself is wrong.
    Usage,
    /// 65: the message data is malformed, or the server refused the message itself.
    BadMessage,
    /// 66: a file named on the command line is missing or unreadable.
    NoInput,
    /// 67: the server refused one or more recipients.
    RecipientRefused,
    /// 69: the service cannot be used, and retrying will not change that.
    Unavailable,
    /// 70: a bug in smtpsend.
    Internal,
    /// 73: a file or directory smtpsend must write cannot be created, or is not safe to use
    /// (the outbox a symbolic link, or writable by others), or `install-mta` finds another
    /// program's file where a link would go.
    CantCreate,
    /// 74: reading or writing a local file failed: a full disk, an I/O error.
    IoError,
    /// 75: a temporary failure; the same command may well succeed later.
    Temporary,
    /// 76: the server's replies make no sense.
    Protocol,
    /// 77: the server refused our credentials.
    AuthRefused,
    /// 78: the configuration is incomplete or contradictory, or no password is available.
    Config,
}

impl Kind {
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Usage => 64,
            Kind::BadMessage => 65,
            Kind::NoInput => 66,
            Kind::RecipientRefused => 67,
            Kind::Unavailable => 69,
            Kind::Internal => 70,
            Kind::CantCreate => 73,
            Kind::IoError => 74,
            Kind::Temporary => 75,
            Kind::Protocol => 76,
            Kind::AuthRefused => 77,
            Kind::Config => 78,
        }
    }
}

/// One exit status as the user reads about it. `--help`, the EXIT STATUS section of
/// smtpsend(1) and the README's table are made from `EXIT_STATUSES` (and a test checks the
/// README), so the code and its documentation cannot drift apart.
pub struct ExitStatus {
    /// None for success.
    pub kind: Option<Kind>,
    /// A few words, for the summary under `--help`.
    pub brief: &'static str,
    /// In full, for `--help`, the man page and the README; flags and commands in `backticks`.
    pub meaning: &'static str,
}

impl ExitStatus {
    pub fn code(&self) -> u8 {
        self.kind.map_or(0, Kind::exit_code)
    }
}

pub const EXIT_STATUSES: [ExitStatus; 13] = [
    ExitStatus {
        kind: None,
        brief: "accepted",
        meaning: "The server accepted the message for every recipient.",
    },
    ExitStatus {
        kind: Some(Kind::Usage),
        brief: "usage",
        meaning: "Usage error: an unknown flag, contradictory flags, no recipients, an argument \
                  that is not UTF-8.",
    },
    ExitStatus {
        kind: Some(Kind::BadMessage),
        brief: "bad message data or message refused",
        meaning: "Bad message data: a malformed address, CR or LF in a header, a NUL in a text \
                  body; or the server refused the message itself (5xx to MAIL FROM or after \
                  the data).",
    },
    ExitStatus {
        kind: Some(Kind::NoInput),
        brief: "input file unreadable",
        meaning: "An input file (body, attachment, certificate) is missing or unreadable.",
    },
    ExitStatus {
        kind: Some(Kind::RecipientRefused),
        brief: "recipient refused",
        meaning: "A recipient was refused (5xx to RCPT TO); nothing was sent, or with \
                  `--allow-partial` the others got it and `--json` says who. When recipients \
                  were only deferred (4xx), the status is 75.",
    },
    ExitStatus {
        kind: Some(Kind::Unavailable),
        brief: "service unavailable (unknown host, no TLS, certificate rejected)",
        meaning: "Service unavailable, permanently: unknown host, STARTTLS not offered, \
                  certificate rejected, SMTPUTF8 needed but not offered.",
    },
    ExitStatus {
        kind: Some(Kind::Internal),
        brief: "internal error",
        meaning: "Internal error: a bug in smtpsend.",
    },
    ExitStatus {
        kind: Some(Kind::CantCreate),
        brief: "outbox or link cannot be created",
        meaning: "The outbox cannot be created, or is not safe to use: a symbolic link, a \
                  directory of another user, or one that others may write to. A message that \
                  was to be queued was not kept; the error names the directory. Or \
                  `install-mta` found another program's file where a link would go, and \
                  created nothing.",
    },
    ExitStatus {
        kind: Some(Kind::IoError),
        brief: "reading or writing a file failed",
        meaning: "Reading or writing the outbox failed (a full disk, an I/O error): a message \
                  that was to be queued was not kept, and no partial file is left behind. Or \
                  standard output could not be written; a reader that went away (`| head`) is \
                  no error: the output stops, and the command finishes with its own status.",
    },
    ExitStatus {
        kind: Some(Kind::Temporary),
        brief: "temporary failure, try again later",
        meaning: "Temporary failure, try again later: any 4xx reply, a name lookup the \
                  resolver could not answer for now, connection refused or lost, timeout, \
                  `--deadline` reached. A server that sends no greeting at all within \
                  `--timeout` may be waiting for TLS from the first byte: the hint names \
                  `smtps://`.",
    },
    ExitStatus {
        kind: Some(Kind::Protocol),
        brief: "protocol error",
        meaning: "Protocol error: the server's replies make no sense, such as a 3xx where only \
                  a 2xx means success.",
    },
    ExitStatus {
        kind: Some(Kind::AuthRefused),
        brief: "authentication refused",
        meaning: "The server refused the credentials.",
    },
    ExitStatus {
        kind: Some(Kind::Config),
        brief: "configuration error or no credentials",
        meaning: "Configuration error, or no password from any source; or the URL's TLS mode \
                  is not the server's: `smtps://` to a server that speaks plain SMTP first, or \
                  `smtp://` to port 465, which speaks TLS from the first byte; or a server \
                  that takes only clients with a TLS certificate (Postfix's 421 \"No client \
                  certificate presented\") when none was given. Nothing is queued: only a \
                  change of configuration helps.",
    },
];

/// The one-paragraph summary under `-h`.
pub fn exit_status_summary() -> String {
    let items: Vec<String> = EXIT_STATUSES
        .iter()
        .map(|status| format!("{} {}", status.code(), status.brief))
        .collect();
    format!("Exit status (sysexits.h): {}.", items.join("; "))
}

/// The whole list under `--help`, a status a line (wrapped by clap).
pub fn exit_status_list() -> String {
    let items: Vec<String> = EXIT_STATUSES
        .iter()
        .map(|status| format!("  {:<3} {}", status.code(), status.meaning.replace('`', "")))
        .collect();
    format!("Exit status (sysexits.h):\n{}", items.join("\n"))
}

/// A failure with a one-line message naming the culprit and, where it helps, a hint naming the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(Kind::Usage, message)
    }

    pub fn bad_message(message: impl Into<String>) -> Self {
        Error::new(Kind::BadMessage, message)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Error::new(Kind::Config, message)
    }

    /// An unreadable input file: missing, a directory, no permission.
    pub fn unreadable(what: &str, path: &std::path::Path, err: &std::io::Error) -> Self {
        Error::new(
            Kind::NoInput,
            format!("cannot read {what} {}: {}", path.display(), io_reason(err)),
        )
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }

    /// Of several failures, the one that decides the exit status: the first permanent one, else
    /// the first temporary one, so a script retries only when retrying can help.
    pub fn keep_worst(worst: &mut Option<Error>, error: Error) {
        let permanent = |e: &Error| e.kind != Kind::Temporary;
        if worst
            .as_ref()
            .is_none_or(|w| !permanent(w) && permanent(&error))
        {
            *worst = Some(error);
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// An io::Error's reason without Rust's "(os error N)" suffix, which means nothing to users.
pub fn io_reason(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_documented_once_in_code_order() {
        let kinds = [
            Kind::Usage,
            Kind::BadMessage,
            Kind::NoInput,
            Kind::RecipientRefused,
            Kind::Unavailable,
            Kind::Internal,
            Kind::CantCreate,
            Kind::IoError,
            Kind::Temporary,
            Kind::Protocol,
            Kind::AuthRefused,
            Kind::Config,
        ];
        for kind in kinds {
            let documented = EXIT_STATUSES
                .iter()
                .filter(|s| s.kind == Some(kind))
                .count();
            assert_eq!(documented, 1, "{kind:?}");
        }
        let codes: Vec<u8> = EXIT_STATUSES.iter().map(ExitStatus::code).collect();
        assert!(codes.windows(2).all(|w| w[0] < w[1]), "{codes:?}");
    }

    #[test]
    fn exit_codes_follow_sysexits() {
        let expected = [
            (Kind::Usage, 64),
            (Kind::BadMessage, 65),
            (Kind::NoInput, 66),
            (Kind::RecipientRefused, 67),
            (Kind::Unavailable, 69),
            (Kind::Internal, 70),
            (Kind::CantCreate, 73),
            (Kind::IoError, 74),
            (Kind::Temporary, 75),
            (Kind::Protocol, 76),
            (Kind::AuthRefused, 77),
            (Kind::Config, 78),
        ];
        for (kind, code) in expected {
            assert_eq!(kind.exit_code(), code, "{kind:?}");
        }
    }

    #[test]
    fn the_first_permanent_failure_decides() {
        let mut worst = None;
        Error::keep_worst(&mut worst, Error::new(Kind::Temporary, "t1"));
        Error::keep_worst(&mut worst, Error::new(Kind::Temporary, "t2"));
        assert_eq!(worst.as_ref().unwrap().message, "t1");
        Error::keep_worst(&mut worst, Error::new(Kind::RecipientRefused, "p1"));
        Error::keep_worst(&mut worst, Error::new(Kind::BadMessage, "p2"));
        assert_eq!(worst.unwrap().message, "p1");
    }

    #[test]
    fn io_reason_drops_the_os_error_number() {
        let err = std::io::Error::from_raw_os_error(2);
        assert_eq!(io_reason(&err), "No such file or directory");
    }
}
