//! `tokens create|list|revoke`: bearer tokens for MCP clients and the admin API.

use crate::settings::Settings;
use anyhow::{Context, bail};
use clap::Subcommand;
use spotify_history_core::ApiTokenId;
use spotify_history_store::Store;

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token (shown once; only its hash is kept)
    Create {
        /// The user the token acts for
        #[arg(long, conflicts_with = "admin", required_unless_present = "admin")]
        user: Option<String>,
        /// An admin token: acts for every user and the admin API
        #[arg(long)]
        admin: bool,
        /// A label to tell tokens apart, e.g. "claude-desktop"
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List tokens (never their values)
    List {
        /// Only this user's tokens
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a token by id; it stops working at once
    Revoke { id: i64 },
}

pub async fn run(settings: &Settings, command: TokensCommand) -> anyhow::Result<()> {
    let store = super::open_store(settings).await?;
    match command {
        TokensCommand::Create { user, admin, name } => {
            let user_id = match (user, admin) {
                (Some(user), false) => Some(user_id(&store, &user).await?),
                (None, true) => None,
                _ => bail!("give either --user NAME or --admin"),
            };
            let created = store.create_api_token(user_id, &name).await?;
            let scope = if admin { "admin" } else { "user" };
            eprintln!(
                "created {scope} token {} ({}). Copy it now: it is not shown again.",
                created.token.id, created.token.name
            );
            println!("{}", created.plaintext.expose());
        }
        TokensCommand::List { user } => {
            let user_id = match user {
                Some(user) => Some(user_id(&store, &user).await?),
                None => None,
            };
            for token in store.list_api_tokens(user_id).await? {
                let owner = token
                    .user_id
                    .map_or_else(|| "admin".to_string(), |id| format!("user {id}"));
                let state = if token.is_active() {
                    "active"
                } else {
                    "revoked"
                };
                println!(
                    "{}\t{}…\t{}\t{}\t{}",
                    token.id, token.prefix, token.name, owner, state
                );
            }
        }
        TokensCommand::Revoke { id } => {
            store.revoke_api_token(ApiTokenId(id)).await?;
            println!("revoked token {id}");
        }
    }
    store.close().await;
    Ok(())
}

async fn user_id(store: &Store, name: &str) -> anyhow::Result<spotify_history_core::UserId> {
    let user = store.find_user_by_name(name).await?.with_context(|| {
        format!("no user named {name:?} (add one with `spotify-history users add {name}`)")
    })?;
    Ok(user.id)
}
