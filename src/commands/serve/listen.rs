//! Where `serve` listens: TCP addresses, unix sockets, or the sockets systemd hands over
//! (sd_listen_fds(3): `LISTEN_PID`, `LISTEN_FDS`, descriptors from 3); the wait for a client
//! or a signal, which one poll(2) does, so SIGTERM and SIGHUP are seen at once and no thread
//! sits in accept(2) forever; and the sessions open, counted and, when stopping, cut short
//! between transactions.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::serve::ListenAddr;
use crate::error::{Error, Kind};

/// A listening socket.
pub enum Listener {
    Tcp(TcpListener),
    /// The path is removed at the end when we made the socket.
    Unix(UnixListener, Option<PathBuf>),
}

/// A client just accepted.
pub struct Client {
    pub stream: ClientStream,
    /// For the log: ADDRESS:PORT, or `unix` with the peer's user id.
    pub peer: String,
    /// On a unix socket, the user at the other end, as the kernel says (SO_PEERCRED).
    pub peer_uid: Option<u32>,
}

pub enum ClientStream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Listener {
    pub fn bind(addr: &ListenAddr) -> Result<Listener, Error> {
        let cannot = |err: std::io::Error| {
            Error::new(Kind::Unavailable, format!("cannot listen on {addr}: {err}"))
        };
        match addr {
            ListenAddr::Tcp(addr) => TcpListener::bind(addr).map(Listener::Tcp).map_err(cannot),
            ListenAddr::Unix(path) => {
                // A socket file left by a relay that was killed: nobody answers on it.
                if std::fs::symlink_metadata(path)
                    .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
                    && UnixStream::connect(path).is_err()
                {
                    let _ = std::fs::remove_file(path);
                }
                UnixListener::bind(path)
                    .map(|listener| Listener::Unix(listener, Some(path.clone())))
                    .map_err(cannot)
            }
        }
    }

