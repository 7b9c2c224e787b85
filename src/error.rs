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
    /// (the outbox a symbolic link, or writable by others).
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
