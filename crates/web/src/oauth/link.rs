//! Linking a Spotify account to an existing user (one an import made, say): the admin UI's
//! "Link a Spotify account" starts a sign-in in the administrator's browser whose sealed state
//! names the user, and the callback links the account that signs in to that user. Nothing in
//! an address can start such a sign-in: only this POST, behind an admin session and its CSRF
//! token, makes that state, and the callback accepts it only from the browser it was made for.

use super::login::{other_origin, to_spotify};
use axum::http::{HeaderMap, HeaderValue};
use spotify_history_core::UserId;
use spotify_history_spotify::SpotifyAccess;

/// Where to send the administrator's browser to link the Spotify account that signs in to
/// `user` (Spotify's authorize URL, coming back to the user's admin page), and the cookie
/// binding that sign-in to the browser; or, as a message, why it cannot start here.
///
/// The admin UI answers its form with a page that goes on to this URL, not with a redirect:
/// its pages allow forms to lead to this site only (`form-action 'self'`), and browsers hold
/// a form's redirects to that too.
pub(crate) fn start(
    spotify: &SpotifyAccess,
    request_headers: &HeaderMap,
    user: UserId,
) -> Result<(String, HeaderValue), String> {
    let page = format!("/admin/ui/users/{user}");
    if let Some(origin) = other_origin(request_headers, spotify) {
        // Spotify comes back to that host, where this browser has no admin session and no
        // sign-in cookie.
        return Err(format!(
            "Spotify sends the browser back to {origin}, not to this address: open the admin UI at {origin}{page} and link from there."
        ));
    }
    let next = format!("{page}?notice=linked");
    let [(_, location), (_, cookie)] =
        to_spotify(spotify, Some(next), Some(user.0)).map_err(|p| p.message)?;
    let url = location
        .to_str()
        .map_err(|_| "the Spotify sign-in address is not valid text".to_owned())?
        .to_owned();
    Ok((url, cookie))
}
