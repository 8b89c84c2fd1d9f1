//! Typed settings, layered: built-in defaults → TOML file (`--config`) → `MICROCAT_*`
//! environment variables → command-line flags. Every CLI command reads the same settings.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything the service can be told.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `host:port` to listen on.
    pub listen: String,
    /// `sqlite://<path>` or `postgres://…`.
    pub database_url: String,
    /// Stored files.
    pub media_dir: PathBuf,
    /// The search index.
    pub index_dir: PathBuf,
    /// Password for the `admin` account created on first start; generated when unset.
    pub admin_password: Option<String>,
    /// How long a login lasts, in minutes.
    pub session_ttl_minutes: i64,
    /// Failed logins for one user before further attempts are refused.
    pub login_max_failures: i32,
    /// How long a throttled user must wait, in minutes.
    pub login_lockout_minutes: i64,
    /// HTTP worker threads; 0 means one per CPU core.
    pub http_workers: usize,
    /// Database connections in the pool.
    pub db_pool_size: u32,
    /// Mark the session cookie `Secure` (set when served behind HTTPS).
    pub cookie_secure: bool,
    /// Largest JSON request body, in bytes.
    pub json_limit_bytes: usize,
    /// Largest image upload, in bytes.
    pub max_image_bytes: u64,
    /// Largest video upload, in bytes.
    pub max_video_bytes: u64,
    /// Largest audio upload, in bytes.
    pub max_audio_bytes: u64,
    /// Largest image or video frame, in megapixels.
    pub max_image_megapixels: u64,
    /// Longest video or audio, in seconds.
    pub max_media_duration_secs: u64,
    /// Media processing workers; 0 means one per CPU core.
    pub media_workers: usize,
    /// Wall-clock limit of one media worker run, in seconds.
    pub media_timeout_secs: u64,
    /// Address-space limit of a media worker, in MiB.
    pub media_memory_mb: u64,
    /// Attempts before a processing job ends `failed`.
    pub job_max_attempts: i32,
    /// First retry delay, in seconds (doubles each attempt).
    pub job_retry_base_secs: u64,
    /// The program run as `… media-worker` for photos; this binary when unset. Films and
    /// audio go to `microcat-video` in the same folder.
    pub media_worker_program: Option<PathBuf>,
    /// Kinds whose approval needs two different reviewers (初审 / 终审).
    pub two_level_signoff_kinds: Vec<String>,
    /// How often the search indexer applies pending changes and commits, in milliseconds.
    pub search_commit_interval_ms: u64,
    /// How long a cached work, list or search page may be served, in milliseconds (0: no read
    /// cache). This process's own writes drop the cache at once, other processes' recorded
    /// changes within a quarter second; this bounds everything else.
    pub read_cache_ms: u64,
    /// Extra words for Chinese segmentation (jieba format: `word [frequency] [tag]` per line).
    pub search_dictionary: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://data/microcat.db".into(),
            media_dir: "media".into(),
            index_dir: "index".into(),
            admin_password: None,
            session_ttl_minutes: 12 * 60,
            login_max_failures: 5,
            login_lockout_minutes: 15,
            http_workers: 0,
            db_pool_size: 16,
            cookie_secure: false,
            json_limit_bytes: 2 * 1024 * 1024,
            max_image_bytes: 64 * 1024 * 1024,
            max_video_bytes: 4 * 1024 * 1024 * 1024,
            max_audio_bytes: 512 * 1024 * 1024,
            max_image_megapixels: 100,
            max_media_duration_secs: 3 * 3600,
            media_workers: 0,
            media_timeout_secs: 120,
            media_memory_mb: 2048,
            job_max_attempts: 3,
            job_retry_base_secs: 5,
            media_worker_program: None,
            search_dictionary: None,
            search_commit_interval_ms: 250,
            read_cache_ms: 10_000,
            two_level_signoff_kinds: vec!["micro_film".into()],
        }
    }
}

/// Values given as command-line flags; they win over everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub media_dir: Option<PathBuf>,
    pub index_dir: Option<PathBuf>,
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path}: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
}

