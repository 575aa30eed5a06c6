//! `serve`: the HTTP server and the collector in one process (`api`: the server alone),
//! stopped cleanly by Ctrl-C or SIGTERM.

use crate::settings::{AdminAuthMode, Settings};
use anyhow::Context;
use spotify_history_mcp::McpState;
use spotify_history_store::Store;
use spotify_history_web::{AppState, Authenticator, HttpPolicy, Sessions, Uploads};

/// Runs the HTTP server, and the collector loop next to it when `collect` is set.
pub async fn run(settings: &Settings, collect: bool) -> anyhow::Result<()> {
    let store = super::open_store(settings).await?;
    let stored_logs = crate::logging::StoredLogs::start(settings, &store);
    tracing::info!(database = %store.url(), public_url = %settings.public_base_url(), "database ready");
    ensure_admin_credential(settings, &store).await?;
    super::load_catalog_names(&store);

    let listener = tokio::net::TcpListener::bind(settings.bind_addr)
        .await
        .with_context(|| format!("cannot listen on BIND_ADDR {}", settings.bind_addr))?;
    let spotify = super::spotify_access(settings, &store).await?;
    if spotify.is_none() {
        tracing::info!(
            "SPOTIFY_CLIENT_ID is not set: Spotify sign-in and collection are off (imports work)"
        );
    }
    let sessions = Sessions::new(
        super::token_cipher(settings, &store).await?,
        settings.public_base_url().starts_with("https://"),
    );
    let collecting = collect.then(|| super::collector::spawn(settings, &store, spotify.clone()));
    let metrics_server = spawn_metrics_server(settings).await?;
    let policy = HttpPolicy {
        cors_allowed_origins: settings.cors_allowed_origins()?,
        body_limit_bytes: spotify_history_web::DEFAULT_BODY_LIMIT_BYTES,
        metrics_on_main_address: metrics_server.is_none(),
        trusted_proxies: settings.trusted_proxies()?,
    };
    let app = spotify_history_web::router_with_policy(
        AppState {
            store: store.clone(),
            auth: authenticator(settings, &store),
            mcp: McpState::new(
                store.clone(),
                settings.default_min_ms_played,
                settings.rate_limit_mcp_per_minute,
                &settings.public_base_url(),
            )
            .with_spotify(spotify.clone()),
            spotify,
            auth_rate_limit_per_minute: settings.rate_limit_auth_per_minute,
            sessions,
            uploads: Uploads::new(
                settings.uploads_dir(),
                settings.import_max_zip_size_mb * 1024 * 1024,
            ),
        },
        &policy,
    );
    spotify_history_web::serve(listener, app, shutdown_signal())
        .await
        .context("HTTP server failed")?;
    if let Some(collecting) = collecting
        && let Err(err) = collecting.await
    {
        tracing::error!(error = %err, "the collector task failed");
    }
    if let Some(metrics_server) = metrics_server {
        let _ = metrics_server.await;
    }
    tracing::info!("shut down cleanly");
    stored_logs.stop().await;
    store.close().await;
    Ok(())
}

/// With METRICS_BIND_ADDR, serves `/metrics` there without credentials until shutdown; the
/// main address then has no `/metrics`.
pub(crate) async fn spawn_metrics_server(
    settings: &Settings,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(address) = settings.metrics_bind_addr else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on METRICS_BIND_ADDR {address}"))?;
    Ok(Some(tokio::spawn(async move {
        let router = spotify_history_web::metrics_router();
        if let Err(err) = spotify_history_web::serve(listener, router, shutdown_signal()).await {
            tracing::error!(error = %err, "the metrics server failed");
        }
    })))
}

/// Admin credentials as configured: ADMIN_TOKEN and admin API tokens; in basic mode also
/// ADMIN_USERNAME / ADMIN_PASSWORD.
fn authenticator(settings: &Settings, store: &Store) -> Authenticator {
    let auth = Authenticator::new(store.clone(), settings.admin_token.as_ref());
    match (
        &settings.admin_auth_mode,
        &settings.admin_username,
        &settings.admin_password,
    ) {
        (AdminAuthMode::Basic, Some(username), Some(password)) => {
            auth.with_basic(username, password)
        }
        _ => auth,
    }
}

/// Secure by default: with no admin credential configured and none stored, create an admin
/// token, keep only its hash, and print it once.
async fn ensure_admin_credential(settings: &Settings, store: &Store) -> anyhow::Result<()> {
    if settings.admin_auth_mode == AdminAuthMode::Basic || settings.admin_token.is_some() {
        return Ok(());
    }
    let tokens = store.list_api_tokens(None).await?;
    if tokens.iter().any(|t| t.is_admin() && t.is_active()) {
        return Ok(());
    }
    let created = store.create_api_token(None, "first-start admin").await?;
    eprintln!(
        "\nNo admin credential was configured, so one was created. It is shown only now:\n\n    {}\n\nUse it as `Authorization: Bearer <token>`; manage tokens with `spotify-history tokens`.\n",
        created.plaintext.expose()
    );
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` and systemd send).
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}
