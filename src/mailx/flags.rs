//! mailx's send-mode command line, parsed by hand as bsd-mailx, GNU mailutils and s-nail read
//! it: a flag's value attached (`-sSubject`) or in the next word, flags without one grouped
//! (`-nv`). Long options (`--account`, `--json`) are collected for clap, as in sendmail mode.
//!
//! `-a` means a header field to bsd-mailx (Debian's default `mail`) and to GNU mailutils, an
//! attachment to s-nail: a value that names an existing file and is not `Name: value` is an
//! attachment, a `Name: value` that names no file is a header field, anything else is an error.

use std::path::{Path, PathBuf};

use crate::cli::SendmailOptions;
use crate::error::Error;
use crate::settings::reject_line_breaks;

/// What the caller asked for with mailx's flags.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mailx {
    /// -s
    pub subject: Option<String>,
    /// The ADDR arguments, each a comma-separated list, as given.
    pub to: Vec<String>,
    /// -c, each a comma-separated list.
    pub cc: Vec<String>,
    /// -b, each a comma-separated list.
    pub bcc: Vec<String>,
    /// -r: `addr` or `Name <addr>`, the From and the envelope sender.
    pub from: Option<String>,
    /// -a Name: value, in the order given.
    pub headers: Vec<(String, String)>,
    /// -a FILE
    pub attachments: Vec<PathBuf>,
    /// -E: a message whose body is empty is not sent.
    pub skip_empty_body: bool,
    /// -v: the SMTP dialogue on standard error.
    pub verbose: bool,
    /// --help
    pub help: bool,
    /// The main command's long options, for clap.
    pub long_options: Vec<String>,
}

/// Flags whose value is attached (`-sText`) or the next word.
const WITH_VALUE: &str = "scbra";

/// Flags the mailx programs take that mean nothing for sending one message: -n (no mail.rc),
/// -i (ignore interrupts), -d (debug), -N (no header summary).
const IGNORED: &str = "nidN";

/// Header fields the flags write, so `-a` may not: the error names the flag.
const OWNED: &[(&str, &str)] = &[
    ("to", "ADDR"),
    ("cc", "-c"),
    ("bcc", "-b"),
    ("subject", "-s"),
    ("mime-version", "nothing: smtpsend writes it"),
    ("content-type", "nothing: smtpsend writes it"),
    ("content-transfer-encoding", "nothing: smtpsend writes it"),
];

fn usage(text: String) -> Error {
    Error::usage(format!("mail: {text}"))
}

/// Parses mailx's command line (everything after the program name or `mail`).
pub fn parse_flags(args: &[String]) -> Result<Mailx, Error> {
    let mut mailx = Mailx::default();
    let mut words = args.iter().peekable();
    while let Some(word) = words.next() {
        match word.as_str() {
            "--" => {
                mailx.to.extend(words.by_ref().cloned());
                break;
            }
            "--help" => mailx.help = true,
            long if long.starts_with("--") => {
                mailx.long_options.push(word.clone());
                if !long.contains('=') && takes_value(long) {
                    mailx.long_options.extend(words.next().cloned());
                }
            }
            "-" => return Err(usage("unknown option \"-\"".into())),
            flags if flags.starts_with('-') => {
                for (at, flag) in flags.char_indices().skip(1) {
                    // GNU mailutils' `-E COMMAND` runs a mailx command first; fail2ban's
                    // mail.conf passes `-E 'set escape'`. An address holds no space, so a next
                    // word with one is that command (which only matters when typing), and
                    // otherwise -E is bsd-mailx's: no message with an empty body.
                    if flag == 'E'
                        && at + 1 == flags.len()
                        && words
                            .peek()
                            .is_some_and(|next| next.contains(char::is_whitespace))
                    {
                        words.next();
                        continue;
                    }
                    if !WITH_VALUE.contains(flag) {
                        mailx.set(flag, word)?;
                        continue;
                    }
                    let value = match &flags[at + 1..] {
                        "" => words
                            .next()
                            .cloned()
                            .ok_or_else(|| usage(format!("-{flag} needs a value")))?,
                        attached => attached.to_string(),
                    };
                    mailx.apply(flag, value)?;
                    break;
                }
            }
            _ => mailx.to.push(word.clone()),
        }
    }
    if mailx.to.is_empty() && !mailx.help {
        return Err(usage(
            "no recipient: smtpsend only sends mail, it does not read mailboxes".into(),
        )
        .with_hint("name the recipients: mail -s SUBJECT ADDR... < body"));
    }
    Ok(mailx)
}

