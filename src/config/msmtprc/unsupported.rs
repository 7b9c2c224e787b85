//! The msmtp settings smtpsend does not carry over, and why: the reason each [`Note`] about a
//! dropped setting gives, the commands that are dropped whatever their argument
//! ([`UNSUPPORTED`]), and the authentication mechanisms smtpsend does and does not speak.
//!
//! Nothing here reads the file or decides where a note goes; `reader` does, with these texts.
//!
//! [`Note`]: super::Note

pub(super) const CERTIFICATES_ALWAYS_CHECKED: &str =
    "smtpsend always verifies certificates; use ca_file for a private CA";
pub(super) const LOG_CARRIED_OVER: &str =
    "carried over as log: one line per message, in smtpsend's own format rather than msmtp's";
pub(super) const NO_LOG_TO_STDOUT: &str = "smtpsend's log is a file or syslog, not standard \
     output; -v or --json print what happened";
pub(super) const NO_LOG_TIME_FORMAT: &str =
    "smtpsend's log lines always begin with the time in UTC, in RFC 3339 form";
pub(super) const NO_SENDER_BUILDING: &str =
    "smtpsend does not build sender addresses; set from instead";
pub(super) const NO_DSN: &str = "smtpsend does not request delivery status notifications (DSN)";
pub(super) const NO_FROM_HEADER_SETTING: &str =
    "smtpsend has no setting for adding or replacing the From header";
pub(super) const NO_DATE_HEADER_SETTING: &str =
    "smtpsend has no setting for adding the Date header";
pub(super) const NO_BCC_SETTING: &str =
    "smtpsend has no setting for Bcc headers; Bcc recipients go in the envelope only";
pub(super) const NO_CLIENT_CERTIFICATES: &str =
    "not carried over: give the account client_cert and client_key (the same PEM files) by hand";
pub(super) const NO_EMPTY_SENDER: &str = "an empty envelope sender has no smtpsend equivalent";
pub(super) const NO_FROM_PATTERNS: &str = "msmtp expands patterns (%U, %H, %C, %M, *, ?, [) in from; \
     smtpsend needs one literal address";
pub(super) const NO_FROM_FOR_FULL_NAME: &str =
    "from_full_name has no from address to go with, so it is left out";
pub(super) const FROM_ALWAYS_OVERRIDDEN: &str =
    "smtpsend's -f/--from always overrides the configured from";
pub(super) const NO_EMPTY_TRUST_FILE: &str = "an empty tls_trust_file (trust no CA) has no smtpsend equivalent; \
     smtpsend trusts the system's CAs";

/// msmtp commands smtpsend has no equivalent for, whatever their argument.
pub(super) const UNSUPPORTED: &[(&str, &str)] = &[
    ("logfile_time_format", NO_LOG_TIME_FORMAT),
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
        "smtpsend's TLS library chooses the ciphers; for the lowest protocol version set tls_min",
    ),
    (
        "tls_host_override",
        "not carried over: set tls_server_name in the account by hand",
    ),
    (
        "tls_min_dh_prime_bits",
        "smtpsend's TLS uses no finite-field Diffie-Hellman, so there is nothing to set",
    ),
    (
        "tls_force_sslv3",
        "obsolete: msmtp ignores it, and smtpsend never speaks SSLv3",
    ),
    (
        "tls_fingerprint",
        "not carried over: msmtp's fingerprint is of the whole certificate, smtpsend's tls_pin of \
         its public key; `smtpsend check` prints it (add tls_pin_only = true to trust it alone)",
    ),
    ("tls_nocertcheck", CERTIFICATES_ALWAYS_CHECKED),
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

/// The facilities msmtp's `syslog` takes.
pub(super) const SYSLOG_FACILITIES: &[&str] = &[
    "LOG_USER",
    "LOG_MAIL",
    "LOG_LOCAL0",
    "LOG_LOCAL1",
    "LOG_LOCAL2",
    "LOG_LOCAL3",
    "LOG_LOCAL4",
    "LOG_LOCAL5",
    "LOG_LOCAL6",
    "LOG_LOCAL7",
];

/// The note for `syslog` with a facility other than mail.
pub(super) fn syslog_facility(facility: &str) -> String {
    format!("carried over as log = \"syslog\", which logs to the mail facility, not {facility}")
}

/// Authentication mechanisms msmtp knows and smtpsend does not.
pub(super) const UNSUPPORTED_MECHANISMS: &[&str] = &[
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

pub(super) const SUPPORTED_MECHANISMS: &[&str] = &["plain", "login", "xoauth2", "oauthbearer"];

/// The note for an `auth` line naming one of [`UNSUPPORTED_MECHANISMS`].
pub(super) fn unsupported_mechanism(mechanism: &str) -> String {
    format!(
        "{mechanism} is not supported by smtpsend, which picks a mechanism itself ({})",
        SUPPORTED_MECHANISMS.join(", ")
    )
}

/// msmtp expands these in `from` at send time; smtpsend takes `from` literally.
pub(super) fn from_is_pattern(from: &str) -> bool {
    from.contains(['*', '?', '['])
        || ["%U", "%H", "%C", "%M"]
            .iter()
            .any(|pattern| from.contains(pattern))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{account, commands, convert, failure, text};

    #[test]
    fn every_unsupported_command_gets_a_note_on_its_line() {
        let unsupported = [
            "logfile_time_format %F",
            "logfile -",
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
    fn from_patterns_and_an_empty_from_are_noted_and_left_out() {
        for from in ["%U@example.com", "*@example.com", "\"\""] {
            let (imported, table) = convert(&format!("account a\nhost h\nfrom {from}\n"));
            assert_eq!(text(account(&table, "a"), "from"), None, "{from}");
            assert_eq!(commands(&imported.notes), [(3, "from")], "{from}");
        }
    }
}
