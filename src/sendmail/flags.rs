//! sendmail's command line, parsed by hand: its flags do not follow clap's grammar (`-oi`,
//! `-FCronDaemon`, `-ti`). Long options (`--account`, `--json`) are collected here and parsed
//! by clap as `SendmailOptions`.

use std::ffi::OsString;

use crate::cli::SendmailOptions;
use crate::error::Error;
use crate::settings;

/// What the caller asked for with sendmail's flags.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    /// -t: recipients from To, Cc and Bcc as well.
    pub recipients_from_headers: bool,
    /// -i, -oi: a line with a lone dot does not end the input.
    pub ignore_dots: bool,
    /// -f, -r: the envelope sender.
    pub sender: Option<String>,
    /// -F: the full name for a From header smtpsend adds.
    pub full_name: Option<String>,
    /// -N: DSN NOTIFY for every recipient.
    pub dsn_notify: Option<String>,
    /// -R: DSN RET, the whole message or its header in a bounce.
    pub dsn_return: Option<String>,
    /// -V: DSN ENVID.
    pub envelope_id: Option<String>,
    /// -bs: an SMTP dialogue on standard input and output.
    pub smtp_dialogue: bool,
    /// -v
    pub verbose: bool,
    /// -bV or --version: say what this sendmail is, and send nothing.
    pub version: bool,
    pub recipients: Vec<String>,
    /// The main command's long options, for clap.
    pub long_options: Vec<String>,
}

/// Flags that take an argument, attached (`-fme@x`) or as the next word (`-f me@x`).
const WITH_ARGUMENT: &str = "frFNRVoOBhL";

/// The arguments of `program` (sendmail, mail) as text: one that is not UTF-8 is a usage
/// error naming it.
pub fn utf8_arguments(program: &str, args: &[OsString]) -> Result<Vec<String>, Error> {
    args.iter()
        .map(|arg| {
            arg.to_str().map(str::to_string).ok_or_else(|| {
                Error::usage(format!("{program}: the argument {arg:?} is not UTF-8"))
            })
        })
        .collect()
}

/// Parses sendmail's command line (everything after the program name or `sendmail`).
pub fn parse_flags(args: &[String]) -> Result<Invocation, Error> {
    let mut invocation = Invocation::default();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if word == "--" {
            invocation.recipients.extend(words.by_ref().cloned());
            break;
        }
        if word == "--version" {
            invocation.version = true;
            continue;
        }
        if word.starts_with("--") {
            invocation.long_options.push(word.clone());
            // A long option's value may be the next word; clap sorts out which.
            if !word.contains('=') && long_option_takes_value(word) {
                invocation.long_options.extend(words.next().cloned());
            }
            continue;
        }
        let Some(flags) = word.strip_prefix('-').filter(|f| !f.is_empty()) else {
            invocation.recipients.push(word.clone());
            continue;
        };
        for (at, flag) in flags.char_indices() {
            if WITH_ARGUMENT.contains(flag) {
                let attached = &flags[at + flag.len_utf8()..];
                let value = if attached.is_empty() {
                    words.next().cloned().ok_or_else(|| {
                        Error::usage(format!("sendmail: -{flag} needs an argument"))
                    })?
                } else {
                    attached.to_string()
                };
                apply_with_argument(&mut invocation, flag, value)?;
                break;
            }
            match flag {
                't' => invocation.recipients_from_headers = true,
                'i' => invocation.ignore_dots = true,
                'v' => invocation.verbose = true,
                // Accepted and ignored: -G (gateway), -U (initial submission; it always is),
                // -m (also to the sender if in an alias: smtpsend never drops the sender).
                'G' | 'U' | 'm' => {}
                'q' | 'C' | 'X' | 'p' | 'd' | 'I' => {
                    return Err(Error::usage(format!(
                        "sendmail: -{flag} is not supported (the outbox is flushed with `smtpsend queue flush`; the configuration is config.toml)"
                    )));
                }
                'b' => {
                    match &flags[at + 1..] {
                        "m" | "" => {}
                        "s" => invocation.smtp_dialogue = true,
                        "V" => invocation.version = true,
                        mode => {
                            return Err(Error::usage(format!(
                                "sendmail: -b{mode} is not supported (only -bm, -bs and -bV)"
                            )));
                        }
                    }
                    break;
                }
                'A' => break, // -Am / -Ac: which configuration; there is only one.
                other => {
                    return Err(Error::usage(format!(
                        "sendmail: unknown option -{other} (in {word:?})"
                    )));
                }
            }
        }
    }
    Ok(invocation)
}

fn apply_with_argument(
    invocation: &mut Invocation,
    flag: char,
    value: String,
) -> Result<(), Error> {
    match flag {
        'f' | 'r' => invocation.sender = Some(value),
        'F' => {
            // The name goes into a From header, where a line break would start another field.
            settings::reject_line_breaks(&value, "sendmail: -F")?;
            invocation.full_name = Some(value);
        }
        'N' => invocation.dsn_notify = Some(dsn_notify(&value)?),
        'R' => {
            invocation.dsn_return = Some(match value.to_ascii_lowercase().as_str() {
                "full" => "FULL".to_string(),
                "hdrs" => "HDRS".to_string(),
                _ => {
                    return Err(Error::usage(format!(
                        "sendmail: -R takes full or hdrs, got {value:?}"
                    )));
                }
            });
        }
        'V' => invocation.envelope_id = Some(value),
        'o' => match value.as_str() {
            "i" => invocation.ignore_dots = true,
            // Error and delivery modes, message-to-self, queue directory: smtpsend hands every
            // message straight to the server and reports errors by exit status.
            "em" | "ee" | "ep" | "eq" | "ew" | "di" | "db" | "dq" | "m" => {}
            _ if value.starts_with('Q') => {}
            other => {
                return Err(Error::usage(format!("sendmail: unknown option -o{other}")));
            }
        },
        // -O option=value, -B body type, -h hop count, -L syslog tag: nothing to act on.
        'O' | 'B' | 'h' | 'L' => {}
        other => {
            return Err(Error::usage(format!(
                "sendmail: option -{other} is not supported"
            )));
        }
    }
    Ok(())
}

