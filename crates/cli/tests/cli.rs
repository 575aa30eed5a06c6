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
            // A commit after every file, so that one is stored while the others are read.
            .env("IMPORT_RECORDS_PER_COMMIT", "1")
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
        // Into an empty table, the import had dropped the indexes it builds at its end.
        let indexes = interrupted.store.index_definitions().await.unwrap();
        assert!(!indexes.iter().any(|(name, _)| name == "plays_track"));

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
        // The indexes the killed import had dropped to build at its end are back.
        assert_eq!(
            interrupted.store.index_definitions().await.unwrap(),
            uninterrupted.store.index_definitions().await.unwrap()
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

/// Issue 8's scale-out: two `api` and two `collector` processes of the built binary on one
/// PostgreSQL database, against the fake Spotify with four listeners (half signed in through
/// each API process). Every play is collected exactly once, no user is worked on by two
/// collectors at once, either API process gives the same MCP answers, and a collector killed
/// with SIGKILL in the middle of a poll loses nothing: its lease runs out (the hidden
/// COLLECTOR_LEASE_SECONDS, shortened here) and the survivor carries on.
mod scale_out {
    use super::*;
    use jiff::SignedDuration;
    use rmcp::ServiceExt;
    use rmcp::model::CallToolRequestParams;
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    use serde_json::{Value, json};
    use spotify_history_core::UserId;
    use spotify_history_store::{ABANDONED_RUN_ERROR, Store};
    use spotify_history_testkit::TestDb;
    use spotify_history_testkit::fake_spotify::{self, Failure, FakeSpotify, FakeUser};
    use std::path::PathBuf;

    const KEY: &str = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
    /// Longer than any poll here (at most two slowed requests), so a live collector never
    /// loses a lease; short, so a dead one's users wait only this long.
    const LEASE_SECONDS: u64 = 6;
    /// Each round of simulated listening: shorter than an access token's hour, so tokens
    /// expire every other round (rounds 2 and 4) and are refreshed by whichever collector
    /// polls, but not in round 3, when a collector is killed.
    const ROUND: SignedDuration = SignedDuration::from_mins(45);
    const EVERY: SignedDuration = SignedDuration::from_mins(3);

    /// One process of the deployment, logging (JSON) to a file; SIGKILLed when dropped, and
    /// the end of its log printed when the test is failing.
    struct Process {
        name: &'static str,
        child: Child,
        log: PathBuf,
        killed: bool,
    }

    impl Process {
        fn start(name: &'static str, mut command: Command, dir: &Path) -> Process {
            let log = dir.join(format!("{name}.log"));
            let file = std::fs::File::create(&log).unwrap();
            let child = command
                .stdout(file.try_clone().unwrap())
                .stderr(file)
                .spawn()
                .unwrap_or_else(|e| panic!("start {name}: {e}"));
            Process {
                name,
                child,
                log,
                killed: false,
            }
        }

        fn assert_running(&mut self) {
            if !self.killed
                && let Some(status) = self.child.try_wait().unwrap()
            {
                panic!("{} exited with {status}", self.name);
            }
        }

        /// SIGKILL: no shutdown, no lease given back.
        fn kill(&mut self) {
            self.child.kill().unwrap();
            self.child.wait().unwrap();
            self.killed = true;
        }

        fn log_events(&self) -> Vec<Value> {
            std::fs::read_to_string(&self.log)
                .unwrap_or_default()
                .lines()
                .filter_map(|line| serde_json::from_str(line).ok())
                .collect()
        }
    }

    impl Drop for Process {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
            if std::thread::panicking() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                let tail = &lines[lines.len().saturating_sub(25)..];
                eprintln!("--- end of {}'s log ---\n{}", self.name, tail.join("\n"));
            }
        }
    }

    /// The settings every process of the deployment shares, with its own working folder.
    fn deployment_command(root: &Path, name: &str, db: &TestDb, spotify: &FakeSpotify) -> Command {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut command = cli(&dir);
        command
            .env("DATABASE_URL", db.url.expose())
            .env("SPOTIFY_CLIENT_ID", fake_spotify::CLIENT_ID)
            .env("SPOTIFY_CLIENT_SECRET", fake_spotify::CLIENT_SECRET)
            .env("SPOTIFY_API_BASE_URL", spotify.api_base())
            .env("SPOTIFY_ACCOUNTS_BASE_URL", spotify.accounts_base())
            .env("TOKEN_ENCRYPTION_KEY", KEY)
            .env("ADMIN_TOKEN", "an-admin-token-for-tests")
            .env("COLLECTOR_INTERVAL_SECONDS", "1")
            .env("COLLECTOR_LEASE_SECONDS", LEASE_SECONDS.to_string())
            .env("LOG_FORMAT", "json");
        command
    }

    /// An `api` process on its own port and public URL; returns it with its base URL.
    fn start_api(
        root: &Path,
        name: &'static str,
        db: &TestDb,
        spotify: &FakeSpotify,
    ) -> (Process, String) {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let redirect = format!("{base}/auth/callback");
        spotify.add_redirect_uri(&redirect);
        let mut command = deployment_command(root, name, db, spotify);
        command
            .arg("api")
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("PUBLIC_BASE_URL", &base)
            .env("SPOTIFY_REDIRECT_URI", &redirect);
        (Process::start(name, command, root), base)
    }

    fn start_collector(
        root: &Path,
        name: &'static str,
        db: &TestDb,
        spotify: &FakeSpotify,
    ) -> Process {
        let mut command = deployment_command(root, name, db, spotify);
        command.arg("collector");
        Process::start(name, command, root)
    }

    async fn wait_healthy(process: &mut Process, base: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = reqwest::get(format!("{base}/healthz")).await
                && response.status() == 200
            {
                return;
            }
            process.assert_running();
            assert!(
                Instant::now() < deadline,
                "{} never became healthy",
                process.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The MCP token the listener's page shows once after sign-in.
    fn token_on_page(page: &str) -> String {
        page.match_indices("sph_")
            .map(|(at, _)| {
                page[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect::<String>()
            })
            .find(|token| token.len() > 40)
            .unwrap_or_else(|| panic!("no MCP token on the listener's page: {page}"))
    }

    /// What Spotify shows of the listener's history now, as stored listens would hold it.
    fn visible(spotify: &FakeSpotify, listener: &FakeUser) -> Vec<(i64, String)> {
        let now = spotify.now();
        let mut plays: Vec<(i64, String)> = spotify
            .plays(listener)
            .into_iter()
            .filter(|p| p.played_at <= now)
            .map(|p| (p.played_at.as_millisecond(), p.track.uri()))
            .collect();
        plays.sort();
        plays
    }

    async fn stored(store: &Store, user: UserId) -> Vec<(i64, String)> {
        store
            .stored_listens(user)
            .await
            .unwrap()
            .into_iter()
            .map(|l| (l.ended_at, l.track_key))
            .collect()
    }

    /// Waits until every listener's stored listens are exactly what Spotify shows; fails at
    /// once if any user has more (something was collected twice) or a process died.
    async fn wait_until_collected(
        what: &str,
        db: &TestDb,
        spotify: &FakeSpotify,
        listeners: &[(FakeUser, UserId)],
        deployment: &mut [Process],
        within: Duration,
    ) {
        let expected: Vec<_> = listeners.iter().map(|(l, _)| visible(spotify, l)).collect();
        let deadline = Instant::now() + within;
        loop {
            let mut actual = Vec::new();
            for (_, user) in listeners {
                actual.push(stored(&db.store, *user).await);
            }
            if actual == expected {
                return;
            }
            for (i, (have, want)) in actual.iter().zip(&expected).enumerate() {
                assert!(
                    have.len() <= want.len(),
                    "{what}: listener {i} has {} stored listens, Spotify shows {}: collected twice",
                    have.len(),
                    want.len()
                );
            }
            for process in deployment.iter_mut() {
                process.assert_running();
            }
            assert!(
                Instant::now() < deadline,
                "{what}: stored listens per listener {:?}, Spotify shows {:?}",
                actual.iter().map(Vec::len).collect::<Vec<_>>(),
                expected.iter().map(Vec::len).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until two polls are running at once: both collectors are in the middle of one
    /// (each polls one user at a time).
    async fn wait_for_two_running_polls(db: &TestDb) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let runs = db.store.latest_job_runs(None, 100).await.unwrap();
            let running = runs
                .iter()
                .filter(|r| r.kind == "poll" && r.status == "running")
                .count();
            if running >= 2 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the collectors were never both in a poll"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The answers compared between API processes: an all-time ranking and every listen.
    async fn mcp_answers(base: &str, token: &str) -> Vec<Value> {
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(format!("{base}/mcp"))
                .auth_header(token.to_owned()),
        );
        let client = ().serve(transport).await.expect("MCP handshake");
        let mut answers = Vec::new();
        for (tool, arguments) in [
            (
                "history_top_tracks",
                json!({ "all_time": true, "limit": 100, "min_ms": 0 }),
            ),
            ("history_recent_plays", json!({ "limit": 200, "min_ms": 0 })),
        ] {
            let result = client
                .call_tool(
                    CallToolRequestParams::new(tool)
                        .with_arguments(arguments.as_object().unwrap().clone()),
                )
                .await
                .unwrap();
            assert_ne!(result.is_error, Some(true), "{tool} on {base}: {result:?}");
            let mut answer = result.structured_content.expect("structured content");
            // The window ends at the time of the call, to the second.
            let to = answer["window"]
                .as_object_mut()
                .and_then(|window| window.remove("to"));
            assert!(to.is_some(), "{tool}: no window end in {answer}");
            answers.push(answer);
        }
        client.cancel().await.unwrap();
        answers
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_apis_and_two_collectors_share_one_postgres_database() {
        let Some(db) = TestDb::postgres().await else {
            return;
        };
        let spotify = FakeSpotify::start().await;
        let fakes: Vec<FakeUser> = (0..4)
            .map(|i| spotify.add_user(&format!("listener-{i}"), &format!("Listener {i}")))
            .collect();
        // Simulated time stays in the real past, where the history tools' windows reach.
        spotify.set_now(spotify.now() - SignedDuration::from_hours(6));
        // Two hours of listening before sign-in: what initial sync can still see.
        let start = spotify.now();
        for fake in &fakes {
            spotify.simulate_listening(fake, start - SignedDuration::from_hours(2), start, EVERY);
        }

        // The whole deployment starts at once, as compose would start it.
        let root = tempfile::tempdir().unwrap();
        let (api_1, base_1) = start_api(root.path(), "api-1", &db, &spotify);
        let (api_2, base_2) = start_api(root.path(), "api-2", &db, &spotify);
        let mut deployment = vec![
            api_1,
            api_2,
            start_collector(root.path(), "collector-1", &db, &spotify),
            start_collector(root.path(), "collector-2", &db, &spotify),
        ];
        wait_healthy(&mut deployment[0], &base_1).await;
        wait_healthy(&mut deployment[1], &base_2).await;

        // Half the listeners sign in through each API process.
        let mut tokens = Vec::new();
        for (i, fake) in fakes.iter().enumerate() {
            spotify.set_next_login(fake);
            let base = if i < 2 { &base_1 } else { &base_2 };
            tokens.push(token_on_page(&sign_in_through_spotify(base).await));
        }
        let users = db.store.list_users().await.unwrap();
        let listeners: Vec<(FakeUser, UserId)> = fakes
            .iter()
            .map(|fake| {
                let user = users
                    .iter()
                    .find(|u| u.spotify_user_id.as_deref() == Some(fake.spotify_id.as_str()))
                    .unwrap_or_else(|| panic!("{} was not signed in", fake.spotify_id));
                (fake.clone(), user.id)
            })
            .collect();

        let within = Duration::from_secs(15);
        wait_until_collected(
            "initial sync",
            &db,
            &spotify,
            &listeners,
            &mut deployment,
            within,
        )
        .await;
        for round in 1..=4 {
            let now = spotify.now();
            for fake in &fakes {
                spotify.simulate_listening(fake, now, now + ROUND, EVERY);
            }
            spotify.advance(ROUND);
            let mut within = within;
            if round == 2 {
                // Slow answers with both collectors alive: each poll (an expired token's 401,
                // a refresh, the retry) holds its user's lease for over a second while the
                // other collector's cycles come round.
                spotify.fail_next(Failure::Slow(Duration::from_millis(700)), 8);
            }
            if round == 3 {
                // Slow answers keep both collectors in the middle of a poll; collector-1 is
                // killed there, holding a user's lease, with its job run still open.
                spotify.fail_next(Failure::Slow(Duration::from_millis(1500)), 6);
                wait_for_two_running_polls(&db).await;
                deployment[2].kill();
                within += Duration::from_secs(LEASE_SECONDS);
            }
            wait_until_collected(
                &format!("round {round}"),
                &db,
                &spotify,
                &listeners,
                &mut deployment,
                within,
            )
            .await;
        }

        // The killed collector's open run was closed by the survivor once the lease ran out,
        // and no user ever had two runs at once, across both collectors.
        let mut abandoned = 0;
        for (fake, user) in &listeners {
            let mut runs = db.store.latest_job_runs(Some(*user), 1_000).await.unwrap();
            runs.sort_by_key(|r| (r.started_at, r.id));
            assert!(
                runs.iter().all(
                    |r| r.status != "failed" || r.error.as_deref() == Some(ABANDONED_RUN_ERROR)
                ),
                "{}: a run failed: {runs:?}",
                fake.spotify_id
            );
            abandoned += runs
                .iter()
                .filter(|r| r.error.as_deref() == Some(ABANDONED_RUN_ERROR))
                .count();
            for pair in runs.windows(2) {
                let finished = pair[0].finished_at.unwrap_or(i64::MAX);
                assert!(
                    finished <= pair[1].started_at,
                    "{}: overlapping runs {:?} and {:?}",
                    fake.spotify_id,
                    pair[0],
                    pair[1]
                );
            }
        }
        assert_eq!(
            abandoned, 1,
            "the killed collector was in the middle of exactly one poll"
        );
        // Both collectors did part of the work.
        for collector in &deployment[2..] {
            let worked = collector.log_events().iter().any(|event| {
                event["message"] == "collector cycle done"
                    && (event["polls"].as_u64() > Some(0)
                        || event["initial_syncs"].as_u64() > Some(0))
            });
            assert!(worked, "{} never polled anyone", collector.name);
        }

        // Either API process answers the same, to the token shown at sign-in on either, and to
        // one made with `tokens create`.
        let user_0 = db.store.get_user(listeners[0].1).await.unwrap();
        let made = run_ok(
            cli(root.path())
                .env("DATABASE_URL", db.url.expose())
                .env("TOKEN_ENCRYPTION_KEY", KEY)
                .args(["tokens", "create", "--user", &user_0.name]),
        )
        .trim()
        .to_owned();
        tokens.push(made);
        for (i, token) in tokens.iter().enumerate() {
            let listener = &listeners[i % listeners.len()];
            let from_1 = mcp_answers(&base_1, token).await;
            let from_2 = mcp_answers(&base_2, token).await;
            assert_eq!(from_1, from_2, "token {i}: the API processes disagree");
            let plays = from_1[1]["result"]["plays"].as_array().unwrap_or_else(|| {
                panic!("history_recent_plays answered {}", from_1[1]);
            });
            assert_eq!(
                plays.len(),
                visible(&spotify, &listener.0).len(),
                "token {i}: every collected play is listed"
            );
        }
        for process in &mut deployment {
            process.assert_running();
        }
    }
}

/// The deployment files (Dockerfile, compose.yaml, .env.example, deploy/) name only real
/// settings and commands, and `.env.example` works as a `.env` file.
mod deploy_files {
    use super::{BIN, cli, run_ok};
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// Read by docker compose only (the PostgreSQL container's password).
    const COMPOSE_ONLY: &[&str] = &["POSTGRES_PASSWORD"];
    /// The postgres image's own variables, allowed in its service only.
    const POSTGRES_IMAGE: &[&str] = &["POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD"];

    fn repo_file(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    fn is_variable_name(name: &str) -> bool {
        name.starts_with(|c: char| c.is_ascii_uppercase())
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    }

    /// `spotify-history --help`, run where no `.env` is found.
    fn help() -> String {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "").unwrap();
        run_ok(cli(dir.path()).arg("--help"))
    }

    /// Every setting of settings.rs (hidden ones included): variable → literal default.
    fn settings() -> BTreeMap<String, Option<String>> {
        let source = repo_file("crates/cli/src/settings.rs");
        let mut settings = BTreeMap::new();
        for chunk in source.split("#[arg(").skip(1) {
            let attribute = &chunk[..chunk.find(")]").expect("end of #[arg(...)]")];
            let quoted = |key: &str| {
                let start = attribute.find(key)? + key.len();
                let end = attribute[start..].find('"')?;
                Some(attribute[start..start + end].to_string())
            };
            let name = quoted("env = \"").expect("every setting has an env name");
            let default = if let Some(start) = attribute.find("default_value_t = ") {
                let rest = &attribute[start + "default_value_t = ".len()..];
                let end = rest.find([',', '\n']).unwrap_or(rest.len());
                Some(rest[..end].trim().replace('_', ""))
            } else {
                quoted("default_value = \"")
            };
            assert!(
                settings.insert(name.clone(), default).is_none(),
                "{name} twice"
            );
        }
        // The scan must see what clap sees: every variable `--help` names is in it.
        let help = help();
        let shown: BTreeSet<String> = help
            .split("[env: ")
            .skip(1)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect()
            })
            .collect();
        assert!(shown.len() > 20, "--help lists the settings: {help}");
        for name in &shown {
            assert!(
                settings.contains_key(name),
                "settings.rs scan missed {name}"
            );
        }
        settings
    }

    /// The subcommands `--help` lists.
    fn commands() -> BTreeSet<String> {
        let help = help();
        let section = help
            .split("Commands:")
            .nth(1)
            .expect("--help lists commands");
        section
            .lines()
            .skip(1)
            .take_while(|line| line.starts_with("  "))
            .filter_map(|line| line.split_whitespace().next())
            .map(String::from)
            .collect()
    }

    /// One `NAME=value` line of .env.example.
    #[derive(Debug)]
    struct Entry {
        name: String,
        value: String,
        commented: bool,
    }

    /// The assignments of .env.example, commented (`# NAME=value`) or not; every other line
    /// must be a comment or blank, and every assignment follows a comment line describing it.
    fn env_example() -> Vec<Entry> {
        let text = repo_file(".env.example");
        let mut entries = Vec::new();
        let mut previous_is_description = false;
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            let (commented, rest) = match line.strip_prefix('#') {
                Some(rest) => (true, rest.trim_start()),
                None => (false, line),
            };
            let assignment = rest
                .split_once('=')
                .filter(|(name, _)| is_variable_name(name));
            match assignment {
                Some((name, value)) => {
                    assert!(
                        previous_is_description,
                        ".env.example:{}: {name} has no comment line above it",
                        number + 1
                    );
                    entries.push(Entry {
                        name: name.to_string(),
                        value: value.to_string(),
                        commented,
                    });
                    previous_is_description = false;
                }
                None => {
                    assert!(
                        line.is_empty() || commented,
                        ".env.example:{}: not a comment, blank line or NAME=value: {line}",
                        number + 1
                    );
                    previous_is_description = commented;
                }
            }
        }
        entries
    }

    #[test]
    fn env_example_lists_every_setting_with_its_default() {
        let settings = settings();
        let entries = env_example();
        let mut seen = BTreeSet::new();
        for entry in &entries {
            assert!(seen.insert(&entry.name), "{} appears twice", entry.name);
            if COMPOSE_ONLY.contains(&entry.name.as_str()) {
                continue;
            }
            let default = settings
                .get(&entry.name)
                .unwrap_or_else(|| panic!("{} in .env.example is not a setting", entry.name));
            // Commented lines show the real default, or nothing when there is none.
            if entry.commented {
                assert_eq!(
                    Some(entry.value.as_str()),
                    default.as_deref().or(Some("")),
                    "{}: .env.example shows another default than settings.rs",
                    entry.name
                );
            }
        }
        let missing: Vec<_> = settings
            .keys()
            .filter(|name| !seen.contains(name))
            .collect();
        assert!(missing.is_empty(), "missing from .env.example: {missing:?}");
    }

    /// `migrate` and `users list` with `env` as the only configuration, in a fresh folder.
    fn run_with_dotenv(env: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), env).unwrap();
        run_ok(cli(dir.path()).arg("migrate"));
        run_ok(cli(dir.path()).args(["users", "list"]));
        dir
    }

    #[test]
    fn env_example_is_accepted_as_a_dotenv_file() {
        let text = repo_file(".env.example");
        // As shipped.
        run_with_dotenv(&text);
        // With every default spelled out (uncommented): the defaults are valid values.
        let names: BTreeSet<String> = env_example()
            .into_iter()
            .filter(|e| e.commented && !e.value.is_empty())
            .map(|e| e.name)
            .collect();
        assert!(names.len() > 15, "defaults shown: {names:?}");
        let uncommented: String = text
            .lines()
            .map(|line| {
                let rest = line.trim_start_matches('#').trim_start();
                match rest.split_once('=') {
                    Some((name, _)) if names.contains(name) => rest.to_string(),
                    _ => line.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let dir = run_with_dotenv(&uncommented);
        // DATA_DIR=./data was read from the file.
        assert!(dir.path().join("data/spotify-history.db").exists());
        // The file is really read: a bad value in it is refused, naming the variable.
        let bad = tempfile::tempdir().unwrap();
        std::fs::write(
            bad.path().join(".env"),
            format!("{text}\nLOG_STORE_LEVEL=loud\n"),
        )
        .unwrap();
        let output = cli(bad.path()).arg("migrate").output().unwrap();
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("LOG_STORE_LEVEL"));
    }

    /// `KEY: value` / `- KEY=value` entries of every `environment:` block (and of the
    /// `x-environment` anchor), with the service they belong to.
    fn compose_environment(text: &str) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut service = String::new();
        let mut block: Option<usize> = None;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            if let Some(block_indent) = block {
                if indent > block_indent {
                    let entry = trimmed.trim_start_matches("- ");
                    if entry.starts_with("<<") {
                        continue;
                    }
                    let key = entry.split([':', '=']).next().unwrap().trim().to_string();
                    found.push((service.clone(), key));
                    continue;
                }
                block = None;
            }
            let key = trimmed.split(':').next().unwrap();
            // A top-level key, or a service (a key two spaces in, with nothing after it).
            if indent == 0 || (indent == 2 && trimmed.ends_with(':')) {
                service = key.to_string();
            }
            if key == "environment" || key == "x-environment" {
                block = Some(indent);
            }
        }
        found
    }

    /// `${NAME}`, `${NAME:?message}`, `${NAME:-default}` references.
    fn interpolated(text: &str) -> BTreeSet<String> {
        text.split("${")
            .skip(1)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            })
            .collect()
    }

    #[test]
    fn compose_dockerfile_and_systemd_name_only_real_settings_and_commands() {
        let settings = settings();
        let commands = commands();
        let documented: BTreeSet<String> = env_example().into_iter().map(|e| e.name).collect();

        let compose = repo_file("compose.yaml");
        let entries = compose_environment(&compose);
        for (service, key) in &entries {
            let allowed = settings.contains_key(key)
                || (service == "postgres" && POSTGRES_IMAGE.contains(&key.as_str()));
            assert!(allowed, "compose.yaml {service}: {key} is not a setting");
        }
        for key in [
            "DATABASE_URL",
            "TOKEN_ENCRYPTION_KEY",
            "DATA_DIR",
            "BIND_ADDR",
        ] {
            assert!(
                entries.iter().any(|(_, k)| k == key),
                "compose.yaml sets {key}: {entries:?}"
            );
        }
        // Every variable compose reads from .env is explained in .env.example.
        for name in interpolated(&compose) {
            assert!(
                documented.contains(&name),
                "compose.yaml uses ${{{name}}}, missing from .env.example"
            );
        }
        let used: Vec<&str> = compose
            .lines()
            .filter_map(|line| line.trim().strip_prefix("command: [\""))
            .map(|rest| rest.split('"').next().unwrap())
            .collect();
        assert_eq!(used.len(), 3, "app, api and collector commands: {used:?}");
        for command in used {
            assert!(
                commands.contains(command),
                "compose.yaml runs `{command}`, not a command: {commands:?}"
            );
        }

        let dockerfile = repo_file("Dockerfile");
        let joined = dockerfile.replace("\\\n", " ");
        let env: Vec<&str> = joined
            .lines()
            .filter_map(|line| line.strip_prefix("ENV "))
            .flat_map(str::split_whitespace)
            .collect();
        assert!(
            !env.is_empty(),
            "the Dockerfile sets DATA_DIR and BIND_ADDR"
        );
        for pair in env {
            let (name, _) = pair.split_once('=').expect("ENV NAME=value");
            assert!(
                settings.contains_key(name),
                "Dockerfile ENV {name} is not a setting"
            );
        }
        assert!(
            dockerfile.contains(&format!("-p {}", env!("CARGO_PKG_NAME"))),
            "the Dockerfile builds this package"
        );
        let binary = Path::new(BIN).file_name().unwrap().to_str().unwrap();
        assert!(dockerfile.contains(&format!("target/release/{binary}")));
        assert!(dockerfile.contains(&format!("ENTRYPOINT [\"{binary}\"]")));
        assert!(dockerfile.contains("/healthz"));
        let cmd = dockerfile
            .lines()
            .find_map(|line| line.strip_prefix("CMD [\""))
            .expect("CMD [\"...\"]");
        assert!(commands.contains(cmd.split('"').next().unwrap()));

        let unit = repo_file("deploy/spotify-history.service");
        for line in unit.lines() {
            if let Some(assignment) = line.strip_prefix("Environment=") {
                let name = assignment.split('=').next().unwrap();
                assert!(
                    settings.contains_key(name),
                    "unit sets {name}, not a setting"
                );
            }
            if let Some(exec) = line.strip_prefix("ExecStart=") {
                let mut words = exec.split_whitespace();
                assert!(words.next().unwrap().ends_with(binary));
                let command = words.next().unwrap();
                assert!(commands.contains(command), "unit runs `{command}`");
            }
        }
    }

    #[test]
    fn compose_parser_sees_every_environment_block() {
        // The line-based reading above, on a small known file.
        let text = "x-environment: &environment\n  A_ONE: 1\nservices:\n  app:\n    environment:\n      <<: *environment\n      B_TWO: x\n    ports:\n      - \"8000:8000\"\n  db:\n    environment:\n      - C_THREE=3\n";
        let found: Vec<(String, String)> = compose_environment(text);
        let pairs: Vec<(&str, &str)> = found
            .iter()
            .map(|(s, k)| (s.as_str(), k.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("x-environment", "A_ONE"),
                ("app", "B_TWO"),
                ("db", "C_THREE")
            ]
        );
    }
}