    /// The sockets systemd passed this process, if it passed any (sd_listen_fds(3)). The
    /// delivery's child processes are started without the variables (`deliver`).
    pub fn from_systemd(var: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Listener>, Error> {
        let ours = var("LISTEN_PID").is_some_and(|pid| pid == std::process::id().to_string());
        let count: RawFd = var("LISTEN_FDS").and_then(|n| n.parse().ok()).unwrap_or(0);
        if !ours {
            return Ok(Vec::new());
        }
        (3..3 + count)
            .map(|fd| {
                // SAFETY: systemd passed these descriptors to this process to own.
                let socket = socket2::Socket::from(unsafe { OwnedFd::from_raw_fd(fd) });
                let local = socket.local_addr().map_err(|err| {
                    Error::new(
                        Kind::Config,
                        format!("descriptor {fd} from systemd is not a socket: {err}"),
                    )
                })?;
                // Passed without close-on-exec; our child processes have no use for it.
                let _ = socket.set_cloexec(true);
                Ok(if local.is_unix() {
                    Listener::Unix(UnixListener::from(OwnedFd::from(socket)), None)
                } else {
                    Listener::Tcp(TcpListener::from(socket))
                })
            })
            .collect()
    }

    /// Whether only this machine can reach it: a loopback address or a unix socket.
    pub fn is_local(&self) -> bool {
        match self {
            Listener::Tcp(listener) => listener.local_addr().is_ok_and(|a| a.ip().is_loopback()),
            Listener::Unix(..) => true,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Listener::Tcp(listener) => listener
                .local_addr()
                .map_or_else(|_| "a TCP socket".into(), |a| a.to_string()),
            Listener::Unix(listener, _) => listener
                .local_addr()
                .ok()
                .and_then(|a| a.as_pathname().map(|p| format!("unix:{}", p.display())))
                .unwrap_or_else(|| "a unix socket".into()),
        }
    }

    fn fd(&self) -> RawFd {
        match self {
            Listener::Tcp(listener) => listener.as_raw_fd(),
            Listener::Unix(listener, _) => listener.as_raw_fd(),
        }
    }

    fn set_nonblocking(&self) -> std::io::Result<()> {
        match self {
            Listener::Tcp(listener) => listener.set_nonblocking(true),
            Listener::Unix(listener, _) => listener.set_nonblocking(true),
        }
    }

    /// The next client waiting, if one is.
    pub fn accept(&self) -> std::io::Result<Option<Client>> {
        let accepted = match self {
            Listener::Tcp(listener) => listener.accept().map(|(stream, peer)| Client {
                stream: ClientStream::Tcp(stream),
                peer: peer.to_string(),
                peer_uid: None,
            }),
            Listener::Unix(listener, _) => listener.accept().map(|(stream, _)| {
                let credentials = peer_credentials(&stream);
                Client {
                    peer: credentials.map_or_else(
                        || "unix".into(),
                        |c| format!("unix uid={} pid={}", c.uid, c.pid),
                    ),
                    peer_uid: credentials.map(|c| c.uid),
                    stream: ClientStream::Unix(stream),
                }
            }),
        };
        match accepted {
            Ok(client) => Ok(Some(client)),
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Removes the socket file we made.
    pub fn remove(&self) {
        if let Listener::Unix(_, Some(path)) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Who is on the other end of a unix socket (SO_PEERCRED, unix(7)).
fn peer_credentials(stream: &UnixStream) -> Option<libc::ucred> {
    let mut credentials = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut length = libc::socklen_t::try_from(std::mem::size_of::<libc::ucred>()).unwrap_or(0);
    // SAFETY: getsockopt writes at most `length` bytes into the ucred it is given.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&raw mut credentials).cast(),
            &raw mut length,
        )
    };
    (rc == 0).then_some(credentials)
}

/// What the wait for clients was woken by.
pub struct Signals {
    stop: Arc<AtomicBool>,
    reload: Arc<AtomicBool>,
    wake: UnixStream,
}

impl Signals {
    /// SIGTERM and SIGINT stop; SIGHUP reloads. Each also writes to a pipe that the poll
    /// watches (the self-pipe of signal-hook), so the wait ends at once.
    pub fn register() -> Result<Signals, Error> {
        let failed = |err: std::io::Error| {
            Error::new(Kind::IoError, format!("cannot handle signals: {err}"))
        };
        let (wake, writer) = UnixStream::pair().map_err(failed)?;
        wake.set_nonblocking(true).map_err(failed)?;
        let stop = Arc::new(AtomicBool::new(false));
        let reload = Arc::new(AtomicBool::new(false));
        for (signal, flag) in [
            (signal_hook::consts::SIGTERM, &stop),
            (signal_hook::consts::SIGINT, &stop),
            (signal_hook::consts::SIGHUP, &reload),
        ] {
            signal_hook::flag::register(signal, Arc::clone(flag)).map_err(failed)?;
            let writer = writer.try_clone().map_err(failed)?;
            signal_hook::low_level::pipe::register(signal, writer).map_err(failed)?;
        }
        Ok(Signals { stop, reload, wake })
    }

    /// What sessions watch to end between transactions.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Whether SIGHUP came since the last call.
    pub fn take_reload(&self) -> bool {
        self.reload.swap(false, Ordering::SeqCst)
    }

    fn drain(&self) {
        let mut buffer = [0u8; 64];
        while matches!((&self.wake).read(&mut buffer), Ok(n) if n > 0) {}
    }
}

/// Waits until a listener has a client or a signal came; gives the listeners that are ready.
pub fn wait(listeners: &[Listener], signals: &Signals) -> Result<Vec<usize>, Error> {
    let mut fds: Vec<libc::pollfd> = listeners
        .iter()
        .map(|l| l.fd())
        .chain([signals.wake.as_raw_fd()])
        .map(|fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let count = libc::nfds_t::try_from(fds.len()).unwrap_or(0);
    // SAFETY: poll reads and writes exactly `count` pollfd structures of the vector.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), count, -1) };
    if rc < 0 {
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(Error::new(Kind::IoError, format!("poll: {err}")));
        }
    }
    if fds.last().is_some_and(|fd| fd.revents != 0) {
        signals.drain();
    }
    Ok(fds[..listeners.len()]
        .iter()
        .enumerate()
        .filter(|(_, fd)| fd.revents != 0)
        .map(|(at, _)| at)
        .collect())
}

/// Makes every listener non-blocking, so that accepting stops at the last waiting client.
pub fn prepare(listeners: &[Listener]) -> Result<(), Error> {
    for listener in listeners {
        listener.set_nonblocking().map_err(|err| {
            Error::new(
                Kind::IoError,
                format!("cannot set up {}: {err}", listener.describe()),
            )
        })?;
    }
    Ok(())
}

impl ClientStream {
    fn try_clone(&self) -> std::io::Result<ClientStream> {
        Ok(match self {
            ClientStream::Tcp(s) => ClientStream::Tcp(s.try_clone()?),
            ClientStream::Unix(s) => ClientStream::Unix(s.try_clone()?),
        })
    }

    fn shutdown_read(&self) {
        let _ = match self {
            ClientStream::Tcp(s) => s.shutdown(std::net::Shutdown::Read),
            ClientStream::Unix(s) => s.shutdown(std::net::Shutdown::Read),
        };
    }
}

/// The sessions open, each with a handle on its socket and whether it is in a transaction: how
/// many there are (for `max_connections`), and, when the server stops, which may be cut short.
#[derive(Default)]
pub struct Sessions {
    open: std::sync::Mutex<std::collections::HashMap<u64, (ClientStream, Arc<AtomicBool>)>>,
    next: std::sync::atomic::AtomicU64,
}

impl Sessions {
    fn open(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<u64, (ClientStream, Arc<AtomicBool>)>>
    {
        match self.open.lock() {
            Ok(open) => open,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn count(&self) -> usize {
        self.open().len()
    }

    /// Counts a client's session in; gives its id and the flag it keeps while busy.
    pub fn add(&self, client: &Client) -> std::io::Result<(u64, Arc<AtomicBool>)> {
        let handle = client.stream.try_clone()?;
        let busy = Arc::new(AtomicBool::new(false));
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        self.open().insert(id, (handle, Arc::clone(&busy)));
        Ok((id, busy))
    }

    pub fn remove(&self, id: u64) {
        self.open().remove(&id);
    }

    /// Ends the reading of every session between transactions, so that each says its 421 and
    /// closes now rather than when its client next speaks; the busy ones finish first.
    pub fn shut_idle(&self) {
        for (stream, busy) in self.open().values() {
            if !busy.load(Ordering::SeqCst) {
                stream.shutdown_read();
            }
        }
    }
}
