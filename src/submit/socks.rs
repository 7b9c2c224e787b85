//! The SOCKS5 handshake (RFC 1928) over a connection to the proxy: no authentication, then
//! CONNECT to the server by name (socks5h, the proxy resolves it) or by the addresses smtpsend
//! resolved (socks5), the first the proxy reaches. Every read is bounded by the timeout and the
//! deadline and every length the proxy sends is checked, so a proxy that stalls or lies ends
//! the attempt.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use socket2::Socket as RawSocket;

use super::connect::{Socket, bounded};
use super::delivery::{Result, Step, fault};
use super::transcript::Transcript;
use crate::error::Kind;
use crate::reach::Proxy;
use crate::server::Endpoint;

const VERSION: u8 = 5;
/// Method 0x00, NO AUTHENTICATION REQUIRED; 0xFF is NO ACCEPTABLE METHODS (section 3).
const NO_AUTHENTICATION: u8 = 0x00;
const NO_ACCEPTABLE_METHODS: u8 = 0xFF;
const CONNECT: u8 = 0x01;
/// Address types (section 5).
const IPV4: u8 = 0x01;
const DOMAIN_NAME: u8 = 0x03;
const IPV6: u8 = 0x04;

/// The server, as the CONNECT request names it.
enum Target<'a> {
    Name(&'a str, u16),
    Address(SocketAddr),
}

/// Asks the proxy for a connection to the endpoint: by name when the proxy resolves names,
/// else to each of `addresses` in turn on fresh connections until one is granted (a SOCKS
/// connection that failed its CONNECT is closed by the proxy, section 6). The handshake goes
/// through the session's `Socket`, so each read and write is bounded by the timeout and by
/// what is left before the deadline, as the SMTP dialogue after it will be.
pub(super) fn open(
    tcp: TcpStream,
    proxy: &Proxy,
    endpoint: &Endpoint,
    addresses: &[SocketAddr],
    timeout: Duration,
    deadline: Option<Instant>,
    transcript: &mut Transcript,
) -> Result<RawSocket> {
    let at = tcp.peer_addr().map_err(|err| broken(proxy, &err))?;
    let mut socket = Socket::new(tcp.into(), timeout, deadline);
    if proxy.remote_dns {
        transcript.info(&format!(
            "asking {proxy} for {}:{}",
            endpoint.host, endpoint.port
        ));
        handshake(
            &mut socket,
            proxy,
            Target::Name(&endpoint.host, endpoint.port),
        )?;
        return Ok(socket.into_inner());
    }
    let mut last = None;
    for (index, &address) in addresses.iter().enumerate() {
        if index > 0 {
            let wait = bounded(timeout, deadline)
                .ok_or_else(|| broken(proxy, &io::ErrorKind::TimedOut.into()))?;
            let tcp = TcpStream::connect_timeout(&at, wait).map_err(|err| broken(proxy, &err))?;
            socket = Socket::new(tcp.into(), timeout, deadline);
        }
        transcript.info(&format!("asking {proxy} for {address}"));
        match handshake(&mut socket, proxy, Target::Address(address)) {
            Ok(()) => return Ok(socket.into_inner()),
            Err(fault) if fault.error.kind == Kind::Temporary => last = Some(fault),
            Err(fault) => return Err(fault),
        }
    }
    Err(last.unwrap_or_else(|| {
        fault(
            Step::Connect,
            Kind::Temporary,
            format!("{} has no address to ask {proxy} for", endpoint.host),
        )
    }))
}

/// The greeting, the method the proxy chose, the request and its reply.
fn handshake(tcp: &mut Socket, proxy: &Proxy, target: Target) -> Result<()> {
    tcp.write_all(&[VERSION, 1, NO_AUTHENTICATION])
        .map_err(|err| broken(proxy, &err))?;
    let mut chosen = [0u8; 2];
    tcp.read_exact(&mut chosen)
        .map_err(|err| broken(proxy, &err))?;
    match chosen {
        [VERSION, NO_AUTHENTICATION] => {}
        [VERSION, NO_ACCEPTABLE_METHODS] | [VERSION, _] => {
            return Err(fault(
                Step::Connect,
                Kind::Config,
                format!(
                    "the proxy {proxy} wants authentication, and smtpsend speaks SOCKS5 \
                     without it only"
                ),
            ));
        }
        _ => return Err(not_socks5(proxy)),
    }
    tcp.write_all(&request(&target)?)
        .map_err(|err| broken(proxy, &err))?;
    let mut head = [0u8; 4];
    tcp.read_exact(&mut head)
        .map_err(|err| broken(proxy, &err))?;
    let [VERSION, status, _reserved, address_type] = head else {
        return Err(not_socks5(proxy));
    };
    // The bound address that follows (section 6): read past it, by its type's length.
    let length = match address_type {
        IPV4 => 4,
        IPV6 => 16,
        DOMAIN_NAME => {
            let mut length = [0u8; 1];
            tcp.read_exact(&mut length)
                .map_err(|err| broken(proxy, &err))?;
            usize::from(length[0])
        }
        _ => return Err(not_socks5(proxy)),
    };
    let mut bound = [0u8; 255 + 2];
    tcp.read_exact(&mut bound[..length + 2])
        .map_err(|err| broken(proxy, &err))?;
    if status == 0 {
        return Ok(());
    }
    let (kind, reason) = refusal(status);
    let server = match target {
        Target::Name(host, port) => format!("{host}:{port}"),
        Target::Address(address) => address.to_string(),
    };
    Err(fault(
        Step::Connect,
        kind,
        format!("the proxy {proxy} cannot reach {server}: {reason}"),
    ))
}

