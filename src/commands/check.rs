//! `smtpsend check`: what a user runs when mail does not go out. It connects the way a send
//! would, shows the greeting, TLS, the certificate and the server's extensions (its LIMITS in
//! words), logs in, and with `--rcpt` asks MAIL FROM and RCPT TO before RSET; it never sends a
//! message. The exit status is that of the step that failed.

use serde::Serialize;

use crate::address::parse_mailbox;
use crate::cli::CheckArgs;
use crate::clock;
use crate::error::Error;
use crate::report;
use crate::route::session_options;
use crate::server::Protocol;
use crate::settings::{self, Environment};
use crate::submit::Transcript;
use crate::submit::{self, Delivery, Limits, RecipientResult, Reply, Step};
use crate::terminal::{self, escape, outln};
use crate::trust::{Pin, TlsOptions};

pub fn run(args: &CheckArgs, env: &Environment) -> Result<(), Error> {
    // With --json, an error in the settings is one JSON object too.
    let settings_failure = |error| report::json_failure(args.json, Step::Settings, error);
    let (account, server) =
        settings::resolve_connection(args.account.as_deref(), &args.connection, None, env)
            .map_err(settings_failure)?;
    let given =
        settings::flag_or_variable_sender(args.from.as_deref(), env).map_err(settings_failure)?;
    let sender = match (given, account.as_ref().and_then(|a| a.from.as_ref())) {
        (Some(from), _) => from.address,
        (None, Some(from)) => from.address.clone(),
        // The null sender: what bounces use, accepted for any recipient check.
        (None, None) => String::new(),
    };
    let recipients = args
        .rcpt
        .iter()
        .map(|r| parse_mailbox(r, "--rcpt").map(|m| m.address))
        .collect::<Result<Vec<_>, _>>()
        .map_err(settings_failure)?;
    let mut transcript = Transcript::new(args.verbose);
    // The state of a built-in OAuth2 sign-in, after whatever refresh the check needed.
    let oauth2 = server
        .login
        .as_ref()
        .and_then(|l| l.passwords.oauth2.as_ref());
    let oauth2_row = |json: bool| {
        if let (Some(setup), false) = (oauth2, json) {
            println!("{:<12} {}", "oauth2", escape(&setup.status()));
        }
    };
    let oauth2_json = || oauth2.map(crate::credentials::oauth2::Setup::status);
    let options =
        session_options(&server, &mut transcript).inspect_err(|_| oauth2_row(args.json))?;
    let outcome = submit::check(&options, &sender, &recipients, &mut transcript);
    // EXTERNAL without a user logs in as whoever the certificate says.
    let user = options
        .login
        .as_ref()
        .map(|l| l.user.as_str())
        .filter(|user| !user.is_empty());
    // A server that offers AUTH to a client that will not log in will likely not relay for it.
    let login_hint = (user.is_none()
        && outcome.auth_mechanism.is_none()
        && options.tls.client_cert.is_none()
        && outcome.extensions.iter().any(|e| {
            e.split_whitespace()
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case("AUTH"))
        }))
    .then_some(submit::NO_LOGIN_HINT);
    if args.json {
        print_json(&outcome, user, oauth2_json(), login_hint);
    } else {
        print_human(&outcome, user, &options);
    }
    if let (Some(hint), false) = (login_hint, args.json) {
        terminal::print_warning(hint);
    }
    if let (Some(warning), false) = (name_warning(&outcome), args.json) {
        terminal::print_warning(&warning);
    }
    oauth2_row(args.json);
    match outcome.failure {
        Some((_, error)) => Err(error),
        None => Ok(()),
    }
}

/// A server that refused EHLO, or a recipient, in words about the client's name is likely to
/// refuse mail from this host as named: said, with the way to give another name.
fn name_warning(outcome: &Delivery) -> Option<String> {
    let name = outcome.hello_name.as_deref()?;
    outcome.name_disliked().then(|| {
        format!(
            "the server seems to dislike the name {name} given in EHLO; set --ehlo-name (or \
             hello_name in the account) to this host's public, fully qualified name"
        )
    })
}

