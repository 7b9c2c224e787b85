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
    let mut reader = Reader::default();
    // An editor's byte order mark would otherwise glue itself to the first command.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, raw) in text.lines().enumerate() {
        reader.line(index + 1, raw)?;
    }
    Ok(reader.finish())
}

const CERTIFICATES_ALWAYS_CHECKED: &str =
    "smtpsend always verifies certificates; use ca_file for a private CA";
const NO_LOG_FILE: &str = "smtpsend keeps no log file; use --json or -v and keep their output";
const NO_SENDER_BUILDING: &str = "smtpsend does not build sender addresses; set from instead";
const NO_DSN: &str = "smtpsend does not request delivery status notifications (DSN)";
const NO_FROM_HEADER_SETTING: &str =
    "smtpsend has no setting for adding or replacing the From header";
const NO_DATE_HEADER_SETTING: &str = "smtpsend has no setting for adding the Date header";
const NO_BCC_SETTING: &str =
    "smtpsend has no setting for Bcc headers; Bcc recipients go in the envelope only";
const NO_CLIENT_CERTIFICATES: &str = "smtpsend does not send TLS client certificates";
const NO_PROXY: &str = "smtpsend does not connect through a SOCKS proxy";

/// msmtp commands smtpsend has no equivalent for, whatever their argument.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("logfile", NO_LOG_FILE),
    ("logfile_time_format", NO_LOG_FILE),
    ("syslog", "smtpsend does not log to syslog"),
    (
        "aliases",
        "smtpsend does not expand local aliases; give full addresses",
    ),
    (
        "domain",
        "smtpsend always sends the local host name in EHLO; there is no setting",
    ),
    ("maildomain", NO_SENDER_BUILDING),
    ("auto_from", NO_SENDER_BUILDING),
    ("dsn_notify", NO_DSN),
    ("dsn_return", NO_DSN),
    ("set_from_header", NO_FROM_HEADER_SETTING),
    ("add_missing_from_header", NO_FROM_HEADER_SETTING),
    ("set_date_header", NO_DATE_HEADER_SETTING),
    ("add_missing_date_header", NO_DATE_HEADER_SETTING),
    (
        "set_msgid_header",
        "smtpsend has no setting for adding the Message-ID header",
    ),
    ("remove_bcc_headers", NO_BCC_SETTING),
    ("keepbcc", NO_BCC_SETTING),
    (
        "undisclosed_recipients",
        "smtpsend has no undisclosed-recipients mode",
    ),
    ("tls_cert_file", NO_CLIENT_CERTIFICATES),
    ("tls_key_file", NO_CLIENT_CERTIFICATES),
    (
        "tls_crl_file",
        "smtpsend does not read certificate revocation list files",
    ),
    (
        "tls_priorities",
        "smtpsend's TLS library chooses protocol versions and ciphers; there is no setting",
    ),
    (
        "tls_host_override",
        "smtpsend checks the certificate against the host in server; there is no override",
    ),
    (
        "tls_min_dh_prime_bits",
        "smtpsend's TLS uses no finite-field Diffie-Hellman, so there is nothing to set",
    ),
    (
        "tls_force_sslv3",
        "obsolete: msmtp ignores it, and smtpsend never speaks SSLv3",
    ),
    ("tls_fingerprint", CERTIFICATES_ALWAYS_CHECKED),
    ("tls_nocertcheck", CERTIFICATES_ALWAYS_CHECKED),
    ("proxy_host", NO_PROXY),
    ("proxy_port", NO_PROXY),
    (
        "socket",
        "smtpsend connects over TCP only, not through a local socket",
    ),
    (
        "source_ip",
        "smtpsend does not bind to a chosen source address",
    ),
    (
        "ntlmdomain",
        "smtpsend does not support NTLM authentication",
    ),
    (
        "eval",
        "the converter runs no commands: run it yourself and write what it prints \
         into the smtpsend file by hand",
    ),
];

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

/// Authentication mechanisms msmtp knows and smtpsend does not.
const UNSUPPORTED_MECHANISMS: &[&str] = &[
    "cram-md5",
    "digest-md5",
    "scram-sha-1",
    "scram-sha-1-plus",
    "scram-sha-256",
    "scram-sha-256-plus",
    "gssapi",
    "external",
    "ntlm",
];

