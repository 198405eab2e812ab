//! Accounts and their SCRAM credentials (RFC 5802, RFC 7677): salt, iteration count, StoredKey
//! and ServerKey per hash algorithm. No password is ever stored; the schema has no column
//! that could hold one.

use std::fmt;
use std::future::Future;

use crate::storage::to_millis;
use crate::{Result, Storage, StorageError, User};

/// Hash function of a SCRAM mechanism (`SCRAM-SHA-1`, `-SHA-256`, `-SHA-512`, and `-PLUS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScramHash {
    /// SCRAM-SHA-1 (RFC 5802).
    Sha1,
    /// SCRAM-SHA-256 (RFC 7677).
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

impl ScramHash {
    /// Every supported hash, weakest first.
    pub const ALL: [Self; 3] = [Self::Sha1, Self::Sha256, Self::Sha512];

    /// The name as in the mechanism name (`SHA-256` in `SCRAM-SHA-256`); also the stored value.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA-1",
            Self::Sha256 => "SHA-256",
            Self::Sha512 => "SHA-512",
        }
    }

    /// Digest length in bytes: the length of StoredKey and ServerKey.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }

    /// Parses [`ScramHash::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|hash| hash.name() == name)
    }
}

/// What the server keeps to verify a SCRAM exchange (RFC 5802 section 3).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// Hash algorithm these keys belong to.
    pub hash: ScramHash,
    /// Salt sent to the client.
    pub salt: Vec<u8>,
    /// PBKDF2 iteration count sent to the client.
    pub iterations: u32,
    /// H(ClientKey).
    pub stored_key: Vec<u8>,
    /// HMAC(SaltedPassword, "Server Key").
    pub server_key: Vec<u8>,
}

impl fmt::Debug for StoredCredential {
    // Keys stay out of logs: with them a server can be impersonated to the client.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCredential")
            .field("hash", &self.hash)
            .field("iterations", &self.iterations)
            .field("salt_len", &self.salt.len())
            .finish_non_exhaustive()
    }
}

impl StoredCredential {
    fn check(&self) -> Result<()> {
        let reason = if self.salt.is_empty() {
            "empty salt"
        } else if self.iterations == 0 {
            "zero iterations"
        } else if self.stored_key.len() != self.hash.output_len() {
            "StoredKey length does not match the hash"
        } else if self.server_key.len() != self.hash.output_len() {
            "ServerKey length does not match the hash"
        } else {
            return Ok(());
        };
        Err(StorageError::InvalidCredential { reason })
    }
}

/// Local accounts.
pub trait Accounts {
    /// Creates the account with its credentials in one transaction.
    /// Fails with `AlreadyExists` if the account exists.
    fn create_account(
        &self,
        user: User<'_>,
        credentials: &[StoredCredential],
    ) -> impl Future<Output = Result<()>> + Send;

    /// Deletes the account and everything it owns (roster, offline, private XML, vCard, ...).
    /// Fails with `NotFound` if there is no such account.
    fn delete_account(&self, user: User<'_>) -> impl Future<Output = Result<()>> + Send;

    /// Whether the account exists.
    fn account_exists(&self, user: User<'_>) -> impl Future<Output = Result<bool>> + Send;

    /// Usernames of a domain, sorted.
    fn list_accounts(&self, domain: &str) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// Replaces all credentials at once (a password change): a hash not in `credentials` is
    /// removed, so an old password never keeps working through another mechanism.
    fn set_credentials(
        &self,
        user: User<'_>,
        credentials: &[StoredCredential],
    ) -> impl Future<Output = Result<()>> + Send;

    /// The credential for one hash, if the account has one.
    fn credential(
        &self,
        user: User<'_>,
        hash: ScramHash,
    ) -> impl Future<Output = Result<Option<StoredCredential>>> + Send;

    /// Every credential of the account, ordered SHA-1, SHA-256, SHA-512.
    fn credentials(
        &self,
        user: User<'_>,
    ) -> impl Future<Output = Result<Vec<StoredCredential>>> + Send;
}

const INSERT_CREDENTIAL: &str = "INSERT INTO credentials \
     (domain, username, hash, salt, iterations, stored_key, server_key) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

type CredentialRow = (String, Vec<u8>, i64, Vec<u8>, Vec<u8>);

fn credential_from_row(op: &'static str, row: CredentialRow) -> Result<StoredCredential> {
    let (name, salt, iterations, stored_key, server_key) = row;
    let hash = ScramHash::from_name(&name).ok_or_else(|| StorageError::Corrupt {
        op,
        detail: format!("unknown hash {name:?}"),
    })?;
    let iterations = u32::try_from(iterations).map_err(|_| StorageError::Corrupt {
        op,
        detail: format!("iteration count {iterations}"),
    })?;
    Ok(StoredCredential {
        hash,
        salt,
        iterations,
        stored_key,
        server_key,
    })
}

/// Inserts `credentials` inside the open transaction `$tx`.
macro_rules! insert_credentials {
    ($tx:ident, $op:expr, $user:expr, $credentials:expr) => {
        for credential in $credentials {
            sqlx::query(INSERT_CREDENTIAL)
                .bind($user.domain)
                .bind($user.username)
                .bind(credential.hash.name())
                .bind(&credential.salt)
                .bind(i64::from(credential.iterations))
                .bind(&credential.stored_key)
                .bind(&credential.server_key)
                .execute(&mut *$tx)
                .await
                .map_err(StorageError::query($op, "credential"))?;
        }
    };
}

impl Accounts for Storage {
    async fn create_account(&self, user: User<'_>, credentials: &[StoredCredential]) -> Result<()> {
        const OP: &str = "create_account";
        credentials.iter().try_for_each(StoredCredential::check)?;
        let now = to_millis(std::time::SystemTime::now());
        let err = || StorageError::query(OP, "account");
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(err())?;
            sqlx::query("INSERT INTO accounts (domain, username, created_at) VALUES ($1, $2, $3)")
                .bind(user.domain)
                .bind(user.username)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(err())?;
            insert_credentials!(tx, OP, user, credentials);
            tx.commit().await.map_err(err())
        })
    }

