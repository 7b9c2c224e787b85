//! Reads msmtp's file syntax the way msmtp 1.8 does: lines, comments and quoting, the
//! `defaults` and `account` sections with `account X : A, B` inheritance, and each command with
//! its argument, into one set of resolved [`Values`] per account plus the notes found on the way.
//!
//! What the values become in smtpsend's TOML is `writer`'s; the reasons for the settings that are
//! not carried over are `unsupported`'s.

use super::unsupported::{
    CERTIFICATES_ALWAYS_CHECKED, FROM_ALWAYS_OVERRIDDEN, LOG_CARRIED_OVER, NO_EMPTY_SENDER,
    NO_EMPTY_TRUST_FILE, NO_FROM_PATTERNS, NO_LOG_TO_STDOUT, SUPPORTED_MECHANISMS,
    SYSLOG_FACILITIES, UNSUPPORTED, UNSUPPORTED_MECHANISMS, from_is_pattern, syslog_facility,
    unsupported_mechanism,
};
use super::{ImportError, Note};

/// Commands msmtp refuses without an argument.
const NEED_ARGUMENT: &[&str] = &[
    "host",
    "port",
    "timeout",
    "connect_timeout",
    "protocol",
    "dsn_notify",
    "dsn_return",
    "eval",
];

/// The settings of one msmtp section that matter to the conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Host,
    Port,
    Tls,
    StartTls,
    Lmtp,
    From,
    FromFullName,
    User,
    Auth,
    Password,
    PasswordEval,
    Trust,
    Timeout,
    LogFile,
    Syslog,
    Socket,
    ProxyHost,
    ProxyPort,
    SourceIp,
}

const FIELDS: [Field; 19] = [
    Field::Host,
    Field::Port,
    Field::Tls,
    Field::StartTls,
    Field::Lmtp,
    Field::From,
    Field::FromFullName,
    Field::User,
    Field::Auth,
    Field::Password,
    Field::PasswordEval,
    Field::Trust,
    Field::Timeout,
    Field::LogFile,
    Field::Syslog,
    Field::Socket,
    Field::ProxyHost,
    Field::ProxyPort,
    Field::SourceIp,
];

impl Field {
    fn bit(self) -> u32 {
        1 << self as u32
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) enum Auth {
    /// msmtp's default, which means no authentication.
    #[default]
    Unset,
    Off,
    Auto,
    Mechanism(String),
    Unsupported,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) enum Trust {
    #[default]
    System,
    /// `tls_trust_file` with an empty argument: trust no CA at all.
    Nothing,
    File(String),
}

#[derive(Debug, Clone)]
pub(super) struct Values {
    pub(super) host: Option<String>,
    /// `None` until a `port` line: msmtp derives the default from the TLS settings at the end.
    pub(super) port: Option<u16>,
    pub(super) tls: bool,
    pub(super) starttls: bool,
    pub(super) lmtp: bool,
    /// `Some("")` is msmtp's empty envelope sender, which differs from no `from` at all.
    pub(super) from: Option<String>,
    pub(super) from_full_name: Option<String>,
    pub(super) user: Option<String>,
    pub(super) auth: Auth,
    pub(super) password: Option<String>,
    pub(super) password_eval: Option<String>,
    pub(super) trust: Trust,
    pub(super) timeout: Option<u32>,
    /// `logfile`: the file msmtp logs to (`-`, standard output, is not carried over).
    pub(super) logfile: Option<String>,
    /// `syslog` on, with any facility.
    pub(super) syslog: bool,
    /// `socket`: a unix socket msmtp connects to in place of host and port.
    pub(super) socket: Option<String>,
    /// `proxy_host` and `proxy_port`: the SOCKS5 proxy, which resolves the server's name.
    pub(super) proxy_host: Option<String>,
    pub(super) proxy_port: Option<u16>,
    /// `source_ip`: the local address to connect from.
    pub(super) source_ip: Option<String>,
    /// The fields this section set itself or took from an account it copies. msmtp copies only
    /// these from a parent; everything else comes from the defaults current at the child.
    pub(super) set: u32,
}

impl Default for Values {
    fn default() -> Self {
        Values {
            host: None,
            port: None,
            tls: false,
            starttls: true,
            lmtp: false,
            from: None,
            from_full_name: None,
            user: None,
            auth: Auth::Unset,
            password: None,
            password_eval: None,
            trust: Trust::System,
            timeout: None,
            logfile: None,
            syslog: false,
            socket: None,
            proxy_host: None,
            proxy_port: None,
            source_ip: None,
            set: 0,
        }
    }
}

impl Values {
    fn take_set_fields(&mut self, parent: &Values) {
        for field in FIELDS {
            if parent.set & field.bit() != 0 {
                self.take(parent, field);
            }
        }
        self.set |= parent.set;
    }

