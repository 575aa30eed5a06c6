//! The OAuth `state`: what the callback needs from the login request (the PKCE verifier,
//! where to go afterwards, a nonce), sealed with the token cipher so that nobody can read or
//! change it on its way through Spotify, and valid for [`MAX_AGE`]. The nonce is also set as
//! a cookie, so a redirect URL copied out of one browser does not finish the sign-in in
//! another: the page at the end shows an MCP token, which must go to whoever signed in.

use crate::session::cookie;
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use spotify_history_spotify::TokenCipher;
use std::time::Duration;

/// How long a sign-in may take from `/auth/login` to `/auth/callback`.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(10 * 60);

/// Cookie holding the nonce of the sign-in this browser started.
pub(crate) const NONCE_COOKIE: &str = "sph_sign_in";

/// What `/auth/login` hands to `/auth/callback` through Spotify. Short field names keep the
/// sealed text (and so the URL) short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SignInState {
    /// The PKCE verifier whose challenge went to `/authorize`.
    #[serde(rename = "v")]
    pub verifier: String,
    /// Where to send the listener after signing in; `None` shows the token page.
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Random; must match the [`NONCE_COOKIE`] of the browser that comes back.
    #[serde(rename = "b")]
    pub nonce: String,
    /// The user an administrator links to the Spotify account that signs in (see
    /// `oauth::link`); `None` for a listener's own sign-in.
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub link_user: Option<i64>,
}

/// Why a `state` was refused. Fernet does not say whether a token was altered or expired,
/// so neither does this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateError {
    /// Not made by this server, altered, or older than [`MAX_AGE`].
    InvalidOrExpired,
    /// Sealed correctly, but this browser did not start the sign-in (no or another cookie).
    OtherBrowser,
}

impl SignInState {
    /// A state with a fresh nonce.
    pub(crate) fn new(verifier: String, next: Option<String>) -> SignInState {
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        SignInState {
            verifier,
            next,
            nonce: URL_SAFE_NO_PAD.encode(nonce),
            link_user: None,
        }
    }

    /// The `state` parameter: URL-safe text only this server's key can open.
    pub(crate) fn seal(&self, cipher: &TokenCipher) -> String {
        let json = serde_json::to_vec(self).expect("a struct of strings serializes");
        cipher.seal(&json)
    }

    /// Opens a `state` from the callback and checks it belongs to the browser presenting it.
    pub(crate) fn open(
        cipher: &TokenCipher,
        sealed: &str,
        request_headers: &HeaderMap,
    ) -> Result<SignInState, StateError> {
        let json = cipher
            .open(sealed, MAX_AGE)
            .map_err(|_| StateError::InvalidOrExpired)?;
        let state: SignInState =
            serde_json::from_slice(&json).map_err(|_| StateError::InvalidOrExpired)?;
        match cookie(request_headers, NONCE_COOKIE) {
            Some(nonce) if nonce == state.nonce => Ok(state),
            _ => Err(StateError::OtherBrowser),
        }
    }

    /// `Set-Cookie` value binding this sign-in to the browser. `Lax` because the browser comes
    /// back from Spotify by a top-level GET navigation; `Secure` when the site is HTTPS.
    pub(crate) fn set_cookie(&self, secure: bool) -> HeaderValue {
        let secure = if secure { "; Secure" } else { "" };
        let value = format!(
            "{NONCE_COOKIE}={}; Max-Age={}; Path=/auth; HttpOnly; SameSite=Lax{secure}",
            self.nonce,
            MAX_AGE.as_secs()
        );
        HeaderValue::from_str(&value).expect("the nonce is base64url")
    }
}

/// `Set-Cookie` value removing the nonce cookie once the sign-in is over.
pub(crate) fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("sph_sign_in=; Max-Age=0; Path=/auth; HttpOnly; SameSite=Lax")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;
    use spotify_history_core::Secret;

    fn cipher() -> TokenCipher {
        let key = Secret::new("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=");
        TokenCipher::new(&key).unwrap()
    }

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_sealed_state_opens_only_in_the_browser_that_started_it() {
        let state = SignInState::new("verifier".into(), Some("https://a.example:8443/x".into()));
        let sealed = state.seal(&cipher());
        assert!(!sealed.contains("verifier"), "the verifier is encrypted");
        let browser = with_cookie(&format!("theme=dark; {NONCE_COOKIE}={}", state.nonce));
        assert_eq!(SignInState::open(&cipher(), &sealed, &browser), Ok(state));
        assert_eq!(
            SignInState::open(&cipher(), &sealed, &HeaderMap::new()),
            Err(StateError::OtherBrowser)
        );
        assert_eq!(
            SignInState::open(&cipher(), &sealed, &with_cookie("sph_sign_in=other")),
            Err(StateError::OtherBrowser)
        );
    }

    #[test]
    fn altered_or_foreign_states_are_refused() {
        let state = SignInState::new("v".into(), None);
        let browser = with_cookie(&format!("{NONCE_COOKIE}={}", state.nonce));
        let sealed = state.seal(&cipher());
        let mut altered = sealed.clone().into_bytes();
        let middle = altered.len() / 2;
        altered[middle] = if altered[middle] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(
            SignInState::open(&cipher(), &altered, &browser),
            Err(StateError::InvalidOrExpired)
        );
        let other_key = TokenCipher::new(&Secret::new(fernet::Fernet::generate_key())).unwrap();
        assert_eq!(
            SignInState::open(&other_key, &sealed, &browser),
            Err(StateError::InvalidOrExpired)
        );
        assert_eq!(
            SignInState::open(&cipher(), "not-a-state", &browser),
            Err(StateError::InvalidOrExpired)
        );
    }

    #[test]
    fn the_cookie_is_scoped_and_short_lived() {
        let state = SignInState::new("v".into(), None);
        let cookie = state.set_cookie(true);
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.starts_with(&format!("sph_sign_in={};", state.nonce)));
        for part in [
            "Max-Age=600",
            "Path=/auth",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
        ] {
            assert!(cookie.contains(part), "{cookie} lacks {part}");
        }
        assert!(!state.set_cookie(false).to_str().unwrap().contains("Secure"));
    }
}
