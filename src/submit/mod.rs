//! The SMTP submission session (RFC 5321, RFC 6409): connect, TLS, EHLO, AUTH, MAIL, RCPT, DATA,
//! QUIT, keeping every reply.
//!
//! The session drives the socket itself and uses lettre for the protocol vocabulary: address
//! validation, reply parsing and the SASL responses. lettre's `SmtpConnection` cannot serve here:
//! it discards the greeting, hides the TLS parameters, cannot set TCP_NODELAY and writes each
//! command only after the previous reply, which rules out PIPELINING and with it a `BDAT LAST`
//! in the envelope's flight. Commands go out through `Session::send` and replies come back
//! through `Session::reply`, so pipelining a group of commands is a matter of sending several
//! before reading their replies.
//!
//! The module owns the conversation with one server and nothing around it: the message comes
//! in composed and the password in hand, the outcome goes out as a `Delivery` for the caller to
//! report; it prints nothing itself but the `-v` transcript and the upload progress bar, and
//! never retries or queues.
//!
//! This file is the module's face: `Options`, the entry points (`submit`, `submit_batch`,
//! `check`) and the order of a session's steps (`open`). The parts, each depending only on those
//! listed before it:
//!
//! - `scram`: the SCRAM messages and their checks, pure (it depends on nothing here).
//! - `reply`: server replies and EHLO extensions; `transcript`: the `-v` dialogue;
//!   `wire`: line-ending checks and dot-stuffing of the message as it is sent.
//! - `delivery`: the record callers read afterwards (`Delivery`, `Step`, `TlsInfo`, ...) and
//!   the `Fault` each step fails with.
//! - `connect`: name resolution, the TCP connection, timeouts and `--deadline`, the EHLO name.
//! - `tls`: trust anchors, certificate checks, the plain-or-TLS `Stream`, TLS failures.
//! - `session`: commands out, replies in, EHLO, the switch to TLS, QUIT.
//! - `auth`: the SASL exchange; `transaction`: MAIL, RCPT, DATA or BDAT, pipelining, RSET.
//!
//! Rules kept here: TLS is verified always; `smtp://` means STARTTLS or nothing, never a silent
//! fall-back to plain text; a password is never sent unencrypted except to a loopback address;
//! when a recipient is refused nothing is sent unless `--allow-partial`; nothing is ever resent
//! after the final dot.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::compose::Composed;
use crate::error::{Error, Kind};
use crate::server::{Endpoint, Security};
use crate::trust::{TlsOptions, server_tls_config};

mod auth;
mod connect;
mod delivery;
mod hints;
mod reply;
mod scram;
mod session;
mod socks;
mod tls;
mod transaction;
mod transcript;
mod wire;

use auth::authenticate;
pub use auth::{Login, Refresher};
use connect::{Socket, connect};
pub use delivery::{Delivery, RecipientResult, Step, Timings, TlsInfo};
use delivery::{Fault, Result, fault, millis, refused};
pub use hints::NO_LOGIN_HINT;
use reply::Extensions;
pub use reply::{Limits, Reply};
use session::Session;
use tls::Stream;
use transaction::{probe, recipients_fault, reset, transaction};
pub use transcript::Transcript;

#[derive(Debug)]
pub struct Options {
    pub endpoint: Endpoint,
    pub ca_file: Option<PathBuf>,
    pub tls: TlsOptions,
    pub timeout: Duration,
    pub deadline: Option<Duration>,
    pub allow_partial: bool,
    /// MAIL FROM with REQUIRETLS (RFC 8689); a server without it, or no TLS, sends nothing.
    pub require_tls: bool,
    pub login: Option<Login>,
    /// Show a progress bar for large uploads (stderr is a terminal and output is for a person).
    pub progress: bool,
    /// The EHLO name, the IP family, the local address.
    pub reach: crate::reach::Reach,
}

/// Submits one message. Never panics on server behaviour; every outcome is in the `Delivery`.
pub fn submit(message: &Composed, options: &Options, transcript: &mut Transcript) -> Delivery {
    record(
        options,
        transcript,
        |deadline, transcript, delivery, started| {
            run_session(message, options, deadline, transcript, delivery, started)
        },
    )
}

