//! Protocol values: newtypes with private fields and one fallible constructor each.
//!
//! Raw strings stop at the parameter parsers; everything after them works with these types
//! ("parse, don't validate"). Comparisons are code point by code point with no normalisation
//! (OIDC Core §14).

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Reject;

/// Longest accepted identifier (client id, subject): 255 octets (OIDC Core §2 for `sub`).
pub const MAX_IDENTIFIER_LEN: usize = 255;

/// Longest accepted redirect URI, in octets.
pub const MAX_REDIRECT_URI_LEN: usize = 2048;

/// `new`, wrapping any string, and `as_str`, with these docs, for a newtype over a `String`
/// that accepts every value.
macro_rules! opaque_string {
    (new: $new:literal, as_str: $as_str:literal) => {
        #[doc = $new]
        #[must_use]
        pub fn new(value: impl Into<String>) -> Self {
            Self(value.into())
        }

        #[doc = $as_str]
        #[must_use]
        pub fn as_str(&self) -> &str {
            &self.0
        }
    };
}

/// `as_str` with this doc, `TryFrom<String>` through the type's parser (`value => parse`),
/// `From<_> for String` and `Display` (the value as is), for a newtype over a `String` that serde
/// reads and writes as one.
macro_rules! parsed_string {
    ($type:ident, as_str: $as_str:literal, $value:ident => $parse:expr) => {
        impl $type {
            #[doc = $as_str]
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $type {
            type Error = Reject;
            fn try_from($value: String) -> Result<Self, Reject> {
                $parse
            }
        }

        impl From<$type> for String {
            fn from(value: $type) -> Self {
                value.0
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn is_vschar(b: u8) -> bool {
    (0x20..=0x7e).contains(&b)
}

/// `value` if it has 1 to [`MAX_IDENTIFIER_LEN`] octets, each of them `allowed`; else `reject`.
fn identifier(value: String, allowed: fn(u8) -> bool, reject: Reject) -> Result<String, Reject> {
    if value.is_empty() || value.len() > MAX_IDENTIFIER_LEN || !value.bytes().all(allowed) {
        return Err(reject);
    }
    Ok(value)
}

/// A registered client's identifier (RFC 6749 §2.2): 1–255 printable ASCII characters.
#[derive(Clone, Debug, Deserialize, Eq, Hash, Ord, PartialEq, PartialOrd, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    /// Parses a client id.
    ///
    /// # Errors
    ///
    /// [`Reject::ClientIdMalformed`] if empty, longer than 255 octets or not printable ASCII.
    pub fn new(value: impl Into<String>) -> Result<Self, Reject> {
        identifier(value.into(), is_vschar, Reject::ClientIdMalformed).map(Self)
    }
}

parsed_string!(ClientId, as_str: "The id as sent on the wire.", value => Self::new(value));

/// The End-User's subject identifier (OIDC Core §2 `sub`): locally unique, never reassigned,
/// case sensitive, 1–255 ASCII characters (printable, no spaces).
#[derive(Clone, Debug, Deserialize, Eq, Hash, Ord, PartialEq, PartialOrd, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Subject(String);

impl Subject {
    /// Parses a subject identifier.
    ///
    /// # Errors
    ///
    /// [`Reject::SubjectMalformed`] if empty, longer than 255 octets, or outside `%x21-7E`.
    pub fn new(value: impl Into<String>) -> Result<Self, Reject> {
        let no_space = |b| b != b' ' && is_vschar(b);
        identifier(value.into(), no_space, Reject::SubjectMalformed).map(Self)
    }
}

parsed_string!(Subject, as_str: "The identifier.", value => Self::new(value));

/// Identifies a grant: the unit of revocation that ties a code to every token issued from it
/// (RFC 6749 §4.1.2, §10.5). Random, 128 bits, unpadded base64url.
#[derive(Clone, Debug, Deserialize, Eq, Hash, Ord, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct GrantId(String);

impl GrantId {
    opaque_string!(new: "Wraps a stored grant id.", as_str: "The id.");
}

impl fmt::Display for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An opaque `nonce` (OIDC Core §2), kept exactly as received: no truncation, normalisation or
/// re-encoding (REQUIREMENTS 30).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Nonce(String);

impl Nonce {
    opaque_string!(new: "Wraps a received nonce.", as_str: "The nonce exactly as received.");
}

/// An opaque `state` (RFC 6749 §4.1.1), echoed exactly as received.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
#[serde(transparent)]
pub struct State(String);

impl State {
    opaque_string!(new: "Wraps a received state.", as_str: "The state exactly as received.");
}

/// A set of scope tokens (RFC 6749 §3.3): unordered, duplicates collapsed, kept sorted so that
/// equal sets compare and render equally.
#[derive(Clone, Debug, Default, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(Vec<String>);

impl Scope {
    /// The `openid` scope value that marks an OpenID Connect request (OIDC Core §3.1.2.1).
    pub const OPENID: &'static str = "openid";

    /// Parses a space-delimited scope string.
    ///
    /// # Errors
    ///
    /// [`Reject::ScopeMalformed`] if a token has characters outside RFC 6749 §3.3
    /// (`%x21 / %x23-5B / %x5D-7E`) or the string has empty tokens (doubled spaces).
    pub fn parse(value: &str) -> Result<Self, Reject> {
        let mut tokens = Vec::new();
        for token in value.split(' ') {
            if token.is_empty()
                || !token
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
            {
                return Err(Reject::ScopeMalformed);
            }
            tokens.push(token.to_owned());
        }
        tokens.sort_unstable();
        tokens.dedup();
        Ok(Self(tokens))
    }

    /// A scope from individual tokens (each must be valid per [`Scope::parse`]).
    ///
    /// # Errors
    ///
    /// [`Reject::ScopeMalformed`] as for [`Scope::parse`].
    pub fn from_tokens<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Result<Self, Reject> {
        let joined: Vec<&str> = tokens.into_iter().collect();
        Self::parse(&joined.join(" "))
    }

    /// Whether `token` is in the set.
    #[must_use]
    pub fn contains(&self, token: &str) -> bool {
        self.0.binary_search_by(|t| t.as_str().cmp(token)).is_ok()
    }

    /// Whether every token of `self` is in `other`.
    #[must_use]
    pub fn is_subset_of(&self, other: &Self) -> bool {
        self.0.iter().all(|t| other.contains(t))
    }

    /// Tokens present in both sets.
    #[must_use]
    pub fn intersection(&self, other: &Self) -> Self {
        Self(
            self.0
                .iter()
                .filter(|t| other.contains(t))
                .cloned()
                .collect(),
        )
    }

    /// The tokens for which `keep` holds.
    #[must_use]
    pub fn filter(&self, keep: impl Fn(&str) -> bool) -> Self {
        Self(self.0.iter().filter(|t| keep(t)).cloned().collect())
    }

    /// The set without `token`.
    #[must_use]
    pub fn without(&self, token: &str) -> Self {
        Self(self.0.iter().filter(|t| *t != token).cloned().collect())
    }

    /// The tokens, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

impl TryFrom<String> for Scope {
    type Error = Reject;
    fn try_from(value: String) -> Result<Self, Reject> {
        if value.is_empty() {
            return Ok(Self::default());
        }
        Self::parse(&value)
    }
}

impl From<Scope> for String {
    fn from(value: Scope) -> Self {
        value.0.join(" ")
    }
}

/// The response types this crate implements (OIDC Core §3.1, §3.3; Multiple Response Type
/// Encoding Practices §5), parsed as unordered sets.
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, Ord, PartialEq, PartialOrd, Serialize)]
#[non_exhaustive]
pub enum ResponseType {
    /// `code`: the authorization code flow.
    #[serde(rename = "code")]
    Code,
    /// `code id_token`: hybrid, code + ID token in the front channel.
    #[serde(rename = "code id_token")]
    CodeIdToken,
    /// `code id_token token`: hybrid, code + ID token + access token in the front channel.
    #[serde(rename = "code id_token token")]
    CodeIdTokenToken,
    /// `code token`: hybrid, code + access token in the front channel.
    #[serde(rename = "code token")]
    CodeToken,
}

impl ResponseType {
    /// Every supported response type.
    pub const ALL: [Self; 4] = [
        Self::Code,
        Self::CodeIdToken,
        Self::CodeToken,
        Self::CodeIdTokenToken,
    ];

    /// Parses a space-separated set of `code`, `id_token` and `token` (order-insensitive,
    /// REQUIREMENTS 6).
    ///
    /// # Errors
    ///
    /// [`Reject::ResponseTypeUnsupported`] for any other set (including `id_token`, `token`,
    /// `none`, repeated members or stray spaces).
    pub fn parse(value: &str) -> Result<Self, Reject> {
        let (mut code, mut id_token, mut token) = (false, false, false);
        for member in value.split(' ') {
            let slot = match member {
                "code" => &mut code,
                "id_token" => &mut id_token,
                "token" => &mut token,
                _ => return Err(Reject::ResponseTypeUnsupported),
            };
            if *slot {
                return Err(Reject::ResponseTypeUnsupported);
            }
            *slot = true;
        }
        match (code, id_token, token) {
            (true, false, false) => Ok(Self::Code),
            (true, true, false) => Ok(Self::CodeIdToken),
            (true, false, true) => Ok(Self::CodeToken),
            (true, true, true) => Ok(Self::CodeIdTokenToken),
            _ => Err(Reject::ResponseTypeUnsupported),
        }
    }

    /// The canonical spelling used in metadata and registrations.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::CodeIdToken => "code id_token",
            Self::CodeIdTokenToken => "code id_token token",
            Self::CodeToken => "code token",
        }
    }

    /// Whether an ID token leaves the authorization endpoint (then `nonce` is required,
    /// OIDC Core §3.3.2.11).
    #[must_use]
    pub const fn has_id_token(self) -> bool {
        matches!(self, Self::CodeIdToken | Self::CodeIdTokenToken)
    }

    /// Whether an access token leaves the authorization endpoint.
    #[must_use]
    pub const fn has_token(self) -> bool {
        matches!(self, Self::CodeToken | Self::CodeIdTokenToken)
    }

    /// Whether this is a hybrid type (anything but plain `code`).
    #[must_use]
    pub const fn is_hybrid(self) -> bool {
        !matches!(self, Self::Code)
    }

    /// The default response mode: `query` for `code`, `fragment` for hybrid types
    /// (Multiple Response Type Encoding Practices §5).
    #[must_use]
    pub const fn default_mode(self) -> ResponseMode {
        if self.is_hybrid() {
            ResponseMode::Fragment
        } else {
            ResponseMode::Query
        }
    }
}

impl fmt::Display for ResponseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the authorization response travels back (OAuth 2.0 Multiple Response Type Encoding
/// Practices §2.1; Form Post Response Mode §2).
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[non_exhaustive]
pub enum ResponseMode {
    /// Parameters in the redirect URI's fragment.
    #[serde(rename = "fragment")]
    Fragment,
    /// Parameters posted by an auto-submitting HTML form.
    #[serde(rename = "form_post")]
    FormPost,
    /// Parameters in the redirect URI's query (only for plain `code`).
    #[serde(rename = "query")]
    Query,
}

impl ResponseMode {
    /// Parses `query`, `fragment` or `form_post`.
    ///
    /// # Errors
    ///
    /// [`Reject::ResponseModeUnsupported`] otherwise (answered with HTTP 400 and no redirect,
    /// OIDC Core §3.1.2.6).
    pub fn parse(value: &str) -> Result<Self, Reject> {
        match value {
            "fragment" => Ok(Self::Fragment),
            "form_post" => Ok(Self::FormPost),
            "query" => Ok(Self::Query),
            _ => Err(Reject::ResponseModeUnsupported),
        }
    }

    /// The registered name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Fragment => "fragment",
            Self::FormPost => "form_post",
            Self::Query => "query",
        }
    }
}

