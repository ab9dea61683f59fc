//! Secrets at rest: each instance's secret is sealed (AES-256-GCM, bound to its
//! instance) with a key kept apart from the database, so that a copied database file
//! alone reveals no secret.
//!
//! The key lives, in this order of preference:
//! - in a file the service manager gives (`$CREDENTIALS_DIRECTORY/casbah.key`, systemd's
//!   `LoadCredential=`) or `CASBAH_KEY_FILE` names;
//! - in the system keyring (the Secret Service), where one is reachable;
//! - otherwise in `casbah/secrets.key` in the user's config folder (0600, in 0700).
//!
//! A database records where its key went (`META` `key-store`), so that opening it where
//! that store cannot be reached says so instead of failing to read secrets.

use std::path::PathBuf;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::domain::Secret;

const KEY_LEN: usize = 32;
/// The first byte of a sealed secret: the layout, for a later change of cipher.
const SEALED_V1: u8 = 1;
const KEYRING_SERVICE: &str = "casbah";
const KEYRING_ENTRY: &str = "secrets key";
/// What a database records when its key is in the keyring.
pub const IN_KEYRING: &str = "keyring";

/// Why secrets cannot be sealed or read; the text says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VaultError(String);

/// The key that seals this database's secrets, and where it lives.
pub struct Vault {
    key: LessSafeKey,
    /// Recorded in the database (`IN_KEYRING`, or the key file's path).
    pub place: String,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("place", &self.place)
            .finish_non_exhaustive()
    }
}

/// Where a store looks for its key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KeyStore {
    /// The service manager's key file, `CASBAH_KEY_FILE`, the place the database
    /// recorded, the system keyring, or the config folder, in that order.
    #[default]
    System,
    /// This file (made when missing), whatever the environment says.
    File(PathBuf),
}

/// A key file named by the environment: the service manager's, or `CASBAH_KEY_FILE`.
fn given_file() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let path = PathBuf::from(dir).join("casbah.key");
        if path.exists() {
            return Some(path);
        }
    }
    std::env::var_os("CASBAH_KEY_FILE").map(PathBuf::from)
}

fn default_file() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "casbah").map(|d| d.config_dir().join("secrets.key"))
}

fn new_key() -> Result<Vec<u8>, VaultError> {
    let mut key = vec![0u8; KEY_LEN];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| VaultError("the system cannot give random bytes for a key".into()))?;
    Ok(key)
}

