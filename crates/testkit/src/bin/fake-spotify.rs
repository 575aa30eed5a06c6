//! Runs the fake Spotify for manual runs of spotify-history: a demo user who keeps listening
//! as real time passes, and the environment to point the app at it.
//!
//! Usage: `fake-spotify [--port 8900] [--redirect-uri http://127.0.0.1:8000/auth/callback]`

use jiff::SignedDuration;
use spotify_history_testkit::fake_spotify::{CLIENT_ID, CLIENT_SECRET, FakeSpotify};
use std::net::SocketAddr;

struct Args {
    port: u16,
    redirect_uri: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 8900,
        redirect_uri: "http://127.0.0.1:8000/auth/callback".to_owned(),
    };
    let mut argv = std::env::args().skip(1);
    while let Some(flag) = argv.next() {
        let mut value = || argv.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => {
                let raw = value()?;
                args.port = raw
                    .parse()
                    .map_err(|_| format!("--port {raw}: not a port number"))?;
            }
            "--redirect-uri" => args.redirect_uri = value()?,
            "-h" | "--help" => {
                return Err(
                    "usage: fake-spotify [--port 8900] [--redirect-uri http://127.0.0.1:8000/auth/callback]"
                        .to_owned(),
                );
            }
            other => return Err(format!("unknown argument {other}; see --help")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let spotify = match FakeSpotify::start_on(SocketAddr::from(([127, 0, 0, 1], args.port))).await {
        Ok(spotify) => spotify,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{}: {e}", args.port);
            std::process::exit(1);
        }
    };
    spotify.add_redirect_uri(&args.redirect_uri);
    let demo = spotify.add_user("demo-listener", "Démo Listener");
    spotify.set_next_login(&demo);
    let now = spotify.now();
    // A day of history, then a week of plays that appear one by one as real time passes.
    let every = SignedDuration::from_mins(4);
    let past = spotify.simulate_listening(&demo, now - SignedDuration::from_hours(24), now, every);
    spotify.simulate_listening(&demo, now, now + SignedDuration::from_hours(24 * 7), every);
    spotify.run_clock();

    println!("fake Spotify listening on {}", spotify.api_base());
    println!(
        "demo user: demo-listener (signs in at /authorize without a prompt), {} plays in the last 24 h, one more every 4 minutes",
        past.len()
    );
    println!("redirect URI allowed: {}", args.redirect_uri);
    println!();
    println!("export SPOTIFY_API_BASE_URL={}", spotify.api_base());
    println!(
        "export SPOTIFY_ACCOUNTS_BASE_URL={}",
        spotify.accounts_base()
    );
    println!("export SPOTIFY_CLIENT_ID={CLIENT_ID}");
    println!("export SPOTIFY_CLIENT_SECRET={CLIENT_SECRET}");
    println!("export SPOTIFY_REDIRECT_URI={}", args.redirect_uri);

    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C: {e}");
    }
}
