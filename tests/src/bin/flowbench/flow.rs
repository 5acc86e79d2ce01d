//! One whole hybrid flow over HTTP (authorize → token → UserInfo), and the loop each load task
//! runs.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};
use oidc_hybrid::SecureRandom as _;
use oidc_hybrid_testkit::html;
use oidc_hybrid_testkit::rp::FlowEvidence;
use reqwest::cookie::{CookieStore as _, Jar};
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderMap, HeaderValue, SET_COOKIE,
};
use reqwest::{Client, StatusCode, Url};
use serde_json::Value;
use sha2::Digest as _;

use crate::args::{Args, AuthMethod};
use crate::bootstrap::{Discovery, location};
use crate::validate::Verifier;

/// xoshiro256++: a fast non-cryptographic generator, seeded once per task from the operating
/// system. State, nonce and PKCE verifiers only have to be unique and unguessable for the
/// duration of a load test.
#[derive(Debug)]
pub(crate) struct Rng([u64; 4]);

impl Rng {
    /// A generator seeded from the operating system.
    pub(crate) fn from_os() -> Self {
        let mut seed = [0u8; 32];
        oidc_hybrid_rustcrypto::OsRandom
            .try_fill(&mut seed)
            .unwrap_or_else(|_| panic!("the operating system's random generator failed"));
        let mut s = [0u64; 4];
        for (word, chunk) in s.iter_mut().zip(seed.chunks_exact(8)) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(chunk);
            *word = u64::from_le_bytes(bytes);
        }
        if s == [0; 4] {
            s[0] = 1; // the one state xoshiro cannot leave
        }
        Self(s)
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    fn fill(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// One flow's secrets, base64url on the stack: state and nonce (128 bits each), the PKCE
/// verifier (256 bits) and its S256 challenge.
pub(crate) struct Secrets {
    state: [u8; 22],
    nonce: [u8; 22],
    verifier: [u8; 43],
    challenge: [u8; 43],
}

fn b64<'b>(bytes: &[u8], out: &'b mut [u8]) -> &'b str {
    Base64UrlUnpadded::encode(bytes, out).unwrap_or_default()
}

fn ascii(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or_default()
}

impl Secrets {
    pub(crate) fn new(rng: &mut Rng, pkce: bool) -> Self {
        let mut raw = [0u8; 32];
        let mut out = Self {
            state: [0; 22],
            nonce: [0; 22],
            verifier: [0; 43],
            challenge: [0; 43],
        };
        rng.fill(&mut raw[..16]);
        b64(&raw[..16], &mut out.state);
        rng.fill(&mut raw[..16]);
        b64(&raw[..16], &mut out.nonce);
        if pkce {
            rng.fill(&mut raw);
            b64(&raw, &mut out.verifier);
            let digest = sha2::Sha256::digest(out.verifier);
            b64(&digest, &mut out.challenge);
        }
        out
    }

    pub(crate) fn state(&self) -> &str {
        ascii(&self.state)
    }

    pub(crate) fn nonce(&self) -> &str {
        ascii(&self.nonce)
    }

    fn verifier(&self) -> &str {
        ascii(&self.verifier)
    }

    fn challenge(&self) -> &str {
        ascii(&self.challenge)
    }
}

/// The browser's cookies for the authorization endpoint: the jar the bootstrap filled, and the
/// `Cookie` header it makes, computed again only when an answer sets a cookie. Only the
/// authorization request carries them (the token and UserInfo requests come from the relying
/// party, which has no browser cookies); the load client has no cookie store of its own, which
/// spares every request the cookie layer's work.
#[derive(Debug)]
pub(crate) struct Cookies {
    jar: Arc<Jar>,
    url: Url,
    header: RwLock<Option<HeaderValue>>,
}

impl Cookies {
    /// The cookies `jar` holds for `url` (the authorization endpoint).
    pub(crate) fn new(jar: Arc<Jar>, url: Url) -> Self {
        let header = jar.cookies(&url);
        Self {
            jar,
            url,
            header: RwLock::new(header),
        }
    }

