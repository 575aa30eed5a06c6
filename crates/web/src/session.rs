//! Browser sessions for the admin UI and the listener's `/me` page: a cookie holding who is
//! signed in and the session's CSRF token, sealed (encrypted and authenticated, timestamped)
//! with the server's Fernet key, so no session table is needed and any API process can read
//! it. A session lasts [`SESSION_MAX_AGE`]; signing out clears the cookie.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use spotify_history_core::UserId;
use spotify_history_spotify::TokenCipher;
use std::time::Duration;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "sph_session";
/// How long a session lasts after signing in.
pub const SESSION_MAX_AGE: Duration = Duration::from_secs(12 * 3600);
/// Header carrying the CSRF token on state-changing requests (htmx sends it on every request).
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Query parameter or form field carrying the CSRF token where a header cannot be set
/// (plain HTML forms, multipart uploads).
pub const CSRF_FIELD: &str = "csrf";

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// The operator, after the admin login form.
    Admin,
    /// A listener, after signing in with Spotify; sees only their own data.
    Listener(UserId),
}

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    #[serde(rename = "k")]
    pub kind: SessionKind,
    /// Random; state-changing requests of this session must present it ([`CSRF_HEADER`] or
    /// [`CSRF_FIELD`]), which a page of another site cannot read.
    #[serde(rename = "c")]
    pub csrf: String,
    /// The Spotify account a listener signed in with: the session ends when the user is no
    /// longer linked to it (unlinked, or linked to another account).
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub spotify_account: Option<String>,
}

impl Session {
    /// Whether `presented` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, presented: Option<&str>) -> bool {
        let Some(presented) = presented else {
            return false;
        };
        let (a, b) = (self.csrf.as_bytes(), presented.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// Makes and reads session cookies.
#[derive(Clone, Debug)]
pub struct Sessions {
    cipher: TokenCipher,
    /// Adds `Secure` to cookies (PUBLIC_BASE_URL is HTTPS).
    secure: bool,
}

impl Sessions {
    pub fn new(cipher: TokenCipher, secure: bool) -> Sessions {
        Sessions { cipher, secure }
    }

    /// A new session for `kind`, and the `Set-Cookie` value that starts it.
    pub fn start(&self, kind: SessionKind) -> (Session, HeaderValue) {
        self.start_with(kind, None)
    }

    /// A new session of the listener `user`, who signed in with `spotify_account`.
    pub fn start_listener(&self, user: UserId, spotify_account: &str) -> (Session, HeaderValue) {
        self.start_with(
            SessionKind::Listener(user),
            Some(spotify_account.to_owned()),
        )
    }

    fn start_with(
        &self,
        kind: SessionKind,
        spotify_account: Option<String>,
    ) -> (Session, HeaderValue) {
        let mut csrf = [0u8; 24];
        rand::rng().fill_bytes(&mut csrf);
        let session = Session {
            kind,
            csrf: URL_SAFE_NO_PAD.encode(csrf),
            spotify_account,
        };
        let sealed = self
            .cipher
            .seal(&serde_json::to_vec(&session).expect("a session serializes"));
        let secure = if self.secure { "; Secure" } else { "" };
        let cookie = format!(
            "{SESSION_COOKIE}={sealed}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax{secure}",
            SESSION_MAX_AGE.as_secs()
        );
        let cookie = HeaderValue::from_str(&cookie).expect("Fernet tokens are URL-safe");
        (session, cookie)
    }

    /// The request's session, if it carries a valid, unexpired one.
    pub fn read(&self, headers: &HeaderMap) -> Option<Session> {
        let sealed = cookie(headers, SESSION_COOKIE)?;
        let json = self.cipher.open(sealed, SESSION_MAX_AGE).ok()?;
        serde_json::from_slice(&json).ok()
    }

    /// The `Set-Cookie` value that ends a session.
    pub fn end(&self) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax{secure}"
        ))
        .expect("a fixed cookie")
    }
}

/// The value of one cookie of the request.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spotify_history_core::Secret;

    fn sessions() -> Sessions {
        let key = Secret::new("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=");
        Sessions::new(TokenCipher::new(&key).unwrap(), true)
    }

    fn with_cookie(cookie: &HeaderValue) -> HeaderMap {
        let pair = cookie.to_str().unwrap().split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("theme=dark; {pair}")).unwrap(),
        );
        headers
    }

    #[test]
    fn a_session_reads_back_from_its_cookie_and_nothing_else_does() {
        let sessions = sessions();
        let (session, cookie) = sessions.start(SessionKind::Listener(UserId(7)));
        let text = cookie.to_str().unwrap();
        for part in [
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=43200",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
        assert_eq!(sessions.read(&with_cookie(&cookie)), Some(session.clone()));
        assert!(session.csrf_matches(Some(&session.csrf)));
        assert!(!session.csrf_matches(Some("guess")));
        assert!(!session.csrf_matches(None));

        let forged = HeaderValue::from_static("sph_session=gAAAAABforged");
        assert_eq!(sessions.read(&with_cookie(&forged)), None);
        let other = Sessions::new(
            TokenCipher::new(&Secret::new(fernet::Fernet::generate_key())).unwrap(),
            false,
        );
        assert_eq!(other.read(&with_cookie(&cookie)), None);
        assert_eq!(sessions.read(&with_cookie(&sessions.end())), None);
    }
}
