//! Signing in and staying signed in: the `/authorize` URL, the code exchange and the
//! refresh grant of Spotify's Accounts service.

use crate::client::SpotifyClient;
use crate::error::SpotifyError;
use jiff::Timestamp;
use reqwest::Url;
use serde::Deserialize;
use spotify_history_core::Secret;

/// The scopes spotify-history asks for: recently played (history) and top lists.
pub const SCOPES: [&str; 2] = ["user-read-recently-played", "user-top-read"];

/// Tokens from a code exchange or a refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub access_token: Secret,
    /// Always present after a code exchange. After a refresh, `None` when Spotify did not
    /// send a new one: keep using the old refresh token then.
    pub refresh_token: Option<Secret>,
    /// When the access token expires, in Unix milliseconds, counted from the `now` given to
    /// the call (taken before sending, so the estimate errs early).
    pub expires_at: i64,
    /// Granted scopes, space-separated, as Spotify lists them.
    pub scope: String,
}

/// The token endpoint's success answer.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    expires_in: i64,
    #[serde(default)]
    scope: Option<String>,
}

impl TokenAnswer {
    fn into_grant(self, now: Timestamp) -> TokenGrant {
        TokenGrant {
            access_token: Secret::new(self.access_token),
            refresh_token: self
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            expires_at: now.as_millisecond() + self.expires_in.max(0) * 1000,
            scope: self.scope.unwrap_or_default(),
        }
    }
}

const CODE_EXCHANGE: &str = "POST /api/token (authorization code)";
const REFRESH: &str = "POST /api/token (refresh)";

impl SpotifyClient {
    /// Where to send the user to sign in. `state` comes back to the redirect URI unchanged;
    /// `code_challenge` is a [`crate::Pkce`] challenge (S256) or `None` without PKCE.
    pub fn authorize_url(
        &self,
        state: &str,
        code_challenge: Option<&str>,
        scopes: &[&str],
    ) -> String {
        let mut url = Url::parse(&format!("{}/authorize", self.accounts_base))
            .expect("a validated base URL and a fixed path form a URL");
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &self.app.client_id)
                .append_pair("response_type", "code")
                .append_pair("redirect_uri", &self.app.redirect_uri)
                .append_pair("scope", &scopes.join(" "))
                .append_pair("state", state);
            if let Some(challenge) = code_challenge {
                query
                    .append_pair("code_challenge_method", "S256")
                    .append_pair("code_challenge", challenge);
            }
        }
        url.into()
    }

    /// Exchanges the `code` from the redirect for tokens. `code_verifier` is required when
    /// the authorize URL carried a challenge. `now` is the current time (see
    /// [`TokenGrant::expires_at`]).
    pub async fn exchange_code(
        &self,
        code: &str,
        code_verifier: Option<&str>,
        now: Timestamp,
    ) -> Result<TokenGrant, SpotifyError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.app.redirect_uri.as_str()),
        ];
        if let Some(verifier) = code_verifier {
            form.push(("code_verifier", verifier));
        }
        let answer: TokenAnswer = self.post_token_form(CODE_EXCHANGE, &form).await?;
        let grant = answer.into_grant(now);
        if grant.refresh_token.is_none() {
            return Err(SpotifyError::InvalidGrant {
                endpoint: CODE_EXCHANGE,
                description: "Spotify sent no refresh token".into(),
            });
        }
        Ok(grant)
    }

    /// Gets a new access token. A `400 invalid_grant` answer ([`SpotifyError::InvalidGrant`])
    /// means the refresh token is dead (six months after sign-in, or revoked): stop retrying
    /// and ask the user to sign in again.
    pub async fn refresh(
        &self,
        refresh_token: &Secret,
        now: Timestamp,
    ) -> Result<TokenGrant, SpotifyError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        let answer: TokenAnswer = self.post_token_form(REFRESH, &form).await?;
        Ok(answer.into_grant(now))
    }
}
