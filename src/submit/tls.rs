//! TLS: the client configuration and its trust anchors (verification is never switched off),
//! the certificate check webpki leaves out (keyUsage on intermediates), the connection that is
//! plain or encrypted (`Stream`), what was negotiated (`TlsInfo`), and certificate and
//! handshake failures told apart from a lost connection.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme,
    StreamOwned,
};

use super::connect::Socket;
use super::delivery::{Fault, Result, Step, TlsInfo, fault};
use crate::error::{Error, Kind};

/// The system's trust anchors, read once per process: reading the bundle and the hashed
/// directory costs milliseconds, and a send that first refreshes an OAuth2 token needs them
/// twice (the token endpoint, then the SMTP server).
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        roots
    })
}

/// Trust anchors: the system's roots plus `--ca-file`. Verification is never switched off.
pub(crate) fn tls_config(
    ca_file: Option<&PathBuf>,
) -> std::result::Result<Arc<ClientConfig>, Error> {
    let mut roots = system_roots().clone();
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|iter| iter.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|err| match err {
                rustls::pki_types::pem::Error::Io(io) => Error::unreadable("--ca-file", path, &io),
                other => Error::new(
                    Kind::NoInput,
                    format!(
                        "--ca-file {}: not a PEM certificate file: {other}",
                        path.display()
                    ),
                ),
            })?;
        if certs.is_empty() {
            return Err(Error::new(
                Kind::NoInput,
                format!("--ca-file {}: no certificates in it", path.display()),
            ));
        }
        let (_, unusable) = roots.add_parsable_certificates(certs);
        if unusable > 0 {
            return Err(Error::new(
                Kind::NoInput,
                format!(
                    "--ca-file {}: {unusable} certificate(s) could not be used",
                    path.display()
                ),
            ));
        }
    }
    if roots.is_empty() {
        return Err(Error::new(
            Kind::Unavailable,
            "no trusted root certificates found on this system",
        )
        .with_hint("install the ca-certificates package or give --ca-file"));
    }
    let setup =
        |err: &dyn std::fmt::Display| Error::new(Kind::Internal, format!("TLS setup: {err}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|err| setup(&err))?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| setup(&err))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(KeyUsageChecked(webpki)))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The webpki verifier, and the check it leaves out: rustls-webpki ignores keyUsage when it
/// builds a path ("For cert validation, we ignore the KeyUsage extension", verify_cert.rs), but
/// a CA whose keyUsage lacks keyCertSign may not sign certificates (RFC 5280 section 4.2.1.3),
/// and OpenSSL refuses a chain through one.
#[derive(Debug)]
struct KeyUsageChecked(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for KeyUsageChecked {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let verified = self.0.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        intermediates.iter().try_for_each(may_sign_certificates)?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// A CA certificate the server sent, checked to be allowed to sign certificates: when it has
/// keyUsage, keyCertSign must be set (RFC 5280 section 4.2.1.3). One that cannot be parsed is
/// refused: the chain the server sends is not ours to guess at.
fn may_sign_certificates(der: &CertificateDer<'_>) -> std::result::Result<(), rustls::Error> {
    let bad = || rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding);
    let (_, certificate) = x509_parser::parse_x509_certificate(der).map_err(|_| bad())?;
    let key_usage = certificate.key_usage().map_err(|_| bad())?;
    match key_usage {
        Some(usage) if certificate.is_ca() && !usage.value.key_cert_sign() => Err(
            rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
                Arc::new(CannotSignCertificates(certificate.subject().to_string())),
            ))),
        ),
        _ => Ok(()),
    }
}

/// An intermediate CA, by subject, whose keyUsage does not allow signing certificates.
#[derive(Debug)]
struct CannotSignCertificates(String);

impl std::fmt::Display for CannotSignCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the intermediate CA {} may not sign certificates: its keyUsage lacks keyCertSign \
             (RFC 5280 4.2.1.3)",
            self.0
        )
    }
}

impl std::error::Error for CannotSignCertificates {}

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
    if matches!(tls_error, rustls::Error::InvalidCertificate(_)) {
        fault = fault.hint("a server with a private CA needs --ca-file CA.pem");
    }
    Some(fault)
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