/// Whether the main command's option `--name` takes a value (`--account work`).
fn takes_value(option: &str) -> bool {
    use clap::CommandFactory;
    let name = &option[2..];
    let command = SendmailOptions::command();
    let arg = command.get_arguments().find(|a| a.get_long() == Some(name));
    arg.is_some_and(|a| a.get_action().takes_values())
}

impl Mailx {
    /// A flag without a value, found in `word`.
    fn set(&mut self, flag: char, word: &str) -> Result<(), Error> {
        match flag {
            'E' => self.skip_empty_body = true,
            'v' => self.verbose = true,
            _ if IGNORED.contains(flag) => {}
            other => return Err(usage(format!("unknown option -{other} (in {word:?})"))),
        }
        Ok(())
    }

    fn apply(&mut self, flag: char, value: String) -> Result<(), Error> {
        reject_line_breaks(&value, &format!("mail: -{flag}"))?;
        match flag {
            's' => self.subject = Some(value),
            'c' => self.cc.push(value),
            'b' => self.bcc.push(value),
            'r' => self.from = Some(value),
            _ => self.attach_or_add_header(value)?,
        }
        Ok(())
    }

    fn attach_or_add_header(&mut self, value: String) -> Result<(), Error> {
        match (header_field(&value), Path::new(&value).exists()) {
            (None, true) => self.attachments.push(PathBuf::from(value)),
            (Some((name, field_value)), false) => {
                let name_is = |other: &str| name.eq_ignore_ascii_case(other);
                if let Some((_, flag)) = OWNED.iter().find(|(owned, _)| name_is(owned)) {
                    return Err(usage(format!("-a: {name} is set by {flag}, not -a")));
                }
                if name_is("from")
                    && self
                        .headers
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case(name))
                {
                    return Err(usage("-a: only one From".into()));
                }
                self.headers
                    .push((name.to_string(), field_value.to_string()));
            }
            (Some(_), true) => {
                return Err(usage(format!(
                    "-a {value:?} is both a file and a header field `Name: value`"
                ))
                .with_hint("rename the file to attach it"));
            }
            (None, false) => {
                return Err(usage(format!(
                    "-a {value:?} is neither a file nor a header field `Name: value`"
                )));
            }
        }
        Ok(())
    }
}

