//! An authorization response as it reaches the client's redirect endpoint.

use std::collections::HashMap;

use oidc_hybrid::{AuthorizationResponse, ResponseMode};

use crate::html;

/// What the client's redirect endpoint receives, decoded as a browser and an RP would.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// How it arrived.
    pub mode: ResponseMode,
    /// The URL or form action it was delivered to (without the response parameters).
    pub target: String,
    /// The parameters, in order; duplicates are kept so tests can detect them.
    pub pairs: Vec<(String, String)>,
}

impl Delivered {
    /// Decodes an authorization response exactly as it would reach the client: the `Location`
    /// URL's fragment, or the parameters appended to the redirect URI's query (after `?`, or
    /// `&` when the registered URI has a query of its own), or the form_post page's form
    /// fields, read with [`html::forms`].
    ///
    /// # Panics
    ///
    /// If the response is malformed (which is a test failure): no `Location` in query or
    /// fragment mode, one that does not start with the redirect URI, or a form_post page
    /// without exactly one form posting to it.
    #[must_use]
    pub fn from_response(response: &AuthorizationResponse) -> Self {
        let redirect_uri = response.redirect_uri().as_str();
        match response.mode() {
            ResponseMode::FormPost => {
                assert!(response.location().is_none(), "form_post has no Location");
                let forms = html::forms(&response.form_post_html());
                let [form] = forms.as_slice() else {
                    panic!("a form_post page has exactly one form: {forms:?}");
                };
                assert_eq!(form.method, "post", "the form posts");
                Self {
                    mode: ResponseMode::FormPost,
                    target: form.action.clone().expect("a form action"),
                    pairs: form.fields.clone(),
                }
            }
            mode => {
                let location = response.location().expect("a Location for query/fragment");
                let (target, encoded) = if mode == ResponseMode::Fragment {
                    location.split_once('#').expect("a fragment")
                } else {
                    let rest = location
                        .strip_prefix(redirect_uri)
                        .expect("the Location starts with the redirect URI");
                    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
                    (redirect_uri, rest.strip_prefix(sep).unwrap_or(rest))
                };
                let pairs = form_urlencoded::parse(encoded.as_bytes())
                    .into_owned()
                    .collect();
                Self {
                    mode,
                    target: target.to_owned(),
                    pairs,
                }
            }
        }
    }

    /// The value of a parameter that must appear at most once.
    ///
    /// # Panics
    ///
    /// If it appears more than once (each parameter is sent once, RFC 6749 §3.1).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        let mut values = self.pairs.iter().filter(|(n, _)| n == name);
        let first = values.next().map(|(_, v)| v.as_str());
        assert!(values.next().is_none(), "parameter {name} appears twice");
        first
    }

    /// The parameters as a map.
    ///
    /// # Panics
    ///
    /// If a parameter appears more than once.
    #[must_use]
    pub fn map(&self) -> HashMap<String, String> {
        let mut map = HashMap::new();
        for (n, v) in &self.pairs {
            assert!(
                map.insert(n.clone(), v.clone()).is_none(),
                "parameter {n} appears twice"
            );
        }
        map
    }
}