mod backup_export {
    use super::*;
    use spotify_history_analytics::{Analytics, ListeningTimeArgs, Period, Scope, TopArgs};
    use spotify_history_core::UserId;
    use spotify_history_import::synthetic::{SyntheticConfig, SyntheticExport};
    use spotify_history_store::{DatabaseUrl, Store, StoredListen};
    use spotify_history_testkit::TestDb;

    /// A fresh database of the same backend as `db`.
    async fn fresh_like(db: &TestDb) -> TestDb {
        if db.url.is_sqlite() {
            TestDb::sqlite().await
        } else {
            TestDb::postgres().await.expect("TEST_DATABASE_URL is set")
        }
    }

    async fn user_named(store: &Store, name: &str) -> UserId {
        store.find_user_by_name(name).await.unwrap().unwrap().id
    }

    /// The answers an export must reproduce: top artists and listening time, all time.
    async fn answers(store: &Store, user: UserId) -> (serde_json::Value, serde_json::Value) {
        let analytics = Analytics::new(store.clone(), 30_000);
        let scope = Scope {
            user,
            time_zone: None,
        };
        let all_time = || Period {
            all_time: Some(true),
            ..Period::default()
        };
        let top = analytics
            .top_artists(
                &scope,
                &TopArgs {
                    period: all_time(),
                    limit: Some(100),
                    min_ms: None,
                },
            )
            .await
            .unwrap();
        let time = analytics
            .listening_time(
                &scope,
                &ListeningTimeArgs {
                    period: all_time(),
                    ..ListeningTimeArgs::default()
                },
            )
            .await
            .unwrap();
        (
            serde_json::to_value(&top.result).unwrap(),
            serde_json::to_value(&time.result).unwrap(),
        )
    }