/// Connects, logs in and, for each of `recipients`, asks MAIL FROM and RCPT TO, then RSET:
/// everything but sending. What `smtpsend check` and `login`'s verification run.
pub fn check(
    options: &Options,
    sender: &str,
    recipients: &[String],
    transcript: &mut Transcript,
) -> Delivery {
    record(
        options,
        transcript,
        |deadline, transcript, delivery, started| {
            let (mut session, _) = open(options, deadline, transcript, delivery, started)?;
            probe(&mut session, sender, recipients, transcript, delivery)?;
            session.quit(transcript);
            match recipients_fault(&delivery.recipients, true) {
                Some(error) => Err(Box::new(Fault {
                    step: Step::RcptTo,
                    error,
                    reply: None,
                })),
                None => Ok(()),
            }
        },
    )
}

/// Runs a session and records its outcome, failure included, in a `Delivery`.
fn record(
    options: &Options,
    transcript: &mut Transcript,
    session: impl FnOnce(Option<Instant>, &mut Transcript, &mut Delivery, Instant) -> Result<()>,
) -> Delivery {
    let started = Instant::now();
    let mut delivery = Delivery::new(&options.endpoint);
    let deadline = options.deadline.map(|d| started + d);
    let result = session(deadline, transcript, &mut delivery, started);
    delivery.timings.total_ms = millis(started.elapsed());
    if let Err(mut failure) = result {
        hint_login(&mut failure.error, failure.reply.as_ref(), &delivery);
        if let Some(reply) = &failure.reply {
            transcript.info(&format!(
                "{} failed: {}",
                failure.step.describe(),
                reply.one_line()
            ));
        }
        delivery.failure = Some((failure.step, failure.error));
    }
    delivery
}

/// A refusal to relay, of the sender or of a recipient, when the session did not log in: the
/// fix is a user to log in as, whatever else the error suggested.
fn hint_login(error: &mut Error, reply: Option<&Reply>, delivery: &Delivery) {
    let refused = reply.into_iter().chain(
        delivery
            .recipients
            .iter()
            .filter(|r| !r.accepted)
            .filter_map(|r| r.reply.as_ref()),
    );
    if delivery.auth_mechanism.is_none() && refused.into_iter().any(hints::wants_login) {
        error.hint = Some(hints::NO_LOGIN_HINT.to_string());
    }
}

/// A server that turns away a client without a TLS certificate, when none was given: a
/// setting to fix, not a failure to retry (and so never queued), whatever its reply code.
fn without_certificate(mut fault: Box<Fault>, options: &Options) -> Box<Fault> {
    let wanted = fault
        .reply
        .as_ref()
        .is_some_and(hints::wants_client_certificate);
    if wanted && options.tls.client_cert.is_none() {
        fault.error.kind = Kind::Config;
        return fault.hint(
            "the server takes only clients with a TLS certificate: give --client-cert and \
             --client-key (client_cert and client_key in the account)",
        );
    }
    fault
}

