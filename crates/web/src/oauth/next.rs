//! `next`: where a listener goes after signing in. Any http(s) URL (another app on the same
//! machine, a host name with dots and a port) or a path on this server; nothing else, so the
//! redirect can never run a `javascript:` or `data:` URL.

use axum::http::Uri;

/// Longest `next` accepted; it travels inside the `state` through Spotify's URL.
const MAX_LEN: usize = 2_000;

/// Checks `raw` and returns it unchanged, or says what is wrong with it.
pub(crate) fn parse(raw: &str) -> Result<String, String> {
    let refuse = |why: &str| {
        Err(format!(
            "next {raw:?} {why}: give an http(s) URL such as https://music.example.org:8443/done \
             or a path on this server such as /me"
        ))
    };
    if raw.len() > MAX_LEN {
        return refuse(&format!("is longer than {MAX_LEN} characters"));
    }
    if raw.contains('\\') {
        return refuse("contains a backslash");
    }
    // `Uri` refuses spaces and control characters, so what passes is a valid Location.
    let Ok(uri) = raw.parse::<Uri>() else {
        return refuse("is not a valid URL");
    };
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some_and(|h| !h.is_empty()) => Ok(raw.to_owned()),
        Some(_) => refuse("is not an http or https URL"),
        // "//host/path" would leave the server while looking like a path.
        None if raw.starts_with('/') && !raw.starts_with("//") => Ok(raw.to_owned()),
        None => refuse("is neither an http(s) URL nor a path starting with /"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls_and_paths_are_accepted_as_given() {
        for next in [
            "https://music.example.org/done",
            "http://127.0.0.1:8765/callback?x=1&y=two",
            "https://my.host.example.co.uk:8443/a/b.c/d?q=1.2",
            "http://[::1]:9000/",
            "/me",
            "/me?tab=tokens",
            "/",
        ] {
            assert_eq!(parse(next), Ok(next.to_owned()), "{next}");
        }
    }

    #[test]
    fn other_schemes_and_odd_forms_are_refused_with_a_reason() {
        for (next, why) in [
            ("javascript:alert(1)", "http"),
            ("data:text/html,hi", "http"),
            ("ftp://example.org/x", "not an http or https URL"),
            ("//evil.example/x", "neither an http(s) URL nor a path"),
            ("/\\evil.example", "backslash"),
            ("me", "neither an http(s) URL nor a path"),
            ("https://example.org/a b", "not a valid URL"),
            ("/a\r\nSet-Cookie: x=1", "not a valid URL"),
            ("", "not a valid URL"),
        ] {
            let error = parse(next).unwrap_err();
            assert!(error.contains(why), "{next}: {error}");
            assert!(
                error.contains("give an http(s) URL such as"),
                "says what works: {error}"
            );
        }
        assert!(parse(&format!("/{}", "a".repeat(MAX_LEN))).is_err());
    }
}
