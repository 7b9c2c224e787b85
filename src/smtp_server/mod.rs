//! The server side of SMTP (RFC 5321): one session, on standard input and output for
//! `sendmail -bs` or on a socket for `serve`. What becomes of each accepted message, and which
//! local logins are good, is the caller's `Receiver`; what a session allows (limits, AUTH,
//! STARTTLS, the domains relayed to) is its `Policy`. It parses and answers; it never stores,
//! sends or logs.
//!
//! Hostile input costs bounded memory: a command line is cut at `COMMAND_LINE_LIMIT`, data at
//! the policy's message size while it is read (`lines`), and a session at its command count.
//! Nothing a client sends runs as a command it did not send as one: CR or other controls in a
//! command are refused, only CRLF.CRLF ends the data, and text pipelined behind STARTTLS is
//! dropped with the plaintext buffer.

mod lines;
mod params;
mod sasl;
#[cfg(test)]
mod tests;

use std::io::{BufReader, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::compose::{Dsn, Envelope};
use crate::credentials::Secret;
use crate::error::{Error, Kind};
use crate::terminal;
use lines::{Data, Line, read_data, read_line_bounded};
use params::{MailParameters, Path, RcptParameters};
use sasl::Mechanism;

/// What a session reads from and writes to: a socket, a TLS stream, or stdio (`Duplex`).
pub trait Stream: Read + Write {}
impl<T: Read + Write + ?Sized> Stream for T {}

/// Standard input and output (or any reader and writer) as one stream.
pub struct Duplex<R, W> {
    pub input: R,
    pub output: W,
}

impl<R: Read, W> Read for Duplex<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(buf)
    }
}

impl<R, W: Write> Write for Duplex<R, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.output.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.output.flush()
    }
}

/// The longest command line taken, with its line break. RFC 5321 section 4.5.3.1.4 allows 512
/// octets and lets extensions raise it: 8BITMIME, SMTPUTF8 and DSN lengthen MAIL and RCPT (a
/// parameter each, and UTF-8 paths), so some room beyond 512.
const COMMAND_LINE_LIMIT: usize = 1000;

/// AUTH attempts that fail before the session is closed: a password is not guessed here.
const AUTH_FAILURES: usize = 3;

/// What a session allows.
pub struct Policy {
    /// The name in the greeting and the EHLO reply.
    pub hostname: String,
    pub limits: Limits,
    pub auth: AuthRule,
    /// STARTTLS (RFC 3207) is offered with this configuration until the session is encrypted.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The recipients' domains taken (and their subdomains); empty: any.
    pub relay_domains: Vec<String>,
    /// Set when the server is stopping: the session ends between transactions.
    pub stop: Option<Arc<AtomicBool>>,
    /// Kept true while a transaction is open (from MAIL to the reply to its data), so that a
    /// server stopping knows which sessions it may cut short.
    pub busy: Option<Arc<AtomicBool>>,
    /// The memory the data of the messages being received may take, all sessions together.
    pub memory: Option<Arc<DataBudget>>,
}

/// Memory for message data shared by every session: each is bounded by its message size, and
/// this bounds them together, so many clients sending large messages at once cannot take
/// what the machine has. The message that would go over is refused for now, with RFC 3463's
/// 4.3.1 (insufficient system storage).
pub struct DataBudget {
    left: std::sync::Mutex<usize>,
}

impl DataBudget {
    pub fn new(bytes: usize) -> DataBudget {
        DataBudget {
            left: std::sync::Mutex::new(bytes),
        }
    }

    fn left(&self) -> std::sync::MutexGuard<'_, usize> {
        match self.left.lock() {
            Ok(left) => left,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// What one message's data took of the budget, given back when it is dropped.
struct Taken<'b> {
    budget: Option<&'b DataBudget>,
    bytes: usize,
}

impl Taken<'_> {
    fn grow(&mut self, bytes: usize) -> bool {
        let Some(budget) = self.budget else {
            return true;
        };
        let mut left = budget.left();
        if *left < bytes {
            return false;
        }
        *left -= bytes;
        self.bytes += bytes;
        true
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if let Some(budget) = self.budget {
            *budget.left() += self.bytes;
        }
    }
}

