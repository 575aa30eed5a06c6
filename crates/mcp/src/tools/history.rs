//! History tools: questions about one listener's stored history.

use crate::ToolDef;
use spotify_history_analytics::TopArgs;

pub(crate) fn tools() -> Vec<ToolDef> {
    vec![ToolDef::new(
        "history_top_artists",
        "Top artists",
        "The artists the user played most in a time window, with play counts and minutes. \
         A play is a listen of at least min_ms (default 30 s); each play counts for the track's \
         primary artist. The answer states its window, time zone, counting rule and data coverage.",
        |context, scope, args: TopArgs| async move {
            Ok(context.analytics.top_artists(&scope, &args).await?)
        },
    )]
}