/// Reads the key in `path`, or makes one there (0600, its folder 0700) when `create`.
fn file_key(path: &std::path::Path, create: bool) -> Result<Vec<u8>, VaultError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    match std::fs::read(path) {
        Ok(key) if key.len() == KEY_LEN => return Ok(key),
        Ok(_) => {
            return Err(VaultError(format!(
                "{} is not a casbah secrets key ({KEY_LEN} bytes); restore it from a backup",
                path.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {}
        Err(e) => {
            return Err(VaultError(format!(
                "cannot read the secrets key {}: {e}; the instances' secrets cannot be read without it",
                path.display()
            )));
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| VaultError(format!("cannot create {}: {e}", dir.display())))?;
    }
    let key = new_key()?;
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(file) => file,
        // Another casbah made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return file_key(path, false),
        Err(e) => {
            return Err(VaultError(format!(
                "cannot create the secrets key {}: {e}",
                path.display()
            )));
        }
    };
    std::io::Write::write_all(&mut file, &key)
        .and_then(|()| file.set_permissions(std::fs::Permissions::from_mode(0o600)))
        .map_err(|e| {
            VaultError(format!(
                "cannot write the secrets key {}: {e}",
                path.display()
            ))
        })?;
    Ok(key)
}

/// The keyring's key, made there when it has none and `create`; `None` where no keyring
/// is reachable.
fn keyring_key(create: bool) -> Option<Vec<u8>> {
    keyring::Entry::store_status().as_ref().ok()?;
    let entry = keyring::Entry::new(KEYRING_SERVICE, KEYRING_ENTRY).ok()?;
    match entry.get_secret() {
        Ok(key) if key.len() == KEY_LEN => Some(key),
        Ok(_) => None,
        Err(keyring::Error::NoEntry) if create => {
            let key = new_key().ok()?;
            entry.set_secret(&key).ok()?;
            Some(key)
        }
        Err(_) => None,
    }
}

impl Vault {
    /// The key a database that recorded `recorded` uses now (`None`: it has no secret
    /// yet, and the key goes to the best place reachable). A key the environment gives
    /// comes first, even where the database recorded another (see `Store::vault`).
    pub fn open(keys: &KeyStore, recorded: Option<&str>) -> Result<Vault, VaultError> {
        let given = match keys {
            KeyStore::File(path) => Some(path.clone()),
            KeyStore::System => given_file(),
        };
        match (given, recorded) {
            (Some(path), _) => Vault::with_key(file_key(&path, true)?, path.display().to_string()),
            (None, Some(place)) => Vault::recorded(place),
            (None, None) => match keyring_key(true) {
                Some(key) => Vault::with_key(key, IN_KEYRING.to_string()),
                None => {
                    let path = default_file().ok_or_else(|| {
                        VaultError(
                            "no config folder for the secrets key; set CASBAH_KEY_FILE".into(),
                        )
                    })?;
                    Vault::with_key(file_key(&path, true)?, path.display().to_string())
                }
            },
        }
    }

    /// The key at the place a database recorded, never made anew.
    pub fn recorded(place: &str) -> Result<Vault, VaultError> {
        if place != IN_KEYRING {
            return Vault::with_key(
                file_key(std::path::Path::new(place), false)?,
                place.to_string(),
            );
        }
        match keyring_key(false) {
            Some(key) => Vault::with_key(key, IN_KEYRING.to_string()),
            None => Err(VaultError(
                "this database's secrets are sealed with a key in the system keyring, which cannot be reached from this session; unlock the keyring (or run casbah in the desktop session), or set CASBAH_KEY_FILE to a key file and give the secrets again with `casbah connectors set-secret NAME`".into(),
            )),
        }
    }

    fn with_key(key: Vec<u8>, place: String) -> Result<Vault, VaultError> {
        let key = UnboundKey::new(&AES_256_GCM, &key)
            .map_err(|_| VaultError("the secrets key is unusable".into()))?;
        Ok(Vault {
            key: LessSafeKey::new(key),
            place,
        })
    }

    /// `secret` sealed for instance `instance`: it opens for that instance only.
    pub fn seal(&self, instance: u64, secret: &Secret) -> Result<Vec<u8>, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| VaultError("the system cannot give random bytes".into()))?;
        let mut sealed = secret.expose().as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(instance.to_be_bytes()),
                &mut sealed,
            )
            .map_err(|_| VaultError("the secret could not be sealed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(SEALED_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn unseal(&self, instance: u64, sealed: &[u8]) -> Result<Secret, VaultError> {
        let refused = || {
            VaultError(format!(
                "the secret of instance {instance} cannot be opened with the key at {}; set it again with `casbah connectors set-secret NAME`",
                self.place
            ))
        };
        let [SEALED_V1, rest @ ..] = sealed else {
            return Err(refused());
        };
        if rest.len() < NONCE_LEN {
            return Err(refused());
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| refused())?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(instance.to_be_bytes()), &mut body)
            .map_err(|_| refused())?;
        String::from_utf8(plain.to_vec())
            .map(Secret::new)
            .map_err(|_| refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(dir: &std::path::Path) -> Vault {
        let path = dir.join("k").join("secrets.key");
        Vault::open(&KeyStore::File(path), None).unwrap()
    }

    // Issue 10, DESIGN §3 Secrets: a sealed secret shows nothing of itself, opens for its
    // own instance only, and not with another key.
    #[test]
    fn sealed_secrets_open_for_their_instance_and_key_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let v = vault(dir.path());
        let secret = Secret::new("client-secret-4bd9e");
        let sealed = v.seal(7, &secret).unwrap();
        assert!(!sealed.windows(5).any(|w| w == b"4bd9e"));
        assert_eq!(v.unseal(7, &sealed).unwrap(), secret);
        assert!(v.unseal(8, &sealed).is_err(), "bound to its instance");
        assert_ne!(
            sealed,
            v.seal(7, &secret).unwrap(),
            "a fresh nonce each time"
        );
        let other = vault(&dir.path().join("other"));
        assert!(other.unseal(7, &sealed).is_err());
        let key = dir.path().join("k").join("secrets.key");
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&key), mode(key.parent().unwrap())), (0o600, 0o700));
        // A recorded key file that is gone is said, not replaced.
        std::fs::remove_file(&key).unwrap();
        let err = Vault::open(&KeyStore::System, Some(key.to_str().unwrap()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read the secrets key"), "{err}");
    }
}
