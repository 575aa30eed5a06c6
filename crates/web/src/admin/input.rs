//! Reading admin requests: query strings, JSON bodies and path ids whose rejections are
//! JSON errors naming the field at fault (axum's own are plain text), and page bounds.

use super::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::ApiError;
use crate::CSRF_FIELD;
use axum::extract::{FromRequest, FromRequestParts, Json, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// The query string as `T`; a bad one is a 400 naming the parameter. The CSRF token a
/// browser may send as `?csrf=` is the guard's, and is left out of `T`.
pub(crate) struct Params<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let mut kept = form_urlencoded::Serializer::new(String::new());
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            if key != CSRF_FIELD {
                kept.append_pair(&key, &value);
            }
        }
        let uri: Uri = format!("/?{}", kept.finish())
            .parse()
            .map_err(|_| bad_request("the query string is not valid"))?;
        match Query::<T>::try_from_uri(&uri) {
            Ok(Query(value)) => Ok(Params(value)),
            Err(rejection) => Err(bad_request(rejection.body_text())),
        }
    }
}

/// The JSON body as `T`: 400 for broken JSON, 415 without a JSON content type, 422 for a
/// missing or mistyped field (named in the message).
pub(crate) struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => {
                let status = rejection.status();
                let code = if status == StatusCode::UNPROCESSABLE_ENTITY {
                    "invalid_input"
                } else {
                    "bad_request"
                };
                Err(ApiError::new(status, code, rejection.body_text()))
            }
        }
    }
}

/// The `{id}` of the path; one that is not a number is a 400.
pub(crate) struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<i64>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Id(id)),
            Err(rejection) => Err(bad_request(format!(
                "the id in the path must be a number: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// A 400 answer.
pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// A 422 answer about one field.
pub(crate) fn invalid(field: &str, problem: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        format!("{field}: {problem}"),
    )
}

/// Which rows of a list a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Page {
    pub limit: u32,
    pub offset: u64,
}

impl Page {
    /// `limit` and `offset` of a query, checked.
    pub fn new(limit: Option<u32>, offset: Option<u64>) -> Result<Page, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(bad_request(format!(
                "limit must be between 1 and {MAX_LIMIT}, got {limit}"
            )));
        }
        Ok(Page {
            limit,
            offset: offset.unwrap_or(0),
        })
    }

    /// This page of an in-memory list.
    pub fn slice<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .skip(usize::try_from(self.offset).unwrap_or(usize::MAX))
            .take(self.limit as usize)
            .collect()
    }
}

/// For `Option<Option<T>>` fields with `#[serde(default)]`: absent stays `None` (leave
/// as is), `null` becomes `Some(None)` (clear), a value `Some(Some(value))`.
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A user id of a query or body: positive.
pub(crate) fn user_id(field: &str, id: i64) -> Result<spotify_history_core::UserId, ApiError> {
    if id < 1 {
        return Err(invalid(
            field,
            format!("must be a user id (1 or more), got {id}"),
        ));
    }
    Ok(spotify_history_core::UserId(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_bounded_and_slice_lists() {
        assert_eq!(
            Page::new(None, None).unwrap(),
            Page {
                limit: DEFAULT_LIMIT,
                offset: 0
            }
        );
        assert!(Page::new(Some(0), None).is_err());
        assert!(Page::new(Some(MAX_LIMIT + 1), None).is_err());
        let page = Page::new(Some(2), Some(1)).unwrap();
        assert_eq!(page.slice(vec![1, 2, 3, 4]), vec![2, 3]);
        assert!(
            Page::new(Some(2), Some(9))
                .unwrap()
                .slice(vec![1])
                .is_empty()
        );
    }

    #[test]
    fn absent_null_and_values_differ() {
        #[derive(Deserialize)]
        struct Change {
            #[serde(default, deserialize_with = "present")]
            name: Option<Option<String>>,
        }
        let parse = |json: &str| serde_json::from_str::<Change>(json).unwrap().name;
        assert_eq!(parse("{}"), None);
        assert_eq!(parse(r#"{"name":null}"#), Some(None));
        assert_eq!(parse(r#"{"name":"x"}"#), Some(Some("x".to_owned())));
    }
}
