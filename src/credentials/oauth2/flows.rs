//! The two ways to sign in: the authorization code flow with PKCE (S256) on a loopback
//! redirect (RFC 8252), or its paste-back variant, and the device authorization grant
//! (RFC 8628) for machines without a browser.

use std::io::{BufRead, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oauth2::basic::BasicErrorResponse;
use oauth2::{
    AuthorizationCode, CsrfToken, DeviceCodeErrorResponse, DeviceCodeErrorResponseType,
    PkceCodeChallenge, RequestTokenError, Scope, StandardDeviceAuthorizationResponse,
};

use super::http::{Http, HttpError};
use super::store::Tokens;
use super::{Client, tokens_from};
use crate::error::{Error, Kind};

pub enum FlowError {
    Token(Box<RequestTokenError<HttpError, BasicErrorResponse>>),
    Device(Box<RequestTokenError<HttpError, DeviceCodeErrorResponse>>),
    Other(Error),
}

impl From<Error> for FlowError {
    fn from(err: Error) -> Self {
        FlowError::Other(err)
    }
}

fn not_configured(err: &oauth2::ConfigurationError, key: &str) -> FlowError {
    FlowError::Other(Error::config(format!("{err}")).with_hint(format!("set {key} in the account")))
}

pub struct CodeFlow<'a> {
    pub redirect_host: &'static str,
    pub scopes: &'a [String],
    pub extra: &'static [(&'static str, &'static str)],
    /// Open a browser here and wait on the loopback listener; else ask for the address to be
    /// pasted back.
    pub open_browser: bool,
    pub time_limit: Duration,
}

impl CodeFlow<'_> {
    pub fn run(
        &self,
        client: &dyn Fn(String) -> Result<Client, Error>,
        http: &Http,
    ) -> Result<Tokens, FlowError> {
        let listen_failed = |err: std::io::Error| {
            Error::new(
                Kind::Unavailable,
                format!("cannot listen on 127.0.0.1: {err}"),
            )
        };
        let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(listen_failed)?;
        let port = listener.local_addr().map_err(listen_failed)?.port();
        let mut listeners = vec![listener];
        // `localhost` may resolve to ::1 first in the browser.
        if self.redirect_host == "localhost"
            && let Ok(v6) = TcpListener::bind(("::1", port))
        {
            listeners.push(v6);
        }
        // Microsoft matches the registered `http://localhost` without a path, as MSAL sends it;
        // the others take the address with `/`.
        let redirect = match self.redirect_host {
            "localhost" => format!("http://localhost:{port}"),
            host => format!("http://{host}:{port}/"),
        };
        let client = client(redirect.clone())?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .map_err(|e| not_configured(&e, "oauth2_authorize_url"))?;
        for scope in self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        for (name, value) in self.extra {
            request = request.add_extra_param(*name, *value);
        }
        let (url, state) = request.set_pkce_challenge(challenge).url();
        let mut stderr = std::io::stderr();
        let target = if self.open_browser {
            let _ = writeln!(
                stderr,
                "Sign in at this address (opening a browser; if none opens, open it yourself):\n\n  {url}\n"
            );
            open_browser(url.as_str());
            let _ = writeln!(
                stderr,
                "Waiting up to {} min for the browser to come back to {redirect} ...",
                self.time_limit.as_secs() / 60
            );
            for listener in &listeners {
                listener.set_nonblocking(true).map_err(listen_failed)?;
            }
            wait_for_redirect(&listeners, state.secret(), Instant::now() + self.time_limit)?
        } else {
            drop(listeners);
            let _ = writeln!(
                stderr,
                "Open this address in a browser, on any machine, and sign in:\n\n  {url}\n\n\
                 The browser is then sent to {redirect}... which will not load there; copy \
                 that whole address from its address bar and paste it here:"
            );
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .take(64 * 1024)
                .read_line(&mut line)
                .map_err(|err| Error::new(Kind::NoInput, format!("reading the address: {err}")))?;
            let target = pasted_target(line.trim());
            match callback(&target, state.secret()) {
                Callback::Code(_) | Callback::Refused(_) => target,
                Callback::WrongState => {
                    return Err(Error::new(
                        Kind::AuthRefused,
                        "the pasted address belongs to another sign-in (its state differs)",
                    )
                    .into());
                }
                Callback::Nothing => {
                    return Err(Error::usage(
                        "the pasted address has no code in it (paste the address the browser \
                         was sent to after signing in)",
                    )
                    .into());
                }
            }
        };
        let code = match callback(&target, state.secret()) {
            Callback::Code(code) => code,
            Callback::Refused(why) => {
                return Err(Error::new(
                    Kind::AuthRefused,
                    format!("the sign-in was refused: {why}"),
                )
                .into());
            }
            Callback::WrongState | Callback::Nothing => unreachable!("filtered above"),
        };
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .request(http)
            .map_err(|e| FlowError::Token(Box::new(e)))?;
        Ok(tokens_from(&response, crate::clock::unix_now(), None))
    }
}

