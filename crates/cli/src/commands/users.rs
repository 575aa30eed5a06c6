//! `users list|add|delete`.

use crate::settings::Settings;
use anyhow::{Context, bail};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List users
    List,
    /// Add an import-only user
    Add {
        /// Short unique name, used as --user NAME elsewhere
        name: String,
        /// Name shown in the UI
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Delete a user and all their data (plays, tokens, jobs)
    Delete {
        name: String,
        /// Confirm the deletion
        #[arg(long)]
        yes: bool,
    },
}

pub async fn run(settings: &Settings, command: UsersCommand) -> anyhow::Result<()> {
    let store = super::open_store(settings).await?;
    match command {
        UsersCommand::List => {
            let users = store.list_users().await?;
            if users.is_empty() {
                println!("no users yet: add one with `spotify-history users add NAME`");
            }
            for user in users {
                let mut flags = Vec::new();
                if user.spotify_user_id.is_some() {
                    flags.push("spotify");
                }
                if user.sync_paused {
                    flags.push("paused");
                }
                if user.needs_reauth {
                    flags.push("needs-reauth");
                }
                println!(
                    "{}\t{}\t{}\t{}",
                    user.id,
                    user.name,
                    user.display_name.unwrap_or_default(),
                    flags.join(",")
                );
            }
        }
        UsersCommand::Add { name, display_name } => {
            let user = store.create_user(&name, display_name.as_deref()).await?;
            println!("created user {} (id {})", user.name, user.id);
        }
        UsersCommand::Delete { name, yes } => {
            let user = store.find_user_by_name(&name).await?.with_context(|| {
                format!("no user named {name:?} (see `spotify-history users list`)")
            })?;
            if !yes {
                bail!(
                    "deleting {name:?} removes all their plays and tokens: run again with --yes to confirm"
                );
            }
            store.delete_user(user.id).await?;
            println!("deleted user {name}");
        }
    }
    store.close().await;
    Ok(())
}
