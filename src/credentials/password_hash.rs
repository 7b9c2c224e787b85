//! The hashed passwords of local logins (`[serve.users.NAME] password_hash`): PBKDF2-HMAC-SHA256
//! with a random salt, written `pbkdf2-sha256$ITERATIONS$SALT$HASH` (base64 without padding),
//! so the configuration file never holds a password a reader could reuse. Only `serve` checks
//! them; the upstream server's passwords never pass through here.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as BASE64;

use super::Secret;

const SCHEME: &str = "pbkdf2-sha256";

/// OWASP's 2023 advice for PBKDF2-HMAC-SHA256. The count is kept in each hash, so it can rise
/// later without invalidating the hashes already written.
const ITERATIONS: u32 = 600_000;

/// Fewer rounds than this is no protection against an offline guess, whoever wrote the hash.
const FEWEST_ITERATIONS: u32 = 1_000;

/// A salted password hash as the configuration file keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    salt: Vec<u8>,
    hash: [u8; 32],
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PasswordHash({SCHEME}, {} iterations)", self.iterations)
    }
}

impl PasswordHash {
    /// The hash of a new password, with a fresh salt from the TLS library's secure generator.
    pub fn new(password: &Secret) -> PasswordHash {
        Self::with(password, ITERATIONS, fresh_salt())
    }

    fn with(password: &Secret, iterations: u32, salt: Vec<u8>) -> PasswordHash {
        let hash = pbkdf2::pbkdf2_hmac_array::<sha2::Sha256, 32>(
            password.expose().as_bytes(),
            &salt,
            iterations,
        );
        PasswordHash {
            iterations,
            salt,
            hash,
        }
    }

    /// Reads a hash as `Display` writes it; the error says what is wrong.
    pub fn parse(text: &str) -> Result<PasswordHash, String> {
        let mut parts = text.split('$');
        let (scheme, iterations, salt, hash) = match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (Some(s), Some(i), Some(salt), Some(h), None) => (s, i, salt, h),
            _ => return Err(format!("not of the form {SCHEME}$ITERATIONS$SALT$HASH")),
        };
        if scheme != SCHEME {
            return Err(format!("the scheme {scheme:?} is not {SCHEME}"));
        }
        let iterations: u32 = iterations
            .parse()
            .map_err(|_| format!("the iteration count {iterations:?} is not a number"))?;
        if iterations < FEWEST_ITERATIONS {
            return Err(format!(
                "{iterations} iterations are too few (at least {FEWEST_ITERATIONS})"
            ));
        }
        let salt = BASE64
            .decode(salt)
            .map_err(|_| "the salt is not base64".to_string())?;
        let hash = BASE64
            .decode(hash)
            .ok()
            .and_then(|h| <[u8; 32]>::try_from(h).ok())
            .ok_or("the hash is not 32 octets of base64")?;
        Ok(PasswordHash {
            iterations,
            salt,
            hash,
        })
    }

    /// Whether `password` is the one hashed, compared in constant time.
    pub fn verify(&self, password: &Secret) -> bool {
        let offered = Self::with(password, self.iterations, self.salt.clone());
        same(&offered.hash, &self.hash)
    }
}

/// The logins a process has already checked, kept as a SHA-256 of the stored hash and the
/// password: a check of 600,000 rounds costs a core a third of a second, which an application
/// that logs in for every message would otherwise pay every time, and a client with many
/// connections could make us pay at will. A changed hash or password misses the cache.
#[derive(Default)]
pub struct CheckedLogins {
    known: std::sync::Mutex<std::collections::HashMap<String, [u8; 32]>>,
}

impl CheckedLogins {
    /// `hash.verify(password)`, at once when this user logged in so before.
    pub fn verify(&self, user: &str, hash: &PasswordHash, password: &Secret) -> bool {
        use sha2::Digest;
        let mut digest = sha2::Sha256::new();
        digest.update(hash.to_string().as_bytes());
        digest.update([0]);
        digest.update(password.expose().as_bytes());
        let key: [u8; 32] = digest.finalize().into();
        let mut known = match self.known.lock() {
            Ok(known) => known,
            Err(poisoned) => poisoned.into_inner(),
        };
        if known.get(user).is_some_and(|seen| same(seen, &key)) {
            return true;
        }
        // Not held while the slow check runs: other sessions log in meanwhile.
        drop(known);
        let good = hash.verify(password);
        if good {
            known = match self.known.lock() {
                Ok(known) => known,
                Err(poisoned) => poisoned.into_inner(),
            };
            known.insert(user.to_string(), key);
        }
        good
    }
}

/// Equal, in a time that does not depend on where they differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |differ, (x, y)| differ | (x ^ y)) == 0
}

/// 16 octets from the TLS library's secure generator.
fn fresh_salt() -> Vec<u8> {
    let mut salt = vec![0u8; 16];
    let random = rustls::crypto::ring::default_provider().secure_random;
    if random.fill(&mut salt).is_err() {
        // No OS randomness: still a salt unique to this hash, if predictable.
        salt[..8].copy_from_slice(&crate::clock::random_u64().to_le_bytes());
        salt[8..].copy_from_slice(&crate::clock::random_u64().to_le_bytes());
    }
    salt
}

impl std::fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{SCHEME}${}${}${}",
            self.iterations,
            BASE64.encode(&self.salt),
            BASE64.encode(self.hash)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only_and_reads_back() {
        let secret = Secret::new("s3cret".into());
        let hash = PasswordHash::with(&secret, 1_000, b"salt".to_vec());
        assert!(hash.verify(&secret));
        assert!(!hash.verify(&Secret::new("S3cret".into())));
        let written = hash.to_string();
        assert!(
            written.starts_with("pbkdf2-sha256$1000$c2FsdA$"),
            "{written}"
        );
        assert_eq!(PasswordHash::parse(&written).unwrap(), hash);
        assert!(!format!("{hash:?}").contains(&written[24..]));
        for bad in [
            "s3cret",
            "bcrypt$1000$c2FsdA$AAAA",
            "pbkdf2-sha256$10$c2FsdA$AAAA",
            "pbkdf2-sha256$1000$c2FsdA$AAAA",
            "pbkdf2-sha256$1000$!!$AAAA",
        ] {
            assert!(PasswordHash::parse(bad).is_err(), "{bad}");
        }
        assert_ne!(fresh_salt(), fresh_salt());
        let checked = CheckedLogins::default();
        for _ in 0..2 {
            assert!(checked.verify("app", &hash, &secret));
            assert!(!checked.verify("app", &hash, &Secret::new("guess".into())));
        }
    }
}
