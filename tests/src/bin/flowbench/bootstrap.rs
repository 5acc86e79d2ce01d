//! Before the load: discovery, the JWKS, and a logged-in session (cookies) obtained the way a
//! browser would, by following the OP's redirects and submitting its login and consent forms.

use oidc_hybrid_testkit::html;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION};
use reqwest::{Client, StatusCode, Url};
use serde_json::Value;

/// The endpoints flowbench uses, from the discovery document.
#[derive(Clone, Debug)]
pub(crate) struct Discovery {
    pub(crate) authorization_endpoint: String,
    pub(crate) token_endpoint: String,
    pub(crate) userinfo_endpoint: Option<String>,
    pub(crate) jwks_uri: String,
}

async fn get_json(client: &Client, url: &str, what: &str) -> Result<Value, String> {
    let response = client.get(url).send().await.map_err(|e| {
        let hint = if url.starts_with("https:") {
            " (this build of flowbench speaks plain http only: it targets loopback)"
        } else {
            ""
        };
        format!("{what}: GET {url}: {}{hint}", chain(&e))
    })?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("{what}: GET {url}: {}", chain(&e)))?;
    if status != StatusCode::OK {
        return Err(format!(
            "{what}: GET {url} answered HTTP {}: {}",
            status.as_u16(),
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("{what}: {url} is not JSON ({e})"))
}

/// The `Location` header, if it is text.
pub(crate) fn location(headers: &HeaderMap) -> Option<String> {
    headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// An error with its sources.
pub(crate) fn chain(error: &dyn core::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// Fetches `{issuer}/.well-known/openid-configuration` and the JWKS it names.
pub(crate) async fn discover(client: &Client, issuer: &str) -> Result<(Discovery, Value), String> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let doc = get_json(client, &url, "discovery").await?;
    if doc["issuer"].as_str() != Some(issuer) {
        return Err(format!(
            "discovery: the document's issuer {} is not --issuer {issuer:?} (they must be \
             identical, OIDC Discovery §4.3)",
            doc["issuer"]
        ));
    }
    let field = |name: &str| -> Result<String, String> {
        doc[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("discovery: {url} has no {name}"))
    };
    let discovery = Discovery {
        authorization_endpoint: field("authorization_endpoint")?,
        token_endpoint: field("token_endpoint")?,
        userinfo_endpoint: doc["userinfo_endpoint"].as_str().map(str::to_owned),
        jwks_uri: field("jwks_uri")?,
    };
    let jwks = get_json(client, &discovery.jwks_uri, "JWKS").await?;
    Ok((discovery, jwks))
}

/// The scheme, host and port of a URL.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Which form of a page to submit: the first with a field named in `fill`, else the first
/// POST form, else the first.
fn choose<'f>(forms: &'f [html::Form], fill: &[(String, String)]) -> Option<&'f html::Form> {
    forms
        .iter()
        .find(|f| fill.iter().any(|(name, _)| f.has_field(name)))
        .or_else(|| forms.iter().find(|f| f.method == "post"))
        .or_else(|| forms.first())
}

/// The most requests the bootstrap makes.
pub(crate) const MAX_STEPS: usize = 12;

