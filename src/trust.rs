//! What a TLS connection trusts, for the SMTP session, the OAuth2 token endpoint and the
//! autoconfiguration documents alike: the system's roots plus `--ca-file`, and the certificate
//! check webpki leaves out (keyUsage on intermediates, RFC 5280 4.2.1.3). Verification is never
//! switched off. For the SMTP server alone, [`TlsOptions`]: public-key pins checked in addition
//! to the chain (or, with `pin_only`, instead of it), the lowest protocol version, and the name
//! the certificate must carry when it is not the host connected to.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
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
    server_tls_config(ca_file, &TlsOptions::default())
}

/// What the SMTP server's TLS is held to beyond the trust anchors; the default adds nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TlsOptions {
    /// The server's public key must have one of these pins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pins: Vec<Pin>,
    /// The pins replace the chain, the host name and the validity dates.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pin_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<TlsVersion>,
    /// The name verified and sent in SNI instead of the host connected to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// A client certificate (PEM, the chain after it), shown when the server asks for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    /// Its private key (PEM); without it, the key is looked for in `client_cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
}

impl TlsOptions {
    pub fn is_default(&self) -> bool {
        *self == TlsOptions::default()
    }
}

/// Trust anchors and `tls`: the configuration for one SMTP server.
pub fn server_tls_config(
    ca_file: Option<&PathBuf>,
    tls: &TlsOptions,
) -> std::result::Result<Arc<ClientConfig>, Error> {
    let setup =
        |err: &dyn std::fmt::Display| Error::new(Kind::Internal, format!("TLS setup: {err}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // With --tls-pin-only no chain: the pinned key is the server's whole identity.
    let chain = match tls.pin_only {
        true => None,
        false => Some(
            WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(ca_file)?),
                provider.clone(),
            )
            .build()
            .map_err(|err| setup(&err))?,
        ),
    };
    let verifier = Arc::new(Checked {
        chain,
        pins: tls.pins.clone(),
        algorithms: provider.signature_verification_algorithms,
    });
    let versions: &[&rustls::SupportedProtocolVersion] = match tls.min_version {
        Some(TlsVersion::V1_3) => &[&rustls::version::TLS13],
        Some(TlsVersion::V1_2) | None => rustls::DEFAULT_VERSIONS,
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|err| setup(&err))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match &tls.client_cert {
        Some(cert) => {
            let key = tls.client_key.as_ref().unwrap_or(cert);
            let (chain, key_der) = identity(cert, key, ["--client-cert", "--client-key"])?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|err| {
                    Error::new(
                        Kind::NoInput,
                        format!("--client-key {}: not usable: {err}", key.display()),
                    )
                })?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The TLS configuration `serve` offers STARTTLS with (RFC 3207): its certificate chain and
/// key, TLS 1.2 and 1.3, no client certificates.
pub fn listener_tls_config(
    cert: &PathBuf,
    key: &PathBuf,
) -> std::result::Result<Arc<rustls::ServerConfig>, Error> {
    let (chain, key_der) = identity(cert, key, ["tls_cert", "tls_key"])?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::DEFAULT_VERSIONS)
        .map_err(|err| Error::new(Kind::Internal, format!("TLS setup: {err}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map(Arc::new)
        .map_err(|err| {
            Error::new(
                Kind::NoInput,
                format!("tls_key {}: not usable: {err}", key.display()),
            )
        })
}

/// A certificate chain and its private key, from PEM files (they may be one file); `names`
/// are what the setting of each is called, for the errors.
fn identity(
    cert: &PathBuf,
    key: &PathBuf,
    names: [&str; 2],
) -> std::result::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Error> {
    let [cert_name, key_name] = names;
    let pem = |flag: &str, path: &PathBuf, err: rustls::pki_types::pem::Error| match err {
        rustls::pki_types::pem::Error::Io(io) => Error::unreadable(flag, path, &io),
        other => Error::new(
            Kind::NoInput,
            format!("{flag} {}: not a PEM file: {other}", path.display()),
        ),
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|iter| iter.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|err| pem(cert_name, cert, err))?;
    if chain.is_empty() {
        return Err(Error::new(
            Kind::NoInput,
            format!("{cert_name} {}: no certificate in it", cert.display()),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|err| match err {
        rustls::pki_types::pem::Error::NoItemsFound => Error::new(
            Kind::NoInput,
            format!("{key_name} {}: no private key in it", key.display()),
        ),
        other => pem(key_name, key, other),
    })?;
    Ok((chain, key))
}

/// A private key file others may read, said as a warning as for a password in the
/// configuration file; None when only its owner can read it.
pub fn readable_key_warning(path: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "the client key {} can be read by others (mode {:o}): chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        )
    })
}

/// The system's roots plus `--ca-file`'s certificates; none at all is an error.
fn roots(ca_file: Option<&PathBuf>) -> std::result::Result<RootCertStore, Error> {
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
    Ok(roots)
}

/// The server's certificate as smtpsend checks it. The chain by webpki, and the check it
/// leaves out: rustls-webpki ignores keyUsage when it builds a path ("For cert validation, we
/// ignore the KeyUsage extension", verify_cert.rs), but a CA whose keyUsage lacks keyCertSign
/// may not sign certificates (RFC 5280 section 4.2.1.3), and OpenSSL refuses a chain through
/// one. Then the pins, if any. Without a chain (`--tls-pin-only`) the pinned key is the
/// server's whole identity, as with msmtp's `tls_fingerprint` or an SSH host key: no CA, host
/// name or dates are checked, but the handshake's signature still proves the server holds that
/// key, and without pins nothing would be trusted.
#[derive(Debug)]
struct Checked {
    chain: Option<Arc<WebPkiServerVerifier>>,
    pins: Vec<Pin>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Checked {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        if let Some(chain) = &self.chain {
            chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)?;
            intermediates.iter().try_for_each(may_sign_certificates)?;
        }
        if self.chain.is_none() || !self.pins.is_empty() {
            pinned(&self.pins, end_entity)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
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

/// Serde through the text form, as the outbox and flags write it: `FromStr` to read, `Display`
/// to write (for `#[serde(try_from = "String", into = "String")]`).
macro_rules! serde_as_text {
    ($type:ty) => {
        impl TryFrom<String> for $type {
            type Error = String;

            fn try_from(value: String) -> std::result::Result<$type, String> {
                value.parse()
            }
        }

        impl From<$type> for String {
            fn from(value: $type) -> String {
                value.to_string()
            }
        }
    };
}

/// The SHA-256 digest of a certificate's SubjectPublicKeyInfo, written `sha256//BASE64` as curl's
/// `--pinnedpubkey` and HPKP (RFC 7469 section 2.4) write it: it stays the same when a
/// certificate is renewed with the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pin([u8; 32]);

impl Pin {
    /// The pin of a DER certificate's public key; None when it cannot be parsed.
    pub fn of_certificate(der: &[u8]) -> Option<Pin> {
        use sha2::Digest;
        let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
        Some(Pin(
            sha2::Sha256::digest(certificate.public_key().raw).into()
        ))
    }
}

impl std::str::FromStr for Pin {
    type Err = String;

    fn from_str(value: &str) -> std::result::Result<Pin, String> {
        use base64::Engine;
        let wrong = || {
            format!(
                "{value:?} is not a pin: expected sha256// and 44 characters of base64 (`smtpsend check` shows the server's)"
            )
        };
        let encoded = value.trim().strip_prefix("sha256//").ok_or_else(wrong)?;
        let digest = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| wrong())?;
        digest.try_into().map(Pin).map_err(|_| wrong())
    }
}

impl std::fmt::Display for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(self.0);
        write!(f, "sha256//{encoded}")
    }
}

serde_as_text!(Pin);

/// The lowest TLS version accepted. rustls speaks 1.2 and 1.3 only, so there is nothing lower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum TlsVersion {
    V1_2,
    V1_3,
}

impl std::str::FromStr for TlsVersion {
    type Err = String;

    fn from_str(value: &str) -> std::result::Result<TlsVersion, String> {
        let number = value.trim();
        let number = number
            .strip_prefix("TLSv")
            .or_else(|| number.strip_prefix("tlsv"))
            .unwrap_or(number);
        match number {
            "1.2" => Ok(TlsVersion::V1_2),
            "1.3" => Ok(TlsVersion::V1_3),
            "1.0" | "1" | "1.1" => Err(format!(
                "TLS {number} cannot be chosen: smtpsend speaks only TLS 1.2 and 1.3 (older \
                 versions are broken, RFC 8996)"
            )),
            _ => Err(format!(
                "{value:?} is not a TLS version: expected 1.2 or 1.3"
            )),
        }
    }
}

impl std::fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TlsVersion::V1_2 => "1.2",
            TlsVersion::V1_3 => "1.3",
        })
    }
}

