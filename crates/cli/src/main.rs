//! `spotify-history`: keep your whole Spotify listening history and let assistants ask about it.

mod commands;
mod logging;
mod settings;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};
use settings::Settings;
use std::process::ExitCode;

/// mimalloc rather than the system's malloc: an import allocates and frees several small
/// strings per record (some ten million for a million records), and glibc's malloc spent
/// about a seventh of the benchmark's CPU samples on them (`malloc_consolidate`,
/// `unlink_chunk`). Four alternating pairs of a million-record import into SQLite: first
/// import 171–221k → 216–222k records/s, re-import 244–337k → 320–391k; PostgreSQL unchanged.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "spotify-history",
    version,
    about = "Keep your whole Spotify listening history and let AI assistants analyse it over MCP."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    #[command(flatten)]
    settings: Settings,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run everything in one process: the HTTP server (health, API, MCP) and the collector
    Serve,
    /// Run the HTTP server without the collector (scale-out: run `collector` apart)
    Api,
    /// Run the collector alone: import jobs, initial sync and polling of Spotify
    Collector,
    /// Apply database migrations (also done automatically at start)
    Migrate,
    /// List, add or delete users
    #[command(subcommand)]
    Users(commands::users::UsersCommand),
    /// Create, list or revoke API tokens for MCP and admin access
    #[command(subcommand)]
    Tokens(commands::tokens::TokensCommand),
    /// Print a new TOKEN_ENCRYPTION_KEY (a Fernet key)
    Keygen,
    /// Import Spotify "Download your data" exports (ZIP, folder or JSON files)
    Import(commands::import::ImportArgs),
    /// Serve MCP over stdio (for Claude Desktop, Cursor and other local clients)
    Mcp(commands::mcp::McpArgs),
    /// Fill the database with a realistic synthetic history for a `demo` user
    Demo(commands::demo::DemoArgs),
    /// Copy the SQLite database consistently while it serves (PostgreSQL: prints pg_dump)
    Backup(commands::backup::BackupArgs),
    /// Write a user's listens as JSONL or CSV, re-importable with `import`
    Export(commands::export::ExportArgs),
    /// Measure performance and print the figures
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
}

fn main() -> ExitCode {
    // A missing .env is normal; a broken one is worth a word but not a refusal to start.
    if let Err(err) = dotenvy::dotenv()
        && !err.not_found()
    {
        eprintln!("warning: ignoring .env: {err}");
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // A bad value (often from the environment) gets one line naming the variable;
        // help, version and usage mistakes keep clap's own output.
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::InvalidValue | ErrorKind::ValueValidation
            ) =>
        {
            let rendered = err.to_string();
            let first_line = rendered.lines().next().unwrap_or_default();
            eprintln!(
                "{}",
                first_line.replacen("error: ", "error: invalid configuration: ", 1)
            );
            return ExitCode::from(2);
        }
        Err(err) => err.exit(),
    };
    if let Err(err) = cli.settings.validate() {
        eprintln!("error: invalid configuration: {err}");
        return ExitCode::from(2);
    }
    // The long-running commands also store their log events for the admin logs page.
    let store_logs = matches!(
        cli.command,
        Command::Serve | Command::Api | Command::Collector
    );
    logging::init(&cli.settings, store_logs);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line: the whole cause chain, joined by ": ".
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    match cli.command {
        Command::Serve => commands::serve::run(&settings, true).await,
        Command::Api => commands::serve::run(&settings, false).await,
        Command::Collector => commands::collector::run(&settings).await,
        Command::Migrate => commands::migrate::run(&settings).await,
        Command::Users(command) => commands::users::run(&settings, command).await,
        Command::Tokens(command) => commands::tokens::run(&settings, command).await,
        Command::Import(args) => commands::import::run(&settings, args).await,
        Command::Mcp(args) => commands::mcp::run(&settings, args).await,
        Command::Demo(args) => commands::demo::run(&settings, args).await,
        Command::Backup(args) => commands::backup::run(&settings, args).await,
        Command::Export(args) => commands::export::run(&settings, args).await,
        Command::Bench(command) => commands::bench::run(&settings, command).await,
        Command::Keygen => {
            println!("{}", commands::keygen::generate_key());
            Ok(())
        }
    }
}
