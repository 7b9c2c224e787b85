//! The HTTP client the OAuth2 requests go through: `ureq` (blocking, rustls, no async runtime)
//! behind `oauth2::SyncHttpClient`, implemented here rather than with the `oauth2` crate's own
//! `ureq` feature because that one turns every 4xx into a transport error, and the body of a
//! 400 is exactly what must be read (`invalid_grant`, `authorization_pending`, `slow_down`).
//! Redirects are never followed (RFC 6749 section 10.6: a token endpoint that redirects is
//! not to be trusted with a code or a refresh token), and every request is bounded in time and
//! in size.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use oauth2::http;

/// Far more than any token response (a 10 KB access token with its JSON fits many times).
const MAX_RESPONSE: u64 = 1024 * 1024;

pub struct Http {
    agent: ureq::Agent,
}

#[derive(Debug)]
pub struct HttpError(pub String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

impl Http {
    pub fn new(tls: Arc<rustls::ClientConfig>, timeout: Duration) -> Self {
        Http {
            agent: crate::trust::https_agent(tls, timeout),
        }
    }
}

impl oauth2::SyncHttpClient for Http {
    type Error = HttpError;

    fn call(&self, request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, HttpError> {
        let uri = request.uri().to_string();
        let post = *request.method() == http::Method::POST;
        let mut req = if post {
            self.agent.post(&uri)
        } else {
            self.agent.get(&uri)
        };
        for (name, value) in request.headers() {
            let value = value
                .to_str()
                .map_err(|_| HttpError(format!("a header {name} that is not text")))?;
            req = req.set(name.as_str(), value);
        }
        let sent = if post {
            req.send_bytes(request.body())
        } else {
            req.call()
        };
        let response = match sent {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(transport)) => {
                return Err(HttpError(transport_reason(&transport)));
            }
        };
        let mut builder = http::Response::builder().status(response.status());
        if let Some(content_type) = response.header("content-type") {
            builder = builder.header(http::header::CONTENT_TYPE, content_type);
        }
        let mut body = Vec::new();
        response
            .into_reader()
            .take(MAX_RESPONSE)
            .read_to_end(&mut body)
            .map_err(|err| HttpError(format!("reading the response: {err}")))?;
        builder
            .body(body)
            .map_err(|err| HttpError(format!("a malformed response: {err}")))
    }
}

/// Why a request did not get a response, without the URL's query (which may hold a code).
fn transport_reason(transport: &ureq::Transport) -> String {
    let kind = transport.kind().to_string();
    match transport.message() {
        Some(message) => format!("{kind}: {message}"),
        None => kind,
    }
}
