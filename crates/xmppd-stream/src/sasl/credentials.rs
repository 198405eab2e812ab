//! SCRAM credentials and primitives (RFC 5802 §3, RFC 7677 for SHA-256; SHA-512 by the same
//! construction). Stored: salt, iteration count, StoredKey, ServerKey; never the password.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Digest;
use subtle::ConstantTimeEq;

/// The hash function of a SCRAM family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScramHash {
    /// SCRAM-SHA-1 (RFC 5802).
    Sha1,
    /// SCRAM-SHA-256 (RFC 7677).
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

fn hmac_with<D>(key: &[u8], data: &[u8]) -> Vec<u8>
where
    D: hmac::EagerHash,
    Hmac<D>: KeyInit + Mac,
{
    // HMAC takes keys of any length, so this cannot fail.
    let Ok(mut mac) = <Hmac<D> as KeyInit>::new_from_slice(key) else {
        unreachable!("HMAC accepts any key length")
    };
    Mac::update(&mut mac, data);
    mac.finalize().into_bytes().to_vec()
}

impl ScramHash {
    /// `H(data)`.
    #[must_use]
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// `HMAC(key, data)`.
    #[must_use]
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => hmac_with::<sha1::Sha1>(key, data),
            Self::Sha256 => hmac_with::<sha2::Sha256>(key, data),
            Self::Sha512 => hmac_with::<sha2::Sha512>(key, data),
        }
    }

    /// Output length in bytes.
    #[must_use]
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }

    /// `Hi(password, salt, i)`: PBKDF2 with HMAC. Slow on purpose; run it off async workers.
    #[must_use]
    pub fn hi(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        let mut out = vec![0u8; self.output_len()];
        match self {
            Self::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, &mut out),
            Self::Sha256 => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out);
            }
            Self::Sha512 => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, iterations, &mut out);
            }
        }
        out
    }
}

/// What the server stores for one user and one hash family.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramCredentials {
    /// The hash family these keys belong to.
    pub hash: ScramHash,
    /// The salt given to `Hi`.
    pub salt: Vec<u8>,
    /// The iteration count given to `Hi`.
    pub iterations: u32,
    /// `H(HMAC(SaltedPassword, "Client Key"))`.
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`.
    pub server_key: Vec<u8>,
}

impl std::fmt::Debug for ScramCredentials {
    // Keys stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramCredentials")
            .field("hash", &self.hash)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// `Normalize(password)` of RFC 5802: SASLprep (RFC 4013) as a stored string. A password
/// SASLprep refuses is used as it is, as RFC 5802 §2.2 allows for unnormalisable input; new
/// passwords are checked with [`password_is_preparable`] so stored ones never take that path.
#[must_use]
pub fn normalise_password(password: &str) -> std::borrow::Cow<'_, str> {
    stringprep::saslprep(password).unwrap_or(std::borrow::Cow::Borrowed(password))
}

/// Whether SASLprep accepts a password (no prohibited characters, valid bidi).
#[must_use]
pub fn password_is_preparable(password: &str) -> bool {
    stringprep::saslprep(password).is_ok()
}

impl ScramCredentials {
    /// Derive credentials from a password (runs PBKDF2: call it off the async workers).
    #[must_use]
    pub fn derive(hash: ScramHash, password: &str, salt: &[u8], iterations: u32) -> Self {
        let salted = hash.hi(normalise_password(password).as_bytes(), salt, iterations);
        Self::from_salted_password(hash, &salted, salt.to_vec(), iterations)
    }

    /// Credentials from an already computed `SaltedPassword`.
    #[must_use]
    pub fn from_salted_password(
        hash: ScramHash,
        salted_password: &[u8],
        salt: Vec<u8>,
        iterations: u32,
    ) -> Self {
        let client_key = hash.hmac(salted_password, b"Client Key");
        Self {
            hash,
            salt,
            iterations,
            stored_key: hash.hash(&client_key),
            server_key: hash.hmac(salted_password, b"Server Key"),
        }
    }

    /// Stand-in credentials for a user that does not exist, so that the exchange looks and
    /// costs the same as for a real user. Stable per (secret, username), so probing twice
    /// shows the same salt.
    #[must_use]
    pub fn fake(hash: ScramHash, secret: &[u8], username: &str, iterations: u32) -> Self {
        let derive = |label: &[u8]| {
            let mut data = label.to_vec();
            data.extend_from_slice(username.as_bytes());
            hash.hmac(secret, &data)
        };
        let mut salt = derive(b"salt\0");
        salt.truncate(16);
        Self {
            hash,
            salt,
            iterations,
            stored_key: derive(b"stored\0"),
            server_key: derive(b"server\0"),
        }
    }

    /// Check a plaintext password against these credentials (PLAIN over TLS). Runs PBKDF2.
    #[must_use]
    pub fn verify_password(&self, password: &str) -> bool {
        let other = Self::derive(self.hash, password, &self.salt, self.iterations);
        bool::from(other.stored_key.ct_eq(&self.stored_key))
    }
}

#[cfg(test)]
mod saslprep_tests {
    use super::*;

    #[test]
    fn rfc4013_examples_normalise() {
        // RFC 4013 §3: soft hyphen is mapped to nothing, compatibility characters are folded.
        assert_eq!(normalise_password("I\u{00AD}X"), "IX");
        assert_eq!(normalise_password("user"), "user");
        assert_eq!(normalise_password("\u{00AA}"), "a");
        assert_eq!(normalise_password("\u{2168}"), "IX");
        // Non-ASCII spaces become plain spaces.
        assert_eq!(normalise_password("a\u{00A0}b"), "a b");
    }

    #[test]
    fn prohibited_passwords_are_not_preparable() {
        assert!(!password_is_preparable("\u{0007}"));
        assert!(!password_is_preparable("\u{0627}\u{0031}"));
        assert!(password_is_preparable("correct horse"));
    }

    #[test]
    fn equivalent_spellings_derive_the_same_credentials() {
        let salt = b"0123456789abcdef";
        let a = ScramCredentials::derive(ScramHash::Sha256, "I\u{00AD}X", salt, 4096);
        assert!(a.verify_password("IX"));
        assert!(a.verify_password("\u{2168}"));
        assert!(!a.verify_password("ix"));
    }
}
