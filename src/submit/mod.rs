//! The SMTP submission session (RFC 5321, RFC 6409): connect, TLS, EHLO, AUTH, MAIL, RCPT, DATA,
//! QUIT, keeping every reply.
//!
//! The session drives the socket itself and uses lettre for the protocol vocabulary: address
//! validation, reply parsing and the SASL responses. lettre's `SmtpConnection` cannot serve here:
//! it discards the greeting, hides the TLS parameters, cannot set TCP_NODELAY and writes each
//! command only after the previous reply, which rules out PIPELINING. Commands go out through
//! `Session::send` and replies come back through `Session::reply`, so pipelining a group of
//! commands is a matter of sending several before reading their replies.
//!
//! Parts a reader looks for by name: `reply` (server replies, EHLO extensions), `auth` (the SASL
//! exchange), `wire` (line-ending checks and dot-stuffing of the message as it is sent).
//!
//! Rules kept here: TLS is verified always; `smtp://` means STARTTLS or nothing, never a silent
//! fall-back to plain text; a password is never sent unencrypted except to a loopback address;
//! when a recipient is refused nothing is sent unless `--allow-partial`; nothing is ever resent
//! after the final dot.

use std::io::{self, BufWriter, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde::Serialize;

use crate::compose::Composed;
use crate::content::Content;
use crate::credentials::Secret;
use crate::error::{Error, Kind};
use crate::report::{PROGRESS_FROM_BYTES, Transcript, UploadProgress};

mod auth;
mod reply;
mod wire;

use auth::authenticate;
pub use reply::Reply;
use reply::{Extensions, first_code, parse_reply};
use wire::{WireWriter, write_dot_stuffed};

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain TCP upgraded by STARTTLS, which is required.
    StartTls,
    /// TLS from the first byte.
    Implicit,
    /// No TLS, by explicit request.
    Plain,
}

impl Security {
    pub fn default_port(self) -> u16 {
        match self {
            Security::StartTls => 587,
            Security::Implicit => 465,
            Security::Plain => 25,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Security::StartTls => "starttls",
            Security::Implicit => "implicit",
            Security::Plain => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
}

impl Endpoint {
    /// The endpoint as a `--server` URL.
    pub fn url(&self) -> String {
        let scheme = match self.security {
            Security::StartTls => "smtp",
            Security::Implicit => "smtps",
            Security::Plain => "smtp+plain",
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{scheme}://{host}:{}", self.port)
    }
}

/// Which SASL mechanism to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthChoice {
    Auto,
    Plain,
    Login,
    Xoauth2,
    /// RFC 7628; lettre does not know it, so its response is built here.
    OAuthBearer,
}

impl AuthChoice {
    /// The name `--auth` and the `auth` key take.
    pub fn name(self) -> &'static str {
        match self {
            AuthChoice::Auto => "auto",
            AuthChoice::Plain => "plain",
            AuthChoice::Login => "login",
            AuthChoice::Xoauth2 => "xoauth2",
            AuthChoice::OAuthBearer => "oauthbearer",
        }
    }
}

/// A login, password in hand.
#[derive(Debug)]
pub struct Login {
    pub user: String,
    pub mechanism: AuthChoice,
    pub password: Secret,
    /// Where the password came from, for the transcript.
    pub source: &'static str,
    /// For an OAuth2 access token: a new one after the server refused this one.
    pub refresh: Option<Refresher>,
}

/// Gets a new access token for one the server refused.
pub struct Refresher(pub Box<RefreshFn>);

type RefreshFn = dyn Fn(&Secret) -> std::result::Result<Secret, Error>;

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Refresher")
    }
}

#[derive(Debug)]
pub struct Options {
    pub endpoint: Endpoint,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
    pub deadline: Option<Duration>,
    pub allow_partial: bool,
    pub login: Option<Login>,
    /// Show a progress bar for large uploads (stderr is a terminal and output is for a person).
    pub progress: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TlsInfo {
    pub version: String,
    pub cipher: String,
    /// The server's certificate (DER), for `check` to describe.
    #[serde(skip)]
    pub certificate: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecipientResult {
    pub address: String,
    pub accepted: bool,
    pub reply: Option<Reply>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    pub connect_ms: Option<u64>,
    pub tls_ms: Option<u64>,
    pub auth_ms: Option<u64>,
    pub total_ms: u64,
}

/// The step of the session a failure happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Reading inputs and building the message, before any connection.
    Compose,
    /// Getting the password, before any connection.
    Credentials,
    Connect,
    Greeting,
    Ehlo,
    Starttls,
    TlsHandshake,
    Auth,
    MailFrom,
    RcptTo,
    Data,
    Message,
}

impl Step {
    pub fn describe(self) -> &'static str {
        match self {
            Step::Compose => "composing the message",
            Step::Credentials => "getting the password",
            Step::Connect => "connecting",
            Step::Greeting => "waiting for the greeting",
            Step::Ehlo => "EHLO",
            Step::Starttls => "STARTTLS",
            Step::TlsHandshake => "the TLS handshake",
            Step::Auth => "AUTH",
            Step::MailFrom => "MAIL FROM",
            Step::RcptTo => "RCPT TO",
            Step::Data => "DATA",
            Step::Message => "sending the message",
        }
    }
}

