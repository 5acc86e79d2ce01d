//! The authorization response and its three encodings (OAuth 2.0 Multiple Response Type
//! Encoding Practices §2; Form Post Response Mode §2).
//!
//! A response is one list of unique `(name, value)` pairs (REQUIREMENTS 201) plus the verified
//! redirect URI and the response mode. Rendering is pure string building, so every adapter gets
//! the same encoding and escaping.

use alloc::string::String;
use alloc::vec::Vec;

use core::fmt;

use crate::error::Reject;
use crate::value::{RedirectUri, ResponseMode};

/// An authorization response, success or error, ready to deliver to a verified redirect URI.
///
/// `Debug` shows the parameter names only: values include codes and tokens.
#[derive(Clone, Eq, PartialEq)]
pub struct AuthorizationResponse {
    redirect_uri: RedirectUri,
    mode: ResponseMode,
    params: Vec<(&'static str, String)>,
}

impl fmt::Debug for AuthorizationResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.params.iter().map(|(n, _)| *n).collect();
        f.debug_struct("AuthorizationResponse")
            .field("redirect_uri", &self.redirect_uri)
            .field("mode", &self.mode)
            .field("params", &names)
            .field("error", &self.param("error"))
            .finish()
    }
}

impl AuthorizationResponse {
    /// A response to `redirect_uri` (already verified against the client's registration).
    pub(crate) const fn new(redirect_uri: RedirectUri, mode: ResponseMode) -> Self {
        Self {
            redirect_uri,
            mode,
            params: Vec::new(),
        }
    }

    /// Adds a parameter; a name already present is replaced, never repeated.
    pub(crate) fn set(&mut self, name: &'static str, value: impl Into<String>) {
        let value = value.into();
        if let Some(slot) = self.params.iter_mut().find(|(n, _)| *n == name) {
            slot.1 = value;
        } else {
            self.params.push((name, value));
        }
    }

    /// The verified redirect URI.
    #[must_use]
    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.redirect_uri
    }

    /// The response mode.
    #[must_use]
    pub const fn mode(&self) -> ResponseMode {
        self.mode
    }

    /// The response parameters, each name once.
    #[must_use]
    pub fn params(&self) -> &[(&'static str, String)] {
        &self.params
    }

    /// The value of one parameter.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether this is an error response.
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.param("error").is_some()
    }

    /// The parameters form-urlencoded (OIDC Core §13, RFC 6749 Appendix B).
    #[must_use]
    pub fn encoded_params(&self) -> String {
        let mut out = String::with_capacity(self.encoded_len_hint());
        self.append_encoded_params(&mut out);
        out
    }

    /// An upper estimate of the encoded parameters' length when little needs escaping (codes,
    /// tokens and JWTs are base64url): the buffer is allocated once.
    fn encoded_len_hint(&self) -> usize {
        self.params
            .iter()
            .map(|(name, value)| name.len() + value.len() + 2)
            .sum::<usize>()
            + 32
    }

    /// Appends `name=value&…`, form-urlencoded; runs of safe bytes are copied as they are.
    fn append_encoded_params(&self, out: &mut String) {
        for (i, (name, value)) in self.params.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.extend(form_urlencoded::byte_serialize(name.as_bytes()));
            out.push('=');
            out.extend(form_urlencoded::byte_serialize(value.as_bytes()));
        }
    }

    /// The `Location` for a 303 redirect in `query` or `fragment` mode; `None` in `form_post`
    /// mode. In query mode a registered query is kept byte for byte and the parameters are
    /// appended after `&` (RFC 6749 §3.1.2).
    #[must_use]
    pub fn location(&self) -> Option<String> {
        let separator = match self.mode {
            ResponseMode::FormPost => return None,
            ResponseMode::Fragment => '#',
            ResponseMode::Query if self.redirect_uri.as_str().contains('?') => '&',
            ResponseMode::Query => '?',
        };
        let mut url =
            String::with_capacity(self.redirect_uri.as_str().len() + 1 + self.encoded_len_hint());
        url.push_str(self.redirect_uri.as_str());
        if !(self.mode == ResponseMode::Query && self.params.is_empty()) {
            url.push(separator);
            self.append_encoded_params(&mut url);
        }
        Some(url)
    }

    /// The auto-submitting HTML page for `form_post` mode (Form Post Response Mode §2).
    ///
    /// Every value is HTML-escaped (REQUIREMENTS 184). The only script is the inline
    /// `document.forms[0].submit()`, whose CSP hash is [`FORM_POST_SCRIPT_HASH`]; serve the page
    /// with [`FORM_POST_CSP`], `Cache-Control: no-store`, `Pragma: no-cache` and
    /// `Referrer-Policy: no-referrer`. A `noscript` submit button covers agents without scripts.
    #[must_use]
    pub fn form_post_html(&self) -> String {
        let mut html =
            String::with_capacity(512 + self.params.iter().map(|p| p.1.len() + 64).sum::<usize>());
        html.push_str(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>Submit this form</title></head>\n<body>\n<form method=\"post\" action=\"",
        );
        push_escaped(&mut html, self.redirect_uri.as_str());
        html.push_str("\">\n");
        for (name, value) in &self.params {
            html.push_str("<input type=\"hidden\" name=\"");
            push_escaped(&mut html, name);
            html.push_str("\" value=\"");
            push_escaped(&mut html, value);
            html.push_str("\">\n");
        }
        html.push_str(
            "<noscript><button type=\"submit\">Continue</button></noscript>\n</form>\n<script>",
        );
        html.push_str(FORM_POST_SCRIPT);
        html.push_str("</script>\n</body></html>\n");
        html
    }
}