/// Runs the authorization request `authorize_url` like a browser until the OP redirects to
/// `redirect_uri`: follows redirects on the OP's origin, fills in and submits the forms of
/// the pages on the way. Returns that final `Location` and a line per request made.
pub(crate) async fn session(
    client: &Client,
    authorize_url: &str,
    redirect_uri: &str,
    fill: &[(String, String)],
) -> Result<(String, Vec<String>), String> {
    let mut url = Url::parse(authorize_url).map_err(|e| format!("authorization endpoint: {e}"))?;
    let op_origin = origin(&url);
    let mut post: Option<String> = None;
    let mut trace = Vec::new();
    let mut last = String::new();
    for step in 1..=MAX_STEPS {
        let method = if post.is_some() { "POST" } else { "GET" };
        let request = match post.clone() {
            Some(body) => client
                .post(url.clone())
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                )
                .body(body),
            None => client.get(url.clone()),
        };
        let response = request
            .send()
            .await
            .map_err(|e| format!("step {step}: {method} {url}: {}", chain(&e)))?;
        let status = response.status();
        let location = location(response.headers());
        let body = response
            .text()
            .await
            .map_err(|e| format!("step {step}: {method} {url}: {}", chain(&e)))?;
        trace.push(format!("{method} {url} -> {}", status.as_u16()));
        if status.is_redirection() {
            let Some(location) = location else {
                return Err(format!(
                    "step {step}: {method} {url} answered HTTP {} without Location",
                    status.as_u16()
                ));
            };
            let next = url
                .join(&location)
                .map_err(|e| format!("step {step}: bad Location {location:?}: {e}"))?;
            if next.as_str().starts_with(redirect_uri) || location.starts_with(redirect_uri) {
                return Ok((next.to_string(), trace));
            }
            if origin(&next) != op_origin {
                return Err(format!(
                    "step {step}: {method} {url} redirected to {next}, which is neither on the \
                     OP's origin {op_origin} nor the redirect URI"
                ));
            }
            last = format!("{method} {url} (HTTP {} to {next})", status.as_u16());
            // 307 and 308 repeat the request as it was; the others turn into a GET.
            if !matches!(
                status,
                StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
            ) {
                post = None;
            }
            url = next;
            continue;
        }
        post = None;
        let summary = html::summary(&body);
        if status != StatusCode::OK {
            return Err(format!(
                "step {step}: {method} {url} answered HTTP {}: {summary}",
                status.as_u16()
            ));
        }
        let forms = html::forms(&body);
        let Some(form) = choose(&forms, fill) else {
            return Err(format!(
                "step {step}: {method} {url} answered a page without a form: {summary}"
            ));
        };
        let action = match &form.action {
            Some(action) if !action.is_empty() => url
                .join(action)
                .map_err(|e| format!("step {step}: form action {action:?}: {e}"))?,
            _ => url.clone(),
        };
        if action.as_str().starts_with(redirect_uri) {
            return Err(format!(
                "step {step}: {url} answered a page posting to the redirect URI (form_post?); \
                 flowbench asks for response_mode=fragment"
            ));
        }
        if origin(&action) != op_origin {
            return Err(format!(
                "step {step}: the form of {url} posts to {action}, off the OP's origin"
            ));
        }
        let pairs = form.submission(fill);
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
        last = format!("{method} {url} (HTTP 200, a form with {names:?}: {summary})");
        trace.push(format!(
            "  form {} {action} with {names:?}",
            form.method.to_ascii_uppercase()
        ));
        if form.method == "post" {
            url = action;
            post = Some(encoded);
        } else {
            url = action;
            url.set_query(Some(&encoded));
        }
    }
    Err(format!(
        "no redirect to the redirect URI after {MAX_STEPS} requests; the last page was {last} \
         (wrong --form values? a page flowbench cannot fill in?)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(method: &str, fields: &[&str]) -> html::Form {
        html::Form {
            action: None,
            method: method.into(),
            fields: fields
                .iter()
                .map(|f| ((*f).to_owned(), String::new()))
                .collect(),
            buttons: Vec::new(),
        }
    }

    #[test]
    fn the_form_to_submit() {
        let forms = [
            form("get", &["q"]),
            form("post", &["logout"]),
            form("post", &["login", "password"]),
        ];
        let fill = [("password".to_owned(), "x".to_owned())];
        assert_eq!(choose(&forms, &fill), Some(&forms[2]));
        assert_eq!(choose(&forms, &[]), Some(&forms[1]));
        assert_eq!(choose(&forms[..1], &[]), Some(&forms[0]));
        assert_eq!(choose(&[], &fill), None);
    }
}