    /// The `Cookie` header to send, if any.
    pub(crate) fn header(&self) -> Option<HeaderValue> {
        self.header
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Keeps what an answer's `Set-Cookie` headers say, as a browser would.
    pub(crate) fn absorb(&self, headers: &HeaderMap) {
        if !headers.contains_key(SET_COOKIE) {
            return;
        }
        let mut values = headers.get_all(SET_COOKIE).iter();
        self.jar.set_cookies(&mut values, &self.url);
        let header = self.jar.cookies(&self.url);
        *self.header.write().unwrap_or_else(PoisonError::into_inner) = header;
    }
}

/// Why a flow failed: a short kind (errors are counted by kind) and the details.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: String,
    pub(crate) detail: String,
}

impl Failure {
    fn new(kind: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            detail: detail.into(),
        }
    }

    /// `kind: detail`.
    pub(crate) fn describe(&self) -> String {
        format!("{}: {}", self.kind, self.detail)
    }

    fn transport(leg: &str, error: &reqwest::Error) -> Self {
        let mut detail = error.to_string();
        let mut source = core::error::Error::source(error);
        while let Some(inner) = source {
            detail.push_str(": ");
            detail.push_str(&inner.to_string());
            source = inner.source();
        }
        let what = if error.is_timeout() {
            "timeout"
        } else if error.is_connect() {
            "connect"
        } else {
            "transport"
        };
        Self::new(format!("{leg}: {what}"), detail)
    }
}

/// One flow's latencies in microseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    pub(crate) authorize: u32,
    pub(crate) token: u32,
    pub(crate) userinfo: Option<u32>,
    pub(crate) flow: u32,
    pub(crate) validated: bool,
}

/// Sends `request` for `leg` and reads the whole answer: its status and body.
async fn exchange(
    request: reqwest::RequestBuilder,
    leg: &'static str,
) -> Result<(StatusCode, impl Deref<Target = [u8]>), Failure> {
    let response = request
        .send()
        .await
        .map_err(|e| Failure::transport(leg, &e))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Failure::transport(leg, &e))?;
    Ok((status, bytes))
}

/// The first 300 bytes of an answer, as text, for an error report.
fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned()
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// Everything fixed for the run: endpoints, prebuilt request prefixes, the validator.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) redirect_uri: String,
    /// The authorization endpoint without its query.
    authorize_base: Url,
    /// Its query with every fixed parameter, ending in `state=`.
    authorize_query: String,
    token_url: Url,
    /// The token request body up to `code=`.
    token_body_prefix: String,
    basic: Option<HeaderValue>,
    pub(crate) userinfo_url: Option<Url>,
    pkce: bool,
    expect_front_id_token: bool,
    expect_front_access_token: bool,
    pub(crate) verifier: Verifier,
}