/// What the certificate says, for a person deciding whether it is the right server.
#[derive(Serialize)]
struct CertificateSummary {
    subject: String,
    issuer: String,
    not_after: String,
    days_left: i64,
    /// The public key's pin, as `tls_pin` takes it.
    pin: String,
}

fn certificate_summary(der: &[u8]) -> Option<CertificateSummary> {
    let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
    let not_after = certificate.validity().not_after;
    let now = i64::try_from(clock::unix_now()).unwrap_or(i64::MAX);
    Some(CertificateSummary {
        subject: certificate.subject().to_string(),
        issuer: certificate.issuer().to_string(),
        not_after: not_after.to_string(),
        days_left: (not_after.timestamp() - now).div_euclid(86_400),
        pin: Pin::of_certificate(der)?.to_string(),
    })
}

fn print_human(outcome: &Delivery, user: Option<&str>, options: &submit::Options) {
    let tls_options = &options.tls;
    let row = |label: &str, value: &str| outln!("{label:<12} {}", escape(value));
    let endpoint = &outcome.endpoint;
    let speaks = match endpoint.protocol {
        Protocol::Smtp => String::new(),
        Protocol::Lmtp => "LMTP, ".to_string(),
    };
    row(
        "server",
        &format!(
            "{} ({speaks}{})",
            endpoint.place(),
            endpoint.security.name()
        ),
    );
    if let Some(proxy) = &options.reach.proxy {
        row("proxy", &proxy.to_string());
    }
    if let Some(greeting) = &outcome.greeting {
        row("greeting", &greeting.one_line());
    }
    if let Some(name) = &outcome.hello_name {
        match &outcome.ehlo_refused {
            Some(refusal) if !failed_at(outcome, Step::Ehlo) => row(
                "hello",
                &format!("HELO {name} (EHLO refused: {})", refusal.one_line()),
            ),
            _ => row("hello", &format!("EHLO {name}")),
        }
    }
    if let Some(tls) = &outcome.tls {
        row("tls", &format!("{}, {}", tls.version, tls.cipher));
        if let Some(summary) = tls.certificate.as_deref().and_then(certificate_summary) {
            row(
                "certificate",
                &format!(
                    "{}; issued by {}; expires {} ({} day{})",
                    summary.subject,
                    summary.issuer,
                    summary.not_after,
                    summary.days_left,
                    if summary.days_left.abs() == 1 {
                        ""
                    } else {
                        "s"
                    }
                ),
            );
            row("pin", &format!("tls_pin = \"{}\"", summary.pin));
        }
    }
    tls_rows(tls_options);
    if !outcome.extensions.is_empty() {
        row("extensions", &outcome.extensions.join(", "));
    }
    if let Some(limits) = Limits::of_keywords(&outcome.extensions).describe() {
        row("limits", &limits);
    }
    match (outcome.auth_mechanism, user) {
        (Some(mechanism), Some(user)) => row("auth", &format!("{mechanism} as {user}: accepted")),
        (Some(mechanism), None) => row(
            "auth",
            &format!("{mechanism} with the client certificate: accepted"),
        ),
        (None, Some(user)) if failed_at(outcome, Step::Auth) => {
            row("auth", &format!("as {user}: refused"));
        }
        _ => {}
    }
    for recipient in &outcome.recipients {
        row("rcpt", &recipient_line(recipient));
    }
    let result = match &outcome.failure {
        None => "ok: this server takes mail from this configuration".to_string(),
        Some((step, _)) => format!("failed at {}", step.describe()),
    };
    row("result", &result);
}