    async fn delete_account(&self, user: User<'_>) -> Result<()> {
        let done = with_pool!(self, pool => {
            sqlx::query("DELETE FROM accounts WHERE domain = $1 AND username = $2")
                .bind(user.domain)
                .bind(user.username)
                .execute(pool)
                .await
                .map_err(StorageError::query("delete_account", "account"))?
                .rows_affected()
        });
        if done == 0 {
            return Err(StorageError::NotFound { what: "account" });
        }
        // The archive is keyed by JID (rooms share it), so no cascade reaches it.
        crate::Archive::delete_archive(self, &format!("{}@{}", user.username, user.domain)).await?;
        Ok(())
    }

    async fn account_exists(&self, user: User<'_>) -> Result<bool> {
        let found: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT CAST(1 AS BIGINT) FROM accounts WHERE domain = $1 AND username = $2")
                .bind(user.domain)
                .bind(user.username)
                .fetch_optional(pool)
                .await
                .map_err(StorageError::query("account_exists", "account"))?
        });
        Ok(found.is_some())
    }

    async fn list_accounts(&self, domain: &str) -> Result<Vec<String>> {
        with_pool!(self, pool => {
            sqlx::query_scalar("SELECT username FROM accounts WHERE domain = $1 ORDER BY username")
                .bind(domain)
                .fetch_all(pool)
                .await
                .map_err(StorageError::query("list_accounts", "account"))
        })
    }

    async fn set_credentials(
        &self,
        user: User<'_>,
        credentials: &[StoredCredential],
    ) -> Result<()> {
        const OP: &str = "set_credentials";
        credentials.iter().try_for_each(StoredCredential::check)?;
        let err = || StorageError::query(OP, "credential");
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(err())?;
            // Taking the account row first both checks it exists and serialises password changes.
            let touched = sqlx::query(
                "UPDATE accounts SET created_at = created_at WHERE domain = $1 AND username = $2",
            )
            .bind(user.domain)
            .bind(user.username)
            .execute(&mut *tx)
            .await
            .map_err(err())?
            .rows_affected();
            if touched == 0 {
                return Err(StorageError::NotFound { what: "account" });
            }
            sqlx::query("DELETE FROM credentials WHERE domain = $1 AND username = $2")
                .bind(user.domain)
                .bind(user.username)
                .execute(&mut *tx)
                .await
                .map_err(err())?;
            insert_credentials!(tx, OP, user, credentials);
            tx.commit().await.map_err(err())
        })
    }

    async fn credential(
        &self,
        user: User<'_>,
        hash: ScramHash,
    ) -> Result<Option<StoredCredential>> {
        const OP: &str = "credential";
        let row: Option<CredentialRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT hash, salt, iterations, stored_key, server_key FROM credentials \
                 WHERE domain = $1 AND username = $2 AND hash = $3",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(hash.name())
            .fetch_optional(pool)
            .await
            .map_err(StorageError::query(OP, "credential"))?
        });
        row.map(|row| credential_from_row(OP, row)).transpose()
    }

    async fn credentials(&self, user: User<'_>) -> Result<Vec<StoredCredential>> {
        const OP: &str = "credentials";
        let rows: Vec<CredentialRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT hash, salt, iterations, stored_key, server_key FROM credentials \
                 WHERE domain = $1 AND username = $2",
            )
            .bind(user.domain)
            .bind(user.username)
            .fetch_all(pool)
            .await
            .map_err(StorageError::query(OP, "credential"))?
        });
        let mut credentials = rows
            .into_iter()
            .map(|row| credential_from_row(OP, row))
            .collect::<Result<Vec<_>>>()?;
        credentials.sort_by_key(|c| c.hash);
        Ok(credentials)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(hash: ScramHash, key_len: usize) -> StoredCredential {
        StoredCredential {
            hash,
            salt: vec![1; 16],
            iterations: 4096,
            stored_key: vec![2; key_len],
            server_key: vec![3; hash.output_len()],
        }
    }

    #[test]
    fn hash_names_round_trip() {
        for hash in ScramHash::ALL {
            assert_eq!(ScramHash::from_name(hash.name()), Some(hash));
        }
        assert_eq!(ScramHash::from_name("MD5"), None);
    }

    #[test]
    fn check_rejects_wrong_key_length() {
        assert!(credential(ScramHash::Sha256, 32).check().is_ok());
        let err = credential(ScramHash::Sha256, 20).check().unwrap_err();
        assert!(
            matches!(err, StorageError::InvalidCredential { reason } if reason.contains("StoredKey")),
            "{err}"
        );
    }

    #[test]
    fn debug_hides_keys() {
        let shown = format!("{:?}", credential(ScramHash::Sha1, 20));
        assert!(!shown.contains("[2, 2"), "{shown}");
    }
}
