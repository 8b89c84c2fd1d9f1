//! Passwords, tokens and the authenticated caller. Passwords are argon2id with OWASP's
//! parameters; session tokens are random and stored only as SHA-256 hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::ids::UserId;
use crate::domain::user::{Role, Visibility};

/// How the caller proved who they are; cookie callers need CSRF proof on unsafe requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer …`
    Bearer,
    /// The session cookie.
    Cookie,
    /// A command run on the server itself as this account (`microcat import --as …`).
    Console,
}

/// A logged-in caller, as handlers see them.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub csrf_token: String,
    pub token_hash: String,
    pub credential: Credential,
    /// The peer address of the request, for the audit trail.
    pub client_addr: Option<String>,
}

impl AuthUser {
    /// Whether the caller holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the caller is an admin.
    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin)
    }

    /// Which works the caller may read.
    pub fn visibility(&self) -> Visibility {
        Visibility::for_roles(&self.id, &self.roles)
    }
}

/// argon2id with OWASP's minimum: 19 MiB memory, 2 iterations, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password (CPU-heavy: call from a blocking thread).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with valid parameters cannot fail")
        .to_string()
}

/// Checks a password against a stored hash (CPU-heavy: call from a blocking thread).
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash).is_ok_and(|parsed| hasher().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash to verify against when the user does not exist, so timing does not reveal it.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that never matches"))
}

/// A fresh random secret, hex-encoded.
pub fn random_secret(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    hex::encode(buffer)
}

/// The stored form of a session token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A generated password for the first admin: 20 characters from an unambiguous alphabet.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|byte| ALPHABET[*byte as usize % ALPHABET.len()] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_passwords_verify_and_wrong_ones_do_not() {
        let hash = hash_password("正确的密码 horse");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("正确的密码 horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashed_deterministically() {
        let token = random_secret(32);
        assert_eq!(token.len(), 64);
        assert_ne!(token, random_secret(32));
        assert_eq!(token_hash(&token), token_hash(&token));
        assert_ne!(token_hash(&token), token);
    }

    #[test]
    fn generated_passwords_are_long_enough() {
        assert_eq!(generate_password().chars().count(), 20);
    }
}
