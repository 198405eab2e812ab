//! Account management shared by the admin CLI, in-band registration and password changes:
//! passwords become SCRAM credentials (salt, iterations, StoredKey, ServerKey) for every hash,
//! derived off the async workers; the password itself is never stored.

use xmppd_storage::{Accounts, ScramHash as StoredHash, Storage, StoredCredential, User};
use xmppd_stream::sasl::credentials::{ScramCredentials, ScramHash};

/// Salt bytes per credential.
const SALT_LEN: usize = 16;

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("creating the account failed: it exists already")]
    AlreadyExists,
    #[error("changing the account failed: it does not exist")]
    NotFound,
    #[error("checking the password failed: {0}")]
    WeakPassword(String),
    #[error("generating a salt failed: {0}")]
    Random(String),
    #[error("deriving credentials failed: {0}")]
    Derive(String),
    #[error("storing the account failed: {0}")]
    Storage(xmppd_storage::StorageError),
}

impl From<xmppd_storage::StorageError> for AccountError {
    fn from(err: xmppd_storage::StorageError) -> Self {
        match err {
            xmppd_storage::StorageError::AlreadyExists { .. } => Self::AlreadyExists,
            xmppd_storage::StorageError::NotFound { .. } => Self::NotFound,
            other => Self::Storage(other),
        }
    }
}

/// Refuses passwords that are too short or hold control characters.
pub fn check_password(password: &str, min_len: usize) -> Result<(), AccountError> {
    if password.chars().count() < min_len {
        return Err(AccountError::WeakPassword(format!(
            "it must have at least {min_len} characters"
        )));
    }
    if password.chars().any(char::is_control) {
        return Err(AccountError::WeakPassword(
            "it must not contain control characters".to_owned(),
        ));
    }
    // SCRAM and PLAIN compare SASLprep'd passwords (RFC 5802, RFC 4616): one that SASLprep
    // refuses could not be entered the same way by every client.
    if !xmppd_stream::sasl::credentials::password_is_preparable(password) {
        return Err(AccountError::WeakPassword(
            "it contains characters that are not allowed in passwords (RFC 4013)".to_owned(),
        ));
    }
    Ok(())
}

/// SCRAM credentials for all three hashes, each with its own salt. Runs PBKDF2 three times
/// on a blocking thread.
pub async fn derive_credentials(
    password: &str,
    iterations: u32,
) -> Result<Vec<StoredCredential>, AccountError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        [
            (ScramHash::Sha1, StoredHash::Sha1),
            (ScramHash::Sha256, StoredHash::Sha256),
            (ScramHash::Sha512, StoredHash::Sha512),
        ]
        .into_iter()
        .map(|(hash, stored)| {
            let mut salt = [0u8; SALT_LEN];
            getrandom::fill(&mut salt).map_err(|e| AccountError::Random(e.to_string()))?;
            let c = ScramCredentials::derive(hash, &password, &salt, iterations);
            Ok(StoredCredential {
                hash: stored,
                salt: c.salt,
                iterations: c.iterations,
                stored_key: c.stored_key,
                server_key: c.server_key,
            })
        })
        .collect()
    })
    .await
    .map_err(|e| AccountError::Derive(e.to_string()))?
}

/// Creates an account with the given password.
pub async fn create(
    storage: &Storage,
    user: User<'_>,
    password: &str,
    iterations: u32,
) -> Result<(), AccountError> {
    let credentials = derive_credentials(password, iterations).await?;
    storage.create_account(user, &credentials).await?;
    Ok(())
}

/// Replaces an account's password (every hash at once).
pub async fn set_password(
    storage: &Storage,
    user: User<'_>,
    password: &str,
    iterations: u32,
) -> Result<(), AccountError> {
    if !storage.account_exists(user).await? {
        return Err(AccountError::NotFound);
    }
    let credentials = derive_credentials(password, iterations).await?;
    storage.set_credentials(user, &credentials).await?;
    Ok(())
}

/// The stored credential as the SCRAM server wants it.
pub fn to_scram(stored: StoredCredential) -> ScramCredentials {
    ScramCredentials {
        hash: match stored.hash {
            StoredHash::Sha1 => ScramHash::Sha1,
            StoredHash::Sha256 => ScramHash::Sha256,
            StoredHash::Sha512 => ScramHash::Sha512,
        },
        salt: stored.salt,
        iterations: stored.iterations,
        stored_key: stored.stored_key,
        server_key: stored.server_key,
    }
}

/// The storage hash for a SCRAM hash.
pub fn stored_hash(hash: ScramHash) -> StoredHash {
    match hash {
        ScramHash::Sha1 => StoredHash::Sha1,
        ScramHash::Sha256 => StoredHash::Sha256,
        ScramHash::Sha512 => StoredHash::Sha512,
    }
}
