//! DKIM signing (RFC 6376) of a composed message, for relays that do not sign: RSA-SHA256, or
//! Ed25519-SHA256 (RFC 8463), with the `mail-auth` crate, relaxed/relaxed canonicalization so a
//! relay that refolds header fields or trims trailing spaces does not break the signature.
//!
//! The message is made 7-bit before it is signed (`content::downgrade`): a relay that
//! converted an 8-bit body for a peer without 8BITMIME (RFC 6152), or UTF-8 header text for
//! one without SMTPUTF8, would otherwise change the bytes the signature covers (RFC 6376 5.3). It is then held in memory, since the body hash and the
//! signature need all of it before the first byte goes out.
//!
//! The private key is read here and nowhere else, only when a key is configured; nothing about
//! it but its file's path ever reaches an error, a log or `config show`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256, SigningKey};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;

use crate::compose::Composed;
use crate::content::{Channel, Content, downgrade};
use crate::error::{Error, Kind, io_reason};

/// The header fields signed (RFC 6376 5.4.1): those a reader sees and those that say how to
/// read the body. One absent from the message is signed too, as absent, so it cannot be added
/// on the way.
const SIGNED_FIELDS: &[&str] = &[
    "From",
    "Reply-To",
    "Subject",
    "Date",
    "To",
    "Cc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// A key file larger than this is no PEM private key.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// A selector (RFC 6376 3.1): the name under `_domainkey.DOMAIN` that publishes the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector(String);

impl FromStr for Selector {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if value.split('.').all(label_ok) {
            Ok(Selector(value.to_ascii_lowercase()))
        } else {
            Err(format!(
                "{value:?} is not a selector (letters, digits and -, labels joined by .)"
            ))
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How to sign: the key file (never its contents), the selector and the signing domain (d=).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signing {
    pub key_file: PathBuf,
    pub selector: Selector,
    pub domain: String,
}

/// Signs `message` in place: made 7-bit, then a DKIM-Signature field added at the top.
pub fn sign(message: &mut Composed, signing: &Signing) -> Result<(), Error> {
    let key = read_key(&signing.key_file)?;
    let mut bytes = Vec::with_capacity(message.content.len() as usize);
    message.content.write_to(&mut bytes).map_err(|err| {
        Error::new(
            Kind::NoInput,
            format!("reading the message to sign it: {}", io_reason(&err)),
        )
    })?;
    // Bodies become 7-bit, and UTF-8 header text (a sendmail caller's raw Subject) encoded
    // words, which a server without SMTPUTF8 would otherwise make of it after signing. A
    // header whose addresses are not ASCII stays UTF-8: it needs SMTPUTF8 on every hop anyway.
    let to_ascii = |utf8_header| {
        downgrade(
            &bytes,
            Channel {
                eight_bit: false,
                utf8_header,
            },
        )
    };
    let seven_bit = match to_ascii(false) {
        Ok(downgraded) => downgraded.bytes.into_owned(),
        Err(_) => to_ascii(true)?.bytes.into_owned(),
    };
    let field = key.signature_field(signing, &seven_bit)?;
    let mut signed = Vec::with_capacity(field.len() + seven_bit.len());
    signed.extend_from_slice(field.as_bytes());
    signed.extend_from_slice(&seven_bit);
    message.content = Content::from_bytes(signed);
    Ok(())
}

/// A private key as read from its PEM file.
enum Key {
    Rsa(RsaKey<Sha256>),
    Ed25519(Ed25519Key),
}

impl Key {
    /// The `DKIM-Signature: ...` field, CRLF included.
    fn signature_field(self, signing: &Signing, message: &[u8]) -> Result<String, Error> {
        match self {
            Key::Rsa(key) => signature_field(key, signing, message),
            Key::Ed25519(key) => signature_field(key, signing, message),
        }
    }
}

fn signature_field(
    key: impl SigningKey,
    signing: &Signing,
    message: &[u8],
) -> Result<String, Error> {
    let signature = DkimSigner::from_key(key)
        .domain(signing.domain.clone())
        .selector(signing.selector.to_string())
        .headers(SIGNED_FIELDS.iter().copied())
        .header_canonicalization(Canonicalization::Relaxed)
        .body_canonicalization(Canonicalization::Relaxed)
        .sign(message)
        .map_err(|err| Error::new(Kind::BadMessage, format!("DKIM signing failed: {err}")))?;
    Ok(signature.to_header())
}

/// The key in `path`: PKCS#8 (RSA or Ed25519, as `openssl genpkey` writes them) or PKCS#1
/// (`BEGIN RSA PRIVATE KEY`). The errors name the file, never what is in it.
fn read_key(path: &Path) -> Result<Key, Error> {
    use std::io::Read;
    let unreadable = |err: std::io::Error| {
        Error::new(
            Kind::NoInput,
            format!(
                "cannot read dkim_key {}: {}",
                path.display(),
                io_reason(&err)
            ),
        )
    };
    let mut pem = Vec::new();
    std::fs::File::open(path)
        .map_err(unreadable)?
        .take(MAX_KEY_FILE)
        .read_to_end(&mut pem)
        .map_err(unreadable)?;
    let not_a_key = |what: &str| {
        Error::config(format!(
            "dkim_key {}: {what}; expected an RSA or Ed25519 private key in PEM",
            path.display()
        ))
        .with_hint("openssl genpkey -algorithm ed25519 (or -algorithm rsa) -out KEY.pem")
    };
    let der = PrivateKeyDer::from_pem_slice(&pem).map_err(|_| not_a_key("no private key"))?;
    match &der {
        PrivateKeyDer::Pkcs1(der) => RsaKey::<Sha256>::from_der(der.secret_pkcs1_der())
            .map(Key::Rsa)
            .map_err(|_| not_a_key("not a usable RSA key")),
        PrivateKeyDer::Pkcs8(der) => {
            let der = der.secret_pkcs8_der();
            RsaKey::<Sha256>::from_pkcs8_der(der)
                .map(Key::Rsa)
                .or_else(|_| Ed25519Key::from_pkcs8_maybe_unchecked_der(der).map(Key::Ed25519))
                .map_err(|_| not_a_key("neither an RSA nor an Ed25519 key"))
        }
        _ => Err(not_a_key("an elliptic-curve key, which DKIM does not use")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dkim_selectors_are_domain_labels() {
        assert_eq!(
            "Mail-2026.ci".parse::<Selector>().unwrap().to_string(),
            "mail-2026.ci"
        );
        for bad in ["", "a..b", "-a", "a b", "a_b", "ü"] {
            assert!(bad.parse::<Selector>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dkim_key_errors_name_the_file_and_nothing_in_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        let secretish = "-----BEGIN PRIVATE KEY-----\nU0VDUkVULUtFWS1NQVRFUklBTA==\n-----END PRIVATE KEY-----\n";
        std::fs::write(&path, secretish).unwrap();
        let Err(err) = read_key(&path) else {
            panic!("a key from garbage")
        };
        assert_eq!(err.kind, Kind::Config);
        assert!(err.message.contains("key.pem"), "{}", err.message);
        assert!(!err.message.contains("U0VD"), "{}", err.message);
        let Err(missing) = read_key(&dir.path().join("none.pem")) else {
            panic!("a key from nothing")
        };
        assert_eq!(missing.kind, Kind::NoInput);
    }
}
