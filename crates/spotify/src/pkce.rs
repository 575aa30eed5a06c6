//! PKCE (RFC 7636, S256): the verifier stays with us, its hash goes to `/authorize`, so an
//! intercepted code is useless without the verifier.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use spotify_history_core::Secret;

/// Length of generated verifiers; RFC 7636 allows 43 to 128 characters.
const VERIFIER_LEN: usize = 64;

/// A PKCE verifier and its S256 challenge.
#[derive(Debug, Clone)]
pub struct Pkce {
    /// Sent with the code exchange; keep it with the sign-in `state` until then.
    pub verifier: Secret,
    /// Sent to `/authorize` with `code_challenge_method=S256`.
    pub challenge: String,
}

impl Pkce {
    /// A fresh random verifier and its challenge.
    pub fn generate() -> Pkce {
        let verifier: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(VERIFIER_LEN)
            .map(char::from)
            .collect();
        Pkce::from_verifier(verifier)
    }

    /// The pair for a verifier kept from earlier (e.g. recovered from signed `state`).
    pub fn from_verifier(verifier: impl Into<String>) -> Pkce {
        let verifier = verifier.into();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier: Secret::new(verifier),
            challenge,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_matches_rfc_7636_example() {
        // Appendix B of RFC 7636.
        let pkce = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            pkce.challenge,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_verifiers_are_long_random_and_unreserved() {
        let a = Pkce::generate();
        let b = Pkce::generate();
        assert_ne!(a.verifier, b.verifier);
        assert_eq!(a.verifier.expose().len(), VERIFIER_LEN);
        assert!(
            a.verifier
                .expose()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric())
        );
        assert_eq!(a.challenge.len(), 43);
    }
}