/// What happened, whether or not the message went out: what `--json` and the summary report.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub endpoint: Endpoint,
    pub greeting: Option<Reply>,
    /// The EHLO keywords with their parameters, as the server listed them (after TLS).
    pub extensions: Vec<String>,
    pub tls: Option<TlsInfo>,
    pub auth_mechanism: Option<&'static str>,
    pub recipients: Vec<RecipientResult>,
    pub final_reply: Option<Reply>,
    pub timings: Timings,
    /// The failure and the step it happened in; the message may still have been accepted for
    /// some recipients (`final_reply` says so) when others were refused.
    pub failure: Option<(Step, Error)>,
}

impl Delivery {
    fn new(endpoint: &Endpoint) -> Self {
        Delivery {
            endpoint: endpoint.clone(),
            greeting: None,
            extensions: Vec::new(),
            tls: None,
            auth_mechanism: None,
            recipients: Vec::new(),
            final_reply: None,
            timings: Timings::default(),
            failure: None,
        }
    }

    pub fn accepted(&self) -> bool {
        self.final_reply.as_ref().is_some_and(Reply::is_positive)
    }

    /// A session that never started: getting the credentials failed at `step`.
    pub fn not_attempted(endpoint: &Endpoint, step: Step, error: Error) -> Self {
        let mut delivery = Delivery::new(endpoint);
        delivery.failure = Some((step, error));
        delivery
    }
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
            if !recipients.is_empty() {
                session.send(&format!("MAIL FROM:<{sender}>"), transcript)?;
                let reply = session.reply(Step::MailFrom, transcript)?;
                if !reply.is_positive() {
                    return Err(refused(
                        Step::MailFrom,
                        reply,
                        Kind::BadMessage,
                        &format!("sender <{sender}> refused"),
                    ));
                }
                for address in recipients {
                    session.send(&format!("RCPT TO:<{address}>"), transcript)?;
                    let reply = session.reply(Step::RcptTo, transcript)?;
                    delivery.recipients.push(RecipientResult {
                        address: address.clone(),
                        accepted: reply.is_positive(),
                        reply: Some(reply),
                    });
                }
                session.send("RSET", transcript)?;
                session.reply(Step::RcptTo, transcript)?;
            }
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
    if let Err(failure) = result {
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

/// A failure inside the session, before it becomes an `Error` for the user.
struct Fault {
    step: Step,
    error: Error,
    reply: Option<Reply>,
}

// Boxed: a fault is rare and large, the Ok path of every step is small.

type Result<T> = std::result::Result<T, Box<Fault>>;

fn fault(step: Step, kind: Kind, message: impl Into<String>) -> Box<Fault> {
    Box::new(Fault {
        step,
        error: Error::new(kind, message),
        reply: None,
    })
}

/// A negative reply at `step`: 4xx is temporary, 5xx is the kind the step calls for.
fn refused(step: Step, reply: Reply, permanent: Kind, what: &str) -> Box<Fault> {
    let kind = if reply.is_transient() {
        Kind::Temporary
    } else {
        permanent
    };
    Box::new(Fault {
        step,
        error: Error::new(kind, format!("{what}: {}", reply.one_line())),
        reply: Some(reply),
    })
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
        _ => Some(tls_config(options.ca_file.as_ref()).map_err(|error| {
            Box::new(Fault {
                step: Step::Connect,
                error,
                reply: None,
            })
        })?),
    };

    let tcp = connect(endpoint, options.timeout, deadline, transcript)?;
    delivery.timings.connect_ms = Some(millis(started.elapsed()));
    let hello_name = hello_name(&tcp);
    let mut session = Session::new(Stream::Plain(tcp), options.timeout, deadline);
    session.progress = options.progress;

    if let (Security::Implicit, Some(config)) = (endpoint.security, &tls_config) {
        delivery.tls = Some(session.start_tls(config.clone(), &endpoint.host, transcript)?);
        delivery.timings.tls_ms = Some(millis(started.elapsed()));
    }

    let greeting = session.reply(Step::Greeting, transcript)?;
    delivery.greeting = Some(greeting.clone());
    if greeting.code != 220 {
        return Err(refused(
            Step::Greeting,
            greeting,
            Kind::Unavailable,
            "the server turned us away",
        ));
    }
    let mut extensions = session.ehlo(&hello_name, transcript)?;

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
        delivery.tls = Some(session.start_tls(config.clone(), &endpoint.host, transcript)?);
        delivery.timings.tls_ms = Some(millis(started.elapsed()));
        // RFC 3207 section 4.2: forget everything learnt before TLS and ask again.
        extensions = session.ehlo(&hello_name, transcript)?;
    }
    delivery.extensions = extensions.keywords();

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
            Err(fault)
                if login.refresh.is_some()
                    && auth::token_rejected(fault.reply.as_ref(), challenge_error.is_some()) =>
            {
                return retry_with_new_token(
                    options, session, *fault, deadline, transcript, delivery, started,
                );
            }
            Err(fault) => return Err(fault),
        };
        delivery.auth_mechanism = Some(mechanism);
        delivery.timings.auth_ms = Some(millis(started.elapsed()));
    }
    Ok((session, extensions))
}

