//! Extractors whose rejections speak our error shape instead of axum's plain text.
//!
//! A JSON body is read in two steps: axum's `Json<Value>` checks the content type, the size limit and
//! the syntax (a syntax error stays 400 with its line and column), then the value is turned into the
//! handler's type through `serde_path_to_error`, so a value of the wrong kind is answered 422
//! `validation_failed` with the JSON Pointer of the field and a message in words (serde's own says
//! "invalid value: integer `-1`, expected u32").

use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::http::error::{ApiError, FieldProblem, PointerSegment, pointer};

/// A JSON body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(value) = <axum::Json<Value> as FromRequest<S>>::from_request(req, state).await?;
        Ok(ApiJson(from_value(value)?))
    }
}

/// A JSON body that may be left out: a request without a `Content-Type` has none (`None`).
impl<T: DeserializeOwned, S: Send + Sync> OptionalFromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, ApiError> {
        let value = <axum::Json<Value> as OptionalFromRequest<S>>::from_request(req, state).await?;
        match value {
            None => Ok(None),
            Some(axum::Json(value)) => Ok(Some(ApiJson(from_value(value)?))),
        }
    }
}

/// The body's value as `T`, or a 422 naming the field at fault.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut segments: Vec<Segment> = e
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
                serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
                serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        let (message, field) = in_words(&segments, &e.inner().to_string());
        // A missing field is reported at its parent; an unknown one already at itself.
        if let Some(field) = field
            && !matches!(segments.last(), Some(Segment::Key(last)) if *last == field)
        {
            segments.push(Segment::Key(field));
        }
        let at = (!segments.is_empty()).then(|| pointer(segments.iter().map(Segment::as_pointer)));
        let summary = match &at {
            Some(at) => format!("the body is not valid at {at}: {message}"),
            None => format!("the body is not valid: {message}"),
        };
        ApiError::invalid_fields(summary, vec![FieldProblem::new(at, message)])
    })
}

enum Segment {
    Key(String),
    Index(usize),
}

impl Segment {
    fn as_pointer(&self) -> PointerSegment<'_> {
        match self {
            Segment::Key(k) => PointerSegment::Key(k),
            Segment::Index(i) => PointerSegment::Index(*i),
        }
    }
}

/// Serde's message about the value at `path` in words, and the field it names when that field is not
/// yet on the path (a missing or unknown field is reported at its parent).
fn in_words(path: &[Segment], serde_message: &str) -> (String, Option<String>) {
    let name = match path.last() {
        Some(Segment::Key(key)) => key.clone(),
        Some(Segment::Index(i)) => format!("item {i}"),
        None => "the body".to_owned(),
    };
    let quoted = |s: &str| s.split('`').nth(1).map(str::to_owned);
    if let Some(rest) = serde_message.strip_prefix("missing field ") {
        let field = quoted(rest).unwrap_or_default();
        return (format!("{field} is required"), Some(field));
    }
    if let Some(rest) = serde_message.strip_prefix("unknown field ") {
        let field = quoted(rest).unwrap_or_default();
        let known = known_names(rest);
        return (format!("{field} is not a field here{known}"), Some(field));
    }
    if let Some(rest) = serde_message.strip_prefix("unknown variant ") {
        let value = quoted(rest).unwrap_or_default();
        return (format!("{name} cannot be \"{value}\"{}", known_names(rest).replace("; known:", "; use")), None);
    }
    // "invalid type: string \"x\", expected u32", "invalid value: integer `-1`, expected u32",
    // "invalid length 3, expected ...".
    if let Some((found, expected)) = serde_message.split_once(", expected ") {
        let found = found
            .trim_start_matches("invalid type: ")
            .trim_start_matches("invalid value: ")
            .trim_start_matches("invalid length ");
        return (format!("{name} must be {}, not {}", expected_in_words(expected), found_in_words(found)), None);
    }
    (format!("{name}: {serde_message}"), None)
}

/// ", known: a, b" from serde's "..., expected one of `a`, `b`" (empty when it lists none).
fn known_names(rest: &str) -> String {
    let Some((_, list)) = rest.split_once("expected ") else { return String::new() };
    let names: Vec<&str> = list.split('`').skip(1).step_by(2).collect();
    if names.is_empty() { String::new() } else { format!("; known: {}", names.join(", ")) }
}

fn expected_in_words(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a string" | "a borrowed string" => "text".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "a sequence" => "a list".to_owned(),
        "a map" => "an object".to_owned(),
        other if other.starts_with("struct ") => "an object".to_owned(),
        other => other.to_owned(),
    }
}

fn found_in_words(found: &str) -> String {
    for kind in ["integer ", "floating point ", "boolean ", "string "] {
        if let Some(value) = found.strip_prefix(kind) {
            return value.trim_matches('`').to_owned();
        }
    }
    match found {
        "sequence" => "a list".to_owned(),
        "map" => "an object".to_owned(),
        "null" => "null".to_owned(),
        other => other.to_owned(),
    }
}

/// Path parameters.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(ApiPath(value))
    }
}

/// Query parameters.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(value))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialized")]
    struct Doc {
        agents: Vec<Agent>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialized")]
    struct Agent {
        id: String,
        capacity: u32,
    }

    fn problem(value: serde_json::Value) -> FieldProblem {
        let e = from_value::<Doc>(value).expect_err("invalid");
        assert_eq!(e.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        e.details.into_iter().next().expect("a detail")
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_named_by_its_pointer_in_words() {
        let p = problem(json!({"agents": [{"id": "a", "capacity": 1}, {"id": "b", "capacity": -1}]}));
        assert_eq!(p.field.as_deref(), Some("/agents/1/capacity"));
        assert_eq!(p.message, "capacity must be a whole number, 0 or more, not -1");
        let p = problem(json!({"agents": [{"id": 7, "capacity": 1}]}));
        assert_eq!((p.field.as_deref(), p.message.as_str()), (Some("/agents/0/id"), "id must be text, not 7"));
    }

    #[test]
    fn missing_and_unknown_fields_point_at_the_field() {
        let p = problem(json!({"agents": [{"id": "a"}]}));
        assert_eq!((p.field.as_deref(), p.message.as_str()), (Some("/agents/0/capacity"), "capacity is required"));
        let p = problem(json!({"agents": [{"id": "a", "capacity": 1, "cap/a~": 2}]}));
        assert_eq!(p.field.as_deref(), Some("/agents/0/cap~1a~0"));
        assert_eq!(p.message, "cap/a~ is not a field here; known: id, capacity");
    }
}