/// The `prompt` parameter (OIDC Core §3.1.2.1) as a set.
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Prompt {
    /// `none`: no UI may be shown.
    pub none: bool,
    /// `login`: re-authenticate even with a session.
    pub login: bool,
    /// `consent`: ask for consent again.
    pub consent: bool,
    /// `select_account`: let the user pick an account.
    pub select_account: bool,
}

impl Prompt {
    /// Parses a space-separated set of prompt values.
    ///
    /// # Errors
    ///
    /// [`Reject::PromptNoneWithOther`] when `none` is combined with another value
    /// (OIDC Core §3.1.2.1); [`Reject::PromptUnsupported`] for an unknown value.
    pub fn parse(value: &str) -> Result<Self, Reject> {
        let mut prompt = Self::default();
        for member in value.split(' ').filter(|m| !m.is_empty()) {
            match member {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "select_account" => prompt.select_account = true,
                _ => return Err(Reject::PromptUnsupported),
            }
        }
        if prompt.none && (prompt.login || prompt.consent || prompt.select_account) {
            return Err(Reject::PromptNoneWithOther);
        }
        Ok(prompt)
    }
}

/// A redirection endpoint URI (RFC 6749 §3.1.2), as registered by a client.
///
/// Registration rules (REQUIREMENTS 21–23): absolute, no fragment, at most 2048 octets, no
/// spaces or control characters, a query (if any) that names none of the response parameters
/// (so no parameter can be emitted twice, REQUIREMENTS 22), and `http` only for loopback
/// addresses of native clients.
#[derive(Clone, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri(String);

