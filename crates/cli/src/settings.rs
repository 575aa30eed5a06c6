//! Settings: defaults → `.env` file → environment → command-line flags, in one typed struct,
//! validated at start. Every environment variable of the original system keeps its name and
//! default.

use clap::{Args, ValueEnum};
use spotify_history_core::{Secret, UserId};
use spotify_history_import::ImportOptions;
use spotify_history_store::DatabaseUrl;
use std::net::SocketAddr;
use std::path::PathBuf;

/// How admin endpoints authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdminAuthMode {
    /// `Authorization: Bearer <ADMIN_TOKEN or an admin API token>`.
    Token,
    /// HTTP basic auth with ADMIN_USERNAME / ADMIN_PASSWORD.
    Basic,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Every setting of spotify-history. Each flag can also be given as the environment variable
/// named in capitals, or in a `.env` file in the working directory.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Settings (flag, environment variable or .env)")]
pub struct Settings {
    /// Database: sqlite://PATH (embedded) or postgres://USER@HOST/DB
    /// [default: sqlite://DATA_DIR/spotify-history.db]
    #[arg(
        long,
        env = "DATABASE_URL",
        global = true,
        value_name = "DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Folder for the SQLite database, uploads and the generated key file
    #[arg(
        long,
        env = "DATA_DIR",
        global = true,
        value_name = "DATA_DIR",
        default_value = "./data"
    )]
    pub data_dir: PathBuf,

    /// Address the HTTP server listens on
    #[arg(
        long,
        env = "BIND_ADDR",
        global = true,
        value_name = "BIND_ADDR",
        default_value = "127.0.0.1:8000"
    )]
    pub bind_addr: SocketAddr,

    /// Public URL of this server, used for OAuth redirects and links [default: http://BIND_ADDR]
    #[arg(
        long,
        env = "PUBLIC_BASE_URL",
        global = true,
        value_name = "PUBLIC_BASE_URL"
    )]
    pub public_base_url: Option<String>,

    /// Spotify app client id (Spotify features are off until it is set)
    #[arg(
        long,
        env = "SPOTIFY_CLIENT_ID",
        global = true,
        value_name = "SPOTIFY_CLIENT_ID"
    )]
    pub spotify_client_id: Option<String>,

    /// Spotify app client secret
    #[arg(
        long,
        env = "SPOTIFY_CLIENT_SECRET",
        global = true,
        value_name = "SPOTIFY_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub spotify_client_secret: Option<Secret>,

    /// OAuth callback registered with Spotify [default: PUBLIC_BASE_URL/auth/callback]
    #[arg(
        long,
        env = "SPOTIFY_REDIRECT_URI",
        global = true,
        value_name = "SPOTIFY_REDIRECT_URI"
    )]
    pub spotify_redirect_uri: Option<String>,

    /// Spotify Web API base URL (tests point it at the fake server)
    #[arg(
        long,
        env = "SPOTIFY_API_BASE_URL",
        global = true,
        value_name = "SPOTIFY_API_BASE_URL",
        default_value = "https://api.spotify.com"
    )]
    pub spotify_api_base_url: String,

    /// Spotify Accounts base URL (tests point it at the fake server)
    #[arg(
        long,
        env = "SPOTIFY_ACCOUNTS_BASE_URL",
        global = true,
        value_name = "SPOTIFY_ACCOUNTS_BASE_URL",
        default_value = "https://accounts.spotify.com"
    )]
    pub spotify_accounts_base_url: String,

    /// Fernet key that encrypts Spotify tokens at rest (`spotify-history keygen` makes one)
    /// [default: a key file created in DATA_DIR]
    #[arg(
        long,
        env = "TOKEN_ENCRYPTION_KEY",
        global = true,
        value_name = "TOKEN_ENCRYPTION_KEY",
        hide_env_values = true
    )]
    pub token_encryption_key: Option<Secret>,

    /// Admin authentication: token or basic
    #[arg(
        long,
        env = "ADMIN_AUTH_MODE",
        global = true,
        value_name = "ADMIN_AUTH_MODE",
        default_value = "token"
    )]
    pub admin_auth_mode: AdminAuthMode,

    /// Bearer token for the admin API and UI in token mode
    /// [default: an admin token generated at first start and printed once]
    #[arg(
        long,
        env = "ADMIN_TOKEN",
        global = true,
        value_name = "ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<Secret>,

    /// Admin user name in basic mode
    #[arg(
        long,
        env = "ADMIN_USERNAME",
        global = true,
        value_name = "ADMIN_USERNAME"
    )]
    pub admin_username: Option<String>,

    /// Admin password in basic mode
    #[arg(
        long,
        env = "ADMIN_PASSWORD",
        global = true,
        value_name = "ADMIN_PASSWORD",
        hide_env_values = true
    )]
    pub admin_password: Option<Secret>,

    /// Kept from the original system, whose admin UI was a separate process; must equal
    /// ADMIN_AUTH_MODE when set
    #[arg(
        long,
        env = "FRONTEND_AUTH_MODE",
        global = true,
        value_name = "FRONTEND_AUTH_MODE",
        hide = true
    )]
    pub frontend_auth_mode: Option<AdminAuthMode>,

    /// Comma-separated origins allowed to call the API from a browser
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        global = true,
        value_name = "CORS_ALLOWED_ORIGINS",
        default_value = "http://localhost:8001"
    )]
    pub cors_allowed_origins: String,

    /// Reverse proxies whose X-Forwarded-For names the client, for the per-address limits:
    /// comma-separated IP addresses or networks (127.0.0.1, 10.0.0.0/8); empty trusts none
    #[arg(
        long,
        env = "TRUSTED_PROXIES",
        global = true,
        value_name = "TRUSTED_PROXIES",
        default_value = ""
    )]
    pub trusted_proxies: String,

    /// Requests per minute per client on /auth endpoints, and admin logins per minute per client
    #[arg(
        long,
        env = "RATE_LIMIT_AUTH_PER_MINUTE",
        global = true,
        value_name = "RATE_LIMIT_AUTH_PER_MINUTE",
        default_value_t = 10
    )]
    pub rate_limit_auth_per_minute: u32,

    /// MCP tool calls per minute per token
    #[arg(
        long,
        env = "RATE_LIMIT_MCP_PER_MINUTE",
        global = true,
        value_name = "RATE_LIMIT_MCP_PER_MINUTE",
        default_value_t = 60
    )]
    pub rate_limit_mcp_per_minute: u32,

    /// Days to keep structured log entries
    #[arg(
        long,
        env = "LOG_RETENTION_DAYS",
        global = true,
        value_name = "LOG_RETENTION_DAYS",
        default_value_t = 30
    )]
    pub log_retention_days: u32,

    /// Seconds between collector cycles
    #[arg(
        long,
        env = "COLLECTOR_INTERVAL_SECONDS",
        global = true,
        value_name = "COLLECTOR_INTERVAL_SECONDS",
        default_value_t = 600
    )]
    pub collector_interval_seconds: u64,

    /// Seconds a collector's lease on a user or an import job lasts without renewal: how long
    /// a crashed collector's work waits for another one (advanced; tests shorten it)
    #[arg(
        long,
        env = "COLLECTOR_LEASE_SECONDS",
        global = true,
        value_name = "COLLECTOR_LEASE_SECONDS",
        default_value_t = 300,
        hide = true
    )]
    pub collector_lease_seconds: u64,

    /// Page backwards through recently-played at a user's first sync
    #[arg(long, env = "INITIAL_SYNC_ENABLED", global = true, value_name = "INITIAL_SYNC_ENABLED", default_value = "true", action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub initial_sync_enabled: bool,

    /// Maximum days to page back during initial sync
    #[arg(
        long,
        env = "INITIAL_SYNC_MAX_DAYS",
        global = true,
        value_name = "INITIAL_SYNC_MAX_DAYS",
        default_value_t = 30
    )]
    pub initial_sync_max_days: u32,

    /// Maximum API requests per initial sync
    #[arg(
        long,
        env = "INITIAL_SYNC_MAX_REQUESTS",
        global = true,
        value_name = "INITIAL_SYNC_MAX_REQUESTS",
        default_value_t = 200
    )]
    pub initial_sync_max_requests: u32,

    /// Users synced at once during initial sync
    #[arg(
        long,
        env = "INITIAL_SYNC_CONCURRENCY",
        global = true,
        value_name = "INITIAL_SYNC_CONCURRENCY",
        default_value_t = 2
    )]
    pub initial_sync_concurrency: u32,

    /// Largest export ZIP accepted, in megabytes
    #[arg(
        long,
        env = "IMPORT_MAX_ZIP_SIZE_MB",
        global = true,
        value_name = "IMPORT_MAX_ZIP_SIZE_MB",
        default_value_t = 500
    )]
    pub import_max_zip_size_mb: u64,

    /// Most records read from one import
    #[arg(
        long,
        env = "IMPORT_MAX_RECORDS",
        global = true,
        value_name = "IMPORT_MAX_RECORDS",
        default_value_t = 5_000_000
    )]
    pub import_max_records: u64,

    /// Records an import stores per database transaction; fewer commit more often (shorter
    /// waits for the collector, less to redo after a kill), more import faster
    #[arg(
        long,
        env = "IMPORT_RECORDS_PER_COMMIT",
        global = true,
        value_name = "IMPORT_RECORDS_PER_COMMIT",
        default_value_t = 200_000
    )]
    pub import_records_per_commit: u64,

    /// A listen counts as a play from this many milliseconds (answers state the rule)
    #[arg(
        long,
        env = "DEFAULT_MIN_MS_PLAYED",
        global = true,
        value_name = "DEFAULT_MIN_MS_PLAYED",
        default_value_t = 30_000
    )]
    pub default_min_ms_played: i64,

    /// Log format: text or json
    #[arg(
        long,
        env = "LOG_FORMAT",
        global = true,
        value_name = "LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,

    /// Log level filter (RUST_LOG syntax also works), e.g. info or spotify_history=debug
    #[arg(
        long,
        env = "LOG_LEVEL",
        global = true,
        value_name = "LOG_LEVEL",
        default_value = "info"
    )]
    pub log_level: String,

    /// Lowest level of the log events stored in the database for the admin logs page
    /// (serve, api, collector): error, warn, info, debug or trace
    #[arg(
        long,
        env = "LOG_STORE_LEVEL",
        global = true,
        value_name = "LOG_STORE_LEVEL",
        default_value = "info"
    )]
    pub log_store_level: String,

    /// Serve GET /metrics on this separate address, without credentials (for a Prometheus
    /// scraper on a private network) instead of behind admin credentials on BIND_ADDR
    #[arg(
        long,
        env = "METRICS_BIND_ADDR",
        global = true,
        value_name = "METRICS_BIND_ADDR"
    )]
    pub metrics_bind_addr: Option<SocketAddr>,
}

