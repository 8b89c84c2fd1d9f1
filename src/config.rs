//! Typed settings, layered: built-in defaults → TOML file (`--config`) → `MICROCAT_*`
//! environment variables (one for every key: `MICROCAT_` + the key in capitals) → command-line
//! flags. Every layer goes through one parse and one validation, so a limit is clamped the
//! same way wherever it was set. Every CLI command reads the same settings.

use crate::storage::{S3Settings, StorageUrl};
use std::path::{Path, PathBuf};

use crate::domain::preview::{PREVIEW_SIZES, PreviewPolicy, PreviewSettings, X264_PRESETS};
use serde::Deserialize;

/// Environment variables start with this; the rest is a key in capitals.
const ENV_PREFIX: &str = "MICROCAT_";
/// Variables the test suite reads itself; they are not settings.
const TEST_ENV_PREFIX: &str = "MICROCAT_TEST_";
/// Variables that are not settings but are read elsewhere: `--config`'s.
const OTHER_VARIABLES: &[&str] = &["MICROCAT_CONFIG"];

/// A secret setting: usable, never printed (`Debug` shows `[redacted]`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Self(secret.to_owned())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("[redacted]")
    }
}

/// Everything the service can be told.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `host:port` to listen on.
    pub listen: String,
    /// `sqlite://<path>` or `postgres://…`.
    pub database_url: String,
    /// Scratch space (uploads being received, job outputs), and the stored files themselves
    /// unless `storage_url` names another place.
    pub media_dir: PathBuf,
    /// Where originals and derivatives live: a folder, or `s3://bucket/prefix` shared by
    /// several nodes. Unset: the media folder.
    pub storage_url: Option<String>,
    /// The S3 endpoint of a self-hosted store (`http://127.0.0.1:3900` for Garage); unset: AWS.
    pub s3_endpoint: Option<String>,
    /// The S3 region the store answers as (Garage: its `s3_region`).
    pub s3_region: String,
    /// The search index.
    pub index_dir: PathBuf,
    /// Password for the `admin` account created on first start; generated when unset.
    pub admin_password: Option<Secret>,
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
    /// When films get a playable H.264 preview: `required` (the original may not play in
    /// every browser), `optimal` (also when bigger than `preview_size`), `always`, `never`.
    pub preview_policy: String,
    /// Shorter side of previews, in pixels: 480, 720 or 1080.
    pub preview_size: u32,
    /// x264 quality of previews (CRF, 0–51; lower is better and bigger).
    pub preview_crf: u8,
    /// x264 preset of previews (`ultrafast` … `veryslow`).
    pub preview_preset: String,
    /// Wall-clock limit of a preview transcode: a minute plus this many seconds per second
    /// of film.
    pub preview_seconds_per_second: u64,
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
    /// The address people open microcat at (`https://cms.example.gov.cn`), for the links
    /// back to a work in group-chat messages; `http://<listen>` when unset.
    pub public_url: Option<String>,
    /// Attempts at a webhook delivery before it is given up (and shown as failed).
    pub webhook_max_attempts: i32,
    /// First wait before a webhook delivery is retried, in milliseconds (doubles each time,
    /// at most an hour).
    pub webhook_retry_base_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://data/microcat.db".into(),
            media_dir: "media".into(),
            storage_url: None,
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
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
            preview_policy: "required".into(),
            preview_size: 720,
            preview_crf: 23,
            preview_preset: "veryfast".into(),
            preview_seconds_per_second: 4,
            job_max_attempts: 3,
            job_retry_base_secs: 5,
            media_worker_program: None,
            search_dictionary: None,
            search_commit_interval_ms: 250,
            read_cache_ms: 10_000,
            two_level_signoff_kinds: vec!["micro_film".into()],
            public_url: None,
            webhook_max_attempts: 8,
            webhook_retry_base_ms: 5_000,
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
    #[error("settings: {0}")]
    Invalid(String),
}

/// How an environment variable's text becomes a setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    Text,
    /// Text; empty means unset.
    OptionalText,
    Integer,
    Bool,
    /// Comma-separated.
    List,
}