    fn take(&mut self, other: &Values, field: Field) {
        match field {
            Field::Host => self.host.clone_from(&other.host),
            Field::Port => self.port = other.port,
            Field::Tls => self.tls = other.tls,
            Field::StartTls => self.starttls = other.starttls,
            Field::Lmtp => self.lmtp = other.lmtp,
            Field::From => self.from.clone_from(&other.from),
            Field::FromFullName => self.from_full_name.clone_from(&other.from_full_name),
            Field::User => self.user.clone_from(&other.user),
            Field::Auth => self.auth.clone_from(&other.auth),
            Field::Password => self.password.clone_from(&other.password),
            Field::PasswordEval => self.password_eval.clone_from(&other.password_eval),
            Field::Trust => self.trust.clone_from(&other.trust),
            Field::Timeout => self.timeout = other.timeout,
            Field::LogFile => self.logfile.clone_from(&other.logfile),
            Field::Syslog => self.syslog = other.syslog,
            Field::Socket => self.socket.clone_from(&other.socket),
            Field::ProxyHost => self.proxy_host.clone_from(&other.proxy_host),
            Field::ProxyPort => self.proxy_port = other.proxy_port,
            Field::SourceIp => self.source_ip.clone_from(&other.source_ip),
        }
    }
}

pub(super) struct Account {
    pub(super) name: String,
    pub(super) line: usize,
    pub(super) parents: Vec<String>,
    pub(super) values: Values,
}

#[derive(Debug, Clone, Copy, Default)]
enum Section {
    /// Before the first `account` or `defaults` line.
    #[default]
    Start,
    Defaults,
    Account(usize),
}

pub(super) struct Noted {
    pub(super) note: Note,
    /// The setting has an effect in msmtp that smtpsend will not reproduce; counted in the
    /// opening comment.
    pub(super) dropped: bool,
}

#[derive(Default)]
pub(super) struct Reader {
    defaults: Values,
    pub(super) accounts: Vec<Account>,
    section: Section,
    pub(super) notes: Vec<Noted>,
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn error(line: usize, message: impl Into<String>) -> ImportError {
    ImportError {
        line,
        message: message.into(),
    }
}

/// msmtp's `trim_string`, plus the refusal of a quote that is opened and never closed.
fn unquote(text: &str, line: usize) -> Result<&str, ImportError> {
    let trimmed = text.trim_matches(is_blank);
    if trimmed.len() >= 2 && trimmed.starts_with('"') && trimmed.ends_with('"') {
        return Ok(&trimmed[1..trimmed.len() - 1]);
    }
    if trimmed.starts_with('"') && !trimmed[1..].contains('"') {
        return Err(error(line, format!("quote not closed: {trimmed}")));
    }
    Ok(trimmed)
}

/// `on` (or nothing) and `off`, as msmtp's boolean commands take them.
fn on_off(arg: &str) -> Option<bool> {
    if arg.is_empty() || arg.eq_ignore_ascii_case("on") {
        Some(true)
    } else if arg.eq_ignore_ascii_case("off") {
        Some(false)
    } else {
        None
    }
}

/// A positive number as msmtp reads it with `strtol(s, _, 0)`: `0x` means hexadecimal and a
/// leading `0` octal, so `port 010` is port 8 to msmtp and must be to us.
fn positive_number(text: &str) -> Option<u32> {
    let text = text.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\u{b}');
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (radix, digits) =
        if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            (16, hex)
        } else if text.len() > 1 && text.starts_with('0') {
            (8, &text[1..])
        } else {
            (10, text)
        };
    if negative || digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(digits, radix)
        .ok()
        .filter(|n| (1..=i32::MAX as u32).contains(n))
}

impl Reader {
    pub(super) fn line(&mut self, line: usize, raw: &str) -> Result<(), ImportError> {
        let text = raw.trim_start_matches(is_blank);
        if text.is_empty() || text.starts_with('#') {
            return Ok(());
        }
        let (command, rest) = text.split_at(text.find(is_blank).unwrap_or(text.len()));
        let arg = unquote(rest, line)?;
        match command {
            "defaults" => {
                if !arg.is_empty() {
                    return Err(error(line, "defaults does not take an argument"));
                }
                self.section = Section::Defaults;
                Ok(())
            }
            "account" => self.account(line, arg),
            _ => {
                if let Section::Start = self.section {
                    // msmtp still reads 1.2-era files whose settings come before any account
                    // line: they form an account named "default".
                    self.start_account(line, "default".to_string(), Vec::new());
                }
                self.setting(line, command, arg)
            }
        }
    }

