//! XEP-0055 user directory: the accounts whose owners chose to be listed, with a nickname.

use std::future::Future;

use crate::{Result, Storage, StorageError, User};

/// One listed account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub username: String,
    pub nickname: String,
}

/// The opt-in user directory.
pub trait Directory {
    /// Lists the user with `nickname`, or with `None` removes them from the directory.
    fn set_listing(
        &self,
        user: User<'_>,
        nickname: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Listed users of `domain` whose username or nickname contains `needle` (case-insensitive),
    /// at most `limit`, by username.
    fn search_directory(
        &self,
        domain: &str,
        needle: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Listing>>> + Send;
}

/// `needle` as a LIKE pattern that matches it anywhere, its wildcards escaped.
fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::from("%");
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Directory for Storage {
    async fn set_listing(&self, user: User<'_>, nickname: Option<&str>) -> Result<()> {
        with_pool!(self, pool => {
            match nickname {
                Some(nickname) => sqlx::query(
                    "INSERT INTO directory (domain, username, nickname) VALUES ($1, $2, $3) \
                     ON CONFLICT (domain, username) DO UPDATE SET nickname = excluded.nickname",
                )
                .bind(user.domain)
                .bind(user.username)
                .bind(nickname)
                .execute(pool)
                .await,
                None => sqlx::query("DELETE FROM directory WHERE domain = $1 AND username = $2")
                    .bind(user.domain)
                    .bind(user.username)
                    .execute(pool)
                    .await,
            }
            .map_err(StorageError::query("set_listing", "directory entry"))?;
        });
        Ok(())
    }

    async fn search_directory(
        &self,
        domain: &str,
        needle: &str,
        limit: u32,
    ) -> Result<Vec<Listing>> {
        let pattern = contains_pattern(needle);
        let rows: Vec<(String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT username, nickname FROM directory WHERE domain = $1 \
                 AND (LOWER(username) LIKE $2 ESCAPE '\\' OR LOWER(nickname) LIKE $2 ESCAPE '\\') \
                 ORDER BY username LIMIT $3",
            )
            .bind(domain)
            .bind(&pattern)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(StorageError::query("search_directory", "directory"))?
        });
        Ok(rows
            .into_iter()
            .map(|(username, nickname)| Listing { username, nickname })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn wildcards_in_the_needle_are_literal() {
        assert_eq!(contains_pattern("A_b%"), "%a\\_b\\%%");
    }
}
