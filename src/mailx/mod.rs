//! The mailx personality: the send mode of `mail` and `mailx` as scripts use it (smartd, Nagios,
//! Icinga 2, fail2ban, unattended-upgrades). It owns mailx's command line (`flags`) and the
//! message made of it and the body (`message`): a plain RFC 5322 message that mailx, as it
//! always has, hands to sendmail, here sendmail mode's intake.
//!
//! It must not send, queue or report, nor add what the intake adds (From from the account,
//! Date, Message-ID, the local domain): that is `sendmail` and `commands::mail`. It reads
//! nothing but the files `-a` names and the body it is given.

use std::ffi::OsStr;
use std::path::Path;

mod flags;
mod message;

pub use flags::parse_flags;
pub use message::build;

/// Whether the binary was started under the name `mail` or `mailx` (a symlink).
pub fn invoked_as_mailx(argv0: &OsStr) -> bool {
    Path::new(argv0)
        .file_name()
        .is_some_and(|name| name == "mail" || name == "mailx")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_and_mailx_are_the_names() {
        for name in ["mail", "mailx", "/usr/bin/mail", "/usr/bin/mailx", "./mail"] {
            assert!(invoked_as_mailx(OsStr::new(name)), "{name}");
        }
        for name in ["smtpsend", "sendmail", "/usr/bin/mail.mailutils", "mailq"] {
            assert!(!invoked_as_mailx(OsStr::new(name)), "{name}");
        }
    }
}