/// The inline script of the form_post page.
pub const FORM_POST_SCRIPT: &str = "document.forms[0].submit()";

/// The page for an error that must not be redirected (the client or its redirect URI could not
/// be verified, OIDC Core §3.1.2.6; any end-session error): the error code and its fixed
/// description, escaped; nothing loads or runs.
#[must_use]
pub fn error_page_html(reject: Reject) -> String {
    let mut page = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign-in error</title></head>\n<body>\n<h1>Sign-in error</h1>\n\
         <p>The sign-in request cannot be processed, and you have not been sent back to \
         the application.</p>\n<p><code id=\"error\">",
    );
    push_escaped(&mut page, reject.code().as_str());
    page.push_str("</code>: <span id=\"error_description\">");
    push_escaped(&mut page, reject.description());
    page.push_str("</span></p>\n</body></html>\n");
    page
}

/// `sha256-` + base64(SHA-256([`FORM_POST_SCRIPT`])), for the page's CSP.
pub const FORM_POST_SCRIPT_HASH: &str = "sha256-ePniVEkSivX/c7XWBGafqh8tSpiRrKiqYeqbG7N1TOE=";

/// The Content-Security-Policy for the form_post page: nothing loads, only the submit script
/// runs, the form may post anywhere (the redirect URI was verified), and no framing.
pub const FORM_POST_CSP: &str = "default-src 'none'; script-src 'sha256-ePniVEkSivX/c7XWBGafqh8tSpiRrKiqYeqbG7N1TOE='; form-action *; frame-ancestors 'none'; base-uri 'none'";

/// Appends `text` HTML-escaped for use in element content or a double-quoted attribute.
pub fn push_escaped(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '`' => out.push_str("&#96;"),
            _ => out.push(ch),
        }
    }
}

/// Where an authorization error goes (OIDC Core §3.1.2.6, RFC 6749 §4.1.2.1).
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Disposition {
    /// Shown to the user agent as an error page (HTTP 400): the client or redirect URI cannot be
    /// trusted, or the response mode is unsupported. Never redirect.
    ShowToUser,
    /// Sent to the client's verified redirect URI in the request's response mode.
    RedirectToClient(AuthorizationResponse),
}

/// An error at the authorization endpoint: the reason and where it goes.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct AuthorizeError {
    reject: Reject,
    disposition: Disposition,
}

impl AuthorizeError {
    pub(crate) const fn show(reject: Reject) -> Self {
        Self {
            reject,
            disposition: Disposition::ShowToUser,
        }
    }

    pub(crate) const fn redirect(reject: Reject, response: AuthorizationResponse) -> Self {
        Self {
            reject,
            disposition: Disposition::RedirectToClient(response),
        }
    }

    /// The reason.
    #[must_use]
    pub const fn reject(&self) -> Reject {
        self.reject
    }

    /// Where the error goes.
    #[must_use]
    pub const fn disposition(&self) -> &Disposition {
        &self.disposition
    }

    /// The error response to send to the client, if it may be redirected.
    #[must_use]
    pub fn into_response(self) -> Option<AuthorizationResponse> {
        match self.disposition {
            Disposition::RedirectToClient(response) => Some(response),
            Disposition::ShowToUser => None,
        }
    }
}

/// A reason found before the request could be bound to a client (e.g. by
/// [`Params::parse`](crate::Params::parse)) is shown to the user, never redirected.
impl From<Reject> for AuthorizeError {
    fn from(reject: Reject) -> Self {
        Self::show(reject)
    }
}

impl fmt::Display for AuthorizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.reject.fmt(f)
    }
}

impl core::error::Error for AuthorizeError {}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64, Encoding};
    use sha2::{Digest, Sha256};

    #[test]
    fn script_hash_matches_script() {
        let hash = Base64::encode_string(&Sha256::digest(FORM_POST_SCRIPT.as_bytes()));
        assert_eq!(FORM_POST_SCRIPT_HASH, alloc::format!("sha256-{hash}"));
        assert!(FORM_POST_CSP.contains(FORM_POST_SCRIPT_HASH));
    }
}
