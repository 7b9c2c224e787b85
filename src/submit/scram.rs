//! SCRAM (RFC 5802, RFC 7677): the client's messages of one exchange and the check of the
//! server's signature, with channel binding for the -PLUS mechanisms (RFC 5929
//! `tls-server-end-point`, RFC 9266 `tls-exporter`). Pure: no socket, no transcript; `auth`
//! carries the messages. The primitives (HMAC, PBKDF2, SHA) are RustCrypto's.
//!
//! The user name and the password go through SASLprep (RFC 4013) first, as RFC 5802 section
//! 2.2's Normalize says: a password typed with a non-breaking space, a soft hyphen or a
//! compatibility character (`ﬁ`) is the one the server stored. For the printable ASCII
//! passwords nearly everyone has, it changes nothing, and costs nothing.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{KeyInit, Mac};
use sha2::Digest;

/// Most PBKDF2 iterations a server may ask for: RFC 7677 recommends at least 4096, servers use
/// tens of thousands; more than this would only let a hostile server make us spin.
const MAX_ITERATIONS: u32 = 10_000_000;

/// `text` prepared by SASLprep (RFC 4013), or None when SASLprep refuses it (a control
/// character, a character RFC 3454 prohibits, mixed directions) or leaves nothing: RFC 5802
/// section 5.1 says the client then stops before it starts.
pub(super) fn prepare(text: &str) -> Option<Cow<'_, str>> {
    if text.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        // Printable ASCII without spaces: SASLprep maps and refuses nothing here.
        return Some(Cow::Borrowed(text));
    }
    stringprep::saslprep(text)
        .ok()
        .filter(|prepared| !prepared.is_empty())
}

/// The hash a SCRAM mechanism is named after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hash {
    Sha1,
    Sha256,
}

/// What ties the exchange to the TLS connection under it (RFC 5056).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ChannelBinding {
    /// `tls-exporter` or `tls-server-end-point`.
    pub kind: &'static str,
    pub data: Vec<u8>,
}

/// How the client's first message speaks of channel binding (RFC 5802 section 7, gs2-cbind-flag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Binding {
    /// `n`: the client cannot bind (no TLS).
    None,
    /// `y`: the client could bind but the server did not offer the -PLUS mechanism.
    NotOffered,
    /// `p=TYPE`: a -PLUS mechanism, bound to this channel.
    Bound(ChannelBinding),
}

/// Why an exchange cannot go on.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ScramError {
    /// The server's message is not what RFC 5802 section 7 allows, or cannot be trusted.
    Malformed(String),
    /// The server sent `e=` (RFC 5802 section 7, server-error).
    Refused(String),
    /// The server's signature is wrong: it does not know the password, or the channel is not
    /// the one it sees (a man in the middle).
    BadServerSignature,
}

impl std::fmt::Display for ScramError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScramError::Malformed(why) => write!(f, "the server's SCRAM message {why}"),
            ScramError::Refused(said) => write!(f, "the server said {said}"),
            ScramError::BadServerSignature => f.write_str(
                "the server's SCRAM signature is wrong: it does not know the password, \
                 or something between us and it is not the server",
            ),
        }
    }
}

/// One exchange, from the client's first message to the server's last.
pub(super) struct Scram {
    hash: Hash,
    gs2_header: String,
    binding_data: Vec<u8>,
    nonce: String,
    client_first_bare: String,
    /// The signature the server must show, once the client's final message is made.
    server_signature: Option<Vec<u8>>,
}

impl Scram {
    /// Starts an exchange as `user`, with `nonce` (printable ASCII without `,`).
    pub(super) fn new(hash: Hash, user: &str, nonce: &str, binding: Binding) -> Self {
        let (flag, binding_data) = match binding {
            Binding::None => ("n".to_string(), Vec::new()),
            Binding::NotOffered => ("y".to_string(), Vec::new()),
            Binding::Bound(cb) => (format!("p={}", cb.kind), cb.data),
        };
        // RFC 5802 section 7, saslname: `=` and `,` are escaped.
        let name = user.replace('=', "=3D").replace(',', "=2C");
        Scram {
            hash,
            gs2_header: format!("{flag},,"),
            binding_data,
            nonce: nonce.to_string(),
            client_first_bare: format!("n={name},r={nonce}"),
            server_signature: None,
        }
    }

    /// The client-first-message.
    pub(super) fn client_first(&self) -> String {
        format!("{}{}", self.gs2_header, self.client_first_bare)
    }