/// The TLS settings beyond the trust anchors, when any is set: what the check was held to.
fn tls_rows(tls: &TlsOptions) {
    let row = |label: &str, value: &str| outln!("{label:<12} {}", escape(value));
    let mut held = Vec::new();
    if let Some(min) = tls.min_version {
        held.push(format!("TLS {min} or newer"));
    }
    if let Some(name) = &tls.server_name {
        held.push(format!("verified as {name}"));
    }
    match (tls.pins.len(), tls.pin_only) {
        (0, _) => {}
        (n, false) => held.push(format!("{n} pin(s) besides the CA chain")),
        (n, true) => held.push(format!("{n} pin(s) instead of the CA chain")),
    }
    if !held.is_empty() {
        row("tls options", &held.join("; "));
    }
    if let Some(cert) = &tls.client_cert {
        let subject = std::fs::read(cert)
            .ok()
            .and_then(|pem| {
                let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).ok()?;
                let (_, certificate) = x509_parser::parse_x509_certificate(&pem.contents).ok()?;
                Some(certificate.subject().to_string())
            })
            .unwrap_or_else(|| "?".into());
        row("client cert", &format!("{subject} ({})", cert.display()));
    }
}

fn failed_at(outcome: &Delivery, step: Step) -> bool {
    outcome.failure.as_ref().is_some_and(|(s, _)| *s == step)
}

fn recipient_line(recipient: &RecipientResult) -> String {
    let reply = recipient
        .reply
        .as_ref()
        .map_or_else(String::new, Reply::one_line);
    format!("<{}>: {reply}", recipient.address)
}

fn print_json(
    outcome: &Delivery,
    user: Option<&str>,
    oauth2: Option<String>,
    login_hint: Option<&str>,
) {
    #[derive(Serialize)]
    struct Tls<'a> {
        version: &'a str,
        cipher: &'a str,
        certificate: Option<CertificateSummary>,
    }
    #[derive(Serialize)]
    struct Report<'a> {
        status: &'static str,
        exit_code: u8,
        server: report::JsonServer<'a>,
        greeting: Option<&'a Reply>,
        /// The name given in EHLO or HELO.
        hello_name: Option<&'a str>,
        /// The refusal of EHLO, when HELO followed or the check ended there.
        ehlo_refused: Option<&'a Reply>,
        tls: Option<Tls<'a>>,
        extensions: &'a [String],
        /// What the server's LIMITS keyword says (RFC 9422), when it offers one.
        #[serde(skip_serializing_if = "Option::is_none")]
        limits: Option<Limits>,
        auth: Option<report::JsonAuth<'a>>,
        recipients: &'a [RecipientResult],
        error: Option<report::JsonError<'a>>,
        /// The state of a built-in OAuth2 sign-in, never a token.
        #[serde(skip_serializing_if = "Option::is_none")]
        oauth2: Option<String>,
        /// Said when no user is set and the server offers AUTH.
        #[serde(skip_serializing_if = "Option::is_none")]
        login_hint: Option<&'a str>,
    }
    let report = Report {
        status: if outcome.failure.is_some() {
            "failed"
        } else {
            "ok"
        },
        exit_code: outcome.failure.as_ref().map_or(0, |(_, e)| e.exit_code()),
        server: report::JsonServer::of(&outcome.endpoint),
        greeting: outcome.greeting.as_ref(),
        hello_name: outcome.hello_name.as_deref(),
        ehlo_refused: outcome.ehlo_refused.as_ref(),
        tls: outcome.tls.as_ref().map(|tls| Tls {
            version: &tls.version,
            cipher: &tls.cipher,
            certificate: tls.certificate.as_deref().and_then(certificate_summary),
        }),
        extensions: &outcome.extensions,
        limits: Some(Limits::of_keywords(&outcome.extensions)).filter(|l| *l != Limits::default()),
        auth: outcome.auth_mechanism.map(|mechanism| report::JsonAuth {
            mechanism,
            user: user.unwrap_or(""),
        }),
        recipients: &outcome.recipients,
        error: outcome
            .failure
            .as_ref()
            .map(|(step, error)| report::JsonError::of(*step, error)),
        oauth2,
        login_hint,
    };
    terminal::print_json_value(&report);
}