/// Every key of [`Settings`] and how its variable is read. A test checks that the list and the
/// struct agree, so a new setting cannot miss its variable.
const KEYS: &[(&str, ValueKind)] = &[
    ("listen", ValueKind::Text),
    ("database_url", ValueKind::Text),
    ("media_dir", ValueKind::Text),
    ("storage_url", ValueKind::OptionalText),
    ("s3_endpoint", ValueKind::OptionalText),
    ("s3_region", ValueKind::Text),
    ("index_dir", ValueKind::Text),
    ("admin_password", ValueKind::OptionalText),
    ("session_ttl_minutes", ValueKind::Integer),
    ("login_max_failures", ValueKind::Integer),
    ("login_lockout_minutes", ValueKind::Integer),
    ("http_workers", ValueKind::Integer),
    ("db_pool_size", ValueKind::Integer),
    ("cookie_secure", ValueKind::Bool),
    ("json_limit_bytes", ValueKind::Integer),
    ("max_image_bytes", ValueKind::Integer),
    ("max_video_bytes", ValueKind::Integer),
    ("max_audio_bytes", ValueKind::Integer),
    ("max_image_megapixels", ValueKind::Integer),
    ("max_media_duration_secs", ValueKind::Integer),
    ("media_workers", ValueKind::Integer),
    ("media_timeout_secs", ValueKind::Integer),
    ("media_memory_mb", ValueKind::Integer),
    ("preview_policy", ValueKind::Text),
    ("preview_size", ValueKind::Integer),
    ("preview_crf", ValueKind::Integer),
    ("preview_preset", ValueKind::Text),
    ("preview_seconds_per_second", ValueKind::Integer),
    ("job_max_attempts", ValueKind::Integer),
    ("job_retry_base_secs", ValueKind::Integer),
    ("media_worker_program", ValueKind::OptionalText),
    ("two_level_signoff_kinds", ValueKind::List),
    ("search_commit_interval_ms", ValueKind::Integer),
    ("read_cache_ms", ValueKind::Integer),
    ("search_dictionary", ValueKind::OptionalText),
    ("public_url", ValueKind::OptionalText),
    ("webhook_max_attempts", ValueKind::Integer),
    ("webhook_retry_base_ms", ValueKind::Integer),
];

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
        let mut table = match file {
            Some(path) => read_file(path)?,
            None => toml::Table::new(),
        };
        for (name, value) in env {
            if let Some((key, kind)) = setting_of(&name) {
                apply_env(&mut table, &name, key, kind, &value)?;
            }
        }
        let source = || file.map_or_else(|| PathBuf::from("(environment)"), Path::to_path_buf);
        let mut settings: Settings = toml::Value::Table(table)
            .try_into()
            .map_err(|error: toml::de::Error| ConfigError::Parse { path: source(), source: error })?;
        settings.apply_overrides(overrides);
        settings.validate()
    }

    /// Clamps every limit into its working range and refuses what cannot work. Loading does
    /// this; settings built in code (tests, embedders) pass through it when the app is built.
    pub fn validate(mut self) -> Result<Self, ConfigError> {
        self.session_ttl_minutes = self.session_ttl_minutes.max(1);
        self.login_max_failures = self.login_max_failures.max(1);
        self.login_lockout_minutes = self.login_lockout_minutes.max(1);
        self.db_pool_size = self.db_pool_size.clamp(1, 512);
        self.json_limit_bytes = self.json_limit_bytes.max(1024);
        for bytes in [&mut self.max_image_bytes, &mut self.max_video_bytes, &mut self.max_audio_bytes] {
            *bytes = (*bytes).max(1);
        }
        self.max_image_megapixels = self.max_image_megapixels.max(1);
        self.max_media_duration_secs = self.max_media_duration_secs.max(1);
        self.media_timeout_secs = self.media_timeout_secs.max(1);
        self.media_memory_mb = self.media_memory_mb.max(64);
        self.job_max_attempts = self.job_max_attempts.max(1);
        self.webhook_max_attempts = self.webhook_max_attempts.max(1);
        self.search_commit_interval_ms = self.search_commit_interval_ms.max(10);
        self.read_cache_ms = self.read_cache_ms.min(60_000);
        self.preview_crf = self.preview_crf.min(51);
        self.preview_seconds_per_second = self.preview_seconds_per_second.max(1);
        if self.listen.trim().is_empty() {
            return Err(ConfigError::Invalid("listen must be host:port".into()));
        }
        self.preview()?;
        self.storage()?;
        Ok(self)
    }

    /// Where stored files live and how to reach an S3 store, checked.
    pub fn storage(&self) -> Result<(StorageUrl, S3Settings), ConfigError> {
        let url = match &self.storage_url {
            Some(raw) => StorageUrl::parse(raw).map_err(|why| ConfigError::Invalid(format!("storage_url {why}")))?,
            None => StorageUrl::Folder(self.media_dir.clone()),
        };
        if let Some(endpoint) = &self.s3_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(ConfigError::Invalid(format!(
                "s3_endpoint must start with http:// or https://, not {endpoint:?}"
            )));
        }
        if matches!(url, StorageUrl::S3 { .. }) && self.s3_region.trim().is_empty() {
            return Err(ConfigError::Invalid("s3_region is empty".into()));
        }
        Ok((url, S3Settings { endpoint: self.s3_endpoint.clone(), region: self.s3_region.clone() }))
    }

    /// The preview policy and encoding settings, checked.
    pub fn preview(&self) -> Result<(PreviewPolicy, PreviewSettings), ConfigError> {
        let policy = PreviewPolicy::parse(&self.preview_policy).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "preview_policy must be required, optimal, always or never, not {:?}",
                self.preview_policy
            ))
        })?;
        if !PREVIEW_SIZES.contains(&self.preview_size) {
            return Err(ConfigError::Invalid(format!(
                "preview_size must be 480, 720 or 1080, not {}",
                self.preview_size
            )));
        }
        if !X264_PRESETS.contains(&self.preview_preset.as_str()) {
            return Err(ConfigError::Invalid(format!(
                "preview_preset must be one of {}, not {:?}",
                X264_PRESETS.join(", "),
                self.preview_preset
            )));
        }
        let settings = PreviewSettings {
            short_side: self.preview_size,
            crf: self.preview_crf,
            preset: self.preview_preset.clone(),
        };
        Ok((policy, settings))
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

