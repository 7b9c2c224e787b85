//! Reaching the server: name resolution, the TCP connection, and the time limits every wait
//! in the session is bounded by (the per-step timeout and `--deadline`), including the
//! `Socket` that arms them afresh on every read and write. Also the EHLO name, which comes
//! from the connection's local address.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::delivery::{Fault, Result, Step, fault};
use super::transcript::Transcript;
use crate::error::Kind;
use crate::server::Endpoint;

/// Resolves and connects within the timeout and the deadline.
pub(super) fn connect(
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
pub(super) fn bounded(timeout: Duration, deadline: Option<Instant>) -> Option<Duration> {
    match deadline {
        None => Some(timeout),
        Some(deadline) => {
            let left = deadline.checked_duration_since(Instant::now())?;
            (!left.is_zero()).then(|| left.min(timeout))
        }
    }
}

/// The EHLO argument: our fully qualified name, or our address as a literal (RFC 5321 4.1.4).
pub(super) fn hello_name(stream: &TcpStream) -> String {
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

/// The TCP connection, each read and write on it bounded by the per-step timeout and by what
/// is left before the deadline, armed afresh for every system call: a socket timeout starts
/// again whenever a call moves a byte, so a server that trickles its replies, or reads the
/// message a little at a time, or not at all, can hold no call past `--deadline`.
pub(super) struct Socket {
    tcp: TcpStream,
    timeout: Duration,
    deadline: Option<Instant>,
}

impl Socket {
    pub(super) fn new(tcp: TcpStream, timeout: Duration, deadline: Option<Instant>) -> Self {
        Socket {
            tcp,
            timeout,
            deadline,
        }
    }

    fn wait(&self) -> io::Result<Option<Duration>> {
        bounded(self.timeout, self.deadline)
            .map(Some)
            .ok_or_else(|| io::Error::from(io::ErrorKind::TimedOut))
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tcp.set_read_timeout(self.wait()?)?;
        self.tcp.read(buf)
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tcp.set_write_timeout(self.wait()?)?;
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