const SUPPORTED_MECHANISMS: &[&str] = &["plain", "login", "xoauth2", "oauthbearer"];

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
}

const FIELDS: [Field; 13] = [
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
];

impl Field {
    fn bit(self) -> u16 {
        1 << self as u16
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Auth {
    /// msmtp's default, which means no authentication.
    #[default]
    Unset,
    Off,
    Auto,
    Mechanism(String),
    Unsupported,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Trust {
    #[default]
    System,
    /// `tls_trust_file` with an empty argument: trust no CA at all.
    Nothing,
    File(String),
}

#[derive(Debug, Clone)]
struct Values {
    host: Option<String>,
    /// `None` until a `port` line: msmtp derives the default from the TLS settings at the end.
    port: Option<u16>,
    tls: bool,
    starttls: bool,
    lmtp: bool,
    /// `Some("")` is msmtp's empty envelope sender, which differs from no `from` at all.
    from: Option<String>,
    from_full_name: Option<String>,
    user: Option<String>,
    auth: Auth,
    password: Option<String>,
    password_eval: Option<String>,
    trust: Trust,
    timeout: Option<u32>,
    /// The fields this section set itself or took from an account it copies. msmtp copies only
    /// these from a parent; everything else comes from the defaults current at the child.
    set: u16,
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
        }
    }
}

struct Account {
    name: String,
    line: usize,
    parents: Vec<String>,
    values: Values,
}

#[derive(Debug, Clone, Copy, Default)]
enum Section {
    /// Before the first `account` or `defaults` line.
    #[default]
    Start,
    Defaults,
    Account(usize),
}

struct Noted {
    note: Note,
    /// The setting has an effect in msmtp that smtpsend will not reproduce; counted in the
    /// opening comment.
    dropped: bool,
}

#[derive(Default)]
struct Reader {
    defaults: Values,
    accounts: Vec<Account>,
    section: Section,
    notes: Vec<Noted>,
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

/// msmtp expands these in `from` at send time; smtpsend takes `from` literally.
fn from_is_pattern(from: &str) -> bool {
    from.contains(['*', '?', '['])
        || ["%U", "%H", "%C", "%M"]
            .iter()
            .any(|pattern| from.contains(pattern))
}

impl Reader {
    fn line(&mut self, line: usize, raw: &str) -> Result<(), ImportError> {
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
                    self.note(line, command, "smtpsend speaks SMTP only, not LMTP", true);
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
                    self.note(
                        line,
                        command,
                        "an empty envelope sender has no smtpsend equivalent",
                        true,
                    );
                } else if from_is_pattern(arg) {
                    self.note(
                        line,
                        command,
                        "msmtp expands patterns (%U, %H, %C, %M, *, ?, [) in from; \
                         smtpsend needs one literal address",
                        true,
                    );
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
                    self.note(
                        line,
                        command,
                        "smtpsend's -f/--from always overrides the configured from",
                        true,
                    );
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

    fn trust_file(&mut self, line: usize, command: &str, arg: &str) {
        let trust = if arg.is_empty() {
            self.note(
                line,
                command,
                "an empty tls_trust_file (trust no CA) has no smtpsend equivalent; \
                 smtpsend trusts the system's CAs",
                true,
            );
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
                self.note(
                    line,
                    command,
                    format!(
                        "{mechanism} is not supported by smtpsend, which picks a mechanism \
                         itself (plain, login, xoauth2, oauthbearer)"
                    ),
                    true,
                );
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

    fn finish(mut self) -> Imported {
        let tables: Vec<Keys> = self
            .accounts
            .iter()
            .map(|account| resolve(&account.values))
            .collect();
        let index_of = |name: &str| self.accounts.iter().position(|a| a.name == name);
        let copied = |name: &str| {
            self.accounts
                .iter()
                .any(|a| a.parents.iter().any(|p| p == name))
        };

        let default_index = index_of("default");
        // `account default : NAME` with nothing of its own is msmtp's way of choosing NAME.
        let alias = default_index.and_then(|index| {
            let account = &self.accounts[index];
            let [parent] = account.parents.as_slice() else {
                return None;
            };
            let parent_index = index_of(parent)?;
            (tables[parent_index] == tables[index] && !copied("default")).then_some(parent_index)
        });
        let default = match (alias, default_index) {
            (Some(parent), _) => Some(self.accounts[parent].name.clone()),
            (None, Some(_)) => Some("default".to_string()),
            (None, None) => None,
        };

        for (index, account) in self.accounts.iter().enumerate() {
            if alias.is_some() && Some(index) == default_index {
                continue;
            }
            let values = &account.values;
            let mut note = |command: &str, reason: &str, dropped: bool| {
                self.notes.push(Noted {
                    note: Note {
                        line: account.line,
                        account: Some(account.name.clone()),
                        command: command.to_string(),
                        reason: reason.to_string(),
                    },
                    dropped,
                });
            };
            if values.host.is_none() {
                note(
                    "host",
                    "the account has no host, so it gets no server (msmtp cannot use it either)",
                    false,
                );
            }
            if values.auth == Auth::Unset && values.user.is_some() {
                note(
                    "auth",
                    "msmtp does not log in here (no auth line, and its default is off), \
                     but smtpsend logs in whenever user is set",
                    false,
                );
            }
            if values.from_full_name.is_some() && values.from.is_none() {
                note(
                    "from_full_name",
                    "from_full_name has no from address to go with, so it is left out",
                    true,
                );
            }
        }
        // Stable: notes about the same line keep the order they were found in.
        self.notes.sort_by_key(|noted| noted.note.line);

        let dropped = self.notes.iter().filter(|n| n.dropped).count();
        let others = self.notes.len() - dropped;
        let mut out = vec![summary(dropped, others)];
        if let Some(default) = &default {
            out.push(format!("default = {}", quote(default)));
        }
        for (index, account) in self.accounts.iter().enumerate() {
            if alias.is_some() && Some(index) == default_index {
                continue;
            }
            out.push(String::new());
            out.push(format!("[accounts.{}]", key(&account.name)));
            let own = &tables[index];
            let parent = match account.parents.as_slice() {
                [parent] => index_of(parent).filter(|&p| {
                    own.iter()
                        .zip(&tables[p])
                        .all(|(mine, theirs)| mine.is_some() || theirs.is_none())
                }),
                _ => None,
            };
            if let Some(p) = parent {
                out.push(format!("extends = {}", quote(&self.accounts[p].name)));
            }
            for (position, value) in own.iter().enumerate() {
                let Some(value) = value else { continue };
                if parent.is_some_and(|p| tables[p][position].as_ref() == Some(value)) {
                    continue;
                }
                out.push(format!("{} = {}", KEYS[position], value.render()));
            }
        }
        out.push(String::new());
        Imported {
            toml: out.join("\n"),
            notes: self.notes.into_iter().map(|n| n.note).collect(),
        }
    }
}

fn summary(dropped: usize, others: usize) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "# Imported from an msmtp configuration: {dropped} setting{} not carried over, \
         {others} other note{}.",
        plural(dropped),
        plural(others)
    )
}

/// smtpsend's account keys after `extends`, in the order they are written.
const KEYS: [&str; 8] = [
    "server",
    "user",
    "from",
    "auth",
    "ca_file",
    "password_command",
    "password",
    "timeout",
];

/// One account's resolved smtpsend keys, indexed like [`KEYS`].
type Keys = [Option<Value>; 8];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Text(String),
    Number(u32),
}

impl Value {
    fn render(&self) -> String {
        match self {
            Value::Text(text) => quote(text),
            Value::Number(number) => number.to_string(),
        }
    }
}

fn resolve(values: &Values) -> Keys {
    let text = |s: &str| Some(Value::Text(s.to_string()));
    let from = values
        .from
        .as_deref()
        .filter(|from| !from.is_empty() && !from_is_pattern(from))
        .map(|address| match &values.from_full_name {
            Some(name) => format!("{} <{address}>", display_name(name)),
            None => address.to_string(),
        });
    [
        values
            .host
            .as_deref()
            .map(|host| Value::Text(server(values, host))),
        values.user.as_deref().and_then(text),
        from.as_deref().and_then(text),
        match &values.auth {
            Auth::Auto => text("auto"),
            Auth::Mechanism(mechanism) => text(mechanism),
            Auth::Unset | Auth::Off | Auth::Unsupported => None,
        },
        match &values.trust {
            Trust::File(path) => text(path),
            Trust::System | Trust::Nothing => None,
        },
        values.password_eval.as_deref().and_then(text),
        values.password.as_deref().and_then(text),
        values.timeout.map(Value::Number),
    ]
}

fn server(values: &Values, host: &str) -> String {
    let (scheme, scheme_port) = match (values.tls, values.starttls) {
        (false, _) => ("smtp+plain", 25),
        (true, true) => ("smtp", 587),
        (true, false) => ("smtps", 465),
    };
    let msmtp_port = if values.tls && !values.starttls {
        465
    } else {
        25
    };
    let port = values.port.unwrap_or(msmtp_port);
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    if port == scheme_port {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}:{port}")
    }
}

/// A display name as RFC 5322 wants it: bare when it is words of atext, quoted otherwise.
fn display_name(name: &str) -> String {
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~ ".contains(c);
    if name.chars().all(atext) && !name.starts_with(' ') && !name.ends_with(' ') {
        return name.to_string();
    }
    let mut quoted = String::from("\"");
    for c in name.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when TOML allows it, quoted otherwise.
fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { name.to_string() } else { quote(name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Imports, and proves the output is TOML by parsing it back.
    fn convert(msmtprc: &str) -> (Imported, toml::Table) {
        let imported = import(msmtprc).unwrap_or_else(|e| panic!("{e}\n{msmtprc}"));
        let table = toml::from_str::<toml::Table>(&imported.toml)
            .unwrap_or_else(|e| panic!("not TOML: {e}\n{}", imported.toml));
        (imported, table)
    }

    fn account<'a>(table: &'a toml::Table, name: &str) -> &'a toml::Table {
        table["accounts"]
            .get(name)
            .and_then(toml::Value::as_table)
            .unwrap_or_else(|| panic!("no account {name:?} in {table:#?}"))
    }

    fn text<'a>(table: &'a toml::Table, key: &str) -> Option<&'a str> {
        table.get(key).map(|v| v.as_str().expect("a string"))
    }

    fn server(msmtprc: &str) -> String {
        let (_, table) = convert(msmtprc);
        text(account(&table, "a"), "server").unwrap().to_string()
    }

    fn failure(msmtprc: &str) -> ImportError {
        match import(msmtprc) {
            Ok(imported) => panic!("imported:\n{}", imported.toml),
            Err(e) => e,
        }
    }

    fn commands(notes: &[Note]) -> Vec<(usize, &str)> {
        notes.iter().map(|n| (n.line, n.command.as_str())).collect()
    }

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
        assert_eq!(gmail.len(), 5, "{gmail:#?}");
        assert_eq!(table["accounts"].as_table().unwrap().len(), 1);

        assert_eq!(
            imported.notes,
            vec![Note {
                line: 6,
                account: None,
                command: "logfile".to_string(),
                reason: NO_LOG_FILE.to_string(),
            }]
        );
        assert!(
            imported.toml.starts_with(
                "# Imported from an msmtp configuration: 1 setting not carried over, 0 other notes.\n"
            ),
            "{}",
            imported.toml
        );
    }

    #[test]
    fn the_output_has_default_first_and_keys_in_a_fixed_order() {
        let (imported, _) = convert(
            "account a\ntimeout 30\npassword secret\npasswordeval pass x\n\
             tls_trust_file /etc/ca.pem\nauth login\nfrom a@x\nuser u\nhost h\n\
             account default : a\nuser other\n",
        );
        let expected = "\
default = \"default\"

[accounts.a]
server = \"smtp+plain://h\"
user = \"u\"
from = \"a@x\"
auth = \"login\"
ca_file = \"/etc/ca.pem\"
password_command = \"pass x\"
password = \"secret\"
timeout = 30

[accounts.default]
extends = \"a\"
user = \"other\"
";
        let (comment, rest) = imported.toml.split_once('\n').unwrap();
        assert!(comment.starts_with("# Imported from an msmtp configuration"));
        assert_eq!(rest, expected);
    }

    #[test]
    fn tls_off_is_plain_smtp_on_port_25() {
        assert_eq!(
            server("account a\nhost mail.example\ntls off\n"),
            "smtp+plain://mail.example"
        );
        // tls is off by default in msmtp.
        assert_eq!(
            server("account a\nhost mail.example\n"),
            "smtp+plain://mail.example"
        );
        assert_eq!(
            server("account a\nhost mail.example\nport 2525\n"),
            "smtp+plain://mail.example:2525"
        );
        // STARTTLS off means nothing without TLS: still plain, still port 25.
        assert_eq!(
            server("account a\nhost mail.example\ntls_starttls off\n"),
            "smtp+plain://mail.example"
        );
    }

    #[test]
    fn implicit_tls_without_a_port_is_smtps_on_its_default_port() {
        assert_eq!(
            server("account a\nhost mail.example\ntls on\ntls_starttls off\n"),
            "smtps://mail.example"
        );
        assert_eq!(
            server("account a\nhost mail.example\ntls\ntls_nostarttls\n"),
            "smtps://mail.example"
        );
        assert_eq!(
            server("account a\nhost mail.example\ntls on\ntls_starttls off\nport 465\n"),
            "smtps://mail.example"
        );
    }

    #[test]
    fn starttls_without_a_port_keeps_msmtps_port_25() {
        // msmtp connects to 25 here; smtp:// alone would mean 587.
        assert_eq!(
            server("account a\nhost mail.example\ntls on\n"),
            "smtp://mail.example:25"
        );
        assert_eq!(
            server("account a\nhost mail.example\ntls on\ntls_starttls on\nport 587\n"),
            "smtp://mail.example"
        );
    }

    #[test]
    fn a_non_default_port_is_written_out() {
        assert_eq!(
            server("account a\nhost mail.example\ntls on\nport 2587\n"),
            "smtp://mail.example:2587"
        );
        assert_eq!(
            server("account a\nhost mail.example\ntls on\ntls_starttls off\nport 587\n"),
            "smtps://mail.example:587"
        );
        assert_eq!(
            server("account a\nhost mail.example\ntls off\nport 587\n"),
            "smtp+plain://mail.example:587"
        );
    }

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
    fn ipv6_hosts_go_in_brackets() {
        assert_eq!(server("account a\nhost ::1\n"), "smtp+plain://[::1]");
        assert_eq!(
            server("account a\nhost 2001:db8::25\ntls on\nport 587\n"),
            "smtp://[2001:db8::25]"
        );
        assert_eq!(
            server("account a\nhost 2001:db8::25\ntls on\ntls_starttls off\nport 4650\n"),
            "smtps://[2001:db8::25]:4650"
        );
        assert_eq!(
            server("account a\nhost 192.0.2.7\n"),
            "smtp+plain://192.0.2.7"
        );
    }

    #[test]
    fn one_parent_becomes_extends_with_only_the_differences() {
        let (imported, table) = convert(
            "defaults\ntls on\n\
             account a\nhost mail.example\nport 587\nuser me\nauth on\nfrom me@example.com\n\
             account b : a\nfrom other@example.com\n",
        );
        let b = account(&table, "b");
        assert_eq!(text(b, "extends"), Some("a"));
        assert_eq!(text(b, "from"), Some("other@example.com"));
        assert_eq!(b.len(), 2, "{b:#?}");
        assert!(imported.notes.is_empty(), "{:?}", imported.notes);
        assert!(!table.contains_key("default"));
    }

    #[test]
    fn an_account_that_unsets_what_its_parent_sets_is_written_in_full() {
        let (_, table) = convert(
            "account a\nhost h\nuser me\ntls_trust_file /etc/private-ca.pem\n\
             account b : a\nuser \"\"\ntls_trust_file system\n",
        );
        let b = account(&table, "b");
        assert_eq!(text(b, "extends"), None);
        assert_eq!(text(b, "server"), Some("smtp+plain://h"));
        assert_eq!(b.len(), 1, "{b:#?}");
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
    fn control_characters_and_unicode_are_quoted_for_toml() {
        let (_, table) = convert("account a\nhost h\npassword \"\ttab\u{7f}del\u{1}é\"\n");
        assert_eq!(
            text(account(&table, "a"), "password"),
            Some("\ttab\u{7f}del\u{1}é")
        );
    }

    #[test]
    fn account_names_that_are_not_bare_keys_are_quoted() {
        let (imported, table) = convert(
            "account \"my account\"\nhost h\n\
             account work.example\nhost h\n\
             account ünï\nhost h\n\
             account say\"hi\" : my account\n",
        );
        assert!(imported.toml.contains("[accounts.\"my account\"]"));
        assert!(imported.toml.contains("[accounts.\"work.example\"]"));
        account(&table, "my account");
        account(&table, "work.example");
        account(&table, "ünï");
        assert_eq!(
            text(account(&table, "say\"hi\""), "extends"),
            Some("my account")
        );
    }

    #[test]
    fn every_unsupported_command_gets_a_note_on_its_line() {
        let unsupported = [
            "logfile ~/.msmtp.log",
            "logfile_time_format %F",
            "syslog LOG_MAIL",
            "aliases /etc/aliases",
            "domain client.example",
            "maildomain example.com",
            "auto_from on",
            "dsn_notify failure,delay",
            "dsn_return headers",
            "add_missing_from_header on",
            "add_missing_date_header off",
            "remove_bcc_headers off",
            "keepbcc on",
            "undisclosed_recipients on",
            "set_from_header on",
            "set_date_header off",
            "set_msgid_header off",
            "tls_cert_file ~/.cert.pem",
            "tls_key_file ~/.key.pem",
            "tls_crl_file /etc/crl.pem",
            "tls_priorities NORMAL",
            "tls_host_override other.example",
            "tls_min_dh_prime_bits 512",
            "tls_force_sslv3 on",
            "tls_fingerprint 00:11:22",
            "tls_certcheck off",
            "tls_nocertcheck",
            "proxy_host 127.0.0.1",
            "proxy_port 9050",
            "socket /run/smtp.sock",
            "source_ip 192.0.2.1",
            "protocol lmtp",
            "ntlmdomain WORK",
            "eval echo from me@example.com",
            "auth cram-md5",
            "allow_from_override off",
        ];
        let mut msmtprc = String::from("defaults\n");
        msmtprc.push_str(&unsupported[..10].join("\n"));
        msmtprc.push_str("\naccount a\nhost h\ntls on\n");
        msmtprc.push_str(&unsupported[10..].join("\n"));
        msmtprc.push('\n');
        let (imported, table) = convert(&msmtprc);

        let noted = commands(&imported.notes);
        for (index, line) in unsupported.iter().enumerate() {
            let number = if index < 10 { index + 2 } else { index + 5 };
            let command = line.split(' ').next().unwrap();
            assert!(
                noted.contains(&(number, command)),
                "no note for line {number} {command}: {noted:?}"
            );
        }
        assert_eq!(imported.notes.len(), unsupported.len(), "{noted:?}");
        assert!(imported.notes.iter().all(|n| !n.reason.is_empty()));
        assert!(imported.notes[..10].iter().all(|n| n.account.is_none()));
        assert!(
            imported.notes[10..]
                .iter()
                .all(|n| n.account.as_deref() == Some("a"))
        );
        let header = format!(
            "{} settings not carried over, 0 other notes.",
            unsupported.len()
        );
        assert!(imported.toml.lines().next().unwrap().ends_with(&header));

        let certcheck = imported.notes.iter().find(|n| n.command == "tls_certcheck");
        assert_eq!(
            certcheck.unwrap().reason,
            "smtpsend always verifies certificates; use ca_file for a private CA"
        );
        let cram = imported.notes.iter().find(|n| n.command == "auth").unwrap();
        assert!(cram.reason.contains("not supported by smtpsend"));
        // Nothing the notes talk about leaks into the account.
        let a = account(&table, "a");
        assert_eq!(a.keys().collect::<Vec<_>>(), ["server"]);
    }

    #[test]
    fn settings_that_ask_for_what_smtpsend_does_anyway_get_no_note() {
        let (imported, _) = convert(
            "account a\nhost h\ntls on\ntls_trust_file system\ntls_certcheck on\n\
             allow_from_override on\nprotocol smtp\nport 587\n",
        );
        assert!(imported.notes.is_empty(), "{:?}", imported.notes);
        assert!(imported.toml.starts_with(
            "# Imported from an msmtp configuration: 0 settings not carried over, 0 other notes.\n"
        ));
    }

    #[test]
    fn auth_mechanisms_map_to_smtpsend_names() {
        for (msmtp, smtpsend) in [
            ("on", Some("auto")),
            ("", Some("auto")),
            ("plain", Some("plain")),
            ("LOGIN", Some("login")),
            ("xoauth2", Some("xoauth2")),
            ("oauthbearer", Some("oauthbearer")),
            ("scram-sha-256", None),
            ("gssapi", None),
            ("off", None),
        ] {
            let (imported, table) = convert(&format!("account a\nhost h\nuser u\nauth {msmtp}\n"));
            assert_eq!(text(account(&table, "a"), "auth"), smtpsend, "auth {msmtp}");
            let noted = !imported.notes.is_empty();
            assert_eq!(
                noted,
                smtpsend.is_none(),
                "auth {msmtp}: {:?}",
                imported.notes
            );
        }
        let e = failure("account a\nhost h\nauth magic\n");
        assert_eq!(e.line, 3);
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
    fn an_account_literally_named_default_is_the_default() {
        let (_, table) = convert("account work\nhost w\naccount default\nhost d\n");
        assert_eq!(text(&table, "default"), Some("default"));
        assert_eq!(
            text(account(&table, "default"), "server"),
            Some("smtp+plain://d")
        );
        account(&table, "work");
    }

    #[test]
    fn default_with_a_parent_and_settings_of_its_own_is_a_table() {
        let (_, table) = convert("account a\nhost h\naccount default : a\nfrom d@example.com\n");
        assert_eq!(text(&table, "default"), Some("default"));
        let default = account(&table, "default");
        assert_eq!(text(default, "extends"), Some("a"));
        assert_eq!(text(default, "from"), Some("d@example.com"));
    }

    #[test]
    fn default_that_other_accounts_copy_stays_a_table() {
        let (_, table) = convert("account a\nhost h\naccount default : a\naccount b : default\n");
        assert_eq!(text(&table, "default"), Some("default"));
        assert_eq!(text(account(&table, "default"), "extends"), Some("a"));
        assert_eq!(text(account(&table, "b"), "extends"), Some("default"));
    }

    #[test]
    fn default_under_changed_defaults_is_not_an_alias() {
        // The defaults changed between a and default, so msmtp's default account differs from a.
        let (_, table) = convert("account a\nhost h\ndefaults\ntls on\naccount default : a\n");
        assert_eq!(text(&table, "default"), Some("default"));
        let default = account(&table, "default");
        assert_eq!(text(default, "server"), Some("smtp://h:25"));
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
    fn from_full_name_joins_from() {
        let (_, table) = convert(
            "account a\nhost h\nfrom me@example.com\nfrom_full_name Ann Example\n\
             account b : a\nfrom_full_name Example, Ann\n",
        );
        assert_eq!(
            text(account(&table, "a"), "from"),
            Some("Ann Example <me@example.com>")
        );
        assert_eq!(
            text(account(&table, "b"), "from"),
            Some("\"Example, Ann\" <me@example.com>")
        );
    }

    #[test]
    fn from_patterns_and_an_empty_from_are_noted_and_left_out() {
        for from in ["%U@example.com", "*@example.com", "\"\""] {
            let (imported, table) = convert(&format!("account a\nhost h\nfrom {from}\n"));
            assert_eq!(text(account(&table, "a"), "from"), None, "{from}");
            assert_eq!(commands(&imported.notes), [(3, "from")], "{from}");
        }
    }

    #[test]
    fn an_account_without_host_is_noted() {
        let (imported, table) = convert("account a\nuser me\nauth on\n");
        assert_eq!(text(account(&table, "a"), "server"), None);
        assert_eq!(commands(&imported.notes), [(1, "host")]);
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
