//! Copy-paste instructions for connecting an assistant to this server's MCP endpoint, with
//! the listener's new token filled in when one is on the page, else a placeholder.

/// One client's instructions.
pub(crate) struct Instructions {
    /// Element id of the snippet (for the copy button).
    pub id: &'static str,
    pub client: &'static str,
    /// Where the snippet goes, in words.
    pub where_: &'static str,
    pub snippet: String,
}

/// Instructions for Claude Code, Claude Desktop, Cursor and ChatGPT.
pub(crate) fn instructions(base_url: &str, token: Option<&str>) -> Vec<Instructions> {
    let mcp_url = format!("{base_url}/mcp");
    let token = token.unwrap_or("<your token>");
    vec![
        Instructions {
            id: "connect-claude-code",
            client: "Claude Code",
            where_: "Run in a terminal:",
            snippet: claude_command(&mcp_url, token),
        },
        Instructions {
            id: "connect-claude-desktop",
            client: "Claude Desktop",
            where_: "Add to claude_desktop_config.json (Settings → Developer → Edit Config); needs Node.js for mcp-remote:",
            snippet: pretty(serde_json::json!({
                "mcpServers": {
                    "spotify-history": {
                        "command": "npx",
                        "args": ["-y", "mcp-remote", mcp_url, "--header", "Authorization:${AUTH_HEADER}"],
                        "env": { "AUTH_HEADER": format!("Bearer {token}") }
                    }
                }
            })),
        },
        Instructions {
            id: "connect-cursor",
            client: "Cursor",
            where_: "Add to ~/.cursor/mcp.json:",
            snippet: pretty(serde_json::json!({
                "mcpServers": {
                    "spotify-history": {
                        "url": mcp_url,
                        "headers": { "Authorization": format!("Bearer {token}") }
                    }
                }
            })),
        },
        Instructions {
            id: "connect-chatgpt",
            client: "ChatGPT",
            where_: "In a custom GPT (needs this server on HTTPS): Configure → Create new action → Import from URL, then Authentication → API key → Bearer:",
            snippet: format!("Import from URL: {base_url}/openapi.json\nAPI key (Bearer): {token}"),
        },
    ]
}

/// `claude mcp add` for this server.
pub(crate) fn claude_command(mcp_url: &str, token: &str) -> String {
    format!(
        "claude mcp add --transport http spotify-history {mcp_url} --header \"Authorization: Bearer {token}\""
    )
}

fn pretty(value: serde_json::Value) -> String {
    serde_json::to_string_pretty(&value).expect("JSON values serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_gets_the_url_and_the_token() {
        let all = instructions("https://music.example.org", Some("sph_abc"));
        let clients: Vec<_> = all.iter().map(|i| i.client).collect();
        assert_eq!(
            clients,
            ["Claude Code", "Claude Desktop", "Cursor", "ChatGPT"]
        );
        for i in &all {
            assert!(i.snippet.contains("sph_abc"), "{}", i.snippet);
            assert!(
                i.snippet.contains("https://music.example.org/"),
                "{}",
                i.snippet
            );
        }
        assert_eq!(
            all[0].snippet,
            "claude mcp add --transport http spotify-history https://music.example.org/mcp --header \"Authorization: Bearer sph_abc\""
        );
        let placeholder = instructions("http://127.0.0.1:8000", None);
        assert!(placeholder[2].snippet.contains("Bearer <your token>"));
    }
}
