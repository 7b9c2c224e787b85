//! Converts an msmtp configuration file into smtpsend's TOML configuration file.
//!
//! This module owns two things: reading msmtp's file format the way msmtp 1.8 reads it, and
//! mapping each msmtp command onto smtpsend's account keys, with a [`Note`] for every setting
//! that does not carry over exactly. It must not do I/O: it reads no file, writes no file, runs
//! neither `passwordeval` nor `eval` commands, expands no `~` and looks at no environment
//! variable. The caller reads the msmtp file, shows the notes and decides where the TOML goes.
//!
//! Decisions that a reader of the output may want to know about:
//!
//! - Arguments are unquoted as msmtp does it: surrounding blanks are dropped, and if what is left
//!   starts and ends with `"`, those two quotes are removed. msmtp processes no backslash escapes,
//!   so neither does this module: `passwordeval "pass show \"a b\""` yields the command
//!   `pass show \"a b\"`, backslashes included, exactly what msmtp hands to the shell. The one
//!   departure is an argument that opens a quote and never closes it (no second `"` at all),
//!   which msmtp would keep as a literal quote character: that is refused as malformed.
//! - `on`, `off` and authentication mechanisms are accepted in any case (msmtp wants lower case);
//!   the meaning is unambiguous, so refusing them would help nobody.
//! - The server URL keeps the port msmtp really uses. msmtp's default port is 465 when TLS is on
//!   and STARTTLS is off, and 25 otherwise, including with `tls on` (this is what msmtp 1.8.23
//!   does and its manual says). smtp:// defaults to 587, so a STARTTLS account without a `port`
//!   becomes `smtp://HOST:25`, not `smtp://HOST`.
//! - `defaults` never becomes a table of its own: the defaults in effect when an account starts
//!   are copied into it, as msmtp does.
//! - `account X : A, B` is resolved as msmtp does: X starts from the current defaults, then takes
//!   from A and then from B only the settings that A and B set themselves (or copied from their
//!   own parents), then its own lines. An account with exactly one parent is written as
//!   `extends = "A"` plus the keys whose resolved value differs from A's, but only when that is
//!   exact: if X lacks a key that A has (msmtp can unset things, e.g. `user ""` or
//!   `tls_trust_file system`), `extends` could not express the removal and X is written out in
//!   full. Accounts with several parents are always written out in full.
//! - `account default : NAME` becomes `default = "NAME"` when the resolved `default` account is
//!   the same as NAME's and no later account copies `default`; otherwise `[accounts.default]` is
//!   written and named as the default. An account named `default` without a colon, and the
//!   account msmtp makes up for commands that come before any `account` line, are likewise
//!   `[accounts.default]` plus `default = "default"`.
//! - Every occurrence of a command smtpsend has no equivalent for gets a note, on its own line
//!   number, with the account it belongs to (`None` in the defaults section). Settings that do
//!   carry over but deserve a word (a cleartext `password`, a `~` path, `auth off`) get notes too;
//!   the comment that opens the TOML counts only the settings that were not carried over.
//!
//! The parts: `reader` reads msmtp's syntax into resolved values per account, `unsupported` holds
//! what is not carried over and why, and `writer` turns the resolved values into TOML.

mod reader;
mod unsupported;
mod writer;

use std::fmt;

/// The converted configuration and everything the user should hear about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// smtpsend's configuration file, ready to be written.
    pub toml: String,
    /// In line order: settings that were not carried over, and settings that were but whose
    /// meaning changed or that the user should revisit.
    pub notes: Vec<Note>,
}

/// One remark about one line of the msmtp file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// 1-based line number in the msmtp file.
    pub line: usize,
    /// The account the line belongs to; `None` in the defaults section.
    pub account: Option<String>,
    /// The msmtp command, as written.
    pub command: String,
    pub reason: String,
}

/// The msmtp file is not one msmtp would read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// 1-based line number in the msmtp file.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ImportError {}

/// Converts the text of an msmtp configuration file.
pub fn import(text: &str) -> Result<Imported, ImportError> {
    let mut reader = reader::Reader::default();
    // An editor's byte order mark would otherwise glue itself to the first command.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, raw) in text.lines().enumerate() {
        reader.line(index + 1, raw)?;
    }
    Ok(writer::write(reader))
}

/// What the tests of every part use: import a file and look into the TOML it gives.
#[cfg(test)]
mod testing {
    use super::{ImportError, Imported, Note, import};

