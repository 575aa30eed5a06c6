//! The `spotify-history` binary as a person runs it: zero-config start, configuration errors,
//! users and tokens, on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

use spotify_history_testkit::store_test;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_spotify-history");

/// The binary with a clean environment (no inherited settings), run in `dir`.
fn cli(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir)
        .stdin(Stdio::null());
    command
}

fn run_ok(command: &mut Command) -> String {
    let output = command.output().expect("run spotify-history");
    assert!(
        output.status.success(),
        "command failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `serve`, stopped with SIGTERM when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(command: Command) -> Server {
        Server::start_on(command, free_port())
    }

    fn start_on(mut command: Command, port: u16) -> Server {
        let child = command
            .arg("serve")
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start serve");
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn wait_healthy(&mut self) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = reqwest::get(format!("{}/healthz", self.base)).await
                && response.status() == 200
            {
                return response.json().await.unwrap();
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("serve exited early with {status}");
            }
            assert!(Instant::now() < deadline, "serve did not become healthy");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM and returns how the process ended.
    fn terminate(mut self) -> Output {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let child = std::mem::replace(&mut self.child, Command::new("true").spawn().unwrap());
        child.wait_with_output().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn serve_starts_with_no_configuration_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(cli(dir.path()));
    let health = server.wait_healthy().await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"]["backend"], "sqlite");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    assert!(dir.path().join("data/spotify-history.db").exists());

    let output = server.terminate();
    assert!(
        output.status.success(),
        "serve did not exit cleanly: {}",
        output.status
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("shut down cleanly"), "{stderr}");
    // Secure by default: an admin token was generated and printed once.
    assert!(stderr.contains("sph_"), "{stderr}");

    // A second start finds the stored admin token and prints none.
    let mut again = Server::start(cli(dir.path()));
    again.wait_healthy().await;
    let stderr = String::from_utf8_lossy(&again.terminate().stderr).to_string();
    assert!(!stderr.contains("sph_"), "{stderr}");
}

#[tokio::test]
async fn serve_works_the_same_on_postgres() {
    let Some(db) = spotify_history_testkit::TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut command = cli(dir.path());
    command.env("DATABASE_URL", db.url.expose());
    let mut server = Server::start(command);
    let health = server.wait_healthy().await;
    assert_eq!(health["database"]["backend"], "postgres");
    assert!(server.terminate().status.success());
    assert!(
        !dir.path().join("data/spotify-history.db").exists(),
        "no SQLite file with PostgreSQL"
    );
}

/// Runs a command that must fail and returns its single stderr line.
fn config_error(envs: &[(&str, &str)], args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = cli(dir.path())
        .envs(envs.iter().copied())
        .args(args)
        .output()
        .unwrap();
    assert!(!output.status.success(), "{envs:?} {args:?} should fail");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one clear line, got:\n{stderr}"
    );
    stderr
}

#[test]
fn bad_configuration_exits_with_one_line_naming_what_to_fix() {
    let line = config_error(&[("DATABASE_URL", "mysql://me:hunter2@db/x")], &["migrate"]);
    assert!(line.contains("DATABASE_URL"), "{line}");
    assert!(!line.contains("hunter2"), "password leaked: {line}");

    let line = config_error(&[("TOKEN_ENCRYPTION_KEY", "not-a-key")], &["serve"]);
    assert!(
        line.contains("TOKEN_ENCRYPTION_KEY") && line.contains("keygen"),
        "{line}"
    );

    let line = config_error(
        &[(
            "DATABASE_URL",
            "postgres://postgres:hunter2@127.0.0.1:1/none",
        )],
        &["migrate"],
    );
    assert!(
        line.contains("cannot open the database") && line.contains("refused"),
        "{line}"
    );
    assert!(!line.contains("hunter2"), "password leaked: {line}");

    let line = config_error(&[("ADMIN_AUTH_MODE", "basic")], &["serve"]);
    assert!(line.contains("ADMIN_USERNAME"), "{line}");

    let line = config_error(&[("BIND_ADDR", "nonsense")], &["serve"]);
    assert!(line.contains("BIND_ADDR"), "{line}");

    let line = config_error(&[("INITIAL_SYNC_ENABLED", "perhaps")], &["migrate"]);
    assert!(line.contains("INITIAL_SYNC_ENABLED"), "{line}");

    let line = config_error(
        &[(
            "CORS_ALLOWED_ORIGINS",
            "https://ok.example,stats.example/app",
        )],
        &["serve"],
    );
    assert!(
        line.contains("CORS_ALLOWED_ORIGINS") && line.contains("stats.example/app"),
        "{line}"
    );

    let line = config_error(&[("LOG_STORE_LEVEL", "loud")], &["serve"]);
    assert!(line.contains("LOG_STORE_LEVEL"), "{line}");

    let line = config_error(&[("METRICS_BIND_ADDR", "everywhere")], &["serve"]);
    assert!(line.contains("METRICS_BIND_ADDR"), "{line}");
}

#[test]
fn settings_come_from_dotenv_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "DATA_DIR=from-dotenv\n").unwrap();
    let out = run_ok(cli(dir.path()).arg("migrate"));
    assert!(out.contains("from-dotenv/spotify-history.db"), "{out}");
    let out = run_ok(cli(dir.path()).env("DATA_DIR", "from-env").arg("migrate"));
    assert!(out.contains("from-env/spotify-history.db"), "{out}");
    let out = run_ok(cli(dir.path()).env("DATA_DIR", "from-env").args([
        "migrate",
        "--data-dir",
        "from-flag",
    ]));
    assert!(out.contains("from-flag/spotify-history.db"), "{out}");
    assert!(dir.path().join("from-flag/spotify-history.db").exists());
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["users", "--help"],
        vec!["users", "list", "--help"],
        vec!["users", "add", "--help"],
        vec!["users", "delete", "--help"],
        vec!["tokens", "--help"],
        vec!["tokens", "create", "--help"],
        vec!["tokens", "list", "--help"],
        vec!["tokens", "revoke", "--help"],
        vec!["keygen", "--help"],
        vec!["import", "--help"],
        vec!["demo", "--help"],
        vec!["bench", "--help"],
        vec!["bench", "import", "--help"],
    ] {
        let out = run_ok(cli(dir.path()).args(&args));
        assert!(out.contains("Usage: spotify-history"), "{args:?}: {out}");
    }
}