    /// The client-final-message answering `server_first`.
    pub(super) fn client_final(
        &mut self,
        server_first: &str,
        password: &[u8],
    ) -> Result<String, ScramError> {
        let malformed = |why: &str| ScramError::Malformed(why.to_string());
        if let Some(said) = server_first.strip_prefix("e=") {
            return Err(ScramError::Refused(said.to_string()));
        }
        let mut fields = server_first.split(',');
        let (Some(nonce), Some(salt), Some(iterations)) = (
            fields.next().and_then(|f| f.strip_prefix("r=")),
            fields.next().and_then(|f| f.strip_prefix("s=")),
            fields.next().and_then(|f| f.strip_prefix("i=")),
        ) else {
            return Err(malformed("lacks r=, s= or i="));
        };
        if server_first.starts_with("m=") {
            return Err(malformed(
                "asks for an extension (m=) smtpsend does not know",
            ));
        }
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(malformed("does not extend our nonce"));
        }
        let salt = BASE64
            .decode(salt)
            .map_err(|_| malformed("has a salt that is not base64"))?;
        let iterations: u32 = iterations
            .parse()
            .ok()
            .filter(|&i| (1..=MAX_ITERATIONS).contains(&i))
            .ok_or_else(|| malformed("has an iteration count out of range"))?;

        let mut channel = self.gs2_header.as_bytes().to_vec();
        channel.extend_from_slice(&self.binding_data);
        let without_proof = format!("c={},r={nonce}", BASE64.encode(channel));
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let salted = self.salted_password(password, &salt, iterations);
        let client_key = self.hmac(&salted, b"Client Key");
        let stored_key = self.digest(&client_key);
        let signature = self.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = self.hmac(&salted, b"Server Key");
        self.server_signature = Some(self.hmac(&server_key, auth_message.as_bytes()));
        Ok(format!("{without_proof},p={}", BASE64.encode(proof)))
    }

    /// Checks the server-final-message: the server proves it knew the password too.
    pub(super) fn verify_server_final(&self, server_final: &str) -> Result<(), ScramError> {
        if let Some(said) = server_final.strip_prefix("e=") {
            return Err(ScramError::Refused(said.to_string()));
        }
        let Some(expected) = &self.server_signature else {
            return Err(ScramError::Malformed("came before our proof".into()));
        };
        let verifier = server_final
            .split(',')
            .next()
            .and_then(|f| f.strip_prefix("v="))
            .and_then(|v| BASE64.decode(v).ok())
            .ok_or_else(|| ScramError::Malformed("lacks the server signature (v=)".into()))?;
        // Constant time, as the comparison of a MAC should be.
        let same = verifier.len() == expected.len()
            && verifier
                .iter()
                .zip(expected)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(())
        } else {
            Err(ScramError::BadServerSignature)
        }
    }

    fn salted_password(&self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self.hash {
            Hash::Sha1 => {
                pbkdf2::pbkdf2_hmac_array::<sha1::Sha1, 20>(password, salt, iterations).to_vec()
            }
            Hash::Sha256 => {
                pbkdf2::pbkdf2_hmac_array::<sha2::Sha256, 32>(password, salt, iterations).to_vec()
            }
        }
    }

    fn hmac(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        fn mac<D: hmac::EagerHash>(key: &[u8], data: &[u8]) -> Vec<u8> {
            let mut mac =
                hmac::Hmac::<D>::new_from_slice(key).expect("HMAC takes a key of any length");
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        match self.hash {
            Hash::Sha1 => mac::<sha1::Sha1>(key, data),
            Hash::Sha256 => mac::<sha2::Sha256>(key, data),
        }
    }

    fn digest(&self, data: &[u8]) -> Vec<u8> {
        match self.hash {
            Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
        }
    }
}

/// A nonce of 24 random bytes from the TLS library's secure generator, base64 (no `,`).
pub(super) fn new_nonce() -> String {
    let mut bytes = [0u8; 24];
    let random = rustls::crypto::ring::default_provider().secure_random;
    if random.fill(&mut bytes).is_err() {
        // No OS randomness: still unique, if predictable; the password stays safe either way.
        bytes[..8].copy_from_slice(&crate::clock::random_u64().to_le_bytes());
        bytes[8..16].copy_from_slice(&crate::clock::random_u64().to_le_bytes());
    }
    BASE64.encode(bytes)
}

