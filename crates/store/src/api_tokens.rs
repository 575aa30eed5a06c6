//! API bearer tokens for MCP and admin access. A token is random, shown once, and stored only
//! as its SHA-256 hash; a token without a user is an admin token.

use crate::row::RowExt;
use crate::{Result, Store, StoreError, now_ms, on_pool};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use spotify_history_core::{ApiToken, ApiTokenId, Secret, UserId};

/// Every token starts with this, so a leaked one is easy to recognise (e.g. by secret scanners).
const TOKEN_PREFIX: &str = "sph_";

/// A token just created: the only moment its plaintext exists.
#[derive(Debug)]
pub struct NewApiToken {
    pub token: ApiToken,
    /// Show this to the person once; it cannot be recovered later.
    pub plaintext: Secret,
}

const TOKEN_COLUMNS: &str = "id, user_id, name, prefix, created_at, last_used_at, revoked_at";

fn token_from_row(row: &impl RowExt) -> Result<ApiToken, sqlx::Error> {
    Ok(ApiToken {
        id: ApiTokenId(row.int("id")?),
        user_id: row.opt_int("user_id")?.map(UserId),
        name: row.text("name")?,
        prefix: row.text("prefix")?,
        created_at: row.int("created_at")?,
        last_used_at: row.opt_int("last_used_at")?,
        revoked_at: row.opt_int("revoked_at")?,
    })
}

fn hash_token(plaintext: &str) -> String {
    hex::encode(Sha256::digest(plaintext.as_bytes()))
}

fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

impl Store {
    /// Creates a token for `user` (or an admin token when `None`).
    pub async fn create_api_token(&self, user: Option<UserId>, name: &str) -> Result<NewApiToken> {
        let plaintext = generate_token();
        let prefix: String = plaintext.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING {TOKEN_COLUMNS}"
        ));
        let token = on_pool!(self, pool => {
            let row = sqlx::query(sql)
                .bind(user.map(|u| u.0))
                .bind(name)
                .bind(hash_token(&plaintext))
                .bind(&prefix)
                .bind(now_ms())
                .fetch_one(pool)
                .await?;
            token_from_row(&row)?
        });
        Ok(NewApiToken {
            token,
            plaintext: Secret::new(plaintext),
        })
    }

    /// Every token, newest first; `user` narrows to one user's tokens.
    pub async fn list_api_tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens
             WHERE ($1 IS NULL OR user_id = $1) ORDER BY id DESC"
        ));
        let tokens = on_pool!(self, pool => {
            let rows = sqlx::query(sql).bind(user.map(|u| u.0)).fetch_all(pool).await?;
            rows.iter().map(token_from_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(tokens)
    }

    /// Revokes a token; it stops working at once. Revoking twice is not an error.
    pub async fn revoke_api_token(&self, id: ApiTokenId) -> Result<()> {
        let found = on_pool!(self, pool => {
            sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
                .bind(id.0)
                .bind(now_ms())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if found == 0 {
            return Err(StoreError::NotFound(format!("API token {id}")));
        }
        Ok(())
    }

    /// The active token with this plaintext, recording its use; `None` for unknown or revoked
    /// tokens. Lookup is by hash, so timing does not reveal how much of a token matched.
    pub async fn authenticate_api_token(&self, plaintext: &str) -> Result<Option<ApiToken>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE api_tokens SET last_used_at = $2
             WHERE token_hash = $1 AND revoked_at IS NULL RETURNING {TOKEN_COLUMNS}"
        ));
        let token = on_pool!(self, pool => {
            sqlx::query(sql)
                .bind(hash_token(plaintext))
                .bind(now_ms())
                .fetch_optional(pool)
                .await?
                .map(|row| token_from_row(&row))
                .transpose()?
        });
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }
}