    /// What survives an export: everything but the set of confirming sources, which comes back
    /// as the listen's richest source alone.
    fn surviving(listens: Vec<StoredListen>) -> Vec<StoredListen> {
        listens
            .into_iter()
            .map(|l| StoredListen {
                sources: l.source,
                ..l
            })
            .collect()
    }

    // export → import into an empty database: the same listens and the same answers, for a
    // history with music, podcasts, audiobooks, local files and account-data rows, as JSONL
    // and as CSV.
    store_test!(export_then_import_reproduces_listens_and_answers, |db| {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("my_spotify_data.zip");
        SyntheticExport::generate(SyntheticConfig {
            plays: 4_000,
            records_per_file: 1_500,
            account_only_listens: 40,
            local_file_share: 0.02,
            ..SyntheticConfig::default()
        })
        .write_zip(&zip)
        .unwrap();
        run_ok(
            cli(dir.path())
                .env("DATABASE_URL", db.url.expose())
                .args(["import", "--user", "ann", "--create-user"])
                .arg(&zip),
        );
        let ann = user_named(&db.store, "ann").await;
        let original = db.store.stored_listens(ann).await.unwrap();
        assert!(original.iter().any(|l| l.kind == 1), "podcasts included");
        assert!(original.iter().any(|l| l.source == 2), "account-only rows");
        assert!(original.iter().any(|l| l.sources == 3), "merged rows");
        assert!(original.iter().any(|l| l.track_key.starts_with("local:")));
        let expected_answers = answers(&db.store, ann).await;

        for format in ["jsonl", "csv"] {
            let file = dir
                .path()
                .join(format!("spotify-history-export-ann.{format}"));
            run_ok(
                cli(dir.path())
                    .env("DATABASE_URL", db.url.expose())
                    .args(["export", "--user", "ann", "--format", format, "--output"])
                    .arg(&file),
            );
            // Stdout gives the same bytes.
            let stdout = run_ok(
                cli(dir.path())
                    .env("DATABASE_URL", db.url.expose())
                    .args(["export", "--user", "ann", "--format", format]),
            );
            assert_eq!(stdout, std::fs::read_to_string(&file).unwrap());

            let restored = fresh_like(&db).await;
            let report = run_ok(
                cli(dir.path())
                    .env("DATABASE_URL", restored.url.expose())
                    .args(["import", "--user", "bob", "--create-user", "--json"])
                    .arg(&file),
            );
            let report: serde_json::Value = serde_json::from_str(&report).unwrap();
            assert_eq!(report["skipped"], 0, "{format}: {report}");
            assert_eq!(report["inserted"], original.len(), "{format}");
            let bob = user_named(&restored.store, "bob").await;
            let back = restored.store.stored_listens(bob).await.unwrap();
            assert_eq!(back.len(), original.len(), "{format}");
            for (a, b) in surviving(original.clone()).iter().zip(&back) {
                assert_eq!(a, b, "{format}");
            }
            assert_eq!(
                answers(&restored.store, bob).await,
                expected_answers,
                "{format}"
            );
        }
    });