    fn account(&mut self, line: usize, arg: &str) -> Result<(), ImportError> {
        let (name, parents) = match arg.split_once(':') {
            Some((name, list)) => {
                let mut parents = Vec::new();
                for parent in list.split(',') {
                    let parent = unquote(parent, line)?;
                    if parent.is_empty() {
                        return Err(error(line, "missing account name after ':'"));
                    }
                    if !self.accounts.iter().any(|a| a.name == parent) {
                        return Err(error(
                            line,
                            format!("account {parent} is not defined before this line"),
                        ));
                    }
                    parents.push(parent.to_string());
                }
                (unquote(name, line)?, parents)
            }
            None => (arg, Vec::new()),
        };
        if name.is_empty() {
            return Err(error(line, "missing account name"));
        }
        if name.contains([':', ',']) {
            return Err(error(
                line,
                format!("account name {name} contains a colon or a comma"),
            ));
        }
        if self.accounts.iter().any(|a| a.name == name) {
            return Err(error(line, format!("account {name} is already defined")));
        }
        self.start_account(line, name.to_string(), parents);
        Ok(())
    }

    fn start_account(&mut self, line: usize, name: String, parents: Vec<String>) {
        let mut values = self.defaults.clone();
        values.set = 0;
        for parent in &parents {
            if let Some(parent) = self.accounts.iter().find(|a| &a.name == parent) {
                values.take_set_fields(&parent.values);
            }
        }
        self.accounts.push(Account {
            name,
            line,
            parents,
            values,
        });
        self.section = Section::Account(self.accounts.len() - 1);
    }

    fn note(&mut self, line: usize, command: &str, reason: impl Into<String>, dropped: bool) {
        let account = match self.section {
            Section::Account(index) => Some(self.accounts[index].name.clone()),
            Section::Start | Section::Defaults => None,
        };
        self.notes.push(Noted {
            note: Note {
                line,
                account,
                command: command.to_string(),
                reason: reason.into(),
            },
            dropped,
        });
    }

    fn values(&mut self) -> &mut Values {
        match self.section {
            Section::Account(index) => &mut self.accounts[index].values,
            Section::Start | Section::Defaults => &mut self.defaults,
        }
    }

    fn set(&mut self, field: Field, change: impl FnOnce(&mut Values)) {
        let values = self.values();
        change(values);
        values.set |= field.bit();
    }