/// `$BROWSER URL` when set, else the desktop's opener. It runs detached: a browser may stay.
fn open_browser(url: &str) {
    let mut command = match std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        Some(browser) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("{browser} \"$1\""))
                .arg("sh")
                .arg(url);
            c
        }
        None => {
            let mut c = Command::new(if cfg!(target_os = "macos") {
                "open"
            } else {
                "xdg-open"
            });
            c.arg(url);
            c
        }
    };
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Ok(mut child) = command.spawn() {
        std::thread::spawn(move || child.wait());
    }
}

enum Callback {
    Code(String),
    Refused(String),
    WrongState,
    Nothing,
}

/// The request target of a redirect: its `code`, or the `error` it carries.
fn callback(target: &str, state: &str) -> Callback {
    let Ok(url) = oauth2::url::Url::parse(&format!("http://loopback{target}")) else {
        return Callback::Nothing;
    };
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let (code, error) = (param("code"), param("error"));
    if code.is_none() && error.is_none() {
        return Callback::Nothing;
    }
    if param("state").as_deref() != Some(state) {
        return Callback::WrongState;
    }
    match (code, error) {
        (_, Some(error)) => Callback::Refused(match param("error_description") {
            Some(description) => format!("{error}: {description}"),
            None => error,
        }),
        (Some(code), None) => Callback::Code(code),
        (None, None) => Callback::Nothing,
    }
}

/// A pasted address as a request target: `http://127.0.0.1:1234/?code=..` → `/?code=..`.
fn pasted_target(pasted: &str) -> String {
    match pasted.split_once("://") {
        Some((_, rest)) => match rest.find(['/', '?']) {
            Some(at) if rest[at..].starts_with('?') => format!("/{}", &rest[at..]),
            Some(at) => rest[at..].to_string(),
            None => "/".into(),
        },
        None if pasted.starts_with('?') => format!("/{pasted}"),
        None => pasted.to_string(),
    }
}

const PAGE_DONE: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>smtpsend</title></head>\
<body><h1>Signed in</h1><p>smtpsend has the authorization. You can close this tab.</p></body></html>";