/// The bounds of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest message, announced with SIZE (RFC 1870) and enforced while it is read.
    pub message_size: usize,
    /// Recipients per message; RFC 5321 section 4.5.3.1.8 asks for at least 100.
    pub recipients: usize,
    /// Commands per session, counted whatever they are.
    pub commands: usize,
}

impl Default for Limits {
    /// RFC 5321 section 4.5.3.1.7 asks for at least 64K; without a bound a client could make us
    /// hold endless data.
    fn default() -> Limits {
        Limits {
            message_size: 64 * 1024 * 1024,
            recipients: 1000,
            commands: 100_000,
        }
    }
}

/// Whether a client must log in before it may send (RFC 4954).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthRule {
    /// No AUTH offered: the client is the local user already (`-bs`).
    NotOffered,
    /// Offered, not required: a listener only this machine can reach.
    Optional,
    /// Required before MAIL, and offered only once the session is encrypted, since PLAIN and
    /// LOGIN send the password itself (RFC 4954 section 4).
    Required,
}

/// The caller's part of a session.
pub trait Receiver {
    /// Whether this is a good local login.
    fn authenticate(&self, _user: &str, _password: &Secret) -> bool {
        false
    }

    /// Takes one message; gives the text of the 250 reply to its data, or the error whose kind
    /// decides between 451 and 554.
    fn receive(
        &self,
        message: &[u8],
        envelope: &Envelope,
        login: Option<&str>,
    ) -> Result<String, Error>;
}

/// Any function of a message and its envelope is a receiver that takes no logins.
impl<F: Fn(&[u8], &Envelope) -> Result<String, Error>> Receiver for F {
    fn receive(
        &self,
        message: &[u8],
        envelope: &Envelope,
        _: Option<&str>,
    ) -> Result<String, Error> {
        self(message, envelope)
    }
}

/// How a session ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// QUIT, or the client went away between commands.
    Quit,
    /// Closed by us with a 421: idle too long, too many commands or failed logins.
    Closed(&'static str),
}

/// Runs one session to its end.
pub fn serve<'a>(
    stream: Box<dyn Stream + 'a>,
    policy: &Policy,
    receiver: &dyn Receiver,
) -> Result<End, Error> {
    let mut session = Session {
        reader: BufReader::new(stream),
        out: Vec::new(),
        policy,
        receiver,
        encrypted: false,
        login: None,
        envelope: None,
        commands: 0,
        auth_failures: 0,
    };
    session.say(&format!("220 {} ESMTP ready", policy.hostname));
    let end = session.run();
    // Whatever ended it, what was said goes out; a client gone already hears nothing.
    let _ = session.flush();
    match end {
        Err(err) if is_timeout(&err) => {
            session.say(&format!(
                "421 4.4.2 {} idle too long, closing",
                policy.hostname
            ));
            let _ = session.flush();
            Ok(End::Closed("idle too long"))
        }
        Err(err) => Err(Error::new(Kind::Temporary, format!("SMTP session: {err}"))),
        Ok(end) => Ok(end),
    }
}