    fn setting(&mut self, line: usize, command: &str, arg: &str) -> Result<(), ImportError> {
        if arg.is_empty() && NEED_ARGUMENT.contains(&command) {
            return Err(error(line, format!("{command} needs an argument")));
        }
        let invalid = || error(line, format!("invalid argument {arg:?} for {command}"));
        let boolean = || on_off(arg).ok_or_else(invalid);
        match command {
            "host" => self.set(Field::Host, |v| v.host = Some(arg.to_string())),
            "socket" => self.set(Field::Socket, |v| {
                v.socket = Some(arg.to_string()).filter(|path| !path.is_empty())
            }),
            "proxy_host" => self.set(Field::ProxyHost, |v| {
                v.proxy_host = Some(arg.to_string()).filter(|host| !host.is_empty())
            }),
            "source_ip" => self.set(Field::SourceIp, |v| {
                v.source_ip = Some(arg.to_string()).filter(|ip| !ip.is_empty())
            }),
            "proxy_port" => {
                let port = positive_number(arg)
                    .and_then(|n| u16::try_from(n).ok())
                    .ok_or_else(invalid)?;
                self.set(Field::ProxyPort, |v| v.proxy_port = Some(port));
            }
            "port" => {
                let port = positive_number(arg)
                    .and_then(|n| u16::try_from(n).ok())
                    .ok_or_else(invalid)?;
                self.set(Field::Port, |v| v.port = Some(port));
            }
            "timeout" | "connect_timeout" => {
                let timeout = if arg.eq_ignore_ascii_case("off") {
                    self.note(
                        line,
                        command,
                        "smtpsend always has a finite timeout; its default applies",
                        false,
                    );
                    None
                } else {
                    Some(positive_number(arg).ok_or_else(invalid)?)
                };
                self.set(Field::Timeout, |v| v.timeout = timeout);
            }
            "protocol" => {
                let lmtp = if arg.eq_ignore_ascii_case("smtp") {
                    false
                } else if arg.eq_ignore_ascii_case("lmtp") {
                    true
                } else {
                    return Err(invalid());
                };
                self.set(Field::Lmtp, |v| v.lmtp = lmtp);
            }
            "tls" => {
                let tls = boolean()?;
                self.set(Field::Tls, |v| v.tls = tls);
            }
            "tls_starttls" => {
                let starttls = boolean()?;
                self.set(Field::StartTls, |v| v.starttls = starttls);
            }
            "tls_nostarttls" => {
                if !arg.is_empty() {
                    return Err(error(line, format!("{command} does not take an argument")));
                }
                self.set(Field::StartTls, |v| v.starttls = false);
            }
            "tls_trust_file" => self.trust_file(line, command, arg),
            "tls_certcheck" => {
                if !boolean()? {
                    self.note(line, command, CERTIFICATES_ALWAYS_CHECKED, true);
                }
            }
            "from" => {
                if arg.is_empty() {
                    self.note(line, command, NO_EMPTY_SENDER, true);
                } else if from_is_pattern(arg) {
                    self.note(line, command, NO_FROM_PATTERNS, true);
                }
                self.set(Field::From, |v| v.from = Some(arg.to_string()));
            }
            "from_full_name" => {
                let name = (!arg.is_empty()).then(|| arg.to_string());
                self.set(Field::FromFullName, |v| v.from_full_name = name);
            }
            "allow_from_override" => {
                if !on_off(arg)
                    .filter(|_| !arg.is_empty())
                    .ok_or_else(invalid)?
                {
                    self.note(line, command, FROM_ALWAYS_OVERRIDDEN, true);
                }
            }
            "auth" => self.auth(line, command, arg)?,
            "user" => {
                let user = (!arg.is_empty()).then(|| arg.to_string());
                self.set(Field::User, |v| v.user = user);
            }
            "password" => {
                if !arg.is_empty() {
                    self.note(
                        line,
                        command,
                        "carried over as a cleartext password, which smtpsend refuses in a file \
                         readable by group or others; prefer password_command or \
                         `smtpsend login` (the OS keyring)",
                        false,
                    );
                }
                let password = (!arg.is_empty()).then(|| arg.to_string());
                self.set(Field::Password, |v| v.password = password);
            }
            "logfile" => self.logfile(line, command, arg),
            "syslog" => {
                let syslog = match arg {
                    "" | "on" | "LOG_MAIL" => true,
                    "off" => false,
                    facility if SYSLOG_FACILITIES.contains(&facility) => {
                        self.note(line, command, syslog_facility(facility), false);
                        true
                    }
                    _ => return Err(invalid()),
                };
                if matches!(arg, "" | "on") {
                    self.note(line, command, syslog_facility("LOG_USER"), false);
                }
                self.set(Field::Syslog, |v| v.syslog = syslog);
            }
            "passwordeval" => {
                let command = (!arg.is_empty()).then(|| arg.to_string());
                self.set(Field::PasswordEval, |v| v.password_eval = command);
            }
            _ => {
                let Some((_, reason)) = UNSUPPORTED.iter().find(|(name, _)| *name == command)
                else {
                    return Err(error(line, format!("unknown command {command}")));
                };
                if command == "tls_nocertcheck" && !arg.is_empty() {
                    return Err(error(line, format!("{command} does not take an argument")));
                }
                self.note(line, command, *reason, true);
            }
        }
        Ok(())
    }

    /// `logfile PATH` becomes `log`; an empty argument turns msmtp's log off, and `-`
    /// (standard output) has no smtpsend equivalent.
    fn logfile(&mut self, line: usize, command: &str, arg: &str) {
        let logfile = match arg {
            "" => None,
            "-" => {
                self.note(line, command, NO_LOG_TO_STDOUT, true);
                None
            }
            path => {
                let mut reason = String::from(LOG_CARRIED_OVER);
                if path.starts_with('~') {
                    reason.push_str(
                        "; msmtp replaces the leading ~ with your home directory and smtpsend \
                         does not, so write the full path",
                    );
                }
                self.note(line, command, reason, false);
                Some(path.to_string())
            }
        };
        self.set(Field::LogFile, |v| v.logfile = logfile);
    }

