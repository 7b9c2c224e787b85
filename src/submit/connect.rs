//! Reaching the server: name resolution, the TCP connection (one IP family or both raced,
//! from a chosen local address, directly or through a SOCKS5 proxy) or the unix socket, and
//! the time limits every wait in the session is bounded by (the per-step timeout and
//! `--deadline`), including the `Socket` that arms them afresh on every read and write. Also
//! the default EHLO name, which comes from how the connection was made.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::mem::MaybeUninit;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use dns_lookup::{AddrInfoHints, LookupError, LookupErrorKind, SockType};
use socket2::{Domain, Protocol, Socket as RawSocket, Type};

use super::delivery::{Fault, Result, Step, fault};
use super::socks;
use super::transcript::Transcript;
use crate::error::Kind;
use crate::reach::{IpFamily, Reach};
use crate::server::Endpoint;

/// RFC 8305 section 5's Connection Attempt Delay: how long an attempt has alone before the
/// next address is tried beside it.
const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// A connection made, and the name this end gives in EHLO when none is set.
pub(super) struct Connected {
    pub(super) socket: RawSocket,
    pub(super) hello_name: String,
}

/// Connects to the endpoint: its unix socket, or its host through the proxy `reach` names, or
/// its host directly.
pub(super) fn connect(
    endpoint: &Endpoint,
    reach: &Reach,
    timeout: Duration,
    deadline: Option<Instant>,
    transcript: &mut Transcript,
) -> Result<Connected> {
    if let Some(path) = &endpoint.socket {
        if reach.proxy.is_some() {
            return Err(fault(
                Step::Connect,
                Kind::Config,
                format!(
                    "{} is a unix socket on this machine, which no proxy can reach: drop --proxy",
                    path.display()
                ),
            ));
        }
        let socket = unix_socket(path, transcript)?;
        return Ok(Connected {
            socket,
            hello_name: qualified_hostname().unwrap_or_else(|| "localhost".to_string()),
        });
    }
    if let Some(proxy) = &reach.proxy {
        // The family and source address are the connection's to the proxy; -4/-6 also choose
        // the server's address when smtpsend resolves it (socks5://).
        let to_proxy = (proxy.host.as_str(), proxy.port);
        let source_family = reach.source_address.map(IpFamily::of);
        let tcp = tcp(
            to_proxy,
            source_family,
            reach.source_address,
            timeout,
            deadline,
            transcript,
        )
        .map_err(|mut fault| {
            fault.error.message = format!("proxy {proxy}: {}", fault.error.message);
            fault
        })?;
        let addresses = match proxy.remote_dns {
            true => Vec::new(),
            false => {
                let addresses = lookup(&endpoint.host, endpoint.port, timeout, deadline)?;
                filtered(addresses, reach.ip_family, &endpoint.host, |f| {
                    format!("{f} only")
                })?
            }
        };
        let socket = socks::open(
            tcp, proxy, endpoint, &addresses, timeout, deadline, transcript,
        )?;
        return Ok(Connected {
            socket,
            // The server sees the proxy's address; this host's name would say who is behind it.
            hello_name: "localhost".to_string(),
        });
    }
    let family = reach.ip_family.or(reach.source_address.map(IpFamily::of));
    let to = (endpoint.host.as_str(), endpoint.port);
    let tcp = tcp(
        to,
        family,
        reach.source_address,
        timeout,
        deadline,
        transcript,
    )?;
    Ok(Connected {
        hello_name: hello_name(&tcp),
        socket: tcp.into(),
    })
}

/// A unix-domain socket on this machine: a server that is not there, or not listening, is
/// down for now; one that this user may not reach is a setting to fix.
fn unix_socket(path: &Path, transcript: &mut Transcript) -> Result<RawSocket> {
    transcript.info(&format!("connecting to {}", path.display()));
    UnixStream::connect(path)
        .map(RawSocket::from)
        .map_err(|err| {
            let kind = match err.kind() {
                io::ErrorKind::PermissionDenied => Kind::Config,
                _ => Kind::Temporary,
            };
            fault(
                Step::Connect,
                kind,
                format!(
                    "cannot connect to {}: {}",
                    path.display(),
                    crate::error::io_reason(&err).to_lowercase()
                ),
            )
        })
}

