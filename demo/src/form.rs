//! Submitted forms: an `application/x-www-form-urlencoded` body of at most 16 KiB, read once,
//! and its fields looked up by name.

use axum::body::Body;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::response::Response;
use oidc_hybrid::params::MAX_INPUT_LEN;

use crate::pages;

/// A submitted form's fields.
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    /// The value of a field sent exactly once.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        let mut values = self.0.iter().filter(|(n, _)| n == name);
        let first = values.next()?;
        values.next().is_none().then_some(first.1.as_str())
    }

    /// Every value of a field (checkboxes).
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The pairs.
    pub(crate) fn into_pairs(self) -> Vec<(String, String)> {
        self.0
    }

    /// Parses form-urlencoded text.
    pub(crate) fn parse(text: &str) -> Self {
        Self(
            form_urlencoded::parse(text.as_bytes())
                .into_owned()
                .collect(),
        )
    }
}

/// Reads a form body of at most 16 KiB; refusals are pages of the demo at `base`.
pub(crate) async fn read_form(base: &str, parts: &Parts, body: Body) -> Result<Form, Response> {
    let too_large = || {
        pages::problem(
            base,
            StatusCode::PAYLOAD_TOO_LARGE,
            "Form too large",
            "The submitted form is larger than 16 KiB.",
        )
    };
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_INPUT_LEN) {
        return Err(too_large());
    }
    let is_form = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(pages::problem(
            base,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Not a form",
            "Expected an application/x-www-form-urlencoded form.",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_INPUT_LEN)
        .await
        .map_err(|_| too_large())?;
    let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
        pages::problem(
            base,
            StatusCode::BAD_REQUEST,
            "Bad form",
            "The form is not UTF-8.",
        )
    })?;
    Ok(Form::parse(&text))
}