/// The server refused an OAuth2 access token it should have taken (expired or revoked early):
/// get a new one, once, and log in again on a new connection.
fn retry_with_new_token(
    options: &Options,
    mut session: Session,
    fault: Fault,
    deadline: Option<Instant>,
    transcript: &mut Transcript,
    delivery: &mut Delivery,
    started: Instant,
) -> Result<(Session, Extensions)> {
    let login = options.login.as_ref().expect("only called with a login");
    let refresh = login
        .refresh
        .as_ref()
        .expect("only called with a refresher");
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
        endpoint: options.endpoint.clone(),
        ca_file: options.ca_file.clone(),
        timeout: options.timeout,
        deadline: options.deadline,
        allow_partial: options.allow_partial,
        login: Some(Login {
            user: login.user.clone(),
            mechanism: login.mechanism,
            password,
            source: login.source,
            refresh: None,
        }),
        progress: options.progress,
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
/// message not yet sent as a temporary failure.
pub fn submit_batch(
    messages: &[Composed],
    options: &Options,
    transcript: &mut Transcript,
    settle: &mut dyn FnMut(usize, &Delivery),
) -> Vec<Delivery> {
    let started = Instant::now();
    let deadline = options.deadline.map(|d| started + d);
    let mut base = Delivery::new(&options.endpoint);
    let opened = open(options, deadline, transcript, &mut base, started);
    let (mut session, extensions) = match opened {
        Ok(opened) => opened,
        Err(fault) => {
            base.failure = Some((fault.step, fault.error));
            let deliveries: Vec<Delivery> = messages.iter().map(|_| base.clone()).collect();
            deliveries
                .iter()
                .enumerate()
                .for_each(|(i, d)| settle(i, d));
            return deliveries;
        }
    };
    let mut deliveries = Vec::with_capacity(messages.len());
    let mut clean = true;
    for (index, message) in messages.iter().enumerate() {
        let mut delivery = base.clone();
        let transaction_started = Instant::now();
        let result = if session.broken {
            Err(fault(
                Step::Connect,
                Kind::Temporary,
                "not attempted: the connection was lost before this message",
            ))
        } else if !clean && !reset(&mut session, transcript) {
            Err(fault(Step::MailFrom, Kind::Temporary, "RSET failed"))
        } else {
            transaction(
                &mut session,
                &extensions,
                message,
                options.allow_partial,
                transcript,
                &mut delivery,
            )
        };
        clean = result.is_ok();
        delivery.timings.total_ms = millis(transaction_started.elapsed());
        if let Err(failure) = result {
            delivery.failure = Some((failure.step, failure.error));
        }
        settle(index, &delivery);
        deliveries.push(delivery);
    }
    session.quit(transcript);
    deliveries
}

/// RSET after a failed transaction, so the next one starts clean (RFC 5321 section 4.1.1.5).
fn reset(session: &mut Session, transcript: &mut Transcript) -> bool {
    session.send("RSET", transcript).is_ok()
        && session
            .reply(Step::MailFrom, transcript)
            .is_ok_and(|reply| reply.is_positive())
}

/// One mail transaction: MAIL, RCPT for each recipient, the message, its final reply.
///
/// With PIPELINING (RFC 2920) the envelope goes in one flight, and the message's own command
/// with it when no refused recipient must stop the message: with one recipient the server
/// refuses the data by itself when it has nobody to deliver to; with `--allow-partial` the
/// others get it anyway. With CHUNKING (RFC 3030) that command is `BDAT n LAST` followed by the
/// message, so MAIL, RCPT and the whole message cost a single round trip.
fn transaction(
    session: &mut Session,
    extensions: &Extensions,
    message: &Composed,
    allow_partial: bool,
    transcript: &mut Transcript,
    delivery: &mut Delivery,
) -> Result<()> {
    let notify = match (&message.envelope.dsn.notify, extensions.has("DSN")) {
        (Some(notify), true) => format!(" NOTIFY={notify}"),
        _ => String::new(),
    };
    let mut envelope = vec![mail_from_command(message, extensions)?];
    envelope.extend(
        message
            .envelope
            .recipients
            .iter()
            .map(|address| format!("RCPT TO:<{address}>{notify}")),
    );
    let pipelining = extensions.has("PIPELINING");
    let bdat = extensions
        .has("CHUNKING")
        .then(|| format!("BDAT {} LAST", message.content.len()));
    let data_in_flight = pipelining && (message.envelope.recipients.len() == 1 || allow_partial);
    if pipelining {
        let mut flight = envelope.clone();
        match (&bdat, data_in_flight) {
            (Some(bdat), true) => {
                flight.push(bdat.clone());
                session.send_flight(&flight, Some(&message.content), transcript)?;
            }
            (None, true) => {
                flight.push("DATA".into());
                session.send_flight(&flight, None, transcript)?;
            }
            (_, false) => session.send_flight(&flight, None, transcript)?,
        }
    }

    // The replies, in order; without PIPELINING each command goes out just before its reply.
    let mut replies = Vec::with_capacity(envelope.len());
    for (index, command) in envelope.iter().enumerate() {
        if !pipelining {
            session.send(command, transcript)?;
        }
        let step = if index == 0 {
            Step::MailFrom
        } else {
            Step::RcptTo
        };
        replies.push(session.reply(step, transcript)?);
        if !pipelining && index == 0 && !replies[0].is_positive() {
            break;
        }
    }
    let mut replies = replies.into_iter();
    let mail_reply = replies.next().expect("MAIL was sent");
    for (address, reply) in message.envelope.recipients.iter().zip(replies) {
        delivery.recipients.push(RecipientResult {
            address: address.clone(),
            accepted: reply.is_positive(),
            reply: Some(reply),
        });
    }
    // The reply to DATA or BDAT when it went in the flight: read now, to stay in step.
    let early_data_reply = if data_in_flight {
        let step = if bdat.is_some() {
            Step::Message
        } else {
            Step::Data
        };
        Some(session.reply(step, transcript)?)
    } else {
        None
    };
    if !mail_reply.is_positive() {
        return Err(refused(
            Step::MailFrom,
            mail_reply,
            Kind::BadMessage,
            &format!("sender <{}> refused", message.envelope.from),
        ));
    }

    let rejected = recipients_fault(&delivery.recipients, allow_partial);
    if let Some(rejection) = &rejected {
        let nobody_accepted = !delivery.recipients.iter().any(|r| r.accepted);
        if nobody_accepted || !allow_partial {
            if early_data_reply.as_ref().is_some_and(|r| r.code == 354) {
                // A server that says 354 with nobody to deliver to: the only way not to send
                // is to drop the connection, which aborts the transaction.
                session.broken = true;
            } else if early_data_reply.is_none() {
                // Nothing goes out: reset the transaction (RFC 5321 section 4.1.1.5).
                session.send("RSET", transcript)?;
                let _ = session.reply(Step::RcptTo, transcript);
            }
            return Err(fault(
                Step::RcptTo,
                rejection.kind,
                format!("{}; nothing was sent", rejection.message),
            )
            .hint_opt(rejection.hint.clone()));
        }
    }

    let final_reply = match (early_data_reply, &bdat) {
        // BDAT LAST carried the message; its reply is the final one.
        (Some(reply), Some(_)) => reply,
        (early, _) => {
            let data_reply = match (early, &bdat) {
                (Some(reply), _) => reply,
                (None, Some(bdat)) => {
                    session.send_flight(
                        std::slice::from_ref(bdat),
                        Some(&message.content),
                        transcript,
                    )?;
                    session
                        .reply(Step::Message, transcript)
                        .map_err(unconfirmed)?
                }
                (None, None) => {
                    session.send("DATA", transcript)?;
                    session.reply(Step::Data, transcript)?
                }
            };
            if bdat.is_some() {
                data_reply
            } else {
                if data_reply.code != 354 {
                    return Err(refused(
                        Step::Data,
                        data_reply,
                        Kind::BadMessage,
                        "DATA refused",
                    ));
                }
                transcript.client(&format!(
                    "<{} bytes of message data>",
                    message.content.len()
                ));
                session.send_data(&message.content)?;
                transcript.client(".");
                session
                    .reply(Step::Message, transcript)
                    .map_err(unconfirmed)?
            }
        }
    };
    if !final_reply.is_positive() {
        // Microsoft's 554 5.2.252 SendAsDenied: the From is not the signed-in mailbox.
        let hint = crate::oauth2::providers::smtp_hint(
            final_reply.enhanced.as_deref(),
            &final_reply.text,
            false,
        )
        .map(String::from);
        return Err(refused(
            Step::Message,
            final_reply,
            Kind::BadMessage,
            "message refused",
        )
        .hint_opt(hint));
    }
    delivery.final_reply = Some(final_reply);

    match rejected {
        Some(rejection) => Err(Box::new(Fault {
            step: Step::RcptTo,
            error: Error::new(
                rejection.kind,
                format!("{}; sent to the others", rejection.message),
            ),
            reply: None,
        })),
        None => Ok(()),
    }
}

/// No final reply to a message sent in full: say that it may have been accepted.
fn unconfirmed(mut fault: Box<Fault>) -> Box<Fault> {
    fault.error.message.push_str(
        "; the message was sent in full but not confirmed: the server may or may not have accepted it",
    );
    fault
}

impl Fault {
    fn hint(mut self: Box<Self>, hint: &str) -> Box<Self> {
        self.error.hint = Some(hint.to_string());
        self
    }

    fn hint_opt(mut self: Box<Self>, hint: Option<String>) -> Box<Self> {
        self.error.hint = hint;
        self
    }
}

/// The error for recipients the server did not take, if any. A permanent refusal (5xx) makes
/// it 67; only temporary ones (4xx) make it 75, since trying again may work.
fn recipients_fault(results: &[RecipientResult], allow_partial: bool) -> Option<Error> {
    let not_accepted: Vec<&RecipientResult> = results.iter().filter(|r| !r.accepted).collect();
    if not_accepted.is_empty() {
        return None;
    }
    let permanent = not_accepted
        .iter()
        .any(|r| r.reply.as_ref().is_some_and(|reply| !reply.is_transient()));
    let list = not_accepted
        .iter()
        .map(|r| match &r.reply {
            Some(reply) => format!("<{}> ({})", r.address, reply.one_line()),
            None => format!("<{}>", r.address),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let (kind, verb) = if permanent {
        (Kind::RecipientRefused, "refused")
    } else {
        (Kind::Temporary, "deferred")
    };
    let noun = if not_accepted.len() == 1 {
        "recipient"
    } else {
        "recipients"
    };
    let error = Error::new(
        kind,
        format!("{} {noun} {verb}: {list}", not_accepted.len()),
    );
    let some_accepted = not_accepted.len() < results.len();
    Some(if some_accepted && !allow_partial {
        error.with_hint("--allow-partial sends to the recipients the server accepted")
    } else {
        error
    })
}

fn mail_from_command(message: &Composed, extensions: &Extensions) -> Result<String> {
    let mut command = format!("MAIL FROM:<{}>", message.envelope.from);
    let size = message.content.len();
    if let Some(limit) = extensions.size_limit()
        && size > limit
    {
        return Err(fault(
            Step::MailFrom,
            Kind::BadMessage,
            format!("the message is {size} bytes; the server takes at most {limit}"),
        ));
    }
    if extensions.has("SIZE") {
        command.push_str(&format!(" SIZE={size}"));
    }
    let ascii = message.content.ascii();
    // RFC 6532: UTF-8 in header fields travels only with SMTPUTF8.
    let utf8_header = !ascii.header;
    if message.envelope.needs_smtputf8() || utf8_header {
        if !extensions.has("SMTPUTF8") {
            let address = std::iter::once(&message.envelope.from)
                .chain(&message.envelope.recipients)
                .find(|a| !a.is_ascii());
            return Err(match address {
                Some(address) => fault(
                    Step::MailFrom,
                    Kind::Unavailable,
                    format!(
                        "the address <{address}> needs SMTPUTF8, which the server does not offer"
                    ),
                ),
                None => fault(
                    Step::MailFrom,
                    Kind::BadMessage,
                    "the message has UTF-8 in its header, which needs SMTPUTF8, and the server does not offer it",
                ),
            });
        }
        command.push_str(" SMTPUTF8");
        if !ascii.message && extensions.has("8BITMIME") {
            command.push_str(" BODY=8BITMIME");
        }
    } else if !ascii.message {
        if !extensions.has("8BITMIME") {
            return Err(fault(
                Step::MailFrom,
                Kind::BadMessage,
                "the message has 8-bit content and the server does not offer 8BITMIME",
            ));
        }
        command.push_str(" BODY=8BITMIME");
    }
    if extensions.has("DSN") {
        if let Some(ret) = &message.envelope.dsn.ret {
            command.push_str(&format!(" RET={ret}"));
        }
        if let Some(envelope_id) = &message.envelope.dsn.envelope_id {
            command.push_str(&format!(" ENVID={}", xtext(envelope_id)));
        }
    }
    Ok(command)
}

/// RFC 3461 section 4: `+XX` for anything outside printable ASCII, and for `+` and `=`.
fn xtext(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'!'..=b'~' if b != b'+' && b != b'=' => (b as char).to_string(),
            other => format!("+{other:02X}"),
        })
        .collect()
}

/// Resolves and connects within the timeout and the deadline.
fn connect(
    endpoint: &Endpoint,
    timeout: Duration,
    deadline: Option<Instant>,
    transcript: &mut Transcript,
) -> Result<TcpStream> {
    let host_port = (endpoint.host.clone(), endpoint.port);
    let wait = bounded(timeout, deadline).ok_or_else(deadline_passed(Step::Connect))?;
    // Name resolution has no timeout of its own; run it where we can stop waiting for it.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(
            host_port
                .to_socket_addrs()
                .map(Iterator::collect::<Vec<SocketAddr>>),
        );
    });
    let addresses = match receiver.recv_timeout(wait) {
        Ok(Ok(addresses)) => addresses,
        Ok(Err(err)) => return Err(resolve_fault(&endpoint.host, &err)),
        Err(_) => {
            return Err(fault(
                Step::Connect,
                Kind::Temporary,
                format!("looking up {} timed out", endpoint.host),
            ));
        }
    };
    let mut last_error = None;
    for address in &addresses {
        let wait = bounded(timeout, deadline).ok_or_else(deadline_passed(Step::Connect))?;
        transcript.info(&format!("connecting to {address}"));
        match TcpStream::connect_timeout(address, wait) {
            Ok(stream) => {
                // Commands are written whole; waiting to coalesce them only adds a delayed-ACK stall.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(err) => last_error = Some((address, err)),
        }
    }
    let (address, err) = last_error.expect("to_socket_addrs gives at least one address");
    let reason = if err.kind() == io::ErrorKind::TimedOut {
        "timed out".to_string()
    } else {
        crate::error::io_reason(&err).to_lowercase()
    };
    Err(fault(
        Step::Connect,
        Kind::Temporary,
        format!(
            "cannot connect to {}:{} ({address}): {reason}",
            endpoint.host, endpoint.port
        ),
    ))
}