/// Resolves and connects within the timeout and the deadline, over `family` and from
/// `source`. A name with addresses of both families is reached by Happy
/// Eyeballs (RFC 8305): the addresses interleaved by family, each attempt started
/// `ATTEMPT_DELAY` after the one before or as soon as that one fails, the first connection
/// kept and the others closed as they come in.
fn tcp(
    (host, port): (&str, u16),
    family: Option<IpFamily>,
    source: Option<IpAddr>,
    timeout: Duration,
    deadline: Option<Instant>,
    transcript: &mut Transcript,
) -> Result<TcpStream> {
    let addresses = filtered(
        lookup(host, port, timeout, deadline)?,
        family,
        host,
        |family| match source {
            Some(source) if family == IpFamily::of(source) => {
                format!("the source address {source}")
            }
            _ => format!("{family} only"),
        },
    )?;
    race(
        (host, port),
        &interleave(addresses),
        source,
        timeout,
        deadline,
        transcript,
    )
}

/// The addresses of `host`, looked up within the timeout and the deadline.
fn lookup(
    host: &str,
    port: u16,
    timeout: Duration,
    deadline: Option<Instant>,
) -> Result<Vec<SocketAddr>> {
    let wait = bounded(timeout, deadline).ok_or_else(deadline_passed(Step::Connect))?;
    // Name resolution has no timeout of its own; run it where we can stop waiting for it.
    let (sender, receiver) = mpsc::channel();
    let name = host.to_string();
    std::thread::spawn(move || {
        let _ = sender.send(resolve(&name, port));
    });
    match receiver.recv_timeout(wait) {
        Ok(Ok(addresses)) => Ok(addresses),
        Ok(Err(failure)) => Err(resolve_fault(host, failure)),
        Err(_) => Err(fault(
            Step::Connect,
            Kind::Temporary,
            format!("looking up {host} timed out"),
        )),
    }
}

/// The addresses of `family`, or all of them; none of the family asked for is an error, whose
/// message says what asked for it (`why`).
fn filtered(
    addresses: Vec<SocketAddr>,
    family: Option<IpFamily>,
    host: &str,
    why: impl Fn(IpFamily) -> String,
) -> Result<Vec<SocketAddr>> {
    let kept: Vec<SocketAddr> = addresses
        .into_iter()
        .filter(|a| family.is_none_or(|f| IpFamily::of(a.ip()) == f))
        .collect();
    match family {
        Some(family) if kept.is_empty() => Err(fault(
            Step::Connect,
            Kind::Unavailable,
            format!(
                "{host} has no {family} address, and {} was asked for",
                why(family)
            ),
        )),
        _ => Ok(kept),
    }
}

/// The addresses in the order of their attempts (RFC 8305 section 4): the resolver's order
/// (RFC 6724's preference) within each family, the families taking turns, the family of the
/// resolver's first choice first.
fn interleave(addresses: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let Some(first) = addresses.first() else {
        return addresses;
    };
    let first_family = IpFamily::of(first.ip());
    let (mut first, mut other): (VecDeque<_>, VecDeque<_>) = addresses
        .into_iter()
        .partition(|a| IpFamily::of(a.ip()) == first_family);
    let mut ordered = Vec::with_capacity(first.len() + other.len());
    while !first.is_empty() || !other.is_empty() {
        ordered.extend(first.pop_front());
        ordered.extend(other.pop_front());
    }
    ordered
}

/// Why one attempt failed: the local address could not be taken, or the server not reached.
enum AttemptFailure {
    Bind(io::Error),
    Connect(io::Error),
}

/// One connection attempt from `source`, if given, bounded by `wait`.
fn attempt(
    address: SocketAddr,
    source: Option<IpAddr>,
    wait: Duration,
) -> std::result::Result<TcpStream, AttemptFailure> {
    let Some(source) = source else {
        return TcpStream::connect_timeout(&address, wait).map_err(AttemptFailure::Connect);
    };
    let socket = RawSocket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )
    .map_err(AttemptFailure::Connect)?;
    socket
        .bind(&SocketAddr::new(source, 0).into())
        .map_err(AttemptFailure::Bind)?;
    socket
        .connect_timeout(&address.into(), wait)
        .map_err(AttemptFailure::Connect)?;
    Ok(socket.into())
}