/// Serves the loopback listeners until the redirect with our state arrives.
fn wait_for_redirect(
    listeners: &[TcpListener],
    state: &str,
    deadline: Instant,
) -> Result<String, Error> {
    loop {
        for listener in listeners {
            let Ok((stream, _)) = listener.accept() else {
                continue;
            };
            let Some(target) = request_target(&stream) else {
                continue;
            };
            match callback(&target, state) {
                Callback::Code(_) => {
                    respond(stream, "200 OK", PAGE_DONE);
                    return Ok(target);
                }
                Callback::Refused(why) => {
                    respond(
                        stream,
                        "200 OK",
                        &format!(
                            "<!DOCTYPE html><html><body><h1>Sign-in failed</h1><p>{}</p>\
                             <p>You can close this tab.</p></body></html>",
                            html_escape(&why)
                        ),
                    );
                    return Ok(target);
                }
                Callback::WrongState => respond(
                    stream,
                    "400 Bad Request",
                    "<!DOCTYPE html><html><body><p>This is not the sign-in smtpsend is waiting \
                     for.</p></body></html>",
                ),
                Callback::Nothing => respond(stream, "404 Not Found", ""),
            }
        }
        if Instant::now() >= deadline {
            return Err(Error::new(
                Kind::Temporary,
                "no sign-in came back to smtpsend in time",
            )
            .with_hint("run `smtpsend login` again; without a browser here use --no-browser or --device"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The target of an HTTP request line, read with a bound on size and time.
fn request_target(stream: &TcpStream) -> Option<String> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut head = Vec::new();
    let mut reader = std::io::BufReader::new(stream.take(16 * 1024));
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            break;
        }
        if head.is_empty() {
            head = line.clone();
        }
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let head = String::from_utf8(head).ok()?;
    let mut parts = head.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) if target.starts_with('/') => Some(target.to_string()),
        _ => None,
    }
}

fn respond(mut stream: TcpStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The device authorization grant: show the code, poll until the person has signed in.
/// `sleep` waits between polls (a test's records the intervals instead).
pub fn device(
    client: &Client,
    http: &Http,
    scopes: &[String],
    out: &mut dyn Write,
    sleep: &dyn Fn(Duration),
) -> Result<Tokens, FlowError> {
    let mut request = client
        .exchange_device_code()
        .map_err(|e| not_configured(&e, "oauth2_device_authorization_url"))?;
    for scope in scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let details: StandardDeviceAuthorizationResponse = request
        .request(http)
        .map_err(|e| FlowError::Token(Box::new(e)))?;
    let _ = writeln!(
        out,
        "To sign in, open {} on any device and enter the code {}",
        details.verification_uri().as_str(),
        details.user_code().secret()
    );
    if let Some(complete) = details.verification_uri_complete() {
        let _ = writeln!(out, "  (or open {})", complete.secret());
    }
    let _ = writeln!(
        out,
        "Waiting for the sign-in (the code expires in {} min) ...",
        details.expires_in().as_secs().div_ceil(60)
    );
    let response = client
        .exchange_device_access_token(&details)
        .request(http, sleep, None)
        .map_err(|err| match err {
            RequestTokenError::ServerResponse(response) => match response.error() {
                DeviceCodeErrorResponseType::AccessDenied => FlowError::Other(
                    Error::new(
                        Kind::AuthRefused,
                        "the sign-in was declined (access_denied)",
                    )
                    .with_hint("run `smtpsend login --device` again and approve it"),
                ),
                DeviceCodeErrorResponseType::ExpiredToken => FlowError::Other(
                    Error::new(
                        Kind::Temporary,
                        "the code expired before the sign-in was completed (expired_token)",
                    )
                    .with_hint("run `smtpsend login --device` again and sign in sooner"),
                ),
                _ => FlowError::Device(Box::new(RequestTokenError::ServerResponse(response))),
            },
            other => FlowError::Device(Box::new(other)),
        })?;
    Ok(tokens_from(&response, crate::clock::unix_now(), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_needs_our_state() {
        assert!(matches!(
            callback("/?code=abc&state=s1", "s1"),
            Callback::Code(c) if c == "abc"
        ));
        assert!(matches!(
            callback("/?code=abc&state=other", "s1"),
            Callback::WrongState
        ));
        assert!(matches!(callback("/?code=abc", "s1"), Callback::WrongState));
        assert!(matches!(
            callback("/?error=access_denied&error_description=no+thanks&state=s1", "s1"),
            Callback::Refused(why) if why == "access_denied: no thanks"
        ));
        assert!(matches!(callback("/favicon.ico", "s1"), Callback::Nothing));
    }

    #[test]
    fn a_pasted_address_becomes_a_request_target() {
        assert_eq!(
            pasted_target("http://127.0.0.1:4321/?code=a&state=b"),
            "/?code=a&state=b"
        );
        assert_eq!(pasted_target("http://localhost:4321?code=a"), "/?code=a");
        assert_eq!(pasted_target("?code=a"), "/?code=a");
    }
}
