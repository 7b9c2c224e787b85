//! The delivery record: what callers read once a session is over (`Delivery`, one
//! `RecipientResult` per recipient, `TlsInfo`, `Timings`, the `Step` a failure happened in), and
//! the `Fault` every step returns before it becomes part of that record.
//!
//! Nothing here does I/O; every other part of the session depends on this one, and this one on
//! none of them but `reply`.

use std::time::Duration;

use serde::Serialize;

use super::reply::Reply;
use crate::error::{Error, Kind};
use crate::server::Endpoint;

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
    /// Reading the command line, the environment and the configuration file.
    Settings,
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
            Step::Settings => "reading the settings",
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
    /// The name given in EHLO (or HELO).
    pub hello_name: Option<String>,
    /// The server's refusal of EHLO, when it refused it: HELO followed, or the session ended.
    pub ehlo_refused: Option<Reply>,
    pub auth_mechanism: Option<&'static str>,
    pub recipients: Vec<RecipientResult>,
    pub final_reply: Option<Reply>,
    pub timings: Timings,
    /// The failure and the step it happened in; the message may still have been accepted for
    /// some recipients (`final_reply` says so) when others were refused.
    pub failure: Option<(Step, Error)>,
}

impl Delivery {
    pub(super) fn new(endpoint: &Endpoint) -> Self {
        Delivery {
            endpoint: endpoint.clone(),
            greeting: None,
            extensions: Vec::new(),
            tls: None,
            hello_name: None,
            ehlo_refused: None,
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

    /// Whether the server refused EHLO, or a recipient, in words that suggest it dislikes the
    /// name given in EHLO (RFC 5321 section 4.1.4 asks for this host's fully qualified name).
    pub fn name_disliked(&self) -> bool {
        let helo_words = |reply: &Reply| reply.one_line().to_ascii_lowercase().contains("helo");
        self.ehlo_refused
            .as_ref()
            .is_some_and(super::session::dislikes_name)
            || self
                .recipients
                .iter()
                .filter_map(|r| r.reply.as_ref())
                .any(|reply| !reply.is_positive() && helo_words(reply))
    }

    /// A session that never started: getting the credentials failed at `step`.
    pub fn not_attempted(endpoint: &Endpoint, step: Step, error: Error) -> Self {
        let mut delivery = Delivery::new(endpoint);
        delivery.failure = Some((step, error));
        delivery
    }
}

/// A failure inside the session, before it becomes an `Error` for the user.
pub(super) struct Fault {
    pub(super) step: Step,
    pub(super) error: Error,
    pub(super) reply: Option<Reply>,
}

impl Fault {
    pub(super) fn hint(mut self: Box<Self>, hint: &str) -> Box<Self> {
        self.error.hint = Some(hint.to_string());
        self
    }

    pub(super) fn hint_opt(mut self: Box<Self>, hint: Option<String>) -> Box<Self> {
        self.error.hint = hint;
        self
    }
}

// Boxed: a fault is rare and large, the Ok path of every step is small.

pub(super) type Result<T> = std::result::Result<T, Box<Fault>>;

pub(super) fn fault(step: Step, kind: Kind, message: impl Into<String>) -> Box<Fault> {
    Box::new(Fault {
        step,
        error: Error::new(kind, message),
        reply: None,
    })
}

/// A reply at `step` other than the one it waits for: 4xx is temporary, 5xx is the kind the
/// step calls for. Anything else (a 3xx where a 2xx completes the command, a 2xx where a 3xx
/// was due) is not an answer to the command at all: a protocol error (RFC 5321 section 4.2.1).
pub(super) fn refused(step: Step, reply: Reply, permanent: Kind, what: &str) -> Box<Fault> {
    let (kind, message) = if reply.is_transient() {
        (Kind::Temporary, format!("{what}: {}", reply.one_line()))
    } else if reply.is_permanent() {
        (permanent, format!("{what}: {}", reply.one_line()))
    } else {
        (
            Kind::Protocol,
            format!(
                "unexpected reply while {}: {}",
                step.describe(),
                reply.one_line()
            ),
        )
    };
    Box::new(Fault {
        step,
        error: Error::new(kind, message),
        reply: Some(reply),
    })
}

pub(super) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
