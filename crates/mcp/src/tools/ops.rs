//! Operations tools: the state of collection and imports.

use crate::ToolDef;
use schemars::JsonSchema;
use serde::Deserialize;
use spotify_history_analytics::LatestArgs;

/// A tool without arguments (besides `user_id`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub(crate) struct NoArgs {}

pub(crate) fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef::new(
            "ops_sync_status",
            "Sync status",
            "Collection state of the listener: last poll, newest collected play, initial sync, \
             whether Spotify access needs re-authorization or sync is paused, recent failures.",
            |context, scope, _: NoArgs| async move { Ok(context.analytics.sync_status(&scope).await?) },
        ),
        ToolDef::new(
            "ops_latest_job_runs",
            "Latest job runs",
            "The most recent background job runs (imports, initial sync, polling, token \
             refresh) of the listener, with status, counts and errors.",
            |context, scope, args: LatestArgs| async move {
                Ok(context
                    .analytics
                    .latest_job_runs(Some(scope.user), &args)
                    .await?)
            },
        ),
        ToolDef::new(
            "ops_latest_import_jobs",
            "Latest import jobs",
            "The most recent export imports of the listener, with their status and report \
             (records read, inserted, duplicates, merged, skipped by reason).",
            |context, scope, args: LatestArgs| async move {
                Ok(context
                    .analytics
                    .latest_import_jobs(Some(scope.user), &args)
                    .await?)
            },
        ),
        ToolDef::admin(
            "ops_list_users",
            "List users",
            "Every user with their listen counts, first and last listen and sync health. \
             Admin tokens only; use the ids as user_id in other tools.",
            |context, _: NoArgs| async move { Ok(context.analytics.list_users().await?) },
        ),
    ]
}