fn enc(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl Target {
    /// Prepares the requests from the arguments and the discovered endpoints.
    pub(crate) fn new(
        args: &Args,
        discovery: &Discovery,
        verifier: Verifier,
    ) -> Result<Self, String> {
        let mut fixed = form_urlencoded::Serializer::new(String::new());
        fixed
            .append_pair("response_type", &args.response_type)
            .append_pair("client_id", &args.client_id)
            .append_pair("redirect_uri", &args.redirect_uri)
            .append_pair("scope", &args.scope)
            .append_pair("response_mode", "fragment");
        for (name, value) in &args.params {
            fixed.append_pair(name, value);
        }
        let endpoint = &discovery.authorization_endpoint;
        let mut authorize_base = Url::parse(endpoint)
            .map_err(|e| format!("authorization_endpoint {endpoint:?}: {e}"))?;
        authorize_base.set_fragment(None);
        let own = authorize_base.query().map(str::to_owned);
        authorize_base.set_query(None);
        let authorize_query = match own.filter(|q| !q.is_empty()) {
            Some(own) => format!("{own}&{}&state=", fixed.finish()),
            None => format!("{}&state=", fixed.finish()),
        };
        let token_url = Url::parse(&discovery.token_endpoint)
            .map_err(|e| format!("token_endpoint {:?}: {e}", discovery.token_endpoint))?;
        let mut token_body_prefix = format!(
            "grant_type=authorization_code&redirect_uri={}",
            enc(&args.redirect_uri)
        );
        let secret = args.client_secret.as_deref().unwrap_or_default();
        let basic = match args.auth_method {
            AuthMethod::Basic => {
                // RFC 6749 §2.3.1: both form-urlencoded, then Base64.
                let credentials = format!("{}:{}", enc(&args.client_id), enc(secret));
                let value = format!("Basic {}", Base64::encode_string(credentials.as_bytes()));
                Some(
                    HeaderValue::try_from(value)
                        .map_err(|_| "the client credentials do not fit a header".to_owned())?,
                )
            }
            AuthMethod::Post => {
                token_body_prefix.push_str("&client_id=");
                token_body_prefix.push_str(&enc(&args.client_id));
                token_body_prefix.push_str("&client_secret=");
                token_body_prefix.push_str(&enc(secret));
                None
            }
            AuthMethod::None => {
                token_body_prefix.push_str("&client_id=");
                token_body_prefix.push_str(&enc(&args.client_id));
                None
            }
        };
        token_body_prefix.push_str("&code=");
        let userinfo_url = match (&discovery.userinfo_endpoint, args.userinfo) {
            (Some(url), true) => {
                Some(Url::parse(url).map_err(|e| format!("userinfo_endpoint {url:?}: {e}"))?)
            }
            (None, true) => {
                return Err("--userinfo: the discovery document has no userinfo_endpoint".into());
            }
            (_, false) => None,
        };
        let types: Vec<&str> = args.response_type.split(' ').collect();
        Ok(Self {
            redirect_uri: args.redirect_uri.clone(),
            authorize_base,
            authorize_query,
            token_url,
            token_body_prefix,
            basic,
            userinfo_url,
            pkce: args.pkce,
            expect_front_id_token: types.contains(&"id_token"),
            expect_front_access_token: types.contains(&"token"),
            verifier,
        })
    }

    /// The authorization request URL for these secrets (the endpoint is parsed once; only
    /// the query is set per flow).
    pub(crate) fn authorize_url(&self, secrets: &Secrets) -> Url {
        let mut query = String::with_capacity(self.authorize_query.len() + 160);
        query.push_str(&self.authorize_query);
        query.push_str(secrets.state());
        query.push_str("&nonce=");
        query.push_str(secrets.nonce());
        if self.pkce {
            query.push_str("&code_challenge=");
            query.push_str(secrets.challenge());
            query.push_str("&code_challenge_method=S256");
        }
        let mut url = self.authorize_base.clone();
        url.set_query(Some(&query));
        url
    }

    /// One whole flow with fresh secrets.
    pub(crate) async fn flow(
        &self,
        client: &Client,
        cookies: &Cookies,
        rng: &mut Rng,
        validate: bool,
    ) -> Result<Sample, Failure> {
        let secrets = Secrets::new(rng, self.pkce);
        let url = self.authorize_url(&secrets);
        let t0 = Instant::now();
        let mut request = client.get(url);
        if let Some(cookie) = cookies.header() {
            request = request.header(COOKIE, cookie);
        }
        let response = request
            .send()
            .await
            .map_err(|e| Failure::transport("authorize", &e))?;
        cookies.absorb(response.headers());
        let status = response.status();
        let location = location(response.headers());
        let body = response
            .bytes()
            .await
            .map_err(|e| Failure::transport("authorize", &e))?;
        let t1 = Instant::now();
        let location = match (status, location) {
            (StatusCode::FOUND | StatusCode::SEE_OTHER, Some(location)) => location,
            (status, location) => {
                let detail = match location {
                    Some(location) => format!("Location: {location}"),
                    None => html::summary(&String::from_utf8_lossy(&body)),
                };
                let hint = if status == StatusCode::OK {
                    " (a login or consent page? the session is not logged in)"
                } else {
                    ""
                };
                return Err(Failure::new(
                    format!("authorize: HTTP {}", status.as_u16()),
                    format!("{detail}{hint}"),
                ));
            }
        };
        self.complete(client, &location, &secrets, validate, t0, t1)
            .await
    }

    /// The rest of a flow once the authorization response `location` is in: its parameters,
    /// the token request, UserInfo, and (when `validate`) the relying party's checks.
    /// `t0`..`t1` is the authorization leg.
    pub(crate) async fn complete(
        &self,
        client: &Client,
        location: &str,
        secrets: &Secrets,
        validate: bool,
        t0: Instant,
        t1: Instant,
    ) -> Result<Sample, Failure> {
        let front = self.front(location)?;
        if front.state.as_deref() != Some(secrets.state()) {
            return Err(Failure::new(
                "validation: state",
                format!(
                    "state {:?} came back for {:?}",
                    front.state,
                    secrets.state()
                ),
            ));
        }
        let code = front.code.as_deref().unwrap_or_default();

        // The token request.
        let mut body = String::with_capacity(self.token_body_prefix.len() + code.len() * 2 + 80);
        body.push_str(&self.token_body_prefix);
        body.extend(form_urlencoded::byte_serialize(code.as_bytes()));
        if self.pkce {
            body.push_str("&code_verifier=");
            body.push_str(secrets.verifier());
        }
        let mut request = client
            .post(self.token_url.clone())
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(basic) = &self.basic {
            request = request.header(AUTHORIZATION, basic.clone());
        }
        let (status, bytes) = exchange(request.body(body), "token").await?;
        let t2 = Instant::now();
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status != StatusCode::OK {
            let code = json
                .as_ref()
                .and_then(|j| j["error"].as_str())
                .map_or_else(String::new, |e| format!(" {e}"));
            return Err(Failure::new(
                format!("token: HTTP {}{code}", status.as_u16()),
                excerpt(&bytes),
            ));
        }
        let Some(json) = json else {
            return Err(Failure::new("token: not JSON", excerpt(&bytes)));
        };
        let Some(access_token) = json["access_token"].as_str() else {
            return Err(Failure::new(
                "token: missing access_token",
                json.to_string(),
            ));
        };
        let back_id_token = json["id_token"].as_str();
        if back_id_token.is_none() {
            return Err(Failure::new("token: missing id_token", json.to_string()));
        }

        // UserInfo.
        let mut userinfo_us = None;
        let mut userinfo_body = None;
        let mut t3 = t2;
        if let Some(url) = &self.userinfo_url {
            let mut bearer = String::with_capacity(access_token.len() + 7);
            bearer.push_str("Bearer ");
            bearer.push_str(access_token);
            let value = HeaderValue::try_from(bearer).map_err(|_| {
                Failure::new(
                    "token: bad access_token",
                    "the access token does not fit a header",
                )
            })?;
            let request = client
                .get(url.clone())
                .header(AUTHORIZATION, value)
                .header(ACCEPT, HeaderValue::from_static("application/json"));
            let (status, bytes) = exchange(request, "userinfo").await?;
            t3 = Instant::now();
            if status != StatusCode::OK {
                let what = format!("userinfo: HTTP {}", status.as_u16());
                return Err(Failure::new(what, excerpt(&bytes)));
            }
            userinfo_us = Some(micros(t3 - t2));
            userinfo_body = Some(bytes);
        }
        let sample = Sample {
            authorize: micros(t1 - t0),
            token: micros(t2 - t1),
            userinfo: userinfo_us,
            flow: micros(t3 - t0),
            validated: validate,
        };

        if validate {
            let evidence = FlowEvidence {
                state_sent: secrets.state(),
                state: front.state.as_deref(),
                iss: front.iss.as_deref(),
                code,
                front_id_token: front.id_token.as_deref(),
                front_access_token: front.access_token.as_deref(),
                back_id_token,
                back_access_token: access_token,
                userinfo: userinfo_body.as_deref(),
                expect_front_id_token: self.expect_front_id_token,
            };
            self.verifier
                .flow(secrets.nonce(), &evidence)
                .map_err(|invalid| {
                    Failure::new(format!("validation: {}", invalid.what), invalid.detail)
                })?;
        }
        Ok(sample)
    }

    /// The authorization response parameters from the redirect's fragment.
    fn front(&self, location: &str) -> Result<Front, Failure> {
        let Some(rest) = location.strip_prefix(self.redirect_uri.as_str()) else {
            return Err(Failure::new(
                "authorize: redirected elsewhere",
                format!("Location: {location}"),
            ));
        };
        let encoded = match rest.as_bytes().first() {
            Some(b'#' | b'?' | b'&') => &rest[1..],
            None => "",
            Some(_) => {
                return Err(Failure::new(
                    "authorize: redirected elsewhere",
                    format!("Location: {location}"),
                ));
            }
        };
        // An error may come in the query when the fragment cannot be used.
        let encoded = encoded.rsplit('#').next().unwrap_or(encoded);
        let mut front = Front::default();
        for (name, value) in form_urlencoded::parse(encoded.as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut front.code,
                "id_token" => &mut front.id_token,
                "access_token" => &mut front.access_token,
                "state" => &mut front.state,
                "iss" => &mut front.iss,
                "error" => &mut front.error,
                "error_description" => &mut front.error_description,
                _ => continue,
            };
            *slot = Some(value.into_owned());
        }
        if let Some(error) = &front.error {
            return Err(Failure::new(
                format!("authorize: error={error}"),
                front.error_description.clone().unwrap_or_default(),
            ));
        }
        let missing = if front.code.is_none() {
            Some("code")
        } else if self.expect_front_id_token && front.id_token.is_none() {
            Some("id_token")
        } else if self.expect_front_access_token && front.access_token.is_none() {
            Some("access_token")
        } else if front.state.is_none() {
            Some("state")
        } else {
            None
        };
        if let Some(missing) = missing {
            return Err(Failure::new(
                format!("authorize: missing {missing}"),
                format!("Location: {location}"),
            ));
        }
        Ok(front)
    }
}