    /// `backup` while an import writes: the copy opens, passes `PRAGMA integrity_check`, and
    /// holds exactly the files committed when it was taken (each file commits whole).
    #[tokio::test]
    async fn backup_during_an_import_is_a_committed_state() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("my_spotify_data.zip");
        SyntheticExport::generate(SyntheticConfig {
            plays: 100_000,
            records_per_file: 5_000,
            account_data: false,
            ..SyntheticConfig::default()
        })
        .write_zip(&zip)
        .unwrap();
        let db = TestDb::sqlite().await;
        let url = db.url.expose().to_string();
        let import = cli(dir.path())
            .env("DATABASE_URL", &url)
            // A commit after every file, so that the backup falls between two.
            .env("IMPORT_RECORDS_PER_COMMIT", "1")
            .args(["import", "--user", "ann", "--create-user", "--json"])
            .arg(&zip)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        while db.store.count_completed_import_files().await.unwrap() < 1 {
            assert!(Instant::now() < deadline, "no file was committed in time");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let copy = dir.path().join("backup.db");
        let said = run_ok(
            cli(dir.path())
                .env("DATABASE_URL", &url)
                .arg("backup")
                .arg(&copy),
        );
        assert!(said.contains("integrity check ok"), "{said}");
        let output = import.wait_with_output().unwrap();
        assert!(output.status.success());
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

        let summary = spotify_history_store::check_copy(&copy).await.unwrap();
        assert!(summary.integrity_ok);
        let copy_url = DatabaseUrl::parse(&format!("sqlite://{}", copy.display())).unwrap();
        let copied = Store::open(&copy_url).await.unwrap();
        let files_in_copy = copied.count_completed_import_files().await.unwrap() as usize;
        copied.close().await;
        let files = report["files"].as_array().unwrap();
        let committed: u64 = files[..files_in_copy]
            .iter()
            .map(|f| f["inserted"].as_u64().unwrap())
            .sum();
        let total = report["inserted"].as_u64().unwrap();
        assert_eq!(summary.listens as u64, committed);
        assert!(
            files_in_copy >= 1 && files_in_copy < files.len(),
            "the backup was not taken during the import ({files_in_copy} of {} files)",
            files.len()
        );
        assert!(summary.listens as u64 <= total);
    }