/// RFC 5929 section 4.1: the server certificate's hash, with the hash of its signature
/// algorithm, SHA-256 in place of MD5 and SHA-1; None for an algorithm without one
/// (Ed25519) or one not known here.
pub(super) fn server_end_point(certificate: &[u8]) -> Option<Vec<u8>> {
    use x509_parser::oid_registry as oids;
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate).ok()?;
    let algorithm = &parsed.signature_algorithm.algorithm;
    let sha256 = [
        oids::OID_PKCS1_MD5WITHRSAENC,
        oids::OID_PKCS1_SHA1WITHRSA,
        oids::OID_PKCS1_SHA256WITHRSA,
        oids::OID_SIG_ECDSA_WITH_SHA256,
    ];
    let sha384 = [
        oids::OID_PKCS1_SHA384WITHRSA,
        oids::OID_SIG_ECDSA_WITH_SHA384,
    ];
    let sha512 = [
        oids::OID_PKCS1_SHA512WITHRSA,
        oids::OID_SIG_ECDSA_WITH_SHA512,
    ];
    if sha256.contains(algorithm) {
        Some(sha2::Sha256::digest(certificate).to_vec())
    } else if sha384.contains(algorithm) {
        Some(sha2::Sha384::digest(certificate).to_vec())
    } else if sha512.contains(algorithm) {
        Some(sha2::Sha512::digest(certificate).to_vec())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_passwords_are_prepared_as_rfc_4013_shows() {
        // RFC 4013 section 3's examples.
        assert_eq!(prepare("I\u{AD}X").as_deref(), Some("IX"));
        assert_eq!(prepare("user").as_deref(), Some("user"));
        assert_eq!(prepare("USER").as_deref(), Some("USER"));
        assert_eq!(prepare("\u{AA}").as_deref(), Some("a"));
        assert_eq!(prepare("\u{2168}").as_deref(), Some("IX"));
        assert_eq!(prepare("\u{7}"), None, "a control character");
        assert_eq!(prepare("\u{627}1"), None, "mixed directions");
        // A non-ASCII space is a space; NFKC folds compatibility characters.
        assert_eq!(prepare("pass\u{A0}word").as_deref(), Some("pass word"));
        assert_eq!(prepare("\u{FB01}x").as_deref(), Some("fix"));
        assert_eq!(prepare("\u{AD}"), None, "nothing left");
        assert!(matches!(prepare("s3cr3t!"), Some(Cow::Borrowed(_))));
    }

    /// RFC 7677 section 3.
    #[test]
    fn rfc_7677_sha_256_example() {
        let mut scram = Scram::new(Hash::Sha256, "user", "rOprNGfwEbeRWgbNEkqO", Binding::None);
        assert_eq!(scram.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                            s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        assert_eq!(
            scram.client_final(server_first, b"pencil").unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert_eq!(
            scram.verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
            Ok(())
        );
        assert_eq!(
            scram.verify_server_final("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
            Err(ScramError::BadServerSignature)
        );
    }

    /// RFC 5802 section 5.
    #[test]
    fn rfc_5802_sha_1_example() {
        let mut scram = Scram::new(
            Hash::Sha1,
            "user",
            "fyko+d2lbbFgONRv9qkxdawL",
            Binding::None,
        );
        assert_eq!(scram.client_first(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        let server_first = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
        assert_eq!(
            scram.client_final(server_first, b"pencil").unwrap(),
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
        );
        assert_eq!(
            scram.verify_server_final("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="),
            Ok(())
        );
    }

    #[test]
    fn channel_binding_goes_into_the_header_and_c() {
        let binding = ChannelBinding {
            kind: "tls-exporter",
            data: vec![1, 2, 3],
        };
        let mut scram = Scram::new(Hash::Sha256, "a,b=c", "abc", Binding::Bound(binding));
        assert_eq!(scram.client_first(), "p=tls-exporter,,n=a=2Cb=3Dc,r=abc");
        let last = scram
            .client_final("r=abcdef,s=QSXCR+Q6sek8bf92,i=4096", b"pw")
            .unwrap();
        let c = BASE64.encode(b"p=tls-exporter,,\x01\x02\x03");
        assert!(last.starts_with(&format!("c={c},r=abcdef,p=")), "{last}");
        let scram = Scram::new(Hash::Sha256, "u", "abc", Binding::NotOffered);
        assert_eq!(scram.client_first(), "y,,n=u,r=abc");
    }

    #[test]
    fn a_server_that_does_not_play_by_the_rules_is_stopped() {
        let mut scram = Scram::new(Hash::Sha256, "u", "abc", Binding::None);
        assert!(
            scram
                .verify_server_final("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")
                .is_err()
        );
        for bad in [
            "r=xyz,s=QSXCR+Q6sek8bf92,i=4096",
            "r=abc,s=QSXCR+Q6sek8bf92,i=4096",
            "r=abcd,s=QSXCR+Q6sek8bf92,i=0",
            "r=abcd,s=QSXCR+Q6sek8bf92,i=4000000000",
            "r=abcd,s=!!,i=4096",
            "m=x,r=abcd,s=QSXCR+Q6sek8bf92,i=4096",
            "r=abcd",
        ] {
            assert!(
                matches!(
                    scram.client_final(bad, b"pw"),
                    Err(ScramError::Malformed(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(
            scram.client_final("e=unknown-user", b"pw"),
            Err(ScramError::Refused("unknown-user".into()))
        );
    }
}