/// `MICROCAT_*` variables that name no setting (typos, settings of another version), so the
/// server can say so at start instead of silently running on defaults.
pub fn unknown_variables(env: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    let mut unknown: Vec<String> = env
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| name.starts_with(ENV_PREFIX) && !name.starts_with(TEST_ENV_PREFIX))
        .filter(|name| !OTHER_VARIABLES.contains(&name.as_str()))
        .filter(|name| setting_of(name).is_none())
        .collect();
    unknown.sort();
    unknown
}

/// The setting a `MICROCAT_*` variable sets, if any.
fn setting_of(name: &str) -> Option<(&'static str, ValueKind)> {
    let key = name.strip_prefix(ENV_PREFIX)?.to_ascii_lowercase();
    KEYS.iter().find(|(known, _)| *known == key).copied()
}

fn read_file(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.into(), source })
}

/// Puts one variable's value into the table, typed as its setting expects.
fn apply_env(table: &mut toml::Table, name: &str, key: &str, kind: ValueKind, raw: &str) -> Result<(), ConfigError> {
    let refuse = |message: &str| ConfigError::Env { name: name.into(), message: message.into() };
    let value = match kind {
        ValueKind::Text => toml::Value::String(raw.to_owned()),
        ValueKind::OptionalText if raw.is_empty() => {
            table.remove(key);
            return Ok(());
        }
        ValueKind::OptionalText => toml::Value::String(raw.to_owned()),
        ValueKind::Integer => {
            let number: i64 = raw.trim().parse().map_err(|_| refuse("must be a whole number"))?;
            toml::Value::Integer(number.max(0))
        }
        ValueKind::Bool => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => toml::Value::Boolean(true),
            "0" | "false" | "no" | "off" | "" => toml::Value::Boolean(false),
            _ => return Err(refuse("must be true or false")),
        },
        ValueKind::List => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| toml::Value::String(item.to_owned()))
                .collect(),
        ),
    };
    // Checked alone, so a value out of its type's range names its variable, not the file.
    let alone = toml::Table::from_iter([(key.to_owned(), value.clone())]);
    toml::Value::Table(alone).try_into::<Settings>().map_err(|error| refuse(error.message()))?;
    table.insert(key.to_owned(), value);
    Ok(())
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
    fn every_key_has_a_variable_and_every_variable_a_key() {
        let names: Vec<&str> = KEYS.iter().map(|(key, _)| *key).collect();
        let mut table = toml::Table::new();
        for key in &names {
            let value = match KEYS.iter().find(|(known, _)| known == key).unwrap().1 {
                ValueKind::Integer => toml::Value::Integer(1),
                ValueKind::Bool => toml::Value::Boolean(true),
                ValueKind::List => toml::Value::Array(Vec::new()),
                ValueKind::Text | ValueKind::OptionalText => toml::Value::String("x:1".into()),
            };
            table.insert((*key).to_owned(), value);
        }
        // `deny_unknown_fields` refuses a key the struct lacks; a field without a key would
        // keep its default, so compare the counts too.
        let parsed: Result<Settings, _> = toml::Value::Table(table).try_into();
        assert!(parsed.is_ok(), "{parsed:?}");
        let debug = format!("{:?}", Settings::default());
        assert_eq!(debug.matches(": ").count(), names.len(), "every field of Settings is in KEYS");
    }

    #[test]
    fn every_setting_can_come_from_the_environment_and_is_clamped_like_the_file() {
        let vars = env(&[
            ("MICROCAT_JOB_MAX_ATTEMPTS", "0"),
            ("MICROCAT_TWO_LEVEL_SIGNOFF_KINDS", "micro_film, reform_proposal"),
            ("MICROCAT_COOKIE_SECURE", "yes"),
            ("MICROCAT_ADMIN_PASSWORD", "hunter2-hunter2"),
        ]);
        let settings = Settings::load_from(None, vars, &Overrides::default()).unwrap();
        assert_eq!(settings.job_max_attempts, 1);
        assert_eq!(settings.two_level_signoff_kinds, ["micro_film", "reform_proposal"]);
        assert!(settings.cookie_secure);
        assert!(!format!("{settings:?}").contains("hunter2"), "the password is redacted");
        assert_eq!(settings.admin_password.as_ref().map(Secret::expose), Some("hunter2-hunter2"));
    }

    #[test]
    fn unknown_variables_are_named_but_the_test_suites_are_not() {
        let vars = env(&[
            ("MICROCAT_LISTN", "x"),
            ("MICROCAT_LISTEN", "y"),
            ("MICROCAT_TEST_DATABASE", "sqlite"),
            ("MICROCAT_CONFIG", "/etc/microcat.toml"),
        ]);
        assert_eq!(unknown_variables(vars), ["MICROCAT_LISTN"]);
    }

    #[test]
    fn numbers_out_of_range_in_the_environment_name_the_variable() {
        let error = Settings::load_from(None, env(&[("MICROCAT_DB_POOL_SIZE", "5000000000")]), &Overrides::default());
        assert!(error.unwrap_err().to_string().contains("MICROCAT_DB_POOL_SIZE"));
    }

    #[test]
    fn bad_numbers_in_the_environment_name_the_variable() {
        let error = Settings::load_from(None, env(&[("MICROCAT_SESSION_TTL_MINUTES", "soon")]), &Overrides::default());
        assert!(error.unwrap_err().to_string().contains("MICROCAT_SESSION_TTL_MINUTES"));
    }
}
