//! `/admin/users`: list, detail (with sync status and listen totals), create, update,
//! delete with all their data, pause and resume collection, and "sync now".

use super::input::{JsonBody, Page, Params, bad_request, invalid, present};
use super::{analytics_error, store_error, utc};
use crate::{AdminAccess, ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spotify_history_analytics::{Scope, SyncStatus, UserSummary};
use spotify_history_core::{User, UserId};
use spotify_history_store::{ListenTotals, UserChanges};

use super::input::Id;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list).post(create))
        .route(
            "/admin/users/{id}",
            get(detail).patch(update).delete(remove),
        )
        .route("/admin/users/{id}/pause", post(pause))
        .route("/admin/users/{id}/resume", post(resume))
        .route("/admin/users/{id}/sync", post(sync_now))
        .route("/admin/users/{id}/spotify", delete(unlink_spotify))
}

/// A user as the admin API shows one. Times in UTC.
#[derive(Debug, Serialize)]
pub(super) struct UserView {
    pub id: i64,
    pub name: String,
    pub display_name: Option<String>,
    pub spotify_user_id: Option<String>,
    pub time_zone: Option<String>,
    /// Collection paused.
    pub paused: bool,
    /// Spotify refused the stored token: the user must sign in again at /auth/login.
    pub needs_reauth: bool,
    pub created_at: String,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        UserView {
            id: user.id.0,
            name: user.name,
            display_name: user.display_name,
            spotify_user_id: user.spotify_user_id,
            time_zone: user.time_zone,
            paused: user.sync_paused,
            needs_reauth: user.needs_reauth,
            created_at: utc(user.created_at),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<u32>,
    offset: Option<u64>,
}

#[derive(Debug, Serialize)]
struct UserList {
    users: Vec<UserSummary>,
    total: usize,
    limit: u32,
    offset: u64,
}

/// `GET /admin/users`: every user with the size and span of their history, oldest first.
async fn list(
    _: AdminAccess,
    State(state): State<AppState>,
    Params(query): Params<ListQuery>,
) -> Result<Json<UserList>, ApiError> {
    let page = Page::new(query.limit, query.offset)?;
    let users = state
        .mcp
        .context
        .analytics
        .list_users()
        .await
        .map_err(analytics_error)?
        .users;
    Ok(Json(UserList {
        total: users.len(),
        users: page.slice(users),
        limit: page.limit,
        offset: page.offset,
    }))
}

#[derive(Debug, Serialize)]
struct UserDetail {
    user: UserView,
    sync: SyncStatus,
    totals: ListenTotals,
}

/// `GET /admin/users/{id}`: the user, where collection stands, and their listen totals.
async fn detail(
    _: AdminAccess,
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<UserDetail>, ApiError> {
    let user = state
        .store
        .get_user(UserId(id))
        .await
        .map_err(store_error)?;
    Ok(Json(user_detail(&state, user).await?))
}

async fn user_detail(state: &AppState, user: User) -> Result<UserDetail, ApiError> {
    let scope = Scope {
        user: user.id,
        time_zone: user.time_zone.clone(),
    };
    let sync = state
        .mcp
        .context
        .analytics
        .sync_status(&scope)
        .await
        .map_err(analytics_error)?;
    let totals = state
        .store
        .listen_totals(user.id)
        .await
        .map_err(store_error)?;
    Ok(UserDetail {
        user: user.into(),
        sync,
        totals,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    display_name: Option<String>,
    time_zone: Option<String>,
}

/// `POST /admin/users`: an import-only user.
async fn create(
    _: AdminAccess,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let time_zone = new
        .time_zone
        .as_deref()
        .map(checked_time_zone)
        .transpose()?;
    let user = state
        .store
        .create_user(&new.name, new.display_name.as_deref())
        .await
        .map_err(store_error)?;
    let user = if time_zone.is_some() {
        let changes = UserChanges {
            time_zone: Some(time_zone.as_deref()),
            ..UserChanges::default()
        };
        state
            .store
            .update_user(user.id, &changes)
            .await
            .map_err(store_error)?
    } else {
        user
    };
    tracing::info!(user = %user.id, name = %user.name, "admin created a user");
    Ok((StatusCode::CREATED, Json(user.into())))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserUpdate {
    #[serde(default, deserialize_with = "present")]
    display_name: Option<Option<String>>,
    paused: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    time_zone: Option<Option<String>>,
}

/// `PATCH /admin/users/{id}`: display name, paused, time zone; `null` clears a name or zone.
async fn update(
    _: AdminAccess,
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(update): JsonBody<UserUpdate>,
) -> Result<Json<UserView>, ApiError> {
    if update.display_name.is_none() && update.paused.is_none() && update.time_zone.is_none() {
        return Err(bad_request(
            "nothing to change: send display_name, paused or time_zone",
        ));
    }
    let id = UserId(id);
    let time_zone = match &update.time_zone {
        Some(Some(zone)) => Some(Some(checked_time_zone(zone)?)),
        Some(None) => Some(None),
        None => None,
    };
    let changes = UserChanges {
        display_name: update.display_name.as_ref().map(Option::as_deref),
        time_zone: time_zone.as_ref().map(|zone| zone.as_deref()),
    };
    if let Some(paused) = update.paused {
        state
            .store
            .set_sync_paused(id, paused)
            .await
            .map_err(store_error)?;
    }
    let user = state
        .store
        .update_user(id, &changes)
        .await
        .map_err(store_error)?;
    Ok(Json(user.into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteQuery {
    confirm: Option<String>,
}

/// `DELETE /admin/users/{id}?confirm=<name>`: the user and everything stored for them
/// (plays, tokens, jobs, sync state, uploaded exports). The user's name must be repeated.
async fn remove(
    _: AdminAccess,
    State(state): State<AppState>,
    Id(id): Id,
    Params(query): Params<DeleteQuery>,
) -> Result<Json<Value>, ApiError> {
    let user = state
        .store
        .get_user(UserId(id))
        .await
        .map_err(store_error)?;
    if query.confirm.as_deref() != Some(user.name.as_str()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "confirmation_required",
            format!(
                "deleting user {} removes all their data and cannot be undone: confirm with ?confirm={}",
                user.id, user.name
            ),
        ));
    }
    let removed_files =
        crate::upload::delete_user_and_uploads(&state.store, &state.uploads, user.id)
            .await
            .map_err(store_error)?;
    tracing::warn!(user = %user.id, name = %user.name, removed_files, "admin deleted a user and all their data");
    Ok(Json(json!({
        "deleted": { "id": user.id, "name": user.name },
        "removed_uploads": removed_files,
    })))
}

/// `DELETE /admin/users/{id}/spotify`: forgets the user's Spotify account and tokens (their
/// listens stay); the admin UI links one again.
async fn unlink_spotify(
    _: AdminAccess,
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<UserView>, ApiError> {
    let user = state
        .store
        .unlink_spotify(UserId(id))
        .await
        .map_err(store_error)?;
    tracing::warn!(user = id, "Spotify account unlinked by an admin");
    Ok(Json(user.into()))
}

/// `POST /admin/users/{id}/pause`: the collector leaves the user alone; their data stays.
async fn pause(
    _: AdminAccess,
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<UserView>, ApiError> {
    set_paused(&state, UserId(id), true).await
}

/// `POST /admin/users/{id}/resume`: collection starts again with the next cycle.
async fn resume(
    _: AdminAccess,
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<UserView>, ApiError> {
    set_paused(&state, UserId(id), false).await
}

async fn set_paused(
    state: &AppState,
    id: UserId,
    paused: bool,
) -> Result<Json<UserView>, ApiError> {
    state
        .store
        .set_sync_paused(id, paused)
        .await
        .map_err(store_error)?;
    let user = state.store.get_user(id).await.map_err(store_error)?;
    Ok(Json(user.into()))
}

/// `POST /admin/users/{id}/sync`: the collector polls the user next (told at once), even if
/// their last poll was recent.
async fn sync_now(
    _: AdminAccess,
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = UserId(id);
    state.store.request_sync(id).await.map_err(store_error)?;
    tracing::info!(user = %id, "admin requested a sync");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "user_id": id,
            "queued": true,
            "message": format!("the collector polls user {id} next; GET /admin/jobs?user_id={id} shows the run"),
        })),
    ))
}

/// An IANA time zone name jiff knows, in its canonical spelling.
fn checked_time_zone(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    match jiff::tz::TimeZone::get(name) {
        Ok(zone) => Ok(zone.iana_name().unwrap_or(name).to_owned()),
        Err(_) => Err(invalid(
            "time_zone",
            format!("{name:?} is not an IANA time zone (like Europe/Berlin or America/New_York)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            checked_time_zone(" Europe/Berlin ").unwrap(),
            "Europe/Berlin"
        );
        assert_eq!(checked_time_zone("UTC").unwrap(), "UTC");
        let err = checked_time_zone("Mars/Olympus").unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(err.message.starts_with("time_zone:"), "{}", err.message);
    }
}