/// The authorization response parameters flowbench looks at.
#[derive(Debug, Default)]
struct Front {
    code: Option<String>,
    id_token: Option<String>,
    access_token: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// When flows count: those that end within `start..=end`; no flow starts after `end`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    pub(crate) start: Instant,
    pub(crate) end: Instant,
}

/// How many error details each task keeps.
pub(crate) const DETAILS_KEPT: usize = 5;

/// What one load task measured.
#[derive(Debug, Default)]
pub(crate) struct TaskResult {
    pub(crate) authorize: Vec<u32>,
    pub(crate) token: Vec<u32>,
    pub(crate) userinfo: Vec<u32>,
    pub(crate) flow: Vec<u32>,
    pub(crate) validated: u64,
    pub(crate) errors: u64,
    pub(crate) kinds: BTreeMap<String, u64>,
    /// The first few failures, with the time since the run began.
    pub(crate) details: Vec<(Duration, String)>,
}

impl TaskResult {
    /// Adds another task's results.
    pub(crate) fn merge(&mut self, other: Self) {
        self.authorize.extend(other.authorize);
        self.token.extend(other.token);
        self.userinfo.extend(other.userinfo);
        self.flow.extend(other.flow);
        self.validated += other.validated;
        self.errors += other.errors;
        for (kind, n) in other.kinds {
            *self.kinds.entry(kind).or_default() += n;
        }
        self.details.extend(other.details);
    }
}