/// CONNECT's request (section 4): the version, the command, a reserved byte, the address.
fn request(target: &Target) -> Result<Vec<u8>> {
    let mut request = vec![VERSION, CONNECT, 0];
    let port = match *target {
        Target::Name(host, port) => {
            // A name is at most 255 bytes (its length is one byte); a checked host is ASCII
            // and at most 253.
            let length = u8::try_from(host.len()).map_err(|_| {
                fault(
                    Step::Connect,
                    Kind::Usage,
                    format!("{host} is too long a name for SOCKS5"),
                )
            })?;
            match host.parse::<IpAddr>() {
                Ok(IpAddr::V4(ip)) => push_address(&mut request, IPV4, &ip.octets()),
                Ok(IpAddr::V6(ip)) => push_address(&mut request, IPV6, &ip.octets()),
                Err(_) => {
                    request.extend([DOMAIN_NAME, length]);
                    request.extend(host.as_bytes());
                }
            }
            port
        }
        Target::Address(SocketAddr::V4(address)) => {
            push_address(&mut request, IPV4, &address.ip().octets());
            address.port()
        }
        Target::Address(SocketAddr::V6(address)) => {
            push_address(&mut request, IPV6, &address.ip().octets());
            address.port()
        }
    };
    request.extend(port.to_be_bytes());
    Ok(request)
}

fn push_address(request: &mut Vec<u8>, address_type: u8, octets: &[u8]) {
    request.push(address_type);
    request.extend(octets);
}

/// What a reply's status says (section 6), and whether trying later may help: a server that
/// is down or unreachable now may be up later; a proxy whose rules forbid it, or that cannot
/// do what was asked, will not change its mind.
fn refusal(status: u8) -> (Kind, &'static str) {
    match status {
        0x02 => (Kind::Unavailable, "the proxy's rules do not allow it"),
        0x03 => (Kind::Temporary, "network unreachable"),
        0x04 => (Kind::Temporary, "host unreachable"),
        0x05 => (Kind::Temporary, "connection refused"),
        0x06 => (Kind::Temporary, "TTL expired"),
        0x07 => (Kind::Unavailable, "the proxy does not support CONNECT"),
        0x08 => (
            Kind::Unavailable,
            "the proxy does not take this type of address",
        ),
        _ => (Kind::Temporary, "general SOCKS server failure"),
    }
}

fn not_socks5(proxy: &Proxy) -> Box<super::delivery::Fault> {
    fault(
        Step::Connect,
        Kind::Protocol,
        format!("{proxy} does not answer as a SOCKS5 proxy"),
    )
}