/// Connects, secures the connection, greets and logs in: everything before a transaction.
fn open(
    options: &Options,
    deadline: Option<Instant>,
    transcript: &mut Transcript,
    delivery: &mut Delivery,
    started: Instant,
) -> Result<(Session, Extensions)> {
    let endpoint = &options.endpoint;
    let tls_config = match endpoint.security {
        Security::Plain => None,
        _ => Some(
            server_tls_config(options.ca_file.as_ref(), &options.tls).map_err(|error| {
                Box::new(Fault {
                    step: Step::Connect,
                    error,
                    reply: None,
                })
            })?,
        ),
    };

    // RFC 8689 section 4.1: REQUIRETLS is only ever asked for over TLS.
    if options.require_tls && endpoint.security == Security::Plain {
        return Err(fault(
            Step::Connect,
            Kind::Unavailable,
            format!(
                "--require-tls needs TLS, and {} is smtp+plain://; nothing was sent",
                endpoint.host
            ),
        )
        .hint("smtp:// (STARTTLS) or smtps:// to a server that offers REQUIRETLS"));
    }
    let server_name = options.tls.server_name.as_deref().unwrap_or(&endpoint.host);
    let connected = connect(
        endpoint,
        &options.reach,
        options.timeout,
        deadline,
        transcript,
    )?;
    delivery.timings.connect_ms = Some(millis(started.elapsed()));
    let hello_name = options
        .reach
        .hello_name
        .clone()
        .unwrap_or(connected.hello_name);
    delivery.hello_name = Some(hello_name.clone());
    let socket = Socket::new(connected.socket, options.timeout, deadline);
    let mut session = Session::new(Stream::Plain(socket), options.timeout, deadline);
    session.progress = options.progress;
    session.protocol = endpoint.protocol;

    if let (Security::Implicit, Some(config)) = (endpoint.security, &tls_config) {
        delivery.tls =
            Some(session.start_tls(config.clone(), endpoint, server_name, transcript)?);
        delivery.timings.tls_ms = Some(millis(started.elapsed()));
    }

    let greeting = session.greeting(endpoint, transcript)?;
    delivery.greeting = Some(greeting.clone());
    if greeting.code != 220 {
        return Err(refused(
            Step::Greeting,
            greeting,
            Kind::Unavailable,
            "the server turned us away",
        ));
    }
    let needs = match (endpoint.security, options.login.is_some()) {
        (Security::StartTls, true) => Some("STARTTLS and AUTH need it"),
        (Security::StartTls, false) => Some("STARTTLS needs it"),
        (_, true) => Some("AUTH needs it"),
        (_, false) => None,
    };
    let (mut extensions, ehlo_refused) = session
        .hello(&hello_name, needs, transcript)
        .inspect_err(|fault| delivery.ehlo_refused = fault.reply.clone())
        .map_err(|fault| without_certificate(fault, options))?;
    delivery.ehlo_refused = ehlo_refused;

    if let (Security::StartTls, Some(config)) = (endpoint.security, &tls_config) {
        if !extensions.has("STARTTLS") {
            delivery.extensions = extensions.keywords();
            return Err(fault(
                Step::Starttls,
                Kind::Unavailable,
                format!(
                    "{} does not offer STARTTLS; nothing was sent",
                    endpoint.host
                ),
            )
            .hint("smtps:// if the server speaks TLS from the start; smtp+plain:// only if you accept sending in the clear"));
        }
        session.send("STARTTLS", transcript)?;
        let reply = session.reply(Step::Starttls, transcript)?;
        if reply.code != 220 {
            return Err(refused(
                Step::Starttls,
                reply,
                Kind::Unavailable,
                "STARTTLS refused",
            ));
        }
        delivery.tls =
            Some(session.start_tls(config.clone(), endpoint, server_name, transcript)?);
        delivery.timings.tls_ms = Some(millis(started.elapsed()));
        // RFC 3207 section 4.2: forget everything learnt before TLS and ask again.
        extensions = session
            .hello(&hello_name, needs, transcript)
            .map_err(|fault| without_certificate(fault, options))?
            .0;
    }
    delivery.extensions = extensions.keywords();
    if options.require_tls && !extensions.has("REQUIRETLS") {
        session.quit(transcript);
        return Err(fault(
            Step::Ehlo,
            Kind::Unavailable,
            format!(
                "{} does not offer REQUIRETLS (RFC 8689), which --require-tls asks for; nothing was sent",
                endpoint.host
            ),
        )
        .hint("without --require-tls (or require_tls in the account) the message may cross a hop in the clear"));
    }

    if let Some(login) = &options.login {
        let mut challenge_error = None;
        let mechanism = match authenticate(
            &mut session,
            login,
            &extensions,
            endpoint,
            transcript,
            &mut challenge_error,
        ) {
            Ok(mechanism) => mechanism,
            Err(fault) if auth::token_rejected(fault.reply.as_ref(), challenge_error.is_some()) => {
                match &login.refresh {
                    Some(refresh) => {
                        return retry_with_new_token(
                            options, login, refresh, session, *fault, deadline, transcript,
                            delivery, started,
                        );
                    }
                    None => return Err(fault),
                }
            }
            Err(fault) => return Err(fault),
        };
        delivery.auth_mechanism = Some(mechanism);
        delivery.timings.auth_ms = Some(millis(started.elapsed()));
    } else if options.tls.client_cert.is_some()
        && extensions.auth_mechanisms().contains(&"EXTERNAL".into())
    {
        // A client certificate and no user: the certificate is the login (RFC 4422 appendix A).
        let mechanism = auth::external(&mut session, "", &extensions, transcript)?;
        delivery.auth_mechanism = Some(mechanism);
        delivery.timings.auth_ms = Some(millis(started.elapsed()));
    }
    Ok((session, extensions))
}