/// One load task: whole flows until the window ends; every `validate_every`'th validated
/// (staggered by `index` so tasks do not validate in step).
pub(crate) async fn run_task(
    target: Arc<Target>,
    client: Client,
    cookies: Arc<Cookies>,
    window: Window,
    launch: Instant,
    validate_every: u64,
    index: u64,
) -> TaskResult {
    let mut rng = Rng::from_os();
    let mut out = TaskResult::default();
    let expected = 4096;
    out.authorize.reserve(expected);
    out.token.reserve(expected);
    out.flow.reserve(expected);
    if target.userinfo_url.is_some() {
        out.userinfo.reserve(expected);
    }
    let mut n = index;
    loop {
        if Instant::now() >= window.end {
            break;
        }
        n += 1;
        let validate = validate_every > 0 && n.is_multiple_of(validate_every);
        match target.flow(&client, &cookies, &mut rng, validate).await {
            Ok(sample) => {
                let done = Instant::now();
                if done >= window.start && done <= window.end {
                    out.authorize.push(sample.authorize);
                    out.token.push(sample.token);
                    if let Some(us) = sample.userinfo {
                        out.userinfo.push(us);
                    }
                    out.flow.push(sample.flow);
                    out.validated += u64::from(sample.validated);
                }
            }
            Err(failure) => {
                out.errors += 1;
                if out.details.len() < DETAILS_KEPT {
                    out.details.push((launch.elapsed(), failure.describe()));
                }
                let transport =
                    failure.kind.ends_with(": connect") || failure.kind.ends_with(": transport");
                *out.kinds.entry(failure.kind).or_default() += 1;
                if transport {
                    // Do not spin on a refused connection.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_url_safe_and_fresh() {
        let mut rng = Rng::from_os();
        let a = Secrets::new(&mut rng, true);
        let b = Secrets::new(&mut rng, true);
        assert_ne!(a.state(), b.state());
        assert_ne!(a.nonce(), b.nonce());
        assert_ne!(a.state(), a.nonce());
        assert_eq!(a.state().len(), 22);
        assert_eq!(a.verifier().len(), 43);
        for s in [a.state(), a.nonce(), a.verifier(), a.challenge()] {
            assert!(
                s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
                "{s}"
            );
        }
        let expected = Base64UrlUnpadded::encode_string(&sha2::Sha256::digest(a.verifier()));
        assert_eq!(a.challenge(), expected);
    }

    #[test]
    fn cookies_follow_set_cookie_like_a_browser() {
        let jar = Arc::new(Jar::default());
        let url: Url = "http://127.0.0.1:8080/authorize".parse().expect("URL");
        jar.add_cookie_str("pre=1; Path=/", &url);
        let cookies = Cookies::new(Arc::clone(&jar), url);
        let value = |c: &Cookies| c.header().map(|h| h.to_str().expect("ASCII").to_owned());
        assert_eq!(value(&cookies).as_deref(), Some("pre=1"));
        let mut headers = HeaderMap::new();
        cookies.absorb(&headers);
        assert_eq!(value(&cookies).as_deref(), Some("pre=1"));
        headers.append(
            SET_COOKIE,
            HeaderValue::from_static("pre=2; Path=/; HttpOnly"),
        );
        headers.append(
            SET_COOKIE,
            HeaderValue::from_static("elsewhere=1; Path=/admin"),
        );
        cookies.absorb(&headers);
        assert_eq!(value(&cookies).as_deref(), Some("pre=2"));
        let mut gone = HeaderMap::new();
        gone.append(
            SET_COOKIE,
            HeaderValue::from_static("pre=; Path=/; Max-Age=0"),
        );
        cookies.absorb(&gone);
        assert_eq!(value(&cookies), None);
    }

    #[test]
    fn xoshiro_reference_output() {
        // xoshiro256++ from the state {1, 2, 3, 4}: the reference implementation's first outputs.
        let mut rng = Rng([1, 2, 3, 4]);
        assert_eq!(rng.next_u64(), 41_943_041);
        assert_eq!(rng.next_u64(), 58_720_359);
        assert_eq!(rng.next_u64(), 3_588_806_011_781_223);
    }
}