/// The attempts of Happy Eyeballs, started in `addresses`' order; the first connection wins.
fn race(
    (host, port): (&str, u16),
    addresses: &[SocketAddr],
    source: Option<IpAddr>,
    timeout: Duration,
    deadline: Option<Instant>,
    transcript: &mut Transcript,
) -> Result<TcpStream> {
    // An attempt that connects after the race is won finds the receiver gone and its stream
    // is dropped, which closes it.
    let (sender, receiver) = mpsc::channel();
    let mut pending = addresses.iter();
    let mut running = 0;
    let mut last_error = None;
    loop {
        if let Some(&address) = pending.next() {
            let wait = bounded(timeout, deadline).ok_or_else(deadline_passed(Step::Connect))?;
            transcript.info(&format!("connecting to {address}"));
            let sender = sender.clone();
            std::thread::spawn(move || {
                let _ = sender.send((address, attempt(address, source, wait)));
            });
            running += 1;
        }
        if running == 0 {
            break;
        }
        // While addresses are left, an attempt has ATTEMPT_DELAY before the next starts; the
        // last ones are each bounded by their own wait.
        let outcome = if pending.len() > 0 {
            receiver.recv_timeout(ATTEMPT_DELAY).ok()
        } else {
            receiver.recv().ok()
        };
        let Some((address, result)) = outcome else {
            continue;
        };
        running -= 1;
        match result {
            Ok(stream) => {
                if addresses.len() > 1 {
                    transcript.info(&format!("connected to {address}"));
                }
                // Commands are written whole; waiting to coalesce them only adds a delayed-ACK stall.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(AttemptFailure::Bind(err)) => {
                return Err(fault(
                    Step::Connect,
                    Kind::Config,
                    format!(
                        "cannot connect from the source address {}: {}",
                        source.map_or_else(String::new, |s| s.to_string()),
                        crate::error::io_reason(&err).to_lowercase()
                    ),
                ));
            }
            Err(AttemptFailure::Connect(err)) => {
                if addresses.len() > 1 {
                    transcript.info(&format!(
                        "cannot connect to {address}: {}",
                        crate::error::io_reason(&err).to_lowercase()
                    ));
                }
                last_error = Some((address, err));
            }
        }
    }
    // `resolve` gives no empty list, but a name with no address is unknown either way.
    let Some((address, err)) = last_error else {
        return Err(resolve_fault(host, LookupFailure::NoSuchHost));
    };
    let reason = if err.kind() == io::ErrorKind::TimedOut {
        format!("no answer within {} s", timeout.as_secs())
    } else {
        crate::error::io_reason(&err).to_lowercase()
    };
    Err(fault(
        Step::Connect,
        Kind::Temporary,
        format!(
            "cannot connect to {}: {reason}",
            tried(host, port, &address)
        ),
    ))
}

/// The place a connection was tried, said once: `192.0.2.7:587` for an address, and for a
/// name the address it resolved to as well, `mail.example:587 (192.0.2.7)`.
fn tried(host: &str, port: u16, address: &SocketAddr) -> String {
    match host.parse::<IpAddr>() {
        Ok(_) => address.to_string(),
        Err(_) => format!("{host}:{port} ({})", address.ip()),
    }
}

/// Why a name did not resolve, told by getaddrinfo's code rather than by its message, which
/// differs from one C library to the next (glibc's "Temporary failure in name resolution" is
/// musl's "Try again").
#[derive(Debug)]
enum LookupFailure {
    /// EAI_AGAIN: no answer for now (a resolver that timed out, a SERVFAIL); later may bring one.
    TryAgain(String),
    /// EAI_NONAME, EAI_NODATA, EAI_FAIL: the name has no address, and asking again will not
    /// give it one.
    NoSuchHost,
    /// EAI_SYSTEM: a system call failed; errno says which.
    System(io::Error),
    /// Any other code: taken as temporary.
    Other(String),
}

impl From<LookupError> for LookupFailure {
    fn from(err: LookupError) -> Self {
        match err.kind() {
            LookupErrorKind::Again => LookupFailure::TryAgain(err.to_string()),
            LookupErrorKind::NoName | LookupErrorKind::NoData | LookupErrorKind::Fail => {
                LookupFailure::NoSuchHost
            }
            // The error was made from errno when getaddrinfo returned.
            LookupErrorKind::System => LookupFailure::System(err.into()),
            _ => LookupFailure::Other(err.to_string()),
        }
    }
}