/// The server refused an OAuth2 access token it should have taken (expired or revoked early):
/// get a new one, once, and log in again on a new connection.
#[allow(clippy::too_many_arguments)]
fn retry_with_new_token(
    options: &Options,
    login: &Login,
    refresh: &Refresher,
    mut session: Session,
    fault: Fault,
    deadline: Option<Instant>,
    transcript: &mut Transcript,
    delivery: &mut Delivery,
    started: Instant,
) -> Result<(Session, Extensions)> {
    session.quit(transcript);
    transcript.info("the access token was refused; getting a new one and trying again");
    let password = (refresh.0)(&login.password).map_err(|error| {
        Box::new(Fault {
            step: Step::Auth,
            error: Error {
                message: format!("{}; then {}", fault.error.message, error.message),
                ..error
            },
            reply: fault.reply.clone(),
        })
    })?;
    let retry = Options {
        login: Some(Login {
            user: login.user.clone(),
            mechanism: login.mechanism,
            password,
            source: login.source,
            refresh: None,
        }),
        endpoint: options.endpoint.clone(),
        ca_file: options.ca_file.clone(),
        tls: options.tls.clone(),
        reach: options.reach.clone(),
        ..*options
    };
    open(&retry, deadline, transcript, delivery, started)
}

fn run_session(
    message: &Composed,
    options: &Options,
    deadline: Option<Instant>,
    transcript: &mut Transcript,
    delivery: &mut Delivery,
    started: Instant,
) -> Result<()> {
    let (mut session, extensions) = open(options, deadline, transcript, delivery, started)?;
    let result = transaction(
        &mut session,
        &extensions,
        message,
        options.allow_partial,
        options.require_tls,
        transcript,
        delivery,
    );
    session.quit(transcript);
    result
}

/// Submits several messages over one session (RFC 5321 section 3.3 allows any number of
/// transactions per session), one `Delivery` each, in order, each handed to `settle` as soon as
/// its transaction ends, before the next begins: an outbox can then forget a message the moment
/// the server has it. A message refused does not stop the others; a lost connection marks every
/// message not yet sent as a temporary failure. A server that says how many transactions one
/// session may hold (LIMITS MAILMAX, RFC 9422 section 4.1) gets no more: before a message that
/// would go past it, QUIT, and the rest go over a new session, logged in the same way.
pub fn submit_batch(
    messages: &[Composed],
    options: &Options,
    transcript: &mut Transcript,
    settle: &mut dyn FnMut(usize, &Delivery),
) -> Vec<Delivery> {
    let started = Instant::now();
    let deadline = options.deadline.map(|d| started + d);
    let mut deliveries = Vec::with_capacity(messages.len());
    // The open session, what its EHLO offered, the record it starts each delivery from, and
    // how many transactions it has held.
    let mut current: Option<(Session, Extensions, Delivery, usize)> = None;
    let mut clean = true;
    for (index, message) in messages.iter().enumerate() {
        if let Some((session, extensions, _, held)) = &mut current {
            let limits = extensions.limits();
            let needed = limits.transactions_for(&message.envelope.recipients);
            if let Some(most) = limits.mail_max
                && *held > 0
                && *held + needed > most
                && !session.broken
            {
                transcript.info(&format!(
                    "the server takes at most {most} transactions per session (LIMITS MAILMAX): a new session"
                ));
                session.quit(transcript);
                current = None;
                clean = true;
            }
        }
        let (session, extensions, base, held) = match &mut current {
            Some(current) => current,
            None => {
                let mut base = Delivery::new(&options.endpoint);
                match open(options, deadline, transcript, &mut base, started) {
                    Ok((session, extensions)) => current.insert((session, extensions, base, 0)),
                    Err(fault) => {
                        base.failure = Some((fault.step, fault.error));
                        for later in index..messages.len() {
                            settle(later, &base);
                            deliveries.push(base.clone());
                        }
                        return deliveries;
                    }
                }
            }
        };
        let mut delivery = base.clone();
        let transaction_started = Instant::now();
        let result = if session.broken {
            Err(fault(
                Step::Connect,
                Kind::Temporary,
                "not attempted: the connection was lost before this message",
            ))
        } else if !clean && !reset(session, transcript) {
            Err(fault(Step::MailFrom, Kind::Temporary, "RSET failed"))
        } else {
            *held += extensions
                .limits()
                .transactions_for(&message.envelope.recipients);
            transaction(
                session,
                extensions,
                message,
                options.allow_partial,
                options.require_tls,
                transcript,
                &mut delivery,
            )
        };
        clean = result.is_ok();
        delivery.timings.total_ms = millis(transaction_started.elapsed());
        if let Err(mut failure) = result {
            hint_login(&mut failure.error, failure.reply.as_ref(), &delivery);
            delivery.failure = Some((failure.step, failure.error));
        }
        settle(index, &delivery);
        deliveries.push(delivery);
    }
    if let Some((mut session, ..)) = current {
        session.quit(transcript);
    }
    deliveries
}
