//! Writes smtpsend's TOML from what `reader` read: one resolved value per account key, the
//! `default` line, `extends` where it is exact, the opening comment that counts the dropped
//! settings, and TOML's and RFC 5322's quoting. The notes about whole accounts (no host, a user
//! without `auth`, a full name without an address) are found here, where the account is complete.

use super::reader::{Auth, Noted, Reader, Trust, Values};
use super::unsupported::{NO_FROM_FOR_FULL_NAME, from_is_pattern};
use super::{Imported, Note};
use crate::config::AccountKey;

/// The TOML for everything `reader` read, and all the notes in line order.
pub(super) fn write(mut reader: Reader) -> Imported {
    let tables: Vec<Keys> = reader
        .accounts
        .iter()
        .map(|account| resolve(&account.values))
        .collect();
    let index_of = |name: &str| reader.accounts.iter().position(|a| a.name == name);
    let copied = |name: &str| {
        reader
            .accounts
            .iter()
            .any(|a| a.parents.iter().any(|p| p == name))
    };

    let default_index = index_of("default");
    // `account default : NAME` with nothing of its own is msmtp's way of choosing NAME.
    let alias = default_index.and_then(|index| {
        let account = &reader.accounts[index];
        let [parent] = account.parents.as_slice() else {
            return None;
        };
        let parent_index = index_of(parent)?;
        (tables[parent_index] == tables[index] && !copied("default")).then_some(parent_index)
    });
    let default = match (alias, default_index) {
        (Some(parent), _) => Some(reader.accounts[parent].name.clone()),
        (None, Some(_)) => Some("default".to_string()),
        (None, None) => None,
    };

    for (index, account) in reader.accounts.iter().enumerate() {
        if alias.is_some() && Some(index) == default_index {
            continue;
        }
        let values = &account.values;
        let mut note = |command: &str, reason: &str, dropped: bool| {
            reader.notes.push(Noted {
                note: Note {
                    line: account.line,
                    account: Some(account.name.clone()),
                    command: command.to_string(),
                    reason: reason.to_string(),
                },
                dropped,
            });
        };
        if values.host.is_none() && values.socket.is_none() {
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
            note("from_full_name", NO_FROM_FOR_FULL_NAME, true);
        }
        if values.logfile.is_some() && values.syslog {
            note(
                "syslog",
                "msmtp logs both to its logfile and to syslog; smtpsend's log is one place, \
                 the file",
                true,
            );
        }
    }
    // Stable: notes about the same line keep the order they were found in.
    reader.notes.sort_by_key(|noted| noted.note.line);

    let dropped = reader.notes.iter().filter(|n| n.dropped).count();
    let others = reader.notes.len() - dropped;
    let mut out = vec![summary(dropped, others)];
    if let Some(default) = &default {
        out.push(format!("default = {}", quote(default)));
    }
    for (index, account) in reader.accounts.iter().enumerate() {
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
            out.push(format!(
                "{} = {}",
                AccountKey::Extends.name(),
                quote(&reader.accounts[p].name)
            ));
        }
        for (position, value) in own.iter().enumerate() {
            let Some(value) = value else { continue };
            if parent.is_some_and(|p| tables[p][position].as_ref() == Some(value)) {
                continue;
            }
            out.push(format!("{} = {}", KEYS[position].name(), value.render()));
        }
    }
    out.push(String::new());
    Imported {
        toml: out.join("\n"),
        notes: reader.notes.into_iter().map(|n| n.note).collect(),
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
const KEYS: [AccountKey; 11] = [
    AccountKey::Server,
    AccountKey::User,
    AccountKey::From,
    AccountKey::Auth,
    AccountKey::CaFile,
    AccountKey::PasswordCommand,
    AccountKey::Password,
    AccountKey::Timeout,
    AccountKey::Log,
    AccountKey::Proxy,
    AccountKey::SourceAddress,
];

/// One account's resolved smtpsend keys, indexed like [`KEYS`].
type Keys = [Option<Value>; 11];

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
    let server = match (&values.socket, &values.host) {
        (Some(socket), _) => Some(unix_server(values, socket)),
        (None, Some(host)) => Some(server(values, host)),
        (None, None) => None,
    };
    [
        server.map(Value::Text),
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
        match (&values.logfile, values.syslog) {
            (Some(path), _) => text(path),
            (None, true) => text("syslog"),
            (None, false) => None,
        },
        // msmtp's proxy resolves the server's name (its manual: all traffic through the proxy,
        // DNS queries included): socks5h.
        values.proxy_host.as_deref().map(|host| {
            let host = match host.contains(':') && !host.starts_with('[') {
                true => format!("[{host}]"),
                false => host.to_string(),
            };
            Value::Text(format!(
                "socks5h://{host}:{}",
                values.proxy_port.unwrap_or(1080)
            ))
        }),
        values.source_ip.as_deref().and_then(text),
    ]
}