    fn trust_file(&mut self, line: usize, command: &str, arg: &str) {
        let trust = if arg.is_empty() {
            self.note(line, command, NO_EMPTY_TRUST_FILE, true);
            Trust::Nothing
        } else if arg == "system" {
            Trust::System
        } else {
            let mut reason = String::from(
                "carried over as ca_file, which smtpsend trusts in addition to the system's \
                 CAs, where msmtp trusts only this file",
            );
            if arg.starts_with('~') {
                reason.push_str(
                    "; msmtp replaces the leading ~ with your home directory, so write the \
                     full path if smtpsend does not",
                );
            }
            self.note(line, command, reason, false);
            Trust::File(arg.to_string())
        };
        self.set(Field::Trust, |v| v.trust = trust);
    }

    fn auth(&mut self, line: usize, command: &str, arg: &str) -> Result<(), ImportError> {
        let lower = arg.to_ascii_lowercase();
        let auth = match lower.as_str() {
            "" | "on" => Auth::Auto,
            "off" => {
                self.note(
                    line,
                    command,
                    "left out: smtpsend has no \"auth off\", it logs in whenever user is set",
                    false,
                );
                Auth::Off
            }
            mechanism if SUPPORTED_MECHANISMS.contains(&mechanism) => {
                Auth::Mechanism(mechanism.to_string())
            }
            mechanism if UNSUPPORTED_MECHANISMS.contains(&mechanism) => {
                self.note(line, command, unsupported_mechanism(mechanism), true);
                Auth::Unsupported
            }
            _ => {
                return Err(error(
                    line,
                    format!("invalid argument {arg:?} for {command}"),
                ));
            }
        };
        self.set(Field::Auth, |v| v.auth = auth);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{account, commands, convert, failure, server, text};

    #[test]
    fn ports_are_read_like_msmtp_reads_them() {
        assert_eq!(
            server("account a\nhost h\ntls on\nport 0x24b\n"),
            "smtp://h",
            "0x24b is 587"
        );
        assert_eq!(server("account a\nhost h\nport 010\n"), "smtp+plain://h:8");
        assert_eq!(
            server("account a\nhost h\nport \"2525\"\n"),
            "smtp+plain://h:2525"
        );
        assert_eq!(server("account a\nhost h\nport +26\n"), "smtp+plain://h:26");
        for bad in ["0", "65536", "-25", "25x", "08", "0x", "smtp"] {
            let e = failure(&format!("account a\nhost h\nport {bad}\n"));
            assert_eq!(e.line, 3, "{bad}");
            assert!(e.message.contains("invalid argument"), "{bad}: {e}");
        }
    }

    #[test]
    fn several_parents_are_copied_in_order_and_written_in_full() {
        let (_, table) = convert(
            "account a\nhost a.example\nuser ua\nfrom a@example.com\n\
             account b\nhost b.example\nuser ub\n\
             account c : a, b\ntimeout 20\n",
        );
        let c = account(&table, "c");
        assert_eq!(text(c, "extends"), None);
        assert_eq!(text(c, "server"), Some("smtp+plain://b.example"));
        assert_eq!(text(c, "user"), Some("ub"));
        assert_eq!(text(c, "from"), Some("a@example.com"));
        assert_eq!(c["timeout"].as_integer(), Some(20));
    }

    #[test]
    fn a_child_takes_its_defaults_from_its_own_position_like_msmtp() {
        // Checked against msmtp 1.8.23: b gets port 200 and tls on from the defaults in force
        // where b starts, because a never set them itself.
        let (_, table) = convert(
            "defaults\nport 100\n\
             account a\nhost h\n\
             defaults\nport 200\ntls on\n\
             account b : a\n",
        );
        assert_eq!(
            text(account(&table, "a"), "server"),
            Some("smtp+plain://h:100")
        );
        let b = account(&table, "b");
        assert_eq!(text(b, "server"), Some("smtp://h:200"));
        assert_eq!(text(b, "extends"), Some("a"));
    }

    #[test]
    fn defaults_apply_only_to_the_accounts_after_them() {
        let (_, table) = convert(
            "account early\nhost h\n\
             defaults\nuser everyone\n\
             account late\nhost h\n",
        );
        assert_eq!(text(account(&table, "early"), "user"), None);
        assert_eq!(text(account(&table, "late"), "user"), Some("everyone"));
    }

    #[test]
    fn a_passwordeval_with_quotes_and_backslashes_survives_exactly() {
        let msmtprc = r#"account a
host h
passwordeval "gpg -q -d \"$HOME/my mail.gpg\" | sed 's/\\n$//'"
"#;
        let (imported, table) = convert(msmtprc);
        // msmtp strips the outer quotes and nothing else: no backslash escapes.
        let expected = r#"gpg -q -d \"$HOME/my mail.gpg\" | sed 's/\\n$//'"#;
        assert_eq!(
            text(account(&table, "a"), "password_command"),
            Some(expected)
        );
        assert!(imported.toml.contains(
            r#"password_command = "gpg -q -d \\\"$HOME/my mail.gpg\\\" | sed 's/\\\\n$//'""#
        ));

        let unquoted = "account a\nhost h\npasswordeval   \"/usr/bin/get pw\" --for 'me'  \n";
        let (_, table) = convert(unquoted);
        assert_eq!(
            text(account(&table, "a"), "password_command"),
            Some("\"/usr/bin/get pw\" --for 'me'")
        );
    }

    #[test]
    fn comments_blank_lines_indentation_and_crlf_are_handled() {
        let (_, table) = convert(
            "\u{feff}# top\r\n\r\n   # indented comment\r\naccount a\r\n\thost   h   \r\n  \
             user \"  spaced user  \"\r\nfrom me@x # not a comment to msmtp\r\n",
        );
        let a = account(&table, "a");
        assert_eq!(text(a, "server"), Some("smtp+plain://h"));
        assert_eq!(text(a, "user"), Some("  spaced user  "));
        assert_eq!(text(a, "from"), Some("me@x # not a comment to msmtp"));
    }

    #[test]
    fn settings_before_any_account_form_the_default_account() {
        let (imported, table) = convert("host mail.example\nfrom me@example.com\nlogfile -\n");
        assert_eq!(text(&table, "default"), Some("default"));
        assert_eq!(
            text(account(&table, "default"), "from"),
            Some("me@example.com")
        );
        assert_eq!(imported.notes[0].account.as_deref(), Some("default"));
    }

    #[test]
    fn a_cleartext_password_is_carried_over_with_a_recommendation() {
        let (imported, table) = convert("defaults\npassword hunter2\naccount a\nhost h\n");
        assert_eq!(text(account(&table, "a"), "password"), Some("hunter2"));
        assert_eq!(commands(&imported.notes), [(2, "password")]);
        let reason = &imported.notes[0].reason;
        assert!(reason.contains("password_command") && reason.contains("smtpsend login"));
    }

    #[test]
    fn trust_files_become_ca_file_and_a_tilde_is_noted() {
        let (imported, table) =
            convert("account a\nhost h\ntls on\ntls_trust_file ~/certs/ca.pem\n");
        assert_eq!(
            text(account(&table, "a"), "ca_file"),
            Some("~/certs/ca.pem")
        );
        assert_eq!(commands(&imported.notes), [(4, "tls_trust_file")]);
        assert!(imported.notes[0].reason.contains('~'));

        let (imported, _) = convert("account a\nhost h\ntls_trust_file /etc/ca.pem\n");
        assert!(!imported.notes[0].reason.contains('~'));

        let (imported, table) = convert("account a\nhost h\ntls_trust_file \"\"\n");
        assert_eq!(text(account(&table, "a"), "ca_file"), None);
        assert_eq!(commands(&imported.notes), [(3, "tls_trust_file")]);
    }

    #[test]
    fn timeouts_carry_over_and_off_is_noted() {
        let (_, table) = convert("account a\nhost h\ntimeout 45\n");
        assert_eq!(account(&table, "a")["timeout"].as_integer(), Some(45));
        let (_, table) = convert("account a\nhost h\nconnect_timeout 0x10\n");
        assert_eq!(account(&table, "a")["timeout"].as_integer(), Some(16));

        let (imported, table) = convert("defaults\ntimeout 45\naccount a\nhost h\ntimeout off\n");
        assert_eq!(account(&table, "a").get("timeout"), None);
        assert_eq!(commands(&imported.notes), [(5, "timeout")]);

        assert_eq!(failure("account a\nhost h\ntimeout 0\n").line, 3);
        assert_eq!(failure("account a\nhost h\ntimeout\n").line, 3);
    }

    #[test]
    fn logfile_and_syslog_become_log() {
        for (msmtp, log, noted) in [
            (
                "logfile /var/log/msmtp.log",
                Some("/var/log/msmtp.log"),
                true,
            ),
            ("logfile ~/.msmtp.log", Some("~/.msmtp.log"), true),
            ("logfile", None, false),
            ("logfile -", None, true),
            ("syslog LOG_MAIL", Some("syslog"), false),
            ("syslog on", Some("syslog"), true),
            ("syslog", Some("syslog"), true),
            ("syslog LOG_LOCAL3", Some("syslog"), true),
            ("syslog off", None, false),
        ] {
            let (imported, table) = convert(&format!("account a\nhost h\n{msmtp}\n"));
            assert_eq!(text(account(&table, "a"), "log"), log, "{msmtp}");
            assert_eq!(
                !imported.notes.is_empty(),
                noted,
                "{msmtp}: {:?}",
                imported.notes
            );
        }
        let (imported, _) = convert("account a\nhost h\nlogfile /var/log/msmtp.log\n");
        assert!(!imported.notes[0].reason.contains('~'));
        let (imported, _) = convert("account a\nhost h\nsyslog LOG_LOCAL3\n");
        assert!(imported.notes[0].reason.contains("not LOG_LOCAL3"));
        assert_eq!(failure("account a\nhost h\nsyslog LOG_KERN\n").line, 3);

        // Inherited from the defaults; one place only when msmtp has both.
        let (imported, table) =
            convert("defaults\nsyslog LOG_MAIL\nlogfile /l\naccount a\nhost h\n");
        assert_eq!(text(account(&table, "a"), "log"), Some("/l"));
        assert_eq!(commands(&imported.notes), [(3, "logfile"), (4, "syslog")]);
        let (_, table) = convert("defaults\nsyslog LOG_MAIL\naccount a\nhost h\nsyslog off\n");
        assert_eq!(text(account(&table, "a"), "log"), None);
    }

    #[test]
    fn auth_off_is_noted_because_smtpsend_logs_in_with_a_user() {
        let (imported, table) = convert("account a\nhost h\nuser me\nauth off\n");
        assert_eq!(text(account(&table, "a"), "user"), Some("me"));
        assert_eq!(commands(&imported.notes), [(4, "auth")]);
        assert!(
            imported.notes[0]
                .reason
                .contains("logs in whenever user is set")
        );

        // msmtp's default is no authentication; a user alone does not change that.
        let (imported, _) = convert("account a\nhost h\nuser me\n");
        assert_eq!(commands(&imported.notes), [(1, "auth")]);
        assert!(
            imported
                .toml
                .contains(": 0 settings not carried over, 1 other note.")
        );
    }

    #[test]
    fn malformed_input_is_refused_with_its_line() {
        let cases = [
            (
                "account a\nhost h\nfrobnicate on\n",
                3,
                "unknown command frobnicate",
            ),
            (
                "account a\nhost h\nfrom \"me@example.com\n",
                3,
                "quote not closed",
            ),
            ("account b : a\n", 1, "account a is not defined"),
            (
                "account a\nhost h\naccount b : a, c\n",
                3,
                "account c is not defined",
            ),
            ("account a\naccount a\n", 2, "already defined"),
            ("defaults\naccount\n", 2, "missing account name"),
            ("account a :\n", 1, "missing account name"),
            ("account a,b\n", 1, "colon or a comma"),
            ("account a\nhost h\ntls maybe\n", 3, "invalid argument"),
            ("account a\nhost\n", 2, "needs an argument"),
            ("defaults x\n", 1, "does not take an argument"),
            (
                "account a\ntls_nostarttls on\n",
                2,
                "does not take an argument",
            ),
            ("account a\nprotocol esmtp\n", 2, "invalid argument"),
            ("account a\nallow_from_override\n", 2, "invalid argument"),
            ("account a\neval\n", 2, "needs an argument"),
        ];
        for (msmtprc, line, message) in cases {
            let e = failure(msmtprc);
            assert_eq!(e.line, line, "{msmtprc:?}: {e}");
            assert!(e.message.contains(message), "{msmtprc:?}: {e}");
            assert!(e.to_string().starts_with(&format!("line {line}: ")));
        }
    }
}