fn broken(proxy: &Proxy, err: &io::Error) -> Box<super::delivery::Fault> {
    let reason = if matches!(
        err.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    ) {
        "no answer in time".to_string()
    } else if err.kind() == io::ErrorKind::UnexpectedEof {
        "it closed the connection".to_string()
    } else {
        crate::error::io_reason(err).to_lowercase()
    };
    fault(
        Step::Connect,
        Kind::Temporary,
        format!("the proxy {proxy} broke off the SOCKS5 handshake: {reason}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    fn proxy_at(listener: &TcpListener, remote_dns: bool) -> Proxy {
        Proxy {
            host: "127.0.0.1".into(),
            port: listener.local_addr().unwrap().port(),
            remote_dns,
        }
    }

    /// A proxy that reads the greeting and the request and answers with `reply`, handing the
    /// request back.
    fn scripted(reply: Vec<u8>) -> (Proxy, thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy = proxy_at(&listener, true);
        let handle = thread::spawn(move || {
            let (mut client, _) = listener.accept().unwrap();
            let mut greeting = [0u8; 3];
            client.read_exact(&mut greeting).unwrap();
            assert_eq!(greeting, [5, 1, 0]);
            client.write_all(&[5, 0]).unwrap();
            let mut request = vec![0u8; 4 + 1 + 16 + 2];
            let read = client.read(&mut request).unwrap();
            request.truncate(read);
            client.write_all(&reply).unwrap();
            request
        });
        (proxy, handle)
    }

    fn open_with(proxy: &Proxy, timeout: Duration, deadline: Option<Instant>) -> Result<RawSocket> {
        let tcp = TcpStream::connect((proxy.host.as_str(), proxy.port)).unwrap();
        let endpoint = Endpoint::parse_url("smtp://mail.example:587", "x").unwrap();
        let mut transcript = Transcript::new(false);
        open(
            tcp,
            proxy,
            &endpoint,
            &[],
            timeout,
            deadline,
            &mut transcript,
        )
    }

    #[test]
    fn names_go_to_the_proxy_to_resolve() {
        let (proxy, handle) = scripted(vec![5, 0, 0, 1, 10, 0, 0, 1, 0, 25]);
        assert!(open_with(&proxy, Duration::from_secs(5), None).is_ok());
        let request = handle.join().unwrap();
        let mut expected = vec![5, 1, 0, 3, 12];
        expected.extend(b"mail.example");
        expected.extend(587u16.to_be_bytes());
        assert_eq!(request, expected);
    }

    #[test]
    fn refusals_say_whether_to_try_again() {
        for (status, exit) in [(0x05, 75), (0x04, 75), (0x02, 69), (0x07, 69), (0x01, 75)] {
            let (proxy, handle) = scripted(vec![5, status, 0, 1, 0, 0, 0, 0, 0, 0]);
            let fault = open_with(&proxy, Duration::from_secs(5), None).unwrap_err();
            handle.join().unwrap();
            assert_eq!(fault.error.exit_code(), exit, "{}", fault.error.message);
            assert!(fault.error.message.contains("mail.example:587"));
        }
    }

    #[test]
    fn a_proxy_that_is_no_socks5_proxy_or_wants_a_password_is_told() {
        for (answer, exit) in [(&b"HTTP/1.1 400"[..], 76), (&[5u8, 0xFF][..], 78)] {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let proxy = proxy_at(&listener, true);
            let answer = answer.to_vec();
            let handle = thread::spawn(move || {
                let (mut client, _) = listener.accept().unwrap();
                let mut greeting = [0u8; 3];
                client.read_exact(&mut greeting).unwrap();
                client.write_all(&answer).unwrap();
            });
            let fault = open_with(&proxy, Duration::from_secs(5), None).unwrap_err();
            handle.join().unwrap();
            assert_eq!(fault.error.exit_code(), exit, "{}", fault.error.message);
        }
    }

    #[test]
    fn a_silent_proxy_costs_the_wait_and_no_more() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy = proxy_at(&listener, true);
        let tcp = TcpStream::connect((proxy.host.as_str(), proxy.port)).unwrap();
        let _held = listener.accept().unwrap();
        let endpoint = Endpoint::parse_url("smtp://mail.example", "x").unwrap();
        let started = Instant::now();
        let mut transcript = Transcript::new(false);
        let fault = open(
            tcp,
            &proxy,
            &endpoint,
            &[],
            Duration::from_millis(300),
            None,
            &mut transcript,
        )
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(fault.error.exit_code(), 75);
        assert!(fault.error.message.contains("no answer in time"));
    }

    #[test]
    fn a_slow_proxy_is_held_to_the_deadline_over_every_read() {
        // The method comes after 400 ms, then nothing: each read alone is within the timeout,
        // the deadline (600 ms) ends the handshake, not 400 ms plus a fresh wait.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy = proxy_at(&listener, true);
        let handle = thread::spawn(move || {
            let (mut client, _) = listener.accept().unwrap();
            let mut greeting = [0u8; 3];
            client.read_exact(&mut greeting).unwrap();
            thread::sleep(Duration::from_millis(400));
            client.write_all(&[5, 0]).unwrap();
            let _ = client.read(&mut [0u8; 64]);
            thread::sleep(Duration::from_secs(1));
        });
        let started = Instant::now();
        let deadline = started + Duration::from_millis(600);
        let fault = open_with(&proxy, Duration::from_secs(5), Some(deadline)).unwrap_err();
        let took = started.elapsed();
        assert!(took < Duration::from_millis(900), "{took:?}");
        assert_eq!(fault.error.exit_code(), 75);
        assert!(
            fault.error.message.contains("no answer in time"),
            "{}",
            fault.error.message
        );
        handle.join().unwrap();
    }
}
