//! `mcp`: MCP over stdio for desktop clients (Claude Desktop, Cursor, ...), which start this
//! command themselves. Standard output carries the protocol; logs go to standard error.

use crate::settings::Settings;
use anyhow::Context;
use clap::Args;
use rmcp::ServiceExt;
use spotify_history_analytics::Analytics;
use spotify_history_core::Principal;
use spotify_history_mcp::{Catalog, McpServer, ToolContext};

#[derive(Debug, Args)]
pub struct McpArgs {
    /// Answer for this user only; without it the session may read every user's history
    /// (whoever can start this command can read the database file anyway)
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
}

pub async fn run(settings: &Settings, args: McpArgs) -> anyhow::Result<()> {
    let store = super::open_store(settings).await?;
    super::load_catalog_names(&store);
    let principal = match &args.user {
        Some(name) => {
            let user = store.find_user_by_name(name).await?.with_context(|| {
                format!("no user named {name:?} (see `spotify-history users list`)")
            })?;
            Principal::User {
                user: user.id,
                token: None,
            }
        }
        None => Principal::Admin { token: None },
    };
    let context = ToolContext {
        analytics: Analytics::new(store.clone(), settings.default_min_ms_played),
        spotify: super::spotify_access(settings, &store).await?,
    };
    let server = McpServer::for_stdio(Catalog::new(), context, principal);
    tracing::info!("MCP over stdio ready");
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .context("the MCP client did not complete the handshake")?;
    running.waiting().await.context("MCP session failed")?;
    store.close().await;
    Ok(())
}