    /// Imports, and proves the output is TOML by parsing it back.
    pub(super) fn convert(msmtprc: &str) -> (Imported, toml::Table) {
        let imported = import(msmtprc).unwrap_or_else(|e| panic!("{e}\n{msmtprc}"));
        let table = toml::from_str::<toml::Table>(&imported.toml)
            .unwrap_or_else(|e| panic!("not TOML: {e}\n{}", imported.toml));
        (imported, table)
    }

    pub(super) fn account<'a>(table: &'a toml::Table, name: &str) -> &'a toml::Table {
        table["accounts"]
            .get(name)
            .and_then(toml::Value::as_table)
            .unwrap_or_else(|| panic!("no account {name:?} in {table:#?}"))
    }

    pub(super) fn text<'a>(table: &'a toml::Table, key: &str) -> Option<&'a str> {
        table.get(key).map(|v| v.as_str().expect("a string"))
    }

    pub(super) fn server(msmtprc: &str) -> String {
        let (_, table) = convert(msmtprc);
        text(account(&table, "a"), "server").unwrap().to_string()
    }

    pub(super) fn failure(msmtprc: &str) -> ImportError {
        match import(msmtprc) {
            Ok(imported) => panic!("imported:\n{}", imported.toml),
            Err(e) => e,
        }
    }

    pub(super) fn commands(notes: &[Note]) -> Vec<(usize, &str)> {
        notes.iter().map(|n| (n.line, n.command.as_str())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{account, convert, text};
    use super::unsupported::LOG_CARRIED_OVER;
    use super::*;

    const GMAIL: &str = "\
# msmtp for Gmail
defaults
auth           on
tls            on
tls_trust_file system
logfile        ~/.msmtp.log

account        gmail
host           smtp.gmail.com
port           587
from           me@gmail.com
user           me@gmail.com
passwordeval   \"pass show google/app-password\"

account default : gmail
";

    #[test]
    fn a_typical_gmail_file_becomes_one_account_and_a_default() {
        let (imported, table) = convert(GMAIL);
        assert_eq!(text(&table, "default"), Some("gmail"));
        let gmail = account(&table, "gmail");
        assert_eq!(text(gmail, "server"), Some("smtp://smtp.gmail.com"));
        assert_eq!(text(gmail, "user"), Some("me@gmail.com"));
        assert_eq!(text(gmail, "from"), Some("me@gmail.com"));
        assert_eq!(text(gmail, "auth"), Some("auto"));
        assert_eq!(
            text(gmail, "password_command"),
            Some("pass show google/app-password")
        );
        assert_eq!(
            text(gmail, "log"),
            Some("~/.msmtp.log"),
            "carried over, with a note on the ~"
        );
        assert_eq!(gmail.len(), 6, "{gmail:#?}");
        assert_eq!(table["accounts"].as_table().unwrap().len(), 1);

        assert_eq!(imported.notes.len(), 1, "{:?}", imported.notes);
        let note = &imported.notes[0];
        assert_eq!((note.line, note.command.as_str()), (6, "logfile"));
        assert!(note.account.is_none());
        assert!(
            note.reason.starts_with(LOG_CARRIED_OVER) && note.reason.contains("full path"),
            "{}",
            note.reason
        );
        assert!(
            imported.toml.starts_with(
                "# Imported from an msmtp configuration: 0 settings not carried over, 1 other note.\n"
            ),
            "{}",
            imported.toml
        );
    }

    #[test]
    fn an_empty_file_imports_to_a_comment() {
        let (imported, table) = convert("# nothing here\n");
        assert!(table.is_empty());
        assert!(imported.notes.is_empty());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Whatever an msmtp file holds, the import gives TOML or an error naming a line of it.
            #[test]
            fn any_msmtp_file_imports_or_names_a_line(
                lines in prop::collection::vec(
                    prop_oneof![
                        prop::sample::select(&[
                            "defaults", "account work", "account other : work", "host mail.example.com",
                            "port 465", "port x", "tls on", "tls_starttls off", "auth on", "auth scram-sha-256",
                            "user me", "from me@example.com", "from *@example.com", "passwordeval \"pass x\"",
                            "password \"unterminated", "account default : work", "logfile ~/log", "include x",
                        ][..]).prop_map(str::to_string),
                        any::<String>(),
                    ],
                    0..12,
                )
            ) {
                let text = lines.join("\n");
                match import(&text) {
                    Ok(imported) => {
                        prop_assert!(toml::from_str::<toml::Table>(&imported.toml).is_ok(), "{}", imported.toml);
                    }
                    Err(err) => prop_assert!(
                        (1..=text.lines().count().max(1)).contains(&err.line),
                        "line {} of {}", err.line, text.lines().count()
                    ),
                }
            }
        }
    }
}