/// A setting that cannot work, named so the person knows what to fix.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct SettingsError {
    pub variable: &'static str,
    pub problem: String,
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> SettingsError {
    SettingsError {
        variable,
        problem: problem.into(),
    }
}

impl Settings {
    /// Where uploaded exports are streamed to, and removed from once imported.
    pub fn uploads_dir(&self) -> std::path::PathBuf {
        self.data_dir.join("uploads")
    }

    /// How an import of `user`'s export runs (IMPORT_RECORDS_PER_COMMIT).
    pub fn import_options(&self, user: UserId) -> ImportOptions {
        ImportOptions {
            records_per_commit: self.import_records_per_commit,
            ..ImportOptions::new(user)
        }
    }

    /// The database URL, defaulting to a SQLite file in DATA_DIR.
    pub fn database_url(&self) -> Result<DatabaseUrl, SettingsError> {
        let url = match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}",
                self.data_dir.join("spotify-history.db").display()
            ),
        };
        DatabaseUrl::parse(&url)
            .map_err(|e| invalid("DATABASE_URL", strip_variable(&e.to_string())))
    }

    /// The URL people and Spotify reach this server at.
    pub fn public_base_url(&self) -> String {
        match &self.public_base_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.bind_addr),
        }
    }

    /// Where Spotify sends the listener back after sign-in.
    pub fn spotify_redirect_uri(&self) -> String {
        match &self.spotify_redirect_uri {
            Some(uri) => uri.clone(),
            None => format!("{}/auth/callback", self.public_base_url()),
        }
    }

    /// The lowest level of stored log events (LOG_STORE_LEVEL).
    pub fn log_store_floor(&self) -> Result<tracing::Level, SettingsError> {
        self.log_store_level.trim().parse().map_err(|_| {
            invalid(
                "LOG_STORE_LEVEL",
                format!(
                    "{:?} is not a level: use error, warn, info, debug or trace",
                    self.log_store_level
                ),
            )
        })
    }

    /// The browser origins allowed to call the API (CORS_ALLOWED_ORIGINS).
    pub fn cors_allowed_origins(&self) -> Result<Vec<String>, SettingsError> {
        spotify_history_web::parse_cors_origins(&self.cors_allowed_origins)
            .map_err(|problem| invalid("CORS_ALLOWED_ORIGINS", problem))
    }

    /// The reverse proxies believed about client addresses (TRUSTED_PROXIES).
    pub fn trusted_proxies(&self) -> Result<spotify_history_web::TrustedProxies, SettingsError> {
        spotify_history_web::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|problem| invalid("TRUSTED_PROXIES", problem))
    }

    /// Checks everything that can be checked without the network; errors name the variable.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.database_url()?;
        self.log_store_floor()?;
        self.cors_allowed_origins()?;
        self.trusted_proxies()?;
        if let Some(url) = &self.public_base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(invalid(
                "PUBLIC_BASE_URL",
                format!("must start with http:// or https://, got {url:?}"),
            ));
        }
        for (variable, url) in [
            ("SPOTIFY_API_BASE_URL", &self.spotify_api_base_url),
            ("SPOTIFY_ACCOUNTS_BASE_URL", &self.spotify_accounts_base_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid(
                    variable,
                    format!("must be an http(s) URL, got {url:?}"),
                ));
            }
        }
        if let Some(key) = &self.token_encryption_key
            && fernet::Fernet::new(key.expose()).is_none()
        {
            return Err(invalid(
                "TOKEN_ENCRYPTION_KEY",
                "not a valid Fernet key (32 bytes, URL-safe base64); generate one with `spotify-history keygen`",
            ));
        }
        if self.spotify_client_id.is_some() != self.spotify_client_secret.is_some() {
            return Err(invalid(
                "SPOTIFY_CLIENT_SECRET",
                "SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET must be set together",
            ));
        }
        if self.admin_auth_mode == AdminAuthMode::Basic {
            if self.admin_username.as_deref().unwrap_or("").is_empty() {
                return Err(invalid(
                    "ADMIN_USERNAME",
                    "required when ADMIN_AUTH_MODE=basic",
                ));
            }
            if self.admin_password.as_ref().is_none_or(Secret::is_empty) {
                return Err(invalid(
                    "ADMIN_PASSWORD",
                    "required when ADMIN_AUTH_MODE=basic",
                ));
            }
        }
        if let Some(mode) = self.frontend_auth_mode
            && mode != self.admin_auth_mode
        {
            return Err(invalid(
                "FRONTEND_AUTH_MODE",
                "must match ADMIN_AUTH_MODE (or be left unset)",
            ));
        }
        if self
            .admin_token
            .as_ref()
            .is_some_and(|t| t.expose().len() < 16)
        {
            return Err(invalid("ADMIN_TOKEN", "must be at least 16 characters"));
        }
        let positive = [
            (
                "RATE_LIMIT_AUTH_PER_MINUTE",
                u64::from(self.rate_limit_auth_per_minute),
            ),
            (
                "RATE_LIMIT_MCP_PER_MINUTE",
                u64::from(self.rate_limit_mcp_per_minute),
            ),
            (
                "COLLECTOR_INTERVAL_SECONDS",
                self.collector_interval_seconds,
            ),
            ("COLLECTOR_LEASE_SECONDS", self.collector_lease_seconds),
            (
                "INITIAL_SYNC_CONCURRENCY",
                u64::from(self.initial_sync_concurrency),
            ),
            ("IMPORT_MAX_ZIP_SIZE_MB", self.import_max_zip_size_mb),
            ("IMPORT_MAX_RECORDS", self.import_max_records),
            ("IMPORT_RECORDS_PER_COMMIT", self.import_records_per_commit),
            ("LOG_RETENTION_DAYS", u64::from(self.log_retention_days)),
        ];
        if let Some((variable, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(invalid(variable, "must be greater than 0"));
        }
        if self.default_min_ms_played < 0 {
            return Err(invalid(
                "DEFAULT_MIN_MS_PLAYED",
                "must be 0 or more milliseconds",
            ));
        }
        Ok(())
    }
}

/// Store errors already say "DATABASE_URL is not valid: ..."; keep only the problem.
fn strip_variable(message: &str) -> String {
    message
        .strip_prefix("DATABASE_URL is not valid: ")
        .unwrap_or(message)
        .to_string()
}
