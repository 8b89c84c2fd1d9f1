//! Recent read results, so the hottest reads (one work, a list page) are answered without the
//! round trip through the blocking pool. Every write through the same [`super::Db`] drops them
//! all at once (a generation counter bumped after each write transaction), so this process
//! always reads its own writes; a change by another process (a CLI command, a second server on
//! the same PostgreSQL) is noticed by [`super::Db::watch_other_writers`], and anything else
//! shows within the time to live. Bounded by entry count and by an estimate of the bytes held.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// Default time to live of a cached read.
pub const DEFAULT_READ_CACHE_TTL: Duration = Duration::from_secs(10);
/// Most entries held; the cache is emptied when it would grow past this.
const MAX_ENTRIES: usize = 4096;
/// Most bytes (estimated) held; the cache is emptied when it would grow past this.
const MAX_BYTES: usize = 32 * 1024 * 1024;

/// A cached value's estimated heap size, so the cache stays within its byte budget.
pub trait Weigh {
    /// Roughly how many bytes this value holds.
    fn weight(&self) -> usize;
}

impl<T: Weigh> Weigh for Option<T> {
    fn weight(&self) -> usize {
        self.as_ref().map_or(0, Weigh::weight)
    }
}

impl<T: Weigh> Weigh for Vec<T> {
    fn weight(&self) -> usize {
        self.iter().map(Weigh::weight).sum()
    }
}

impl<T: Weigh, U> Weigh for (T, U) {
    fn weight(&self) -> usize {
        self.0.weight() + std::mem::size_of::<U>()
    }
}

/// A cached value plus one memoised rendering of it (the API's JSON), so a page that is read
/// again and again is also serialised once: the value never changes while it is cached, so
/// neither does its rendering.
pub struct Shared<T> {
    value: T,
    rendered: OnceLock<bytes::Bytes>,
}

impl<T> Shared<T> {
    /// Wraps a freshly read value.
    pub fn new(value: T) -> Self {
        Self { value, rendered: OnceLock::new() }
    }

    /// The value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The rendering, made by `render` the first time it is asked for.
    pub fn rendered<E>(&self, render: impl FnOnce(&T) -> Result<Vec<u8>, E>) -> Result<bytes::Bytes, E> {
        if let Some(done) = self.rendered.get() {
            return Ok(done.clone());
        }
        let fresh = bytes::Bytes::from(render(&self.value)?);
        Ok(self.rendered.get_or_init(|| fresh).clone())
    }
}

impl<T: Weigh> Weigh for Shared<T> {
    fn weight(&self) -> usize {
        // The rendering is about as large as the value again.
        self.value.weight() * 2
    }
}

struct Entry {
    generation: u64,
    weight: usize,
    stored_at: Instant,
    value: Arc<dyn Any + Send + Sync>,
    /// Set once a caller was told to refresh this entry.
    refreshing: AtomicBool,
}

/// What the cache holds for a key.
pub enum Lookup<T> {
    /// Nothing usable: query.
    Miss,
    /// Stored since the last write and within the time to live, or already being refreshed.
    Hit(Arc<T>),
    /// Stored since the last write, past the time to live but within twice it: serve it, and
    /// refresh it in the background — this caller is the only one told so. Popular entries
    /// thus never expire all at once under load, and no write is ever hidden by it: a write
    /// changes the generation, which makes every entry a miss.
    Refresh(Arc<T>),
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, Entry>,
    bytes: usize,
}

/// The cache. A zero time to live turns it off.
pub struct ReadCache {
    generation: AtomicU64,
    ttl: Duration,
    entries: RwLock<Entries>,
}