/// Response parameter names a registered redirect URI's query must not carry.
const RESPONSE_PARAMETERS: [&str; 13] = [
    "access_token",
    "code",
    "error",
    "error_description",
    "error_uri",
    "expires_in",
    "id_token",
    "iss",
    "scope",
    "session_state",
    "state",
    "token_type",
    "response",
];

/// Schemes that run code in, or read local data into, the context that follows the redirect;
/// refused for every client (RFC 6749 §10.6, RFC 8252 §8.1). A response carrying a code or token
/// must never be sent to them, even by a host that serves form_post pages without the CSP.
const FORBIDDEN_SCHEMES: [&str; 9] = [
    "about",
    "blob",
    "data",
    "file",
    "filesystem",
    "javascript",
    "jar",
    "view-source",
    "vbscript",
];

impl RedirectUri {
    /// Parses a redirect URI for registration.
    ///
    /// # Errors
    ///
    /// [`Reject::RedirectUriMalformed`] if not an absolute URI, too long, or with a fragment,
    /// whitespace, control characters or a reserved response parameter in its query (also when
    /// percent-encoded); [`Reject::RedirectUriSchemeForbidden`] for `javascript`, `data`,
    /// `vbscript`, `file`, `blob`, `about` and the like.
    pub fn parse(value: &str) -> Result<Self, Reject> {
        if value.is_empty()
            || value.len() > MAX_REDIRECT_URI_LEN
            || value.contains('#')
            || !value.bytes().all(|b| (0x21..=0x7e).contains(&b))
        {
            return Err(Reject::RedirectUriMalformed);
        }
        let Some((scheme, rest)) = value.split_once(':') else {
            return Err(Reject::RedirectUriMalformed);
        };
        let scheme_ok = scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !scheme_ok || rest.is_empty() {
            return Err(Reject::RedirectUriMalformed);
        }
        let lower = scheme.to_ascii_lowercase();
        if lower == "http" || lower == "https" {
            let Some(after) = rest.strip_prefix("//") else {
                return Err(Reject::RedirectUriMalformed);
            };
            let authority = after.split(['/', '?']).next().unwrap_or_default();
            if authority.is_empty() || authority.contains('@') {
                return Err(Reject::RedirectUriMalformed);
            }
        }
        if FORBIDDEN_SCHEMES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme))
        {
            return Err(Reject::RedirectUriSchemeForbidden);
        }
        if let Some((_, query)) = value.split_once('?') {
            for pair in query.split('&') {
                // Compared after decoding, as the client will read them (RFC 6749 §3.1.2):
                // `%73tate` is `state`.
                let raw = pair.split('=').next().unwrap_or_default();
                let name = crate::params::decode(raw).map_err(|_| Reject::RedirectUriMalformed)?;
                if RESPONSE_PARAMETERS.contains(&&*name) {
                    return Err(Reject::RedirectUriMalformed);
                }
            }
        }
        Ok(Self(value.to_owned()))
    }

    /// Whether the URI's scheme is `https`.
    #[must_use]
    pub fn is_https(&self) -> bool {
        // Schemes are case-insensitive (RFC 3986 §3.1).
        self.0
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    }

    /// The scheme, as registered (compare it case-insensitively, RFC 3986 §3.1).
    #[must_use]
    pub fn scheme(&self) -> &str {
        self.0.split_once(':').map_or("", |(scheme, _)| scheme)
    }

    /// Whether the scheme is a reverse domain name, as private-use schemes of native apps must
    /// be (`com.example.app`; RFC 8252 §7.1, RFC 7595 §3.8).
    #[must_use]
    pub fn has_reverse_domain_scheme(&self) -> bool {
        let scheme = self.scheme();
        scheme.contains('.')
            && scheme.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    }

    /// Whether this is an `http` loopback URI (`http://127.0.0.1…` or `http://[::1]…`,
    /// RFC 8252 §7.3).
    #[must_use]
    pub fn is_loopback_http(&self) -> bool {
        loopback_parts(&self.0).is_some()
    }

    /// `requested` as a verified redirect URI, if it matches this registered one (see
    /// [`RedirectUri::matches`]). With a loopback port that differs from the registration it is
    /// the requested URI, which the response must go to and the token request must repeat.
    #[must_use]
    pub fn verify(&self, requested: &str, allow_loopback_port: bool) -> Option<Self> {
        if self.0 == requested {
            return Some(self.clone());
        }
        self.matches(requested, allow_loopback_port)
            .then(|| Self(requested.to_owned()))
    }

    /// Whether `requested` matches this registered URI: simple string comparison
    /// (RFC 3986 §6.2.1, RFC 9700 §2.1), except that for a native client's loopback URI the
    /// port may differ (RFC 8252 §7.3, RFC 9700 §4.1.3).
    #[must_use]
    pub fn matches(&self, requested: &str, allow_loopback_port: bool) -> bool {
        if self.0 == requested {
            return true;
        }
        if !allow_loopback_port {
            return false;
        }
        match (loopback_parts(&self.0), loopback_parts(requested)) {
            (Some((host_a, rest_a)), Some((host_b, rest_b))) => {
                host_a == host_b && rest_a == rest_b
            }
            _ => false,
        }
    }
}

