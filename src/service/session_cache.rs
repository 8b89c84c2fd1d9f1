//! Recently authenticated sessions, kept briefly in memory so most requests skip the session
//! lookup. An entry lives at most [`SESSION_CACHE_TTL`]; logout, disabling an account and
//! password or role changes evict it at once in this process; another node on the same
//! database notices within the TTL, under a second, as a cluster promises.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use super::auth::AuthUser;

/// How long a cached session is trusted without asking the database.
pub const SESSION_CACHE_TTL: Duration = Duration::from_millis(750);
/// Most cached sessions; the cache is cleared when it would grow past this.
const SESSION_CACHE_MAX: usize = 10_000;

struct Cached {
    user: AuthUser,
    expires_at: NaiveDateTime,
    cached_at: Instant,
}

/// The cache, keyed by token hash.
#[derive(Default)]
pub struct SessionCache {
    entries: RwLock<HashMap<String, Cached>>,
}

impl SessionCache {
    /// A fresh, unexpired entry for this token hash.
    pub fn get(&self, token_hash: &str, now: NaiveDateTime) -> Option<AuthUser> {
        let entries = self.entries.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let cached = entries.get(token_hash)?;
        let fresh = cached.cached_at.elapsed() < SESSION_CACHE_TTL && cached.expires_at > now;
        fresh.then(|| cached.user.clone())
    }

    /// Remembers a session that was just checked against the database.
    pub fn put(&self, user: &AuthUser, expires_at: NaiveDateTime) {
        let mut entries = self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= SESSION_CACHE_MAX {
            entries.clear();
        }
        entries.insert(user.token_hash.clone(), Cached { user: user.clone(), expires_at, cached_at: Instant::now() });
    }

    /// Forgets one session (logout).
    pub fn forget_token(&self, token_hash: &str) {
        self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(token_hash);
    }

    /// Forgets every session of an account (disabled, new password, new roles).
    pub fn forget_user(&self, user_id: &str) {
        self.entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|_, cached| cached.user.id.as_str() != user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::UserId;
    use crate::service::auth::Credential;

    fn user(token_hash: &str) -> AuthUser {
        AuthUser {
            id: UserId::generate(),
            username: "u".into(),
            display_name: "u".into(),
            roles: vec![],
            csrf_token: "c".into(),
            token_hash: token_hash.into(),
            credential: Credential::Bearer,
            client_addr: None,
        }
    }

    #[test]
    fn entries_expire_with_the_session_and_can_be_forgotten() {
        let cache = SessionCache::default();
        let now = chrono::Utc::now().naive_utc();
        let alice = user("a");
        cache.put(&alice, now + chrono::TimeDelta::minutes(5));
        assert!(cache.get("a", now).is_some());
        assert!(cache.get("a", now + chrono::TimeDelta::minutes(6)).is_none(), "an expired session is never served");
        cache.forget_user(alice.id.as_str());
        assert!(cache.get("a", now).is_none());
        cache.put(&alice, now + chrono::TimeDelta::minutes(5));
        cache.forget_token("a");
        assert!(cache.get("a", now).is_none());
    }
}