fn is_timeout(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

struct Session<'a, 'p> {
    reader: BufReader<Box<dyn Stream + 'a>>,
    /// Replies not yet written: RFC 2920 lets a server answer a pipelined group at once.
    out: Vec<u8>,
    policy: &'p Policy,
    receiver: &'p dyn Receiver,
    encrypted: bool,
    login: Option<String>,
    envelope: Option<Envelope>,
    commands: usize,
    auth_failures: usize,
}

impl<'a> Session<'a, '_> {
    fn say(&mut self, reply: &str) {
        self.out.extend_from_slice(reply.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let stream = self.reader.get_mut();
        stream.write_all(&self.out)?;
        self.out.clear();
        stream.flush()
    }

    /// The next line, the replies so far written first unless more commands are already here.
    fn read_line(&mut self, line: &mut Vec<u8>) -> std::io::Result<Line> {
        if self.reader.buffer().is_empty() {
            self.flush()?;
        }
        read_line_bounded(&mut self.reader, COMMAND_LINE_LIMIT, line)
    }

    fn run(&mut self) -> std::io::Result<End> {
        let mut line = Vec::new();
        loop {
            if let Some(busy) = &self.policy.busy {
                busy.store(self.envelope.is_some(), Ordering::SeqCst);
            }
            if self.stopping() && self.envelope.is_none() {
                return Ok(self.shut_down());
            }
            let whole = match self.read_line(&mut line)? {
                // A stopping server shuts the reading side of the sessions between
                // transactions: the client is still told why.
                Line::End if self.stopping() => return Ok(self.shut_down()),
                Line::End => return Ok(End::Quit),
                Line::TooLong { .. } => false,
                Line::Whole => true,
            };
            self.commands += 1;
            if self.commands > self.policy.limits.commands {
                self.say("421 4.7.0 Too many commands, closing");
                return Ok(End::Closed("too many commands"));
            }
            if !whole {
                // RFC 5321 section 4.5.3.1.9; the rest of the line was dropped, not run.
                self.say("500 5.5.2 Line too long");
                continue;
            }
            let Ok(command) = std::str::from_utf8(&line) else {
                self.say("500 5.5.2 Command is not UTF-8");
                continue;
            };
            let command = command.trim_end_matches(['\r', '\n']).to_string();
            // A CR inside a command (`MAIL FROM:<a@x>\rRCPT TO:<b@y>`) would reach the real
            // server in our MAIL FROM, where it may end the line: a smuggled command.
            if command.contains(char::is_control) {
                self.say("500 5.5.2 Control character in the command");
                continue;
            }
            let (verb, rest) = command.split_once(' ').unwrap_or((&command, ""));
            if let Some(end) = self.command(&verb.to_ascii_uppercase(), rest)? {
                return Ok(end);
            }
        }
    }

    fn stopping(&self) -> bool {
        let stop = self.policy.stop.as_ref();
        stop.is_some_and(|stop| stop.load(Ordering::SeqCst))
    }

    /// RFC 5321 section 3.8: a server shutting down says 421.
    fn shut_down(&mut self) -> End {
        self.say("421 4.3.2 Shutting down, try again later");
        End::Closed("shutting down")
    }

    fn command(&mut self, verb: &str, rest: &str) -> std::io::Result<Option<End>> {
        match verb {
            "EHLO" => {
                // RFC 5321 section 4.1.4: EHLO ends any transaction begun.
                self.envelope = None;
                self.ehlo();
            }
            "HELO" => {
                self.envelope = None;
                self.say(&format!("250 {}", self.policy.hostname));
            }
            "STARTTLS" => return self.start_tls().map(|()| None),
            "AUTH" => return self.auth(rest),
            "MAIL" => self.mail(rest),
            "RCPT" => self.rcpt(rest),
            "DATA" => self.data()?,
            "RSET" => {
                self.envelope = None;
                self.say("250 2.0.0 Ok");
            }
            "NOOP" => self.say("250 2.0.0 Ok"),
            "VRFY" => self.say("252 2.5.2 Cannot verify, send anyway"),
            "QUIT" => {
                self.say("221 2.0.0 Bye");
                return Ok(Some(End::Quit));
            }
            _ => self.say("502 5.5.2 Command not implemented"),
        }
        Ok(None)
    }

    fn tls_offered(&self) -> bool {
        self.policy.tls.is_some() && !self.encrypted
    }

    fn auth_offered(&self) -> bool {
        match self.policy.auth {
            AuthRule::NotOffered => false,
            AuthRule::Optional => true,
            AuthRule::Required => self.encrypted,
        }
    }

    fn ehlo(&mut self) {
        let mut lines = vec![
            self.policy.hostname.clone(),
            "PIPELINING".into(),
            "8BITMIME".into(),
            "SMTPUTF8".into(),
            format!("SIZE {}", self.policy.limits.message_size),
            "DSN".into(),
            "ENHANCEDSTATUSCODES".into(),
        ];
        if self.tls_offered() {
            lines.push("STARTTLS".into());
        }
        if self.auth_offered() {
            lines.push("AUTH PLAIN LOGIN".into());
        }
        let last = lines.len() - 1;
        for (at, text) in lines.iter().enumerate() {
            let dash = if at == last { ' ' } else { '-' };
            self.say(&format!("250{dash}{text}"));
        }
    }

    /// RFC 3207 section 4.2: the session starts over, and whatever the client sent behind the
    /// command is dropped with the plaintext buffer rather than read as if it came encrypted
    /// (the command injection of CVE-2011-0411).
    fn start_tls(&mut self) -> std::io::Result<()> {
        let Some(config) = self.policy.tls.clone().filter(|_| !self.encrypted) else {
            self.say("502 5.5.1 STARTTLS not offered");
            return Ok(());
        };
        let connection = match rustls::ServerConnection::new(config) {
            Ok(connection) => connection,
            Err(err) => {
                self.say(&format!("454 4.7.0 TLS not available: {err}"));
                return Ok(());
            }
        };
        self.say("220 2.0.0 Ready to start TLS");
        self.flush()?;
        let placeholder: Box<dyn Stream + 'a> = Box::new(std::io::empty());
        let plain = std::mem::replace(&mut self.reader, BufReader::new(placeholder)).into_inner();
        let mut tls = rustls::StreamOwned::new(connection, plain);
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock)?;
        }
        self.reader = BufReader::new(Box::new(tls));
        self.encrypted = true;
        self.envelope = None;
        self.login = None;
        Ok(())
    }

    fn auth(&mut self, rest: &str) -> std::io::Result<Option<End>> {
        let mut words = rest.split_whitespace();
        let mechanism = words.next().and_then(Mechanism::parse);
        let initial = words.next().map(str::to_string);
        if self.policy.auth == AuthRule::NotOffered {
            self.say("502 5.5.1 AUTH not offered");
        } else if self.policy.auth == AuthRule::Required && !self.encrypted {
            // RFC 4954 section 6.
            self.say("538 5.7.11 Encryption required: STARTTLS first");
        } else if self.login.is_some() {
            self.say("503 5.5.1 Already authenticated");
        } else if self.envelope.is_some() {
            self.say("503 5.5.1 AUTH not within a transaction");
        } else if let Some(mechanism) = mechanism {
            let Some(offered) = self.sasl(mechanism, initial)? else {
                self.say("501 5.5.2 Malformed AUTH response");
                return Ok(None);
            };
            if self.receiver.authenticate(&offered.user, &offered.password) {
                self.login = Some(offered.user);
                self.say("235 2.7.0 Authentication successful");
            } else {
                self.auth_failures += 1;
                if self.auth_failures >= AUTH_FAILURES {
                    self.say("421 4.7.0 Too many failed logins, closing");
                    return Ok(Some(End::Closed("too many failed logins")));
                }
                self.say("535 5.7.8 Authentication credentials invalid");
            }
        } else {
            self.say("504 5.5.4 Unrecognized authentication type: PLAIN or LOGIN");
        }
        Ok(None)
    }

    /// The client's login by `mechanism`: its initial response or the answers to our
    /// challenges (RFC 4954 section 4); a `*` cancels.
    fn sasl(
        &mut self,
        mechanism: Mechanism,
        initial: Option<String>,
    ) -> std::io::Result<Option<sasl::Offered>> {
        match mechanism {
            Mechanism::Plain => {
                let response = match initial {
                    // `=` is an empty initial response.
                    Some(response) => response,
                    None => match self.respond("")? {
                        Some(response) => response,
                        None => return Ok(None),
                    },
                };
                Ok(sasl::plain(&response))
            }
            Mechanism::Login => {
                let user = match initial {
                    Some(user) => Some(user),
                    None => self.respond(&sasl::challenge("Username:"))?,
                };
                let Some(user) = user.as_deref().and_then(sasl::decode) else {
                    return Ok(None);
                };
                let password = self.respond(&sasl::challenge("Password:"))?;
                Ok(password
                    .as_deref()
                    .and_then(sasl::decode)
                    .map(|password| sasl::Offered {
                        user,
                        password: Secret::new(password),
                    }))
            }
        }
    }

    /// Sends a 334 challenge and reads the answer; None when cancelled or not a line.
    fn respond(&mut self, challenge: &str) -> std::io::Result<Option<String>> {
        self.say(&format!("334 {challenge}"));
        let mut line = Vec::new();
        if self.read_line(&mut line)? != Line::Whole {
            return Ok(None);
        }
        let answer = String::from_utf8(line).ok();
        Ok(answer
            .map(|a| a.trim_end_matches(['\r', '\n']).to_string())
            .filter(|a| a != "*"))
    }

    fn mail(&mut self, rest: &str) {
        if self.envelope.is_some() {
            return self.say("503 5.5.1 Nested MAIL command");
        }
        if self.policy.auth == AuthRule::Required && self.login.is_none() {
            return self.say("530 5.7.0 Authentication required");
        }
        let (from, parameters) = match params::mail(rest) {
            Ok(parsed) => parsed,
            Err(reply) => return self.say(reply),
        };
        let MailParameters {
            size,
            ret,
            envelope_id,
        } = parameters;
        // RFC 1870 section 6.
        if size.is_some_and(|size| size > self.policy.limits.message_size) {
            return self.say(&format!(
                "552 5.3.4 Message too big: at most {} octets",
                self.policy.limits.message_size
            ));
        }
        self.envelope = Some(Envelope {
            from: from.0,
            recipients: Vec::new(),
            dsn: Dsn {
                notify: None,
                envelope_id,
                ret,
            },
        });
        self.say("250 2.1.0 Ok");
    }

    fn rcpt(&mut self, rest: &str) {
        let parsed = params::rcpt(rest);
        let relayed = match &parsed {
            Ok((to, _)) => self.relays_to(to),
            Err(_) => true,
        };
        let limit = self.policy.limits.recipients;
        let Some(envelope) = self.envelope.as_mut() else {
            return self.say("503 5.5.1 MAIL first");
        };
        let (to, RcptParameters { notify }) = match parsed {
            Ok(parsed) => parsed,
            Err(reply) => return self.say(reply),
        };
        if !relayed {
            return self.say(&format!("554 5.7.1 <{}>: Relay access denied", to.0));
        }
        // RFC 5321 section 4.5.3.1.10.
        if envelope.recipients.len() >= limit {
            return self.say("452 4.5.3 Too many recipients");
        }
        // One NOTIFY for the message, as the outbox keeps it: the first recipient's.
        if envelope.dsn.notify.is_none() {
            envelope.dsn.notify = notify;
        }
        envelope.recipients.push(to.0);
        self.say("250 2.1.5 Ok");
    }

    fn relays_to(&self, to: &Path) -> bool {
        if self.policy.relay_domains.is_empty() {
            return true;
        }
        let domain = to.domain().to_ascii_lowercase();
        self.policy.relay_domains.iter().any(|allowed| {
            domain == *allowed
                || domain
                    .strip_suffix(allowed.as_str())
                    .is_some_and(|sub| sub.ends_with('.'))
        })
    }

    fn data(&mut self) -> std::io::Result<()> {
        let Some(envelope) = self.envelope.take().filter(|e| !e.recipients.is_empty()) else {
            self.say("503 5.5.1 RCPT first");
            return Ok(());
        };
        self.say("354 End data with <CR><LF>.<CR><LF>");
        if self.reader.buffer().is_empty() {
            self.flush()?;
        }
        let limit = self.policy.limits.message_size;
        let mut taken = Taken {
            budget: self.policy.memory.as_deref(),
            bytes: 0,
        };
        let reply = match read_data(&mut self.reader, limit, &mut |n| taken.grow(n))? {
            // RFC 5321 section 4.5.3.1.9.
            Data::TooBig => format!("552 5.3.4 Message too big: at most {limit} octets"),
            Data::NoRoom => "452 4.3.1 Insufficient system storage, try again later".into(),
            Data::Message(data) => {
                match self
                    .receiver
                    .receive(&data, &envelope, self.login.as_deref())
                {
                    Ok(text) => format!("250 2.0.0 {}", terminal::escape(&text)),
                    Err(error) if error.kind == Kind::Temporary => {
                        format!("451 4.3.0 {}", terminal::escape(&error.message))
                    }
                    Err(error) => format!("554 5.3.0 {}", terminal::escape(&error.message)),
                }
            }
        };
        self.say(&reply);
        Ok(())
    }
}