/// msmtp's `socket`: the same protocol on a unix socket, which needs no TLS.
fn unix_server(values: &Values, socket: &str) -> String {
    let protocol = if values.lmtp { "lmtp" } else { "smtp" };
    format!("{protocol}+unix://{socket}")
}

fn server(values: &Values, host: &str) -> String {
    let (scheme, scheme_port) = match (values.tls, values.starttls) {
        (false, _) => ("smtp+plain", 25),
        (true, true) => ("smtp", 587),
        (true, false) => ("smtps", 465),
    };
    // msmtp's LMTP port is 2003 whatever the TLS; smtpsend's, 24.
    let (scheme, scheme_port, msmtp_port) = match (values.lmtp, values.tls && !values.starttls) {
        (true, _) => (scheme.replacen("smtp", "lmtp", 1), 24, 2003),
        (false, true) => (scheme.to_string(), scheme_port, 465),
        (false, false) => (scheme.to_string(), scheme_port, 25),
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
    use super::super::testing::{account, commands, convert, server, text};

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
    fn lmtp_sockets_proxies_and_source_addresses_are_carried_over() {
        assert_eq!(
            server("account a\nhost mx.example\nprotocol lmtp\n"),
            "lmtp+plain://mx.example:2003"
        );
        assert_eq!(
            server("account a\nhost mx.example\nprotocol lmtp\nport 24\ntls on\n"),
            "lmtp://mx.example"
        );
        assert_eq!(
            server("account a\nhost h\nsocket /run/dovecot/lmtp\nprotocol lmtp\n"),
            "lmtp+unix:///run/dovecot/lmtp"
        );
        let (imported, table) = convert(
            "account a\nsocket /var/spool/postfix/public/submission\nproxy_host 127.0.0.1\n\
             proxy_port 9050\nsource_ip 192.0.2.1\n\naccount b\nhost h\nproxy_host ::1\n",
        );
        assert!(imported.notes.is_empty(), "{:?}", imported.notes);
        let a = account(&table, "a");
        assert_eq!(
            a["server"].as_str(),
            Some("smtp+unix:///var/spool/postfix/public/submission")
        );
        assert_eq!(a["proxy"].as_str(), Some("socks5h://127.0.0.1:9050"));
        assert_eq!(a["source_address"].as_str(), Some("192.0.2.1"));
        assert_eq!(
            account(&table, "b")["proxy"].as_str(),
            Some("socks5h://[::1]:1080")
        );
        let loaded = crate::config::parse(&imported.toml, std::path::Path::new("x"));
        assert!(loaded.is_ok(), "{:?}", loaded.err());
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
    fn an_account_without_host_is_noted() {
        let (imported, table) = convert("account a\nuser me\nauth on\n");
        assert_eq!(text(account(&table, "a"), "server"), None);
        assert_eq!(commands(&imported.notes), [(1, "host")]);
    }
}