/// `Name: value` with a name of printable ASCII (RFC 5322 section 2.2), the value trimmed.
fn header_field(text: &str) -> Option<(&str, &str)> {
    let (name, value) = text.split_once(':')?;
    let printable = !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b));
    printable.then(|| (name, value.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> Result<Mailx, Error> {
        parse_flags(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn smartd_nagios_and_fail2ban_give_a_subject_and_recipients() {
        for (caller, subject, to) in [
            (
                "smartd",
                "SMART error (FailedReadSmartData) detected on host: example",
                "root",
            ),
            (
                "Nagios",
                "** PROBLEM Service Alert: web/HTTP is CRITICAL **",
                "ops@example.org",
            ),
            ("fail2ban", "[Fail2Ban] sshd: banned 1.2.3.4", "root"),
        ] {
            let mailx = flags(&["-s", subject, to]).unwrap();
            assert_eq!(mailx.subject.as_deref(), Some(subject), "{caller}");
            assert_eq!(mailx.to, [to], "{caller}");
        }
    }

    #[test]
    fn icinga2_gives_a_header_with_dash_a_and_an_encoded_subject() {
        let subject = "=?utf-8?B?W1BST0JMRU1dIGhvc3Qg4oCTIERPV04=?=";
        let mailx = flags(&[
            "-a",
            "From: icinga@example.com",
            "-s",
            subject,
            "ops@example.org",
        ])
        .unwrap();
        assert_eq!(
            mailx.headers,
            [("From".into(), "icinga@example.com".into())]
        );
        assert!(mailx.attachments.is_empty());
        assert_eq!(mailx.subject.as_deref(), Some(subject));
    }

    #[test]
    fn unattended_upgrades() {
        let mailx = flags(&["-r", "root@host", "-s", "subj", "root"]).unwrap();
        assert_eq!(mailx.from.as_deref(), Some("root@host"));
        assert_eq!(mailx.subject.as_deref(), Some("subj"));
        assert_eq!(mailx.to, ["root"]);
    }

    #[test]
    fn s_nail_attaches_a_file_with_dash_a() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("report.pdf");
        std::fs::write(&file, b"%PDF").unwrap();
        let path = file.to_str().unwrap();
        let mailx = flags(&["-a", path, "-s", "report", "boss@example.org"]).unwrap();
        assert_eq!(mailx.attachments, std::slice::from_ref(&file));
        assert!(mailx.headers.is_empty());
        let attached = flags(&[&format!("-a{path}"), "boss@example.org"]).unwrap();
        assert_eq!(attached.attachments, [file]);
    }

    #[test]
    fn dash_a_that_is_neither_or_both_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pdf");
        let missing = missing.to_str().unwrap();
        let err = flags(&["-a", missing, "root"]).unwrap_err();
        assert_eq!(err.exit_code(), 64);
        assert!(err.message.contains(missing), "{}", err.message);
        let both = dir.path().join("X-Odd: name");
        std::fs::write(&both, b"x").unwrap();
        let err = flags(&["-a", both.to_str().unwrap(), "root"]).unwrap_err();
        assert_eq!(err.exit_code(), 64, "{}", err.message);
        for bad in ["Has space: x", ": no name"] {
            let err = flags(&["-a", bad, "root"]).unwrap_err();
            assert!(err.message.contains(bad), "{}", err.message);
        }
        let err = flags(&["-a", "Subject: sneaky", "root"]).unwrap_err();
        assert!(err.message.contains("-s"), "{}", err.message);
    }

    #[test]
    fn a_line_break_in_any_value_is_refused() {
        for args in [
            &["-s", "a\nBcc: x@y.org", "root"][..],
            &["-a", "X-A: b\r\nBcc: x@y.org", "root"],
            &["-r", "a@x.org\nBcc: y@y.org", "root"],
            &["-c", "a@x.org\n", "root"],
        ] {
            assert_eq!(flags(args).unwrap_err().exit_code(), 65, "{args:?}");
        }
    }

    #[test]
    fn values_attach_and_flags_group() {
        let mailx = flags(&[
            "-sDisk full",
            "-nNv",
            "-iE",
            "-d",
            "-ccc@x.org",
            "-b",
            "bcc@x.org, other@x.org",
            "-Ec",
            "cc2@x.org",
            "a@x.org",
            "--",
            "-odd@x.org",
        ])
        .unwrap();
        assert_eq!(mailx.subject.as_deref(), Some("Disk full"));
        assert!(mailx.verbose && mailx.skip_empty_body);
        let fail2ban =
            flags(&["-E", "set escape", "-s", "[Fail2Ban] sshd: banned", "root"]).unwrap();
        assert_eq!(
            (fail2ban.to, fail2ban.skip_empty_body),
            (vec!["root".to_string()], false)
        );
        assert_eq!(mailx.cc, ["cc@x.org", "cc2@x.org"]);
        assert_eq!(mailx.bcc, ["bcc@x.org, other@x.org"]);
        assert_eq!(mailx.to, ["a@x.org", "-odd@x.org"]);
    }

    #[test]
    fn unknown_flags_are_usage_errors_naming_the_flag() {
        for (args, named) in [
            (&["-f", "root"][..], "-f"),
            (&["-nq", "root"], "-q"),
            (&["-H", "root"], "-H"),
            (&["root", "-s"], "-s"),
        ] {
            let err = flags(args).unwrap_err();
            assert_eq!(err.exit_code(), 64, "{args:?}");
            assert!(err.message.contains(named), "{args:?}: {}", err.message);
        }
    }

    #[test]
    fn without_a_recipient_it_says_it_only_sends() {
        for args in [&[][..], &["-s", "x"], &["-N"]] {
            let err = flags(args).unwrap_err();
            assert_eq!(err.exit_code(), 64);
            assert!(err.message.contains("only sends"), "{}", err.message);
        }
        assert!(flags(&["--help"]).unwrap().help);
    }

    #[test]
    fn long_options_go_to_clap_with_their_values() {
        use clap::Parser;
        let mailx = flags(&[
            "-s",
            "x",
            "--account",
            "work",
            "--json",
            "--server=smtp://h.example",
            "root",
        ])
        .unwrap();
        assert_eq!(
            mailx.long_options,
            ["--account", "work", "--json", "--server=smtp://h.example"]
        );
        assert_eq!(mailx.to, ["root"]);
        let options = SendmailOptions::try_parse_from(&mailx.long_options).unwrap();
        assert_eq!(options.account.as_deref(), Some("work"));
    }
}