#[test]
fn secrets_never_show_in_help() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(
        cli(dir.path())
            .env("ADMIN_TOKEN", "super-secret-admin-token")
            .env("SPOTIFY_CLIENT_SECRET", "spotify-secret-value")
            .arg("--help"),
    );
    assert!(out.contains("ADMIN_TOKEN"));
    assert!(!out.contains("super-secret-admin-token"));
    assert!(!out.contains("spotify-secret-value"));
}

#[test]
fn keygen_prints_a_fernet_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = run_ok(cli(dir.path()).arg("keygen")).trim().to_string();
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(&key)
        .unwrap();
    assert_eq!(bytes.len(), 32);
    // The key is accepted as TOKEN_ENCRYPTION_KEY.
    run_ok(
        cli(dir.path())
            .env("TOKEN_ENCRYPTION_KEY", &key)
            .arg("migrate"),
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = cli(dir.path())
        .env("LOG_FORMAT", "json")
        .env("LOG_LEVEL", "debug")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<_> = stderr.lines().filter(|l| !l.is_empty()).collect();
    assert!(!lines.is_empty(), "debug logging printed nothing");
    for line in lines {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(value["level"].is_string(), "{line}");
    }
}

store_test!(users_and_tokens_are_managed_from_the_command_line, |db| {
    let dir = tempfile::tempdir().unwrap();
    let url = db.url.expose().to_string();
    let run = |args: &[&str]| run_ok(cli(dir.path()).env("DATABASE_URL", &url).args(args));

    assert!(run(&["users", "list"]).contains("no users yet"));
    assert!(run(&["users", "add", "ann", "--display-name", "Ann A."]).contains("created user ann"));
    run(&["users", "add", "bob"]);
    let listing = run(&["users", "list"]);
    assert!(listing.contains("ann\tAnn A."), "{listing}");
    assert!(listing.contains("bob"), "{listing}");

    let token = run(&["tokens", "create", "--user", "ann", "--name", "laptop"])
        .trim()
        .to_string();
    assert!(token.starts_with("sph_"), "{token}");
    let admin = run(&["tokens", "create", "--admin"]).trim().to_string();
    assert_ne!(token, admin);
    let listing = run(&["tokens", "list"]);
    assert!(!listing.contains(&token), "token values are never listed");
    assert!(
        listing.contains("laptop") && listing.contains("admin"),
        "{listing}"
    );
    let authenticated = db
        .store
        .authenticate_api_token(&token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(authenticated.name, "laptop");

    run(&["tokens", "revoke", &authenticated.id.to_string()]);
    assert!(
        db.store
            .authenticate_api_token(&token)
            .await
            .unwrap()
            .is_none()
    );
    assert!(run(&["tokens", "list", "--user", "ann"]).contains("revoked"));

    // Deleting needs confirmation; unknown users get a clear error.
    let refused = cli(dir.path())
        .env("DATABASE_URL", &url)
        .args(["users", "delete", "bob"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
    run(&["users", "delete", "bob", "--yes"]);
    assert!(!run(&["users", "list"]).contains("bob"));
    let unknown = cli(dir.path())
        .env("DATABASE_URL", &url)
        .args(["tokens", "create", "--user", "zed"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user named \"zed\""));
});

mod import {
    use super::*;
    use spotify_history_import::synthetic::{SyntheticConfig, SyntheticExport};

    fn generated_zip(dir: &Path, plays: u64) -> std::path::PathBuf {
        let zip = dir.join("my_spotify_data.zip");
        SyntheticExport::generate(SyntheticConfig {
            plays,
            records_per_file: 2_000,
            ..SyntheticConfig::default()
        })
        .write_zip(&zip)
        .unwrap();
        zip
    }

    store_test!(import_reports_and_reimport_is_a_no_op, |db| {
        let dir = tempfile::tempdir().unwrap();
        let zip = generated_zip(dir.path(), 3_000);
        let url = db.url.expose().to_string();
        let import = |extra: &[&str]| {
            let mut command = cli(dir.path());
            command
                .env("DATABASE_URL", &url)
                .arg("import")
                .arg(&zip)
                .args(extra);
            command.output().unwrap()
        };
        let refused = import(&["--user", "ann"]);
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("--create-user"));

        let first = import(&["--user", "ann", "--create-user"]);
        assert!(
            first.status.success(),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        let report = String::from_utf8(first.stdout).unwrap();
        assert!(report.contains("listens inserted"), "{report}");
        assert!(report.contains("merged with another source"), "{report}");
        assert!(
            report.contains("ignored (not listening history)"),
            "{report}"
        );
        let stored = db
            .store
            .listen_totals(db.store.find_user_by_name("ann").await.unwrap().unwrap().id)
            .await
            .unwrap();

        // With one user, --user may be left out; the JSON report says nothing was new.
        let again = import(&["--json"]);
        assert!(
            again.status.success(),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
        assert_eq!(json["inserted"], 0);
        assert!(
            json["files"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["status"] == "already_imported")
        );
        let user = db.store.find_user_by_name("ann").await.unwrap().unwrap();
        assert_eq!(db.store.listen_totals(user.id).await.unwrap(), stored);
    });

    /// SIGKILL in the middle of an import, then the same command again: the database ends as
    /// an uninterrupted import leaves it.
    #[tokio::test]
    async fn an_import_killed_with_sigkill_resumes_to_the_same_database() {
        let dir = tempfile::tempdir().unwrap();
        let zip = generated_zip(dir.path(), 10_000);
        let interrupted = spotify_history_testkit::TestDb::sqlite().await;
        let url = interrupted.url.expose().to_string();
        let mut child = cli(dir.path())
            .env("DATABASE_URL", &url)
            .args(["import", "--user", "ann", "--create-user"])
            .arg(&zip)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill it once the first file is committed, while later ones are in flight.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let done = interrupted
                .store
                .count_completed_import_files()
                .await
                .unwrap();
            if done >= 1 {
                break;
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "the import finished before the kill"
            );
            assert!(Instant::now() < deadline, "no file was committed in time");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let ann = interrupted
            .store
            .find_user_by_name("ann")
            .await
            .unwrap()
            .unwrap()
            .id;
        let partial = interrupted.store.listen_totals(ann).await.unwrap().listens;

        let resumed = cli(dir.path())
            .env("DATABASE_URL", &url)
            .args(["import", "--user", "ann"])
            .arg(&zip)
            .output()
            .unwrap();
        assert!(
            resumed.status.success(),
            "{}",
            String::from_utf8_lossy(&resumed.stderr)
        );
        assert!(String::from_utf8_lossy(&resumed.stdout).contains("already imported"));

        let uninterrupted = spotify_history_testkit::TestDb::sqlite().await;
        let output = cli(dir.path())
            .env("DATABASE_URL", uninterrupted.url.expose())
            .args(["import", "--user", "ann", "--create-user"])
            .arg(&zip)
            .output()
            .unwrap();
        assert!(output.status.success());
        let reference_user = uninterrupted
            .store
            .find_user_by_name("ann")
            .await
            .unwrap()
            .unwrap()
            .id;
        let expected = uninterrupted
            .store
            .stored_listens(reference_user)
            .await
            .unwrap();
        let actual = interrupted.store.stored_listens(ann).await.unwrap();
        assert!(
            partial > 0 && (partial as usize) < expected.len(),
            "killed too late: {partial}"
        );
        assert_eq!(actual.len(), expected.len());
        assert!(
            actual == expected,
            "the resumed database differs from an uninterrupted import"
        );
    }
}

mod mcp_stdio {
    use super::*;
    use rmcp::ServiceExt;
    use rmcp::model::CallToolRequestParams;
    use rmcp::transport::TokioChildProcess;
    use serde_json::json;
    use spotify_history_import::synthetic::{SyntheticConfig, SyntheticExport};

    /// A desktop client starts `spotify-history mcp --user NAME` and talks MCP over stdio.
    #[tokio::test]
    async fn a_desktop_client_talks_mcp_over_stdio() {
        let db = spotify_history_testkit::TestDb::sqlite().await;
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("export.zip");
        SyntheticExport::generate(SyntheticConfig {
            plays: 1_000,
            account_data: false,
            ..SyntheticConfig::default()
        })
        .write_zip(&zip)
        .unwrap();
        let url = db.url.expose().to_string();
        run_ok(
            cli(dir.path())
                .env("DATABASE_URL", &url)
                .args(["import", "--user", "ann", "--create-user"])
                .arg(&zip),
        );
        run_ok(
            cli(dir.path())
                .env("DATABASE_URL", &url)
                .args(["users", "add", "bob"]),
        );

        let mut command = tokio::process::Command::new(BIN);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &url)
            .current_dir(dir.path())
            .args(["mcp", "--user", "ann"]);
        let client =
            ().serve(TokioChildProcess::new(command).unwrap())
                .await
                .expect("MCP handshake over stdio");
        let info = client.peer_info().expect("server info");
        assert_eq!(info.server_info.as_ref().unwrap().name, "spotify-history");
        let tools = client.list_all_tools().await.unwrap();
        assert!(tools.iter().any(|t| t.name == "history_top_artists"));

        let result = client
            .call_tool(
                CallToolRequestParams::new("history_top_artists").with_arguments(
                    json!({ "all_time": true, "limit": 3 })
                        .as_object()
                        .unwrap()
                        .clone(),
                ),
            )
            .await
            .unwrap();
        assert_ne!(result.is_error, Some(true), "{result:?}");
        let answer = result.structured_content.unwrap();
        let items = answer["result"]["items"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        assert!(items[0]["plays"].as_i64().unwrap() >= items[2]["plays"].as_i64().unwrap());

        // Bound to ann: bob's history is out of reach.
        let bob = db.store.find_user_by_name("bob").await.unwrap().unwrap();
        let refused = client
            .call_tool(
                CallToolRequestParams::new("history_top_artists")
                    .with_arguments(json!({ "user_id": bob.id.0 }).as_object().unwrap().clone()),
            )
            .await
            .unwrap();
        assert_eq!(refused.is_error, Some(true));
        client.cancel().await.unwrap();
    }
}

/// Follows one Spotify sign-in by hand, as a browser would: /auth/login → the fake's
/// /authorize → /auth/callback → /me, carrying the cookies. Returns the listener's page.
async fn sign_in_through_spotify(base: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let location =
        |response: &reqwest::Response| response.headers()["location"].to_str().unwrap().to_owned();
    let login = http.get(format!("{base}/auth/login")).send().await.unwrap();
    assert_eq!(login.status(), 302);
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let authorize = http.get(location(&login)).send().await.unwrap();
    assert_eq!(authorize.status(), 302);
    let callback = http
        .get(location(&authorize))
        .header("cookie", cookie)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    // Signed in: the listener lands on their page (/me), carrying the session cookie(s).
    assert_eq!(callback.status(), 303);
    let cookies: Vec<String> = callback
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .filter(|pair| {
            pair.split_once('=')
                .is_some_and(|(_, value)| !value.is_empty())
        })
        .collect();
    let target = location(&callback);
    let target = if target.starts_with('/') {
        format!("{base}{target}")
    } else {
        target
    };
    let page = http
        .get(target)
        .header("cookie", cookies.join("; "))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let status = page.status();
    let text = page.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    text
}

store_test!(
    a_signed_in_listener_is_collected_exactly_by_the_running_server,
    |db| {
        use jiff::SignedDuration;
        use spotify_history_testkit::fake_spotify::{self, FakeSpotify};

        let spotify = FakeSpotify::start().await;
        let ann = spotify.add_user("ann-spotify", "Ann");
        spotify.set_next_login(&ann);
        // Two hours of listening before she signs in: what initial sync can still see.
        let every = SignedDuration::from_mins(4);
        spotify.simulate_listening(
            &ann,
            spotify.now() - SignedDuration::from_hours(2),
            spotify.now(),
            every,
        );

        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        spotify.add_redirect_uri(&format!("{base}/auth/callback"));
        let mut command = cli(dir.path());
        command
            .env("DATABASE_URL", db.url.expose())
            .env("SPOTIFY_CLIENT_ID", fake_spotify::CLIENT_ID)
            .env("SPOTIFY_CLIENT_SECRET", fake_spotify::CLIENT_SECRET)
            .env("SPOTIFY_API_BASE_URL", spotify.api_base())
            .env("SPOTIFY_ACCOUNTS_BASE_URL", spotify.accounts_base())
            .env("PUBLIC_BASE_URL", &base)
            .env("COLLECTOR_INTERVAL_SECONDS", "1")
            .env("ADMIN_TOKEN", "an-admin-token-for-tests");
        let child = command
            .arg("serve")
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start serve");
        let mut server = Server { child, base };
        server.wait_healthy().await;

        let page = sign_in_through_spotify(&server.base).await;
        assert!(
            page.contains("sph_"),
            "the listener gets an MCP token: {page}"
        );
        let user = db
            .store
            .list_users()
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.spotify_user_id.as_deref() == Some("ann-spotify"))
            .expect("signed-in user");
        // The key file made for the Spotify tokens is private to the owner.
        let key_file = dir.path().join("data/token-encryption.key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // Initial sync, then three hours of listening polled as simulated time passes.
        for round in 0..4 {
            if round > 0 {
                let now = spotify.now();
                spotify.simulate_listening(&ann, now, now + SignedDuration::from_hours(1), every);
                spotify.advance(SignedDuration::from_hours(1));
            }
            let visible: Vec<(i64, String)> = spotify
                .plays(&ann)
                .into_iter()
                .filter(|p| p.played_at <= spotify.now())
                .map(|p| (p.played_at.as_millisecond(), p.track.uri()))
                .collect();
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let stored: Vec<(i64, String)> = db
                    .store
                    .stored_listens(user.id)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|l| (l.ended_at, l.track_key))
                    .collect();
                if stored == visible {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "round {round}: the database holds {} listens, Spotify showed {}",
                    stored.len(),
                    visible.len()
                );
                if let Some(status) = server.child.try_wait().unwrap() {
                    panic!("serve exited with {status}");
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        let runs = db.store.latest_job_runs(Some(user.id), 200).await.unwrap();
        assert!(
            runs.iter()
                .any(|r| r.kind == "initial_sync" && r.status == "succeeded")
        );
        assert!(
            runs.iter()
                .any(|r| r.kind == "poll" && r.status == "succeeded")
        );
        let output = server.terminate();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
);

store_test!(every_process_on_one_database_must_use_the_same_key, |db| {
    let dir = tempfile::tempdir().unwrap();
    let key_a = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
    let key_b = run_ok(cli(dir.path()).arg("keygen")).trim().to_owned();
    let with_key = |key: &str| {
        let mut command = cli(dir.path());
        command
            .env("DATABASE_URL", db.url.expose())
            .env("TOKEN_ENCRYPTION_KEY", key)
            .env("ADMIN_TOKEN", "an-admin-token-for-tests");
        command
    };
    let mut first = Server::start(with_key(key_a));
    first.wait_healthy().await;
    assert!(first.terminate().status.success());

    let output = with_key(&key_b)
        .arg("serve")
        .env("BIND_ADDR", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("TOKEN_ENCRYPTION_KEY") && stderr.contains("same"),
        "{stderr}"
    );

    let mut again = Server::start(with_key(key_a));
    again.wait_healthy().await;
    assert!(again.terminate().status.success());
});

/// METRICS_BIND_ADDR moves `/metrics` off the main address onto its own, without
/// credentials; and the server's own log events end up in the `logs` table.
#[tokio::test]
async fn serve_exposes_metrics_on_their_own_address_and_stores_its_logs() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_port = free_port();
    let mut command = cli(dir.path());
    command
        .env("ADMIN_TOKEN", "an-admin-token-for-tests")
        .env("METRICS_BIND_ADDR", format!("127.0.0.1:{metrics_port}"));
    let mut server = Server::start(command);
    server.wait_healthy().await;

    let http = reqwest::Client::new();
    let main = http
        .get(format!("{}/metrics", server.base))
        .bearer_auth("an-admin-token-for-tests")
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), 404, "no /metrics on BIND_ADDR");
    let separate = http
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(separate.status(), 200);
    let text = separate.text().await.unwrap();
    assert!(
        text.contains(
            r#"spotify_history_http_requests_total{method="GET",route="/healthz",status="2xx"}"#
        ),
        "{text}"
    );

    assert!(server.terminate().status.success());
    let url = spotify_history_store::DatabaseUrl::parse(&format!(
        "sqlite://{}",
        dir.path().join("data/spotify-history.db").display()
    ))
    .unwrap();
    let store = spotify_history_store::Store::open(&url).await.unwrap();
    let logs = store
        .query_logs(&spotify_history_store::LogFilter::default(), 100, 0)
        .await
        .unwrap();
    let messages: Vec<_> = logs.entries.iter().map(|e| e.message.as_str()).collect();
    assert!(messages.contains(&"database ready"), "{messages:?}");
    assert!(
        messages.iter().any(|m| m.starts_with("listening on")),
        "{messages:?}"
    );
    assert!(messages.contains(&"shut down cleanly"), "{messages:?}");
    store.close().await;
}