/// The addresses of `host` with `port`: an IP address as it is, a name through getaddrinfo
/// (for stream sockets, any family, as `ToSocketAddrs` asks).
fn resolve(host: &str, port: u16) -> std::result::Result<Vec<SocketAddr>, LookupFailure> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if host.contains('\0') {
        // No C string holds it, so no name server knows it.
        return Err(LookupFailure::NoSuchHost);
    }
    let hints = AddrInfoHints {
        socktype: SockType::Stream.into(),
        ..AddrInfoHints::default()
    };
    let found = dns_lookup::getaddrinfo(Some(host), None, Some(hints))?;
    // An entry of a family std cannot represent is skipped, as `ToSocketAddrs` does.
    let addresses: Vec<SocketAddr> = found
        .filter_map(|info| info.ok())
        .map(|info| {
            let mut address = info.sockaddr;
            address.set_port(port);
            address
        })
        .collect();
    if addresses.is_empty() {
        return Err(LookupFailure::NoSuchHost);
    }
    Ok(addresses)
}

fn resolve_fault(host: &str, failure: LookupFailure) -> Box<Fault> {
    let (kind, message) = match failure {
        LookupFailure::NoSuchHost => (Kind::Unavailable, format!("unknown host {host}")),
        LookupFailure::TryAgain(reason) | LookupFailure::Other(reason) => {
            (Kind::Temporary, format!("cannot look up {host}: {reason}"))
        }
        LookupFailure::System(err) => (
            Kind::Temporary,
            format!(
                "cannot look up {host}: {}",
                crate::error::io_reason(&err).to_lowercase()
            ),
        ),
    };
    fault(Step::Connect, kind, message)
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
fn hello_name(stream: &TcpStream) -> String {
    if let Some(name) = qualified_hostname() {
        return name;
    }
    match stream.local_addr().map(|a| a.ip()) {
        Ok(IpAddr::V4(ip)) => format!("[{ip}]"),
        Ok(IpAddr::V6(ip)) => format!("[IPv6:{ip}]"),
        Err(_) => "[127.0.0.1]".to_string(),
    }
}

/// This host's name, when it is a fully qualified domain name.
fn qualified_hostname() -> Option<String> {
    let hostname = gethostname::gethostname().to_string_lossy().into_owned();
    (hostname.contains('.')
        && hostname
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
    .then_some(hostname)
}

/// The connection (TCP or a unix socket), each read and write on it bounded by the per-step timeout and by what
/// is left before the deadline, armed afresh for every system call: a socket timeout starts
/// again whenever a call moves a byte, so a server that trickles its replies, or reads the
/// message a little at a time, or not at all, can hold no call past `--deadline`.
pub(super) struct Socket {
    inner: RawSocket,
    timeout: Duration,
    deadline: Option<Instant>,
    /// The first bytes read since `record` was called, while recording: what a server said
    /// where a TLS handshake was due.
    recording: Option<Vec<u8>>,
}

/// How much `Socket::record` keeps: enough for a reply code and the start of its text.
const RECORDED_BYTES: usize = 80;

impl Socket {
    pub(super) fn new(inner: RawSocket, timeout: Duration, deadline: Option<Instant>) -> Self {
        Socket {
            inner,
            timeout,
            deadline,
            recording: None,
        }
    }

    /// The connection itself, for a session to come (after the SOCKS handshake).
    pub(super) fn into_inner(self) -> RawSocket {
        self.inner
    }

    /// Keeps the first bytes read from now on, until `recorded` takes them.
    pub(super) fn record(&mut self) {
        self.recording = Some(Vec::new());
    }

    pub(super) fn recorded(&mut self) -> Vec<u8> {
        self.recording.take().unwrap_or_default()
    }

    /// Whether the server has sent anything, or closed the connection, within `wait` (and
    /// before the deadline), without reading it: a wait for the greeting that can be told
    /// apart from the reading of it.
    pub(super) fn speaks_within(&self, wait: Duration) -> io::Result<bool> {
        let wait = bounded(wait, self.deadline).ok_or(io::ErrorKind::TimedOut)?;
        self.inner.set_read_timeout(Some(wait))?;
        loop {
            match self.inner.peek(&mut [MaybeUninit::uninit(); 1]) {
                Ok(_) => return Ok(true),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(false);
                }
                Err(err) => return Err(err),
            }
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
        self.inner.set_read_timeout(self.wait()?)?;
        let read = self.inner.read(buf)?;
        if let Some(recording) = &mut self.recording {
            let room = RECORDED_BYTES.saturating_sub(recording.len());
            recording.extend_from_slice(&buf[..read.min(room)]);
        }
        Ok(read)
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.set_write_timeout(self.wait()?)?;
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exit code and message the failure getaddrinfo gives as `code` ends in.
    fn looked_up(code: i32) -> (u8, String) {
        let fault = resolve_fault("mail.example", LookupFailure::from(LookupError::new(code)));
        (fault.error.kind.exit_code(), fault.error.message)
    }

    #[test]
    fn lookup_failures_are_told_by_their_code() {
        // EAI_AGAIN: a resolver hiccup is temporary and queued, whatever libc calls it.
        let (code, message) = looked_up(libc::EAI_AGAIN);
        assert_eq!(code, 75);
        assert!(
            message.starts_with("cannot look up mail.example: "),
            "{message}"
        );
        // No such name, no address for it, or an answer saying so for good: permanent.
        for eai in [libc::EAI_NONAME, libc::EAI_NODATA, libc::EAI_FAIL] {
            assert_eq!(
                looked_up(eai),
                (69, "unknown host mail.example".into()),
                "{eai}"
            );
        }
        // EAI_SYSTEM reports errno; it and any other code are temporary.
        for eai in [
            libc::EAI_SYSTEM,
            libc::EAI_MEMORY,
            libc::EAI_FAMILY,
            libc::EAI_SERVICE,
            libc::EAI_BADFLAGS,
            -12345,
        ] {
            let (code, message) = looked_up(eai);
            assert_eq!(code, 75, "{eai}: {message}");
            assert!(
                message.starts_with("cannot look up mail.example: "),
                "{message}"
            );
        }
    }

    #[test]
    fn addresses_resolve_without_a_lookup_and_names_through_one() {
        assert_eq!(
            resolve("192.0.2.7", 587).unwrap(),
            ["192.0.2.7:587".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(
            resolve("::1", 465).unwrap(),
            ["[::1]:465".parse::<SocketAddr>().unwrap()]
        );
        let local = resolve("localhost", 25).unwrap();
        assert!(!local.is_empty() && local.iter().all(|a| a.port() == 25 && a.ip().is_loopback()));
        assert!(matches!(
            resolve("a\0b", 25),
            Err(LookupFailure::NoSuchHost)
        ));
    }

    fn addresses(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn the_families_take_turns_the_resolvers_first_choice_first() {
        // RFC 8305 section 4: the first address's family leads; within each family the
        // resolver's order stays.
        assert_eq!(
            interleave(addresses(&[
                "[2001:db8::1]:25",
                "[2001:db8::2]:25",
                "[2001:db8::3]:25",
                "192.0.2.1:25",
                "192.0.2.2:25",
            ])),
            addresses(&[
                "[2001:db8::1]:25",
                "192.0.2.1:25",
                "[2001:db8::2]:25",
                "192.0.2.2:25",
                "[2001:db8::3]:25",
            ])
        );
        assert_eq!(
            interleave(addresses(&[
                "192.0.2.1:25",
                "[2001:db8::1]:25",
                "192.0.2.2:25"
            ])),
            addresses(&["192.0.2.1:25", "[2001:db8::1]:25", "192.0.2.2:25"])
        );
        assert_eq!(
            interleave(addresses(&["192.0.2.1:25", "192.0.2.2:25"])),
            addresses(&["192.0.2.1:25", "192.0.2.2:25"])
        );
        assert!(interleave(Vec::new()).is_empty());
    }

    #[test]
    fn a_refused_address_hands_over_to_the_next_at_once() {
        // A black-holed address, which costs the delay, is tests/network's (it needs a route);
        // a refused one fails at once, and the next starts then, not after the delay.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let started = Instant::now();
        let stream = race(
            ("localhost", open.port()),
            &[closed, open],
            None,
            Duration::from_secs(5),
            None,
            &mut Transcript::new(false),
        );
        assert_eq!(stream.ok().and_then(|s| s.peer_addr().ok()), Some(open));
        assert!(started.elapsed() < ATTEMPT_DELAY, "{:?}", started.elapsed());
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