fn resolve_fault(host: &str, err: &io::Error) -> Box<Fault> {
    let text = err.to_string();
    // getaddrinfo's EAI_AGAIN reads "Temporary failure in name resolution"; anything else means
    // the name does not exist, which retrying will not change.
    if text.contains("Temporary failure") || text.contains("try again") {
        fault(
            Step::Connect,
            Kind::Temporary,
            format!("cannot look up {host}: {text}"),
        )
    } else {
        fault(
            Step::Connect,
            Kind::Unavailable,
            format!("unknown host {host}"),
        )
    }
}

fn deadline_passed(step: Step) -> impl Fn() -> Box<Fault> {
    move || {
        fault(
            step,
            Kind::Temporary,
            format!("--deadline reached while {}", step.describe()),
        )
    }
}

/// The smaller of the per-step timeout and what is left before the deadline; None once passed.
fn bounded(timeout: Duration, deadline: Option<Instant>) -> Option<Duration> {
    match deadline {
        None => Some(timeout),
        Some(deadline) => {
            let left = deadline.checked_duration_since(Instant::now())?;
            (!left.is_zero()).then(|| left.min(timeout))
        }
    }
}

/// The EHLO argument: our fully qualified name, or our address as a literal (RFC 5321 4.1.4).
fn hello_name(stream: &TcpStream) -> String {
    let hostname = gethostname::gethostname().to_string_lossy().into_owned();
    if hostname.contains('.')
        && hostname
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return hostname;
    }
    match stream.local_addr().map(|a| a.ip()) {
        Ok(IpAddr::V4(ip)) => format!("[{ip}]"),
        Ok(IpAddr::V6(ip)) => format!("[IPv6:{ip}]"),
        Err(_) => "[127.0.0.1]".to_string(),
    }
}