serde_as_text!(TlsVersion);

/// A name the certificate can be checked against and sent in SNI: a DNS name or an IP address.
pub fn parse_server_name(value: &str) -> std::result::Result<String, String> {
    ServerName::try_from(value)
        .map(|_| value.to_string())
        .map_err(|_| format!("{value:?} is not a host name or IP address"))
}

/// The server's key is one of `pins`, or the certificate is refused naming the pin it has.
fn pinned(pins: &[Pin], end_entity: &CertificateDer<'_>) -> std::result::Result<(), rustls::Error> {
    let seen = Pin::of_certificate(end_entity).ok_or(rustls::Error::InvalidCertificate(
        rustls::CertificateError::BadEncoding,
    ))?;
    if pins.contains(&seen) {
        return Ok(());
    }
    Err(rustls::Error::InvalidCertificate(
        rustls::CertificateError::Other(rustls::OtherError(Arc::new(PinMismatch(seen)))),
    ))
}

/// The server's public key has none of the pins given.
#[derive(Debug)]
pub struct PinMismatch(Pin);

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "its public key is {}, not a pinned one", self.0)
    }
}

impl std::error::Error for PinMismatch {}

/// Whether a TLS failure is a pin that did not match.
pub fn is_pin_mismatch(error: &rustls::Error) -> bool {
    matches!(
        error,
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other))
            if other.0.downcast_ref::<PinMismatch>().is_some()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIN: &str = "sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    /// What a refused certificate's error says, as `submit::tls` shows it.
    fn reason(error: &rustls::Error) -> String {
        match error {
            rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) => {
                other.to_string()
            }
            other => panic!("not a certificate refused by us: {other}"),
        }
    }

    #[test]
    fn a_pin_is_read_and_written_the_same() {
        let pin: Pin = PIN.parse().unwrap();
        assert_eq!(pin.0[31], 31);
        assert_eq!(pin.to_string(), PIN);
    }

    #[test]
    fn a_pin_without_its_algorithm_or_of_the_wrong_length_is_refused() {
        for wrong in [
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            "sha1//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            "sha256//AAECAw==",
            "sha256//not base64!",
        ] {
            let reason = wrong.parse::<Pin>().unwrap_err();
            assert!(reason.contains("sha256//"), "{reason}");
        }
    }

    #[test]
    fn a_certificate_matches_the_pin_of_its_key_and_names_it_otherwise() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let der = CertificateDer::from(cert.der().to_vec());
        let pin = Pin::of_certificate(&der).unwrap();
        use rcgen::PublicKeyData;
        use sha2::Digest;
        assert_eq!(
            pin.0,
            <[u8; 32]>::from(sha2::Sha256::digest(key.subject_public_key_info()))
        );
        assert!(pinned(&[pin], &der).is_ok());
        let other: Pin = PIN.parse().unwrap();
        let refused = pinned(&[other], &der).unwrap_err();
        assert!(is_pin_mismatch(&refused));
        assert!(reason(&refused).contains(&pin.to_string()), "{refused}");
    }

    #[test]
    fn versions_below_1_2_are_refused_by_name() {
        assert_eq!("1.3".parse(), Ok(TlsVersion::V1_3));
        assert_eq!("TLSv1.2".parse(), Ok(TlsVersion::V1_2));
        for old in ["1.0", "1.1"] {
            let reason = old.parse::<TlsVersion>().unwrap_err();
            assert!(reason.contains("only TLS 1.2 and 1.3"), "{reason}");
        }
        assert!(
            "2".parse::<TlsVersion>()
                .unwrap_err()
                .contains("expected 1.2 or 1.3")
        );
    }

    /// A handshake in memory between a client with `tls` and a server speaking only
    /// `server_versions` with a self-signed certificate for localhost.
    fn handshake(
        tls: &TlsOptions,
        server_versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> (
        Pin,
        std::result::Result<Option<rustls::ProtocolVersion>, rustls::Error>,
    ) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let pin = Pin::of_certificate(cert.der()).unwrap();
        let mut tls = tls.clone();
        if tls.pins.is_empty() {
            tls.pins = vec![pin];
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(server_versions)
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        let mut server = rustls::ServerConnection::new(Arc::new(server)).unwrap();
        let config = server_tls_config(None, &tls).unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let mut client = rustls::ClientConnection::new(config, name).unwrap();
        let mut wire = Vec::new();
        for _ in 0..10 {
            wire.clear();
            client.write_tls(&mut wire).unwrap();
            server.read_tls(&mut wire.as_slice()).unwrap();
            if let Err(err) = server.process_new_packets() {
                let mut alert = Vec::new();
                server.write_tls(&mut alert).unwrap();
                client.read_tls(&mut alert.as_slice()).unwrap();
                return (pin, Err(client.process_new_packets().err().unwrap_or(err)));
            }
            wire.clear();
            server.write_tls(&mut wire).unwrap();
            client.read_tls(&mut wire.as_slice()).unwrap();
            if let Err(err) = client.process_new_packets() {
                return (pin, Err(err));
            }
            if !client.is_handshaking() {
                return (pin, Ok(client.protocol_version()));
            }
        }
        panic!("the handshake did not end");
    }

    #[test]
    fn tls_1_3_minimum_refuses_a_server_of_1_2() {
        let only_1_2 = [&rustls::version::TLS12];
        let min = |version| TlsOptions {
            min_version: Some(version),
            pin_only: true,
            ..TlsOptions::default()
        };
        let (_, spoken) = handshake(&min(TlsVersion::V1_2), &only_1_2);
        assert_eq!(spoken.unwrap(), Some(rustls::ProtocolVersion::TLSv1_2));
        let (_, refused) = handshake(&min(TlsVersion::V1_3), &only_1_2);
        assert!(refused.is_err());
        let (_, spoken) = handshake(&min(TlsVersion::V1_3), rustls::ALL_VERSIONS);
        assert_eq!(spoken.unwrap(), Some(rustls::ProtocolVersion::TLSv1_3));
    }

    #[test]
    fn pin_only_trusts_a_self_signed_key_it_pins_and_nothing_else() {
        let pinned = TlsOptions {
            pin_only: true,
            ..TlsOptions::default()
        };
        let (_, spoken) = handshake(&pinned, rustls::ALL_VERSIONS);
        assert!(spoken.is_ok());
        let other = TlsOptions {
            pins: vec![PIN.parse().unwrap()],
            ..pinned
        };
        let (pin, refused) = handshake(&other, rustls::ALL_VERSIONS);
        let refused = refused.unwrap_err();
        assert!(is_pin_mismatch(&refused), "{refused}");
        assert!(reason(&refused).contains(&pin.to_string()));
    }
}
