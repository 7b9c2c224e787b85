//! The session's I/O: each command written to the connection and shown in the transcript
//! (secrets redacted), several at once for PIPELINING, the message itself (dot-stuffed after
//! DATA, raw after BDAT), each reply read whole through `reply`, EHLO, the switch to TLS and
//! QUIT. A failure to read or write breaks the session: nothing more is said on it.

use std::io::{self, BufWriter, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::{ClientConfig, StreamOwned};

use super::delivery::{Fault, Result, Step, TlsInfo, fault, refused};
use super::reply::{Extensions, Malformed, Reply, ReplyLines, take_line};
use super::tls::{self, Stream, tls_fault};
use super::transcript::Transcript;
use super::wire::{WireWriter, write_dot_stuffed};
use crate::content::Content;
use crate::error::Kind;
use crate::server::{Endpoint, Protocol, Security};
use crate::terminal::{PROGRESS_FROM_BYTES, UploadProgress};

/// How long a plain connection waits for the greeting before that silence is remarked on, or,
/// on port 465, taken for a server waiting for a TLS handshake (see `Session::greeting`).
const GREETING_PATIENCE: Duration = Duration::from_secs(5);

/// The port of submission over TLS from the first byte (RFC 8314 section 7.3).
const IMPLICIT_TLS_PORT: u16 = 465;

pub(super) struct Session {
    pub(super) stream: Stream,
    /// Whether large uploads show a progress bar.
    pub(super) progress: bool,
    /// Set once reading or writing failed: the session cannot go on, not even to say QUIT.
    pub(super) broken: bool,
    /// SMTP, or LMTP with its LHLO and its reply per recipient.
    pub(super) protocol: Protocol,
    buffer: Vec<u8>,
    timeout: Duration,
    deadline: Option<Instant>,
}

impl Session {
    pub(super) fn new(stream: Stream, timeout: Duration, deadline: Option<Instant>) -> Self {
        Session {
            stream,
            progress: false,
            broken: false,
            protocol: Protocol::Smtp,
            buffer: Vec::with_capacity(1024),
            timeout,
            deadline,
        }
    }

    fn io_fault(&mut self, step: Step, err: &io::Error) -> Box<Fault> {
        self.broken = true;
        if let Some(refused) = tls::client_certificate_refused(step, err) {
            return refused;
        }
        let deadline_hit = self.deadline.is_some_and(|d| Instant::now() >= d);
        let message = match err.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut if deadline_hit => {
                format!("--deadline reached while {}", step.describe())
            }
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                silence(step, self.timeout.as_secs())
            }
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

    pub(super) fn send(&mut self, command: &str, transcript: &mut Transcript) -> Result<()> {
        self.send_redacted(command, command, transcript)
    }

    /// Sends a command line, showing `shown` in the transcript instead of the command itself.
    pub(super) fn send_redacted(
        &mut self,
        command: &str,
        shown: &str,
        transcript: &mut Transcript,
    ) -> Result<()> {
        transcript.client(shown);
        let step = step_of(shown);
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
    pub(super) fn send_flight(
        &mut self,
        commands: &[String],
        message: Option<&Content>,
        transcript: &mut Transcript,
    ) -> Result<()> {
        let step = commands.first().map_or(Step::MailFrom, |c| step_of(c));
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
                let mut wire = WireWriter::new(sink, false);
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
    pub(super) fn send_data(&mut self, content: &Content) -> Result<()> {
        let result = if self.progress && content.len() >= PROGRESS_FROM_BYTES {
            let mut stream = UploadProgress::new(&mut self.stream, content.len());
            write_dot_stuffed(&mut stream, content)
        } else {
            write_dot_stuffed(&mut self.stream, content)
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
    pub(super) fn reply(&mut self, step: Step, transcript: &mut Transcript) -> Result<Reply> {
        let mut lines = ReplyLines::default();
        loop {
            let line = self.read_line(step)?;
            transcript.server(&line);
            if let Some(reply) = lines.push(line).map_err(|m| malformed(step, m))? {
                return Ok(reply);
            }
        }
    }

    fn read_line(&mut self, step: Step) -> Result<String> {
        loop {
            if let Some(line) = take_line(&mut self.buffer).map_err(|m| malformed(step, m))? {
                return Ok(line);
            }
            // The socket bounds each read by the deadline: a reply that trickles in line by
            // line cannot outlast it.
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

    /// Waits for the greeting and reads it. Over a plain connection the wait is watched: a
    /// server that says nothing may be waiting for a TLS handshake, the client's first word on
    /// an implicit-TLS port.
    ///
    /// RFC 5321 section 4.5.3.2.1 lets a server take up to five minutes over its greeting, and
    /// real ones pause a few seconds (greet pauses against spam, a busy server's listen queue),
    /// so silence alone proves nothing and on most ports the wait runs to the timeout, a
    /// temporary failure that names the likely fix. Port 465 is the exception: RFC 8314
    /// (sections 3.3 and 7.3) gives it to submission over TLS from the first byte, so a server
    /// there that says nothing for `GREETING_PATIENCE` is waiting for a ClientHello, and
    /// waiting longer only delays a configuration error. Nothing is sent to find out: smtpsend
    /// tries no other mode on its own.
    pub(super) fn greeting(
        &mut self,
        endpoint: &Endpoint,
        transcript: &mut Transcript,
    ) -> Result<Reply> {
        let step = Step::Greeting;
        if let Stream::Plain(socket) = &self.stream {
            let first = GREETING_PATIENCE.min(self.timeout);
            let mut heard = socket.speaks_within(first);
            if matches!(heard, Ok(false)) && endpoint.port == IMPLICIT_TLS_PORT {
                self.broken = true;
                return Err(fault(
                    step,
                    Kind::Config,
                    format!(
                        "no greeting from {}:{IMPLICIT_TLS_PORT} within {} s: port \
                         {IMPLICIT_TLS_PORT} speaks TLS from the first byte (RFC 8314) and \
                         the server is waiting for a TLS handshake; nothing was sent",
                        endpoint.host,
                        first.as_secs()
                    ),
                )
                .hint(&format!(
                    "use smtps://{}:{IMPLICIT_TLS_PORT}, or smtp://{}:587 for STARTTLS",
                    endpoint.host, endpoint.host
                )));
            }
            if matches!(heard, Ok(false)) && first < self.timeout {
                transcript.info(&format!(
                    "no greeting after {} s; waiting up to {} s in all",
                    first.as_secs(),
                    self.timeout.as_secs()
                ));
                heard = socket.speaks_within(self.timeout - first);
            }
            let silent = match heard {
                Ok(heard) => !heard,
                Err(err) => return Err(self.io_fault(step, &err)),
            };
            if silent {
                let fault = self.io_fault(step, &io::Error::from(io::ErrorKind::TimedOut));
                // A unix socket has no port to speak TLS on.
                if endpoint.socket.is_some() {
                    return Err(fault);
                }
                return Err(fault.hint(&format!(
                    "a server that says nothing may be waiting for TLS from the first byte: if \
                     port {} is such a port, use smtps://{}:{}",
                    endpoint.port, endpoint.host, endpoint.port
                )));
            }
        }
        self.reply(step, transcript)
    }

    /// EHLO, and HELO when the server refuses EHLO for good and nothing the session needs
    /// takes an extension (RFC 5321 section 3.2: a client must be able to fall back to HELO);
    /// `needs` says what does (STARTTLS, AUTH). Besides the extensions (none after HELO), the
    /// refusal of EHLO when HELO followed it.
    pub(super) fn hello(
        &mut self,
        name: &str,
        needs: Option<&str>,
        transcript: &mut Transcript,
    ) -> Result<(Extensions, Option<Reply>)> {
        // RFC 2033 section 4.1: LMTP greets with LHLO, and has no HELO to fall back to.
        let lmtp = self.protocol == Protocol::Lmtp;
        let hello = if lmtp { "LHLO" } else { "EHLO" };
        self.send(&format!("{hello} {name}"), transcript)?;
        let reply = self.reply(Step::Ehlo, transcript)?;
        if reply.code == 250 {
            return Ok((Extensions::parse(&reply), None));
        }
        if lmtp {
            let fault = refused(Step::Ehlo, reply.clone(), Kind::Unavailable, "LHLO refused");
            return Err(name_hint(name, &reply, fault));
        }
        if !reply.is_permanent() {
            return Err(refused(
                Step::Ehlo,
                reply,
                Kind::Unavailable,
                "EHLO refused",
            ));
        }
        if let Some(needs) = needs {
            let message = format!(
                "the server does not speak ESMTP (EHLO refused: {}); {needs}",
                reply.one_line()
            );
            let mut fault = fault(Step::Ehlo, Kind::Unavailable, message);
            fault.reply = Some(reply.clone());
            return Err(name_hint(name, &reply, fault));
        }
        transcript.info("EHLO refused; greeting with HELO instead (RFC 5321 section 3.2)");
        self.send(&format!("HELO {name}"), transcript)?;
        let helo = self.reply(Step::Ehlo, transcript)?;
        if helo.code != 250 {
            let fault = refused(Step::Ehlo, helo.clone(), Kind::Unavailable, "HELO refused");
            return Err(name_hint(name, &helo, fault));
        }
        Ok((Extensions::default(), Some(reply)))
    }

    pub(super) fn start_tls(
        &mut self,
        config: Arc<ClientConfig>,
        endpoint: &Endpoint,
        // The name the certificate is checked for: the host, unless --tls-server-name.
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
        let connection = tls::client(config, host)?;
        let mut socket = match std::mem::replace(&mut self.stream, Stream::Swapping) {
            Stream::Plain(socket) => socket,
            other => {
                self.stream = other;
                return Err(fault(step, Kind::Internal, "TLS started twice"));
            }
        };
        socket.record();
        let mut secured = StreamOwned::new(connection, socket);
        while secured.conn.is_handshaking() {
            if let Err(err) = secured.conn.complete_io(&mut secured.sock) {
                let heard = secured.sock.recorded();
                if endpoint.security == Security::Implicit
                    && let Some(fault) = plain_smtp_first(endpoint, &heard)
                {
                    self.broken = true;
                    return Err(fault);
                }
                return Err(tls_fault(host, &err).unwrap_or_else(|| self.io_fault(step, &err)));
            }
        }
        secured.sock.recorded();
        let info = tls::negotiated(&secured.conn);
        transcript.info(&format!(
            "TLS established: {}, {}, certificate verified for {host}",
            info.version, info.cipher
        ));
        self.stream = Stream::Tls(Box::new(secured));
        Ok(info)
    }

    /// Says goodbye (RFC 5321 section 4.1.1.10) without waiting for the answer: nothing depends
    /// on it, and some servers hold their 221 until the client closes.
    pub(super) fn quit(&mut self, transcript: &mut Transcript) {
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

/// Whether a refusal of EHLO or HELO looks like one of the name given: a syntax error in the
/// argument (501), a name the server will not take (504, 550, 553), or a reply that says so.
pub(super) fn dislikes_name(reply: &Reply) -> bool {
    let text = reply.one_line().to_ascii_lowercase();
    matches!(reply.code, 501 | 504 | 550 | 553)
        || text.contains("helo")
        || text.contains("hostname")
}

/// A refusal of the name given in EHLO or HELO, with the way to give another.
fn name_hint(name: &str, reply: &Reply, fault: Box<Fault>) -> Box<Fault> {
    if dislikes_name(reply) {
        fault.hint(&format!(
            "the server may not take the name {name}: give this host's public name with \
             --ehlo-name (or hello_name in the account)"
        ))
    } else {
        fault
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

/// The error for a wait at `step` that the timeout ended: what did not come, and for how long.
fn silence(step: Step, secs: u64) -> String {
    match step {
        Step::Greeting => format!("no greeting within {secs} s"),
        Step::TlsHandshake => format!("no answer within {secs} s during the TLS handshake"),
        Step::Message => format!("no reply within {secs} s to the message data"),
        other => format!("no reply within {secs} s to {}", other.describe()),
    }
}

/// What a server that speaks plain SMTP first sends where a TLS handshake was due: its
/// greeting, a reply code and a space or hyphen in ASCII (a TLS record opens with a content
/// type of 20 to 24). A configuration error, not a TLS failure: the URL asks for the wrong mode.
fn plain_smtp_first(endpoint: &Endpoint, heard: &[u8]) -> Option<Box<Fault>> {
    let reply_code = heard.len() >= 4
        && heard[..3].iter().all(u8::is_ascii_digit)
        && matches!(heard[3], b' ' | b'-');
    if !reply_code {
        return None;
    }
    let line = String::from_utf8_lossy(heard);
    let line = line.lines().next().unwrap_or_default();
    Some(
        fault(
            Step::TlsHandshake,
            Kind::Config,
            format!(
                "{}:{} speaks plain SMTP first (it said {line:?} where a TLS handshake was \
                 due), not TLS from the first byte; nothing was sent",
                endpoint.host, endpoint.port
            ),
        )
        .hint(&format!(
            "this server speaks plain SMTP first: use smtp://{}:{} (STARTTLS)",
            endpoint.host, endpoint.port
        )),
    )
}

/// What the server sent at `step` is no reply: a protocol error.
fn malformed(step: Step, malformed: Malformed) -> Box<Fault> {
    let message = match malformed {
        Malformed::Unintelligible(Some(line)) => {
            format!("unintelligible reply while {}: {line:?}", step.describe())
        }
        Malformed::Unintelligible(None) => {
            format!("unintelligible reply while {}", step.describe())
        }
        Malformed::TooLong => format!("reply too long while {}", step.describe()),
    };
    fault(step, Kind::Protocol, message)
}
