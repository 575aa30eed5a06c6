//! Showing a new MCP token exactly once across a redirect: the token travels in a short-lived
//! cookie sealed with the server key (encrypted, authenticated, timestamped) and bound to its
//! user; `/me` shows it and clears the cookie in the same answer. Nothing is stored in clear.

use crate::session::cookie;
use axum::http::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use spotify_history_core::UserId;
use spotify_history_spotify::TokenCipher;
use std::time::Duration;

/// Name of the cookie carrying a token to be shown.
pub(crate) const COOKIE: &str = "sph_new_token";
/// Long enough for a redirect, short enough that a forgotten cookie is soon worthless.
const MAX_AGE: Duration = Duration::from_secs(300);

#[derive(Serialize, Deserialize)]
struct Sealed {
    #[serde(rename = "u")]
    user: UserId,
    #[serde(rename = "t")]
    token: String,
}

/// The `Set-Cookie` value carrying `token` for `user` to `/me`.
pub(crate) fn set_cookie(
    cipher: &TokenCipher,
    user: UserId,
    token: &str,
    secure: bool,
) -> HeaderValue {
    let json = serde_json::to_vec(&Sealed {
        user,
        token: token.to_owned(),
    })
    .expect("a struct of strings serializes");
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={}; Max-Age={}; Path=/me; HttpOnly; SameSite=Lax{secure}",
        cipher.seal(&json),
        MAX_AGE.as_secs()
    ))
    .expect("Fernet tokens are URL-safe")
}

/// The token waiting for `user` in the request's cookie, if any (and not too old).
pub(crate) fn take(cipher: &TokenCipher, headers: &HeaderMap, user: UserId) -> Option<String> {
    let sealed = cookie(headers, COOKIE)?;
    let json = cipher.open(sealed, MAX_AGE).ok()?;
    let sealed: Sealed = serde_json::from_slice(&json).ok()?;
    (sealed.user == user).then_some(sealed.token)
}

/// The `Set-Cookie` value that removes the cookie once the token was shown.
pub(crate) fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("sph_new_token=; Max-Age=0; Path=/me; HttpOnly; SameSite=Lax")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;
    use spotify_history_core::Secret;

    #[test]
    fn a_token_opens_only_for_its_user() {
        let cipher =
            TokenCipher::new(&Secret::new("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=")).unwrap();
        let set = set_cookie(&cipher, UserId(3), "sph_secret", true);
        let text = set.to_str().unwrap();
        assert!(!text.contains("sph_secret"), "sealed: {text}");
        for part in ["Path=/me", "HttpOnly", "Max-Age=300", "Secure"] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
        let mut headers = HeaderMap::new();
        let pair = text.split(';').next().unwrap();
        headers.insert(header::COOKIE, HeaderValue::from_str(pair).unwrap());
        assert_eq!(
            take(&cipher, &headers, UserId(3)).as_deref(),
            Some("sph_secret")
        );
        assert_eq!(take(&cipher, &headers, UserId(4)), None);
    }
}