parsed_string!(RedirectUri, as_str: "The URI exactly as registered.", value => Self::parse(&value));

/// Splits `http://127.0.0.1:port/rest` into (`127.0.0.1`, `/rest`); `None` if not loopback
/// http or the port is not all digits.
fn loopback_parts(uri: &str) -> Option<(&str, &str)> {
    let after = uri.strip_prefix("http://")?;
    let (host, tail) = if let Some(tail) = after.strip_prefix("127.0.0.1") {
        ("127.0.0.1", tail)
    } else if let Some(tail) = after.strip_prefix("[::1]") {
        ("[::1]", tail)
    } else {
        return None;
    };
    let path_start = tail.find(['/', '?']).unwrap_or(tail.len());
    let (port, rest) = tail.split_at(path_start);
    if let Some(digits) = port.strip_prefix(':') {
        let port_ok = !digits.is_empty()
            && digits.len() <= 5
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits.parse::<u32>().is_ok_and(|port| port <= 65_535);
        if !port_ok {
            return None;
        }
    } else if !port.is_empty() {
        return None;
    }
    Some((host, rest))
}

impl PartialEq<str> for RedirectUri {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for RedirectUri {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loopback ports may vary for native clients, but only over real ports (RFC 8252 §7.3).
    #[test]
    fn loopback_ports_are_real_ports() {
        let registered = RedirectUri::parse("http://127.0.0.1/cb").unwrap();
        assert!(registered.matches("http://127.0.0.1:65535/cb", true));
        assert!(!registered.matches("http://127.0.0.1:65536/cb", true));
        assert!(!registered.matches("http://127.0.0.1:99999/cb", true));
        assert!(!registered.matches("http://127.0.0.1:8080/cb", false));
    }

    /// The scheme is compared case-insensitively when classifying a URI (RFC 3986 §3.1).
    #[test]
    fn https_scheme_is_case_insensitive() {
        assert!(
            RedirectUri::parse("HTTPS://rp.example/cb")
                .unwrap()
                .is_https()
        );
        assert!(
            !RedirectUri::parse("com.example.app:/cb")
                .unwrap()
                .is_https()
        );
    }
}
