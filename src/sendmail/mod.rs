//! sendmail's intake: what `smtpsend sendmail`, a binary called `sendmail` and `smtpsend batch`
//! share. It owns sendmail's flags (`flags`), the reading of a ready message and the fixing a
//! submission client must do (`intake`) and the aliases file (`aliases`). The SMTP dialogue of
//! `-bs` is `smtp_server`'s.
//!
//! It must not send, queue or report: the connection is `submit`'s, the outbox `queue`'s and
//! what is printed the commands' (`commands::sendmail`, `commands::batch`). Nothing here uses
//! `queue`, `send`, `report` or `commands`.

use std::ffi::OsStr;
use std::path::Path;

mod aliases;
mod flags;
mod intake;
#[cfg(test)]
pub(crate) mod strategies;

pub use flags::{Invocation, parse_flags, utf8_arguments};
pub use intake::{header_envelope, prepare, read_message};

/// Whether the binary was started under the name `sendmail` (a symlink).
pub fn invoked_as_sendmail(argv0: &OsStr) -> bool {
    Path::new(argv0)
        .file_name()
        .is_some_and(|name| name == "sendmail")
}
