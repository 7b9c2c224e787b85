//! TLS in the session: the connection that is plain or encrypted (`Stream`), what was
//! negotiated (`TlsInfo`), and certificate and handshake failures told apart from a lost
//! connection. What is trusted is `trust`'s.

use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::connect::Socket;
use super::delivery::{Fault, Result, Step, TlsInfo, fault};
use super::scram::{ChannelBinding, server_end_point};
use crate::error::Kind;

/// The connection to the server, in the clear or under TLS.
pub(super) enum Stream {
    Plain(Socket),
    Tls(Box<StreamOwned<ClientConnection, Socket>>),
    /// Only while switching from one to the other.
    Swapping,
}

impl Stream {
    pub(super) fn is_encrypted(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// What binds a SCRAM-PLUS exchange to this connection: `tls-exporter` on TLS 1.3
    /// (RFC 9266), `tls-server-end-point` on TLS 1.2 (RFC 5929); None in the clear.
    pub(super) fn channel_binding(&self) -> Option<ChannelBinding> {
        let Stream::Tls(tls) = self else {
            return None;
        };
        match tls.conn.protocol_version()? {
            rustls::ProtocolVersion::TLSv1_3 => tls
                .conn
                .export_keying_material([0u8; 32], b"EXPORTER-Channel-Binding", Some(b""))
                .ok()
                .map(|data| ChannelBinding {
                    kind: "tls-exporter",
                    data: data.to_vec(),
                }),
            rustls::ProtocolVersion::TLSv1_2 => {
                let certificate = tls.conn.peer_certificates()?.first()?;
                server_end_point(certificate).map(|data| ChannelBinding {
                    kind: "tls-server-end-point",
                    data,
                })
            }
            _ => None,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(socket) => socket.read(buf),
            Stream::Tls(tls) => tls.read(buf),
            Stream::Swapping => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(socket) => socket.write(buf),
            Stream::Tls(tls) => tls.write(buf),
            Stream::Swapping => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(socket) => socket.flush(),
            Stream::Tls(tls) => tls.flush(),
            Stream::Swapping => Ok(()),
        }
    }
}

/// A client connection to `host`, ready for the handshake.
pub(super) fn client(config: Arc<ClientConfig>, host: &str) -> Result<ClientConnection> {
    let step = Step::TlsHandshake;
    let name = ServerName::try_from(host.to_string()).map_err(|_| {
        fault(
            step,
            Kind::Usage,
            format!("not a valid TLS server name: {host}"),
        )
    })?;
    ClientConnection::new(config, name)
        .map_err(|err| fault(step, Kind::Internal, format!("TLS setup: {err}")))
}

/// What the handshake settled on, and the certificate the server showed.
pub(super) fn negotiated(connection: &ClientConnection) -> TlsInfo {
    let version = connection.protocol_version().map_or_else(
        || "unknown".to_string(),
        |v| tls_version_name(v).to_string(),
    );
    let cipher = connection
        .negotiated_cipher_suite()
        .map_or_else(|| "unknown".to_string(), |s| format!("{:?}", s.suite()));
    let certificate = connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|der| der.to_vec());
    TlsInfo {
        version,
        cipher,
        certificate,
    }
}

fn tls_version_name(version: rustls::ProtocolVersion) -> &'static str {
    match version {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
        _ => "TLS (old)",
    }
}

/// A certificate or TLS protocol failure, told apart from a lost connection.
pub(super) fn tls_fault(host: &str, err: &io::Error) -> Option<Box<Fault>> {
    if let Some(fault) = client_certificate_refused(Step::TlsHandshake, err) {
        return Some(fault);
    }
    let tls_error = err.get_ref()?.downcast_ref::<rustls::Error>()?;
    let (kind, message) = match tls_error {
        rustls::Error::InvalidCertificate(reason) => (
            Kind::Unavailable,
            format!(
                "the certificate of {host} was rejected: {}",
                certificate_reason(reason)
            ),
        ),
        other => (
            Kind::Unavailable,
            format!("TLS with {host} failed: {other}"),
        ),
    };
    let mut fault = fault(
        Step::TlsHandshake,
        kind,
        format!("{message}; nothing was sent"),
    );
    if crate::trust::is_pin_mismatch(tls_error) {
        fault = fault.hint(
            "`smtpsend check` shows the server's pin; a changed key means a new certificate or \
             someone in between",
        );
    } else if matches!(tls_error, rustls::Error::InvalidCertificate(_)) {
        fault = fault.hint("a server with a private CA needs --ca-file CA.pem");
    }
    Some(fault)
}

/// The server's fatal alert about the client's certificate, or its absence. Under TLS 1.3 the
/// server judges it only after the client has finished the handshake (RFC 8446 section 4.4.2.4),
/// so the alert comes with the first read, the greeting's or EHLO's, not during the handshake.
pub(super) fn client_certificate_refused(step: Step, err: &io::Error) -> Option<Box<Fault>> {
    use rustls::AlertDescription as A;
    let rustls::Error::AlertReceived(alert) = err.get_ref()?.downcast_ref::<rustls::Error>()?
    else {
        return None;
    };
    let (what, hint) = match alert {
        A::CertificateRequired => (
            "the server requires a TLS client certificate",
            "give one with --client-cert PEM",
        ),
        A::BadCertificate
        | A::UnsupportedCertificate
        | A::CertificateRevoked
        | A::CertificateExpired
        | A::CertificateUnknown
        | A::UnknownCA
        | A::AccessDenied => (
            "the server refused the TLS client certificate",
            "the server must trust the CA that signed --client-cert",
        ),
        _ => return None,
    };
    Some(
        fault(
            step,
            Kind::Unavailable,
            format!("{what} ({alert:?}); nothing was sent"),
        )
        .hint(hint),
    )
}

fn certificate_reason(error: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    match error {
        E::UnknownIssuer => "issued by an unknown authority".into(),
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            "not valid for this host name".into()
        }
        E::Expired | E::ExpiredContext { .. } => "expired".into(),
        E::NotValidYet | E::NotValidYetContext { .. } => "not valid yet".into(),
        E::Revoked => "revoked".into(),
        E::Other(other) => other.to_string(),
        other => format!("{other:?}"),
    }
}