impl Settings {
    /// Loads the layers in order, reading the process environment.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars(), overrides)
    }

    /// [`Settings::load`] with an explicit environment, for tests.
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let mut settings = match file {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        for (name, value) in env {
            settings.apply_env(&name, value)?;
        }
        settings.apply_overrides(overrides);
        Ok(settings)
    }

    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.into(), source })
    }

    fn apply_env(&mut self, name: &str, value: String) -> Result<(), ConfigError> {
        let number = |value: &str| {
            value
                .trim()
                .parse::<i64>()
                .map_err(|_| ConfigError::Env { name: name.into(), message: "must be a whole number".into() })
        };
        match name {
            "MICROCAT_LISTEN" => self.listen = value,
            "MICROCAT_DATABASE_URL" => self.database_url = value,
            "MICROCAT_MEDIA_DIR" => self.media_dir = value.into(),
            "MICROCAT_INDEX_DIR" => self.index_dir = value.into(),
            "MICROCAT_ADMIN_PASSWORD" => self.admin_password = Some(value).filter(|password| !password.is_empty()),
            "MICROCAT_SESSION_TTL_MINUTES" => self.session_ttl_minutes = number(&value)?.max(1),
            "MICROCAT_HTTP_WORKERS" => self.http_workers = number(&value)?.max(0) as usize,
            "MICROCAT_DB_POOL_SIZE" => self.db_pool_size = number(&value)?.clamp(1, 512) as u32,
            "MICROCAT_MEDIA_WORKERS" => self.media_workers = number(&value)?.max(0) as usize,
            "MICROCAT_MEDIA_TIMEOUT_SECS" => self.media_timeout_secs = number(&value)?.max(1) as u64,
            "MICROCAT_MAX_VIDEO_BYTES" => self.max_video_bytes = number(&value)?.max(1) as u64,
            "MICROCAT_MAX_IMAGE_BYTES" => self.max_image_bytes = number(&value)?.max(1) as u64,
            "MICROCAT_MAX_AUDIO_BYTES" => self.max_audio_bytes = number(&value)?.max(1) as u64,
            "MICROCAT_SEARCH_COMMIT_INTERVAL_MS" => self.search_commit_interval_ms = number(&value)?.max(10) as u64,
            "MICROCAT_READ_CACHE_MS" => self.read_cache_ms = number(&value)?.clamp(0, 60_000) as u64,
            "MICROCAT_SEARCH_DICTIONARY" => self.search_dictionary = Some(value.into()),
            "MICROCAT_COOKIE_SECURE" => self.cookie_secure = matches!(value.trim(), "1" | "true" | "yes"),
            _ => {}
        }
        Ok(())
    }

    fn apply_overrides(&mut self, overrides: &Overrides) {
        if let Some(listen) = &overrides.listen {
            self.listen = listen.clone();
        }
        if let Some(url) = &overrides.database_url {
            self.database_url = url.clone();
        }
        if let Some(dir) = &overrides.media_dir {
            self.media_dir = dir.clone();
        }
        if let Some(dir) = &overrides.index_dir {
            self.index_dir = dir.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect()
    }

    #[test]
    fn defaults_work_locally() {
        let settings = Settings::load_from(None, env(&[]), &Overrides::default()).unwrap();
        assert_eq!(settings.listen, "127.0.0.1:8080");
        assert_eq!(settings.database_url, "sqlite://data/microcat.db");
        assert_eq!(settings.media_dir, PathBuf::from("media"));
    }

    #[test]
    fn file_then_env_then_flags() {
        let dir = std::env::temp_dir().join(format!("microcat-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("microcat.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\nmedia_dir = \"/srv/media\"\nsession_ttl_minutes = 60\n")
            .unwrap();
        let overrides = Overrides { media_dir: Some("/flag/media".into()), ..Overrides::default() };
        let settings =
            Settings::load_from(Some(&file), env(&[("MICROCAT_LISTEN", "127.0.0.1:1")]), &overrides).unwrap();
        assert_eq!(settings.listen, "127.0.0.1:1");
        assert_eq!(settings.media_dir, PathBuf::from("/flag/media"));
        assert_eq!(settings.session_ttl_minutes, 60);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let file = std::env::temp_dir().join(format!("microcat-bad-{}.toml", std::process::id()));
        std::fs::write(&file, "lisen = \"typo\"\n").unwrap();
        assert!(matches!(
            Settings::load_from(Some(&file), env(&[]), &Overrides::default()),
            Err(ConfigError::Parse { .. })
        ));
        std::fs::remove_file(file).ok();
    }

    #[test]
    fn bad_numbers_in_the_environment_name_the_variable() {
        let error = Settings::load_from(None, env(&[("MICROCAT_SESSION_TTL_MINUTES", "soon")]), &Overrides::default());
        assert!(error.unwrap_err().to_string().contains("MICROCAT_SESSION_TTL_MINUTES"));
    }
}
