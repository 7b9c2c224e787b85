//! What a delivery looks like to the user: the one success line and the `--json` object, on
//! success and on failure. The text goes through `terminal`, which escapes what the server said.

use serde::Serialize;

use crate::compose::Composed;
use crate::error::Error;
use crate::server::Endpoint;
use crate::submit::{Delivery, RecipientResult, Reply, Step, Timings, TlsInfo};
use crate::terminal::{escape, print_json_value};

/// One line for a person: the server's final reply and the Message-ID.
pub fn success_line(delivery: &Delivery, message_id: &str) -> String {
    let reply = delivery
        .final_reply
        .as_ref()
        .map_or_else(String::new, Reply::one_line);
    format!("{} {}", escape(&reply), escape(message_id))
}

#[derive(Serialize)]
struct JsonReport<'a> {
    status: &'static str,
    exit_code: u8,
    message_id: Option<&'a str>,
    server: Option<JsonServer<'a>>,
    tls: Option<&'a TlsInfo>,
    auth: Option<JsonAuth<'a>>,
    envelope_from: Option<&'a str>,
    recipients: &'a [RecipientResult],
    final_reply: Option<&'a Reply>,
    size: Option<u64>,
    timings: Option<&'a Timings>,
    error: Option<JsonError<'a>>,
}

#[derive(Serialize)]
pub struct JsonServer<'a> {
    host: &'a str,
    port: u16,
    security: &'static str,
    protocol: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    socket: Option<&'a std::path::Path>,
}

impl<'a> JsonServer<'a> {
    pub fn of(endpoint: &'a Endpoint) -> Self {
        JsonServer {
            host: &endpoint.host,
            port: endpoint.port,
            security: endpoint.security.name(),
            protocol: endpoint.protocol.name(),
            socket: endpoint.socket.as_deref(),
        }
    }
}

#[derive(Serialize)]
pub struct JsonAuth<'a> {
    pub mechanism: &'static str,
    pub user: &'a str,
}

#[derive(Serialize)]
pub struct JsonError<'a> {
    step: Step,
    message: &'a str,
    hint: Option<&'a str>,
}

impl<'a> JsonError<'a> {
    pub fn of(step: Step, error: &'a Error) -> Self {
        JsonError {
            step,
            message: &error.message,
            hint: error.hint.as_deref(),
        }
    }
}

/// What `--json` describes: a delivery attempt, or a failure before any connection.
pub struct JsonSubject<'a> {
    pub delivery: Option<&'a Delivery>,
    pub message_id: Option<&'a str>,
    pub envelope_from: Option<&'a str>,
    pub size: Option<u64>,
    pub user: Option<&'a str>,
    /// A failure and the step it belongs to.
    pub failure: Option<(Step, &'a Error)>,
}

/// The JSON object of one message's delivery; `error` is the one the command reports (which
/// may say more than the session's, e.g. where a queued message is).
pub fn print_delivery_json(
    delivery: &Delivery,
    message: &Composed,
    user: Option<&str>,
    error: Option<&Error>,
) {
    print_json(&JsonSubject {
        delivery: Some(delivery),
        message_id: Some(&message.message_id),
        envelope_from: Some(&message.envelope.from),
        size: Some(message.content.len()),
        user,
        failure: delivery
            .failure
            .as_ref()
            .zip(error)
            .map(|((step, _), e)| (*step, e)),
    });
}

/// `error`, a failure before any connection (the settings, the message, the password), after
/// printing its JSON object when `json` is asked for.
pub fn json_failure(json: bool, step: Step, error: Error) -> Error {
    if json {
        print_failure_json(step, &error);
    }
    error
}

fn print_failure_json(step: Step, error: &Error) {
    print_json(&JsonSubject {
        delivery: None,
        message_id: None,
        envelope_from: None,
        size: None,
        user: None,
        failure: Some((step, error)),
    });
}

pub fn print_json(subject: &JsonSubject) {
    let delivery = subject.delivery;
    let exit_code = subject.failure.map_or(0, |(_, e)| e.exit_code());
    let status = match (subject.failure, delivery.is_some_and(Delivery::accepted)) {
        (None, _) => "sent",
        (Some(_), true) => "partial",
        (Some(_), false) => "failed",
    };
    let report = JsonReport {
        status,
        exit_code,
        message_id: subject.message_id,
        server: delivery.map(|d| JsonServer::of(&d.endpoint)),
        tls: delivery.and_then(|d| d.tls.as_ref()),
        // EXTERNAL with no user: the server took the identity from the client certificate.
        auth: delivery.and_then(|d| {
            Some(JsonAuth {
                mechanism: d.auth_mechanism?,
                user: subject.user.unwrap_or(""),
            })
        }),
        envelope_from: subject.envelope_from,
        recipients: delivery.map_or(&[], |d| d.recipients.as_slice()),
        final_reply: delivery.and_then(|d| d.final_reply.as_ref()),
        size: subject.size,
        timings: delivery.map(|d| &d.timings),
        error: subject
            .failure
            .map(|(step, error)| JsonError::of(step, error)),
    };
    print_json_value(&report);
}