impl ReadCache {
    /// An empty cache whose entries live at most `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self { generation: AtomicU64::new(0), ttl, entries: RwLock::default() }
    }

    /// Whether reads are cached at all.
    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The current write generation. Read it *before* querying, so a write that commits while
    /// the query runs makes the stored result stale at once.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Drops every cached result (called after each write transaction ends).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// What is stored under `key` (see [`Lookup`]).
    pub fn lookup<T: Send + Sync + 'static>(&self, key: &str) -> Lookup<T> {
        let entries = self.entries.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(entry) = entries.map.get(key).filter(|entry| entry.generation == self.generation()) else {
            return Lookup::Miss;
        };
        let Ok(value) = entry.value.clone().downcast::<T>() else {
            return Lookup::Miss;
        };
        let age = entry.stored_at.elapsed();
        if age < self.ttl {
            Lookup::Hit(value)
        } else if age >= self.ttl * 2 {
            Lookup::Miss
        } else if entry.refreshing.swap(true, Ordering::AcqRel) {
            Lookup::Hit(value)
        } else {
            Lookup::Refresh(value)
        }
    }

    /// Stores a result read at `generation` (see [`ReadCache::generation`]).
    pub fn put<T: Weigh + Send + Sync + 'static>(&self, key: String, generation: u64, value: Arc<T>) {
        if !self.enabled() || generation != self.generation() {
            return;
        }
        let weight = value.weight() + key.len() + 64;
        let mut entries = self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.map.len() >= MAX_ENTRIES || entries.bytes + weight > MAX_BYTES {
            *entries = Entries::default();
        }
        if weight > MAX_BYTES {
            return;
        }
        let entry = Entry { generation, weight, stored_at: Instant::now(), value, refreshing: AtomicBool::new(false) };
        let replaced = entries.map.insert(key, entry).map_or(0, |old| old.weight);
        entries.bytes = entries.bytes + weight - replaced;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Blob(usize);

    fn hit(cache: &ReadCache, key: &str) -> bool {
        matches!(cache.lookup::<Blob>(key), Lookup::Hit(_))
    }

    impl Weigh for Blob {
        fn weight(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn a_write_or_the_time_to_live_ends_an_entry() {
        let cache = ReadCache::new(Duration::from_millis(50));
        let generation = cache.generation();
        cache.put("a".into(), generation, Arc::new(Blob(1)));
        assert!(hit(&cache, "a"));
        assert!(matches!(cache.lookup::<String>("a"), Lookup::Miss), "a different type is a miss, not a panic");
        cache.invalidate();
        assert!(!hit(&cache, "a"), "a write drops every entry");
        cache.put("b".into(), cache.generation(), Arc::new(Blob(1)));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!hit(&cache, "b"), "an entry expires");
    }

    #[test]
    fn an_entry_past_its_time_is_refreshed_by_one_caller_while_others_are_served() {
        let cache = ReadCache::new(Duration::from_millis(100));
        cache.put("a".into(), cache.generation(), Arc::new(Blob(1)));
        assert!(matches!(cache.lookup::<Blob>("a"), Lookup::Hit(_)));
        std::thread::sleep(Duration::from_millis(120));
        assert!(matches!(cache.lookup::<Blob>("a"), Lookup::Refresh(_)), "the first caller refreshes");
        assert!(matches!(cache.lookup::<Blob>("a"), Lookup::Hit(_)), "the others are served meanwhile");
        cache.put("a".into(), cache.generation(), Arc::new(Blob(2)));
        assert!(matches!(cache.lookup::<Blob>("a"), Lookup::Hit(blob) if blob.0 == 2));
        std::thread::sleep(Duration::from_millis(210));
        assert!(matches!(cache.lookup::<Blob>("a"), Lookup::Miss), "past twice its time an entry is gone");
        cache.put("b".into(), cache.generation(), Arc::new(Blob(1)));
        std::thread::sleep(Duration::from_millis(120));
        cache.invalidate();
        assert!(matches!(cache.lookup::<Blob>("b"), Lookup::Miss), "a write is never hidden by a refresh");
    }

    #[test]
    fn a_shared_value_is_rendered_once() {
        let shared = Shared::new(Blob(3));
        let mut renders = 0;
        for _ in 0..3 {
            let bytes = shared.rendered(|blob| {
                renders += 1;
                Ok::<_, ()>(vec![b'x'; blob.0])
            });
            assert_eq!(bytes.unwrap().as_ref(), b"xxx");
        }
        assert_eq!(renders, 1);
        assert!(Shared::new(Blob(1)).rendered(|_| Err::<Vec<u8>, _>("refused")).is_err());
    }

    #[test]
    fn a_result_read_before_a_write_is_not_stored() {
        let cache = ReadCache::new(Duration::from_secs(5));
        let generation = cache.generation();
        cache.invalidate();
        cache.put("a".into(), generation, Arc::new(Blob(1)));
        assert!(!hit(&cache, "a"));
    }

    #[test]
    fn the_cache_stays_within_its_byte_budget_and_can_be_off() {
        let cache = ReadCache::new(Duration::from_secs(5));
        cache.put("huge".into(), cache.generation(), Arc::new(Blob(MAX_BYTES + 1)));
        assert!(!hit(&cache, "huge"));
        for n in 0..40 {
            cache.put(format!("k{n}"), cache.generation(), Arc::new(Blob(MAX_BYTES / 16)));
        }
        let held = cache.entries.read().unwrap().bytes;
        assert!(held <= MAX_BYTES, "{held} bytes held");
        let off = ReadCache::new(Duration::ZERO);
        off.put("a".into(), off.generation(), Arc::new(Blob(1)));
        assert!(!hit(&off, "a"));
    }
}
