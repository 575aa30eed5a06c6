//! Encryption of Spotify tokens at rest and of the OAuth `state`: Fernet (AES-128-CBC +
//! HMAC-SHA256, timestamped), compatible with the Python system's TOKEN_ENCRYPTION_KEY.

use spotify_history_core::Secret;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Name of the key file created in DATA_DIR when TOKEN_ENCRYPTION_KEY is not set.
pub const KEY_FILE_NAME: &str = "token-encryption.key";

/// Why a key or a ciphertext could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error(
        "TOKEN_ENCRYPTION_KEY is not a Fernet key (32 bytes, URL-safe base64): make one with `spotify-history keygen`"
    )]
    InvalidKey,
    #[error("the key file {path} {problem}")]
    KeyFile { path: PathBuf, problem: String },
    #[error("cannot decrypt: not made with this key, altered, or expired")]
    Undecryptable,
}

/// Encrypts and decrypts with one Fernet key. Cheap to clone.
#[derive(Clone)]
pub struct TokenCipher(Arc<fernet::Fernet>);

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher(***)")
    }
}

/// Where a cipher's key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// TOKEN_ENCRYPTION_KEY.
    Setting,
    /// A key file read from DATA_DIR.
    File(PathBuf),
    /// A key file just created in DATA_DIR (back it up with the database).
    NewFile(PathBuf),
}

impl TokenCipher {
    /// A cipher with a Fernet key as `keygen` prints it.
    pub fn new(key: &Secret) -> Result<TokenCipher, CipherError> {
        fernet::Fernet::new(key.expose().trim())
            .map(|f| TokenCipher(Arc::new(f)))
            .ok_or(CipherError::InvalidKey)
    }

    /// The key from the setting when given, else from `DATA_DIR/token-encryption.key`, made
    /// (readable by the owner only) when missing.
    pub fn from_setting_or_file(
        key: Option<&Secret>,
        data_dir: &Path,
    ) -> Result<(TokenCipher, KeySource), CipherError> {
        if let Some(key) = key.filter(|k| !k.is_empty()) {
            return Ok((TokenCipher::new(key)?, KeySource::Setting));
        }
        let path = data_dir.join(KEY_FILE_NAME);
        let file_error = |problem: String| CipherError::KeyFile {
            path: path.clone(),
            problem,
        };
        match std::fs::read_to_string(&path) {
            Ok(key) => {
                let cipher = TokenCipher::new(&Secret::new(key))
                    .map_err(|_| file_error("does not hold a Fernet key".into()))?;
                Ok((cipher, KeySource::File(path)))
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let key = fernet::Fernet::generate_key();
                write_private(&path, &key)
                    .map_err(|e| file_error(format!("cannot be made: {e}")))?;
                Ok((
                    TokenCipher::new(&Secret::new(key))?,
                    KeySource::NewFile(path),
                ))
            }
            Err(err) => Err(file_error(format!("cannot be read: {err}"))),
        }
    }

    /// Encrypts a secret to a Fernet token (ASCII).
    pub fn encrypt(&self, secret: &Secret) -> String {
        self.0.encrypt(secret.expose().as_bytes())
    }

    /// Decrypts what [`TokenCipher::encrypt`] made.
    pub fn decrypt(&self, token: &str) -> Result<Secret, CipherError> {
        let bytes = self
            .0
            .decrypt(token)
            .map_err(|_| CipherError::Undecryptable)?;
        String::from_utf8(bytes)
            .map(Secret::new)
            .map_err(|_| CipherError::Undecryptable)
    }

    /// Seals bytes so that only this key can read them, for at most `max_age`.
    pub fn seal(&self, data: &[u8]) -> String {
        self.0.encrypt(data)
    }

    /// Opens what [`TokenCipher::seal`] made, if it is at most `max_age` old.
    pub fn open(&self, sealed: &str, max_age: Duration) -> Result<Vec<u8>, CipherError> {
        self.0
            .decrypt_with_ttl(sealed, max_age.as_secs())
            .map_err(|_| CipherError::Undecryptable)
    }
}

/// Creates `path` with `contents`, readable and writable by the owner only; never overwrites.
/// The file appears complete or not at all (written aside, then linked into place), so a
/// second process starting at the same moment never reads a half-written key: the loser of
/// the race reads the winner's key.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)?;
    let aside = folder.join(format!(".{KEY_FILE_NAME}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = (|| {
        let mut file = options.open(&aside)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        std::fs::hard_link(&aside, path)
    })();
    let _ = std::fs::remove_file(&aside);
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_other_keys_cannot_read_them() {
        let key = Secret::new(fernet::Fernet::generate_key());
        let cipher = TokenCipher::new(&key).unwrap();
        let sealed = cipher.encrypt(&Secret::new("refresh-token"));
        assert_ne!(sealed, "refresh-token");
        assert_eq!(cipher.decrypt(&sealed).unwrap().expose(), "refresh-token");
        let other = TokenCipher::new(&Secret::new(fernet::Fernet::generate_key())).unwrap();
        assert!(matches!(
            other.decrypt(&sealed),
            Err(CipherError::Undecryptable)
        ));
        assert!(matches!(
            TokenCipher::new(&Secret::new("short")),
            Err(CipherError::InvalidKey)
        ));
    }

    #[test]
    fn a_key_file_is_made_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (first, source) = TokenCipher::from_setting_or_file(None, dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        assert_eq!(source, KeySource::NewFile(path.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let sealed = first.encrypt(&Secret::new("t"));
        let (again, source) = TokenCipher::from_setting_or_file(None, dir.path()).unwrap();
        assert_eq!(source, KeySource::File(path.clone()));
        assert_eq!(again.decrypt(&sealed).unwrap().expose(), "t");

        std::fs::write(&path, "garbage").unwrap();
        let err = TokenCipher::from_setting_or_file(None, dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("does not hold a Fernet key"),
            "{err}"
        );
        // The setting wins over the file.
        let key = Secret::new(fernet::Fernet::generate_key());
        let (_, source) = TokenCipher::from_setting_or_file(Some(&key), dir.path()).unwrap();
        assert_eq!(source, KeySource::Setting);
    }
}