/// `never`, or a comma list of success, failure and delay (RFC 3461 section 4.1).
fn dsn_notify(value: &str) -> Result<String, Error> {
    let words: Vec<String> = value
        .split(',')
        .map(|w| w.trim().to_ascii_uppercase())
        .collect();
    let valid = words == ["NEVER"]
        || words
            .iter()
            .all(|w| matches!(w.as_str(), "SUCCESS" | "FAILURE" | "DELAY"));
    if !valid {
        return Err(Error::usage(format!(
            "sendmail: -N takes never or a list of success, failure, delay; got {value:?}"
        )));
    }
    Ok(words.join(","))
}

fn long_option_takes_value(option: &str) -> bool {
    use clap::CommandFactory;
    let name = option.trim_start_matches('-');
    SendmailOptions::command()
        .get_arguments()
        .find(|a| a.get_long() == Some(name))
        .is_some_and(|a| a.get_action().takes_values())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn flags(args: &[&str]) -> Result<Invocation, Error> {
        parse_flags(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn what_real_callers_pass() {
        let cron = flags(&["-FCronDaemon", "-odi", "-oem", "-oi", "-t"]).unwrap();
        assert!(cron.recipients_from_headers && cron.ignore_dots);
        assert_eq!(cron.full_name.as_deref(), Some("CronDaemon"));
        let busybox = flags(&["-ti"]).unwrap();
        assert!(busybox.recipients_from_headers && busybox.ignore_dots);
        let php = flags(&["-t", "-i"]).unwrap();
        assert!(php.recipients_from_headers && php.ignore_dots);
        let git = flags(&["-i", "a@x.org", "b@y.org"]).unwrap();
        assert_eq!(git.recipients, ["a@x.org", "b@y.org"]);
        let mailx = flags(&[
            "-f",
            "me@x.org",
            "-N",
            "success,failure",
            "-V",
            "env1",
            "--",
            "-odd@x.org",
        ])
        .unwrap();
        assert_eq!(mailx.sender.as_deref(), Some("me@x.org"));
        assert_eq!(mailx.dsn_notify.as_deref(), Some("SUCCESS,FAILURE"));
        assert_eq!(mailx.envelope_id.as_deref(), Some("env1"));
        assert_eq!(mailx.recipients, ["-odd@x.org"]);
        assert!(flags(&["-bs"]).unwrap().smtp_dialogue);
        assert!(flags(&["-bV"]).unwrap().version && flags(&["--version"]).unwrap().version);
        let snail = flags(&["-i", "-m", "--", "a@x.org"]).unwrap();
        assert_eq!(snail.recipients, ["a@x.org"]);
        let mutt = flags(&["-R", "hdrs", "-N", "failure", "a@x.org"]).unwrap();
        assert_eq!(mutt.dsn_return.as_deref(), Some("HDRS"));
        assert_eq!(
            flags(&["-rme@x.org"]).unwrap().sender.as_deref(),
            Some("me@x.org")
        );
    }

    #[test]
    fn ignored_flags_are_accepted() {
        for ignored in [
            &["-oem"][..],
            &["-odb"],
            &["-om"],
            &["-oQ/var/spool"],
            &["-Am"],
            &["-Ac"],
            &["-B", "8BITMIME"],
            &["-O", "x=y"],
            &["-G"],
            &["-h", "3"],
            &["-L", "tag"],
            &["-bm"],
        ] {
            assert!(flags(ignored).is_ok(), "{ignored:?}");
        }
    }

    #[test]
    fn unknown_flags_are_usage_errors_naming_the_flag() {
        for (args, named) in [
            (&["-q"][..], "-q"),
            (&["-bp"], "-bp"),
            (&["-oZ"], "-oZ"),
            (&["-tz"], "-z"),
            (&["-f"], "-f"),
        ] {
            let err = flags(args).unwrap_err();
            assert_eq!(err.exit_code(), 64, "{args:?}");
            assert!(err.message.contains(named), "{args:?}: {}", err.message);
        }
        assert!(flags(&["-N", "sometimes"]).is_err());
    }

    #[test]
    fn long_options_go_to_clap_with_their_values() {
        let invocation = flags(&[
            "-t",
            "--account",
            "work",
            "--json",
            "--server=smtp://h.example",
        ])
        .unwrap();
        assert_eq!(
            invocation.long_options,
            ["--account", "work", "--json", "--server=smtp://h.example"]
        );
        let options = SendmailOptions::try_parse_from(&invocation.long_options).unwrap();
        assert_eq!(options.account.as_deref(), Some("work"));
        assert!(options.json);
    }

    #[test]
    fn an_argument_that_is_not_utf8_is_a_usage_error() {
        use std::os::unix::ffi::OsStringExt;
        let args = [
            OsString::from("-t"),
            OsString::from_vec(b"a\xff@x.org".to_vec()),
        ];
        let err = utf8_arguments("sendmail", &args).unwrap_err();
        assert_eq!(err.exit_code(), 64);
        assert!(err.message.contains("not UTF-8"), "{}", err.message);
        assert_eq!(utf8_arguments("sendmail", &args[..1]).unwrap(), ["-t"]);
    }
}
