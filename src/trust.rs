//! What a TLS connection trusts, for the SMTP session, the OAuth2 token endpoint and the
//! autoconfiguration documents alike: the system's roots plus `--ca-file`, and the certificate
//! check webpki leaves out (keyUsage on intermediates, RFC 5280 4.2.1.3). Verification is never
//! switched off.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

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

/// An HTTPS client trusting what SMTP trusts: for the OAuth2 endpoints and the mail client
/// autoconfiguration documents alike. It follows no redirect (whoever answers is the one the
/// caller asked) and every request is bounded in time.
pub fn https_agent(tls: Arc<ClientConfig>, timeout: std::time::Duration) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .redirects(0)
        .timeout_connect(timeout)
        .timeout(timeout)
        .tls_config(tls)
        .user_agent(concat!("smtpsend/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Trust anchors: the system's roots plus `--ca-file`. Verification is never switched off.
pub fn tls_config(ca_file: Option<&PathBuf>) -> std::result::Result<Arc<ClientConfig>, Error> {
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
