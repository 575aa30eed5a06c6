//! `keygen`: a new Fernet key for TOKEN_ENCRYPTION_KEY.

/// A random 32-byte key in URL-safe base64, the format Python's `Fernet.generate_key()` makes.
pub fn generate_key() -> String {
    fernet::Fernet::generate_key()
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_keys_are_valid_and_different() {
        let a = super::generate_key();
        assert!(fernet::Fernet::new(&a).is_some());
        assert_ne!(a, super::generate_key());
    }
}