/// Trust anchors: the system's roots plus `--ca-file`. Verification is never switched off.
pub(crate) fn tls_config(
    ca_file: Option<&PathBuf>,
) -> std::result::Result<Arc<ClientConfig>, Error> {
    let mut roots = RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(system.certs);
    if let Some(path) = ca_file {
        let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
            .and_then(|iter| iter.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|err| match err {
                rustls::pki_types::pem::Error::Io(io) => Error::unreadable("--ca-file", path, &io),
                other => Error::new(
                    Kind::NoInput,
                    format!(
                        "--ca-file {}: not a PEM certificate file: {other}",
                        path.display()
                    ),
                ),
            })?;
        if certs.is_empty() {
            return Err(Error::new(
                Kind::NoInput,
                format!("--ca-file {}: no certificates in it", path.display()),
            ));
        }
        let (_, unusable) = roots.add_parsable_certificates(certs);
        if unusable > 0 {
            return Err(Error::new(
                Kind::NoInput,
                format!(
                    "--ca-file {}: {unusable} certificate(s) could not be used",
                    path.display()
                ),
            ));
        }
    }
    if roots.is_empty() {
        return Err(Error::new(
            Kind::Unavailable,
            "no trusted root certificates found on this system",
        )
        .with_hint("install the ca-certificates package or give --ca-file"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| Error::new(Kind::Internal, format!("TLS setup: {err}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
    /// Only while switching from one to the other.
    Swapping,
}

impl Stream {
    fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Stream::Plain(tcp) => Some(tcp),
            Stream::Tls(tls) => Some(tls.get_ref()),
            Stream::Swapping => None,
        }
    }

    fn is_encrypted(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            Stream::Tls(tls) => tls.read(buf),
            Stream::Swapping => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buf),
            Stream::Tls(tls) => tls.write(buf),
            Stream::Swapping => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(tls) => tls.flush(),
            Stream::Swapping => Ok(()),
        }
    }
}

/// Longest reply line accepted; RFC 5321 allows 512 octets, servers are known to send more.
const MAX_LINE: usize = 4096;

/// Most lines in one reply.
const MAX_LINES: usize = 200;

struct Session {
    stream: Stream,
    /// Whether large uploads show a progress bar.
    progress: bool,
    /// Set once reading or writing failed: the session cannot go on, not even to say QUIT.
    broken: bool,
    buffer: Vec<u8>,
    timeout: Duration,
    deadline: Option<Instant>,
}

impl Session {
    fn new(stream: Stream, timeout: Duration, deadline: Option<Instant>) -> Self {
        Session {
            stream,
            progress: false,
            broken: false,
            buffer: Vec::with_capacity(1024),
            timeout,
            deadline,
        }
    }

    /// Arms the socket's timeouts for the next operation.
    fn arm(&mut self, step: Step) -> Result<()> {
        let wait = bounded(self.timeout, self.deadline).ok_or_else(deadline_passed(step))?;
        if let Some(tcp) = self.stream.tcp() {
            let _ = tcp.set_read_timeout(Some(wait));
            let _ = tcp.set_write_timeout(Some(wait));
        }
        Ok(())
    }

    fn io_fault(&mut self, step: Step, err: &io::Error) -> Box<Fault> {
        self.broken = true;
        let deadline_hit = self.deadline.is_some_and(|d| Instant::now() >= d);
        let message = match err.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut if deadline_hit => {
                format!("--deadline reached while {}", step.describe())
            }
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => format!(
                "no reply within {} s while {}",
                self.timeout.as_secs(),
                step.describe()
            ),
            io::ErrorKind::UnexpectedEof => {
                format!("the server closed the connection while {}", step.describe())
            }
            _ => format!(
                "connection lost while {}: {}",
                step.describe(),
                crate::error::io_reason(err).to_lowercase()
            ),
        };
        fault(step, Kind::Temporary, message)
    }

    fn send(&mut self, command: &str, transcript: &mut Transcript) -> Result<()> {
        self.send_redacted(command, command, transcript)
    }

    /// Sends a command line, showing `shown` in the transcript instead of the command itself.
    fn send_redacted(
        &mut self,
        command: &str,
        shown: &str,
        transcript: &mut Transcript,
    ) -> Result<()> {
        transcript.client(shown);
        let step = step_of(shown);
        self.arm(step)?;
        let mut line = Vec::with_capacity(command.len() + 2);
        line.extend_from_slice(command.as_bytes());
        line.extend_from_slice(b"\r\n");
        let written = self
            .stream
            .write_all(&line)
            .and_then(|()| self.stream.flush());
        written.map_err(|err| self.io_fault(step, &err))
    }

    /// Writes several commands, and for BDAT the message after them, in one go (RFC 2920);
    /// their replies are then read in order with `reply`. A small message shares the commands'
    /// segment; a large one streams after them.
    fn send_flight(
        &mut self,
        commands: &[String],
        message: Option<&Content>,
        transcript: &mut Transcript,
    ) -> Result<()> {
        let step = commands.first().map_or(Step::MailFrom, |c| step_of(c));
        self.arm(step)?;
        let deadline = self.deadline;
        let mut out = BufWriter::with_capacity(64 * 1024, &mut self.stream);
        let mut result = Ok(());
        for command in commands {
            transcript.client(command);
            result = result
                .and_then(|()| out.write_all(command.as_bytes()))
                .and_then(|()| out.write_all(b"\r\n"));
        }
        if let Some(content) = message {
            transcript.client(&format!("<{} bytes of message data>", content.len()));
            let progress = self.progress && content.len() >= PROGRESS_FROM_BYTES;
            result = result.and_then(|()| {
                let sink: Box<dyn Write + '_> = if progress {
                    Box::new(UploadProgress::new(&mut out, content.len()))
                } else {
                    Box::new(&mut out)
                };
                let mut wire = WireWriter::new(sink, false, deadline);
                content.write_to(&mut wire)?;
                wire.finish().map(drop)
            });
        }
        let result = result.and_then(|()| out.flush());
        drop(out);
        result.map_err(|err| match err.kind() {
            io::ErrorKind::InvalidData => {
                // Part of a chunk may be out: only dropping the connection discards it.
                self.broken = true;
                fault(Step::Message, Kind::BadMessage, err.to_string())
            }
            _ => self.io_fault(step, &err),
        })
    }

    /// Streams the message with dot-stuffing (RFC 5321 section 4.5.2) and the final dot.
    fn send_data(&mut self, content: &Content) -> Result<()> {
        self.arm(Step::Message)?;
        let result = if self.progress && content.len() >= PROGRESS_FROM_BYTES {
            let mut stream = UploadProgress::new(&mut self.stream, content.len());
            write_dot_stuffed(&mut stream, content, self.deadline)
        } else {
            write_dot_stuffed(&mut self.stream, content, self.deadline)
        };
        result.map_err(|err| match err.kind() {
            io::ErrorKind::InvalidData => {
                // After DATA's 354, the only way not to send is to drop the connection.
                self.broken = true;
                fault(Step::Message, Kind::BadMessage, err.to_string())
            }
            _ => self.io_fault(Step::Message, &err),
        })
    }

    /// Reads one complete reply, multi-line or not.
    fn reply(&mut self, step: Step, transcript: &mut Transcript) -> Result<Reply> {
        let mut lines: Vec<String> = Vec::new();
        loop {
            let line = self.read_line(step)?;
            transcript.server(&line);
            let bad = || {
                fault(
                    step,
                    Kind::Protocol,
                    format!("unintelligible reply while {}: {line:?}", step.describe()),
                )
            };
            let bytes = line.as_bytes();
            if bytes.len() < 3 || !bytes[..3].iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            let last = match bytes.get(3) {
                None | Some(b' ') => true,
                Some(b'-') => false,
                Some(_) => return Err(bad()),
            };
            if let Some(first) = lines.first()
                && !line.starts_with(&first_code(first))
            {
                return Err(bad());
            }
            lines.push(line);
            if last {
                break;
            }
            if lines.len() >= MAX_LINES {
                return Err(fault(step, Kind::Protocol, "reply too long"));
            }
        }
        parse_reply(&lines).ok_or_else(|| {
            fault(
                step,
                Kind::Protocol,
                format!("unintelligible reply while {}", step.describe()),
            )
        })
    }

    fn read_line(&mut self, step: Step) -> Result<String> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buffer.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if self.buffer.len() > MAX_LINE {
                return Err(fault(step, Kind::Protocol, "reply line too long"));
            }
            // Re-armed for every read: a reply that trickles in line by line must not outlast
            // the deadline.
            self.arm(step)?;
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(self.io_fault(step, &io::Error::from(io::ErrorKind::UnexpectedEof)));
                }
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(self.io_fault(step, &err)),
            }
        }
    }

    fn ehlo(&mut self, hello_name: &str, transcript: &mut Transcript) -> Result<Extensions> {
        self.send(&format!("EHLO {hello_name}"), transcript)?;
        let reply = self.reply(Step::Ehlo, transcript)?;
        if reply.code != 250 {
            return Err(refused(
                Step::Ehlo,
                reply,
                Kind::Unavailable,
                "EHLO refused",
            ));
        }
        Ok(Extensions::parse(&reply))
    }

    fn start_tls(
        &mut self,
        config: Arc<ClientConfig>,
        host: &str,
        transcript: &mut Transcript,
    ) -> Result<TlsInfo> {
        let step = Step::TlsHandshake;
        if !self.buffer.is_empty() {
            // Bytes after the 220 to STARTTLS would be read as if they came over TLS (CVE-2011-0411).
            return Err(fault(
                step,
                Kind::Protocol,
                "the server sent data before the TLS handshake",
            ));
        }
        let name = ServerName::try_from(host.to_string()).map_err(|_| {
            fault(
                step,
                Kind::Usage,
                format!("not a valid TLS server name: {host}"),
            )
        })?;
        let connection = ClientConnection::new(config, name)
            .map_err(|err| fault(step, Kind::Internal, format!("TLS setup: {err}")))?;
        self.arm(step)?;
        let tcp = match std::mem::replace(&mut self.stream, Stream::Swapping) {
            Stream::Plain(tcp) => tcp,
            other => {
                self.stream = other;
                return Err(fault(step, Kind::Internal, "TLS started twice"));
            }
        };
        let mut tls = StreamOwned::new(connection, tcp);
        while tls.conn.is_handshaking() {
            if let Err(err) = tls.conn.complete_io(&mut tls.sock) {
                return Err(tls_fault(host, &err).unwrap_or_else(|| self.io_fault(step, &err)));
            }
        }
        let version = tls.conn.protocol_version().map_or_else(
            || "unknown".to_string(),
            |v| tls_version_name(v).to_string(),
        );
        let cipher = tls
            .conn
            .negotiated_cipher_suite()
            .map_or_else(|| "unknown".to_string(), |s| format!("{:?}", s.suite()));
        transcript.info(&format!(
            "TLS established: {version}, {cipher}, certificate verified for {host}"
        ));
        let certificate = tls
            .conn
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|der| der.to_vec());
        self.stream = Stream::Tls(Box::new(tls));
        Ok(TlsInfo {
            version,
            cipher,
            certificate,
        })
    }

    /// Says goodbye (RFC 5321 section 4.1.1.10) without waiting for the answer: nothing depends
    /// on it, and some servers hold their 221 until the client closes.
    fn quit(&mut self, transcript: &mut Transcript) {
        if self.broken {
            return;
        }
        let _ = self.send("QUIT", transcript);
        if let Stream::Tls(tls) = &mut self.stream {
            tls.conn.send_close_notify();
            let _ = tls.conn.write_tls(&mut tls.sock);
        }
    }
}