    // `backup` never overwrites; on PostgreSQL it prints the pg_dump command, password hidden.
    store_test!(
        backup_refuses_to_overwrite_and_points_postgres_at_pg_dump,
        |db| {
            let dir = tempfile::tempdir().unwrap();
            let existing = dir.path().join("existing.db");
            std::fs::write(&existing, b"keep me").unwrap();
            let output = cli(dir.path())
                .env("DATABASE_URL", db.url.expose())
                .arg("backup")
                .arg(&existing)
                .output()
                .unwrap();
            assert!(!output.status.success());
            let stderr = String::from_utf8_lossy(&output.stderr);
            if db.url.is_sqlite() {
                assert!(stderr.contains("already exists"), "{stderr}");
                let fresh = dir.path().join("fresh.db");
                run_ok(
                    cli(dir.path())
                        .env("DATABASE_URL", db.url.expose())
                        .arg("backup")
                        .arg(&fresh),
                );
                let check = spotify_history_store::check_copy(&fresh).await.unwrap();
                assert!(check.integrity_ok);
            } else {
                assert!(stderr.contains("pg_dump --format=custom"), "{stderr}");
                assert!(stderr.contains(&db.url.to_string()), "{stderr}");
            }
            assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");

            let output = cli(dir.path())
                .env("DATABASE_URL", "postgres://me:hunter2@127.0.0.1:1/history")
                .args(["backup", "out.dump"])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success());
            let hint =
                "pg_dump --format=custom --file=out.dump 'postgres://me:***@127.0.0.1:1/history'";
            assert!(stderr.contains(hint), "{stderr}");
            assert!(!stderr.contains("hunter2"));
        }
    );
}