fn tls_version_name(version: rustls::ProtocolVersion) -> &'static str {
    match version {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
        _ => "TLS (old)",
    }
}

/// A certificate or TLS protocol failure, told apart from a lost connection.
fn tls_fault(host: &str, err: &io::Error) -> Option<Box<Fault>> {
    let tls_error = err.get_ref()?.downcast_ref::<rustls::Error>()?;
    let (kind, message) = match tls_error {
        rustls::Error::InvalidCertificate(reason) => (
            Kind::Unavailable,
            format!(
                "the certificate of {host} was rejected: {}",
                certificate_reason(reason)
            ),
        ),
        other => (
            Kind::Unavailable,
            format!("TLS with {host} failed: {other}"),
        ),
    };
    let mut fault = fault(
        Step::TlsHandshake,
        kind,
        format!("{message}; nothing was sent"),
    );
    if matches!(tls_error, rustls::Error::InvalidCertificate(_)) {
        fault = fault.hint("a server with a private CA needs --ca-file CA.pem");
    }
    Some(fault)
}

fn certificate_reason(error: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    match error {
        E::UnknownIssuer => "issued by an unknown authority".into(),
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            "not valid for this host name".into()
        }
        E::Expired | E::ExpiredContext { .. } => "expired".into(),
        E::NotValidYet | E::NotValidYetContext { .. } => "not valid yet".into(),
        E::Revoked => "revoked".into(),
        other => format!("{other:?}"),
    }
}

/// The step a command belongs to, for timeouts and errors.
fn step_of(command: &str) -> Step {
    let verb = command
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    match verb.as_str() {
        "EHLO" => Step::Ehlo,
        "STARTTLS" => Step::Starttls,
        "MAIL" => Step::MailFrom,
        "RCPT" | "RSET" => Step::RcptTo,
        "DATA" => Step::Data,
        "BDAT" => Step::Message,
        "QUIT" => Step::Message,
        _ => Step::Auth,
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::reply::reply_from;
    use super::*;

    #[test]
    fn recipient_faults_separate_permanent_from_temporary() {
        let result = |address: &str, code: u16| RecipientResult {
            address: address.into(),
            accepted: code < 400,
            reply: reply_from(&[&format!("{code} x")]),
        };
        assert!(recipients_fault(&[result("a@x", 250)], false).is_none());
        let err = recipients_fault(&[result("a@x", 250), result("b@x", 550)], false).unwrap();
        assert_eq!(err.kind, Kind::RecipientRefused);
        assert!(err.hint.is_some());
        let err = recipients_fault(&[result("a@x", 250), result("b@x", 451)], true).unwrap();
        assert_eq!(err.kind, Kind::Temporary);
        assert!(err.hint.is_none());
    }
    #[test]
    fn envelope_ids_are_xtext() {
        assert_eq!(xtext("a+b=c d"), "a+2Bb+3Dc+20d");
    }
    #[test]
    fn deadline_bounds_every_wait() {
        assert_eq!(
            bounded(Duration::from_secs(5), None),
            Some(Duration::from_secs(5))
        );
        let soon = Instant::now() + Duration::from_millis(200);
        assert!(bounded(Duration::from_secs(5), Some(soon)).unwrap() <= Duration::from_millis(200));
        assert_eq!(
            bounded(
                Duration::from_secs(5),
                Some(Instant::now() - Duration::from_millis(1))
            ),
            None
        );
    }
}
