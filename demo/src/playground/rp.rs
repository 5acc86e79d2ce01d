//! The playground's relying party: it starts a flow with the choices of the playground's form
//! (state, nonce and PKCE of its own), and when the response comes back it plays the rest of the
//! flow over HTTP like any RP — fetches the JWKS, checks the front-channel ID token, redeems
//! the code, checks the back-channel ID token and that both agree, calls UserInfo and
//! refreshes — recording every step in a [`Report`] for the result page.

use core::time::Duration;
use std::collections::HashMap;

use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};
use oidc_hybrid::{
    Clock as _, Config, JwkSet, ResponseMode, ResponseType, SystemClock, TokenEndpointAuthMethod,
    UnixTime,
};
use oidc_hybrid_axum::route_path;
use oidc_hybrid_rustcrypto::PublicKey;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::checks::{self, Check, Expect, IdToken, validate_id_token};
use super::jwt;
use crate::clients::{PlaygroundClient, callback};
use crate::form::Form;
use crate::session::{Flow, random_token};

/// `client_assertion_type` for JWT client assertions (RFC 7523 §2.2).
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Scope values the playground offers besides `openid`.
pub(super) const SCOPES: [&str; 5] = ["profile", "email", "address", "phone", "offline_access"];

/// The playground's relying party: the provider's endpoints, the clients it can act as, and
/// its HTTP client.
#[derive(Debug)]
pub(super) struct Rp {
    pub(super) issuer: String,
    pub(super) redirect_uri: String,
    pub(super) clients: Vec<PlaygroundClient>,
    authorization_endpoint: String,
    par_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    /// `http://host:port` of the provider's own listener, for the back-channel calls.
    back_channel: String,
    http: Option<reqwest::Client>,
}

/// A flow ready to start: the record to keep in the browser's session under `state`, and the
/// authorization request's parameters, and how to send them ([`Rp::location`]).
#[derive(Debug)]
pub(super) struct Started {
    pub(super) state: String,
    pub(super) flow: Flow,
    pub(super) mode: ResponseMode,
    pairs: Vec<(String, String)>,
    /// Push the request first (RFC 9126).
    pub(super) par: bool,
    /// Send the parameters as a request object signed by the client (RFC 9101).
    pub(super) request_object: bool,
}

/// What the result page shows: one section per step, and the verdicts shown at the top.
#[derive(Debug, Default)]
pub(super) struct Report {
    pub(super) sections: Vec<Section>,
    /// Whether both ID tokens agree; `None` when there was no pair to compare.
    pub(super) consistency: Option<bool>,
    /// The `sub` UserInfo returned, if it answered.
    pub(super) userinfo_sub: Option<String>,
}

/// A section of the result page: what one step showed and the checks it made.
#[derive(Debug)]
pub(super) struct Section {
    pub(super) title: String,
    pub(super) checks: Vec<Check>,
    pub(super) shown: Shown,
}

/// What a section shows besides its checks.
#[derive(Debug)]
pub(super) enum Shown {
    /// The parameters of the authorization response.
    Response(Vec<(String, String)>),
    /// The decoded header and claims of an ID token (`prefix` names its checks).
    IdToken {
        prefix: &'static str,
        token: IdToken,
    },
    /// The token response.
    Tokens(Value),
    /// UserInfo's claims.
    UserInfo { sub: String, claims: Value },
    /// A sentence.
    Note(&'static str),
    /// Nothing.
    Nothing,
}

impl Section {
    fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            checks: Vec::new(),
            shown: Shown::Nothing,
        }
    }

    fn single(title: impl Into<String>, check: Check) -> Self {
        let mut section = Self::new(title);
        section.checks.push(check);
        section
    }
}

impl Rp {
    /// The RP of the provider configured by `config`, acting as `clients`, calling the
    /// provider's back-channel endpoints at `back_channel`.
    pub(super) fn new(
        config: &Config,
        clients: Vec<PlaygroundClient>,
        back_channel: String,
    ) -> Self {
        // Over TLS the back channel is the demo's own listener on loopback, whose certificate
        // it loaded itself, however it was issued: the playground does not check it.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .danger_accept_invalid_certs(back_channel.starts_with("https://"))
            .build()
            .ok();
        Self {
            issuer: config.issuer.clone(),
            redirect_uri: callback(&config.issuer),
            clients,
            authorization_endpoint: config.authorization_endpoint.clone(),
            par_endpoint: config.pushed_authorization_request_endpoint.clone(),
            token_endpoint: config.token_endpoint.clone(),
            userinfo_endpoint: config.userinfo_endpoint.clone(),
            jwks_uri: config.jwks_uri.clone(),
            back_channel,
            http,
        }
    }

    /// The client registered as `id`.
    pub(super) fn client(&self, id: &str) -> Option<&PlaygroundClient> {
        self.clients.iter().find(|c| c.client_id == id)
    }

    /// Starts a flow with the choices of the playground's form: a fresh state, nonce and PKCE
    /// verifier, and the authorization request.
    ///
    /// # Errors
    ///
    /// The message for the user when a choice is not one the form offers.
    pub(super) fn start(&self, form: &Form, now: UnixTime) -> Result<Started, &'static str> {
        let client = form
            .get("client")
            .and_then(|id| self.client(id))
            .ok_or("Choose one of the listed clients.")?;
        let response_type = form
            .get("response_type")
            .and_then(|t| ResponseType::parse(t).ok())
            .ok_or("Choose a response type.")?;
        if !client.response_types.contains(&response_type) {
            return Err("This client is not registered for that response type.");
        }
        let mode = form
            .get("response_mode")
            .and_then(|m| ResponseMode::parse(m).ok())
            .ok_or("Choose a response mode.")?;
        let mut scope = vec!["openid"];
        for value in form.all("scope") {
            match SCOPES.iter().find(|s| **s == value) {
                Some(s) if !scope.contains(s) => scope.push(s),
                Some(_) => {}
                None => return Err("Unknown scope value."),
            }
        }
        let prompt = form.get("prompt").unwrap_or_default();
        if !["", "none", "login", "consent", "select_account"].contains(&prompt) {
            return Err("Unknown prompt value.");
        }
        let max_age = form.get("max_age").unwrap_or_default();
        if max_age.len() > 9 || !max_age.bytes().all(|b| b.is_ascii_digit()) {
            return Err("max_age must be a number of seconds.");
        }
        let par = form.get("par").is_some();
        let request_object = form.get("request_object").is_some();
        if request_object && client.key.is_none() {
            return Err("Only a client whose key the playground holds signs request objects.");
        }
        let (state, nonce, verifier) = (random_token(), random_token(), random_token());
        let challenge = Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()));
        let scope = scope.join(" ");
        let mut pairs = vec![
            ("response_type", response_type.as_str()),
            ("client_id", &client.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("scope", &scope),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ];
        if mode != response_type.default_mode() {
            pairs.push(("response_mode", mode.as_str()));
        }
        pairs.extend(
            [("prompt", prompt), ("max_age", max_age)]
                .iter()
                .filter(|p| !p.1.is_empty()),
        );
        let pairs = pairs
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        let flow = Flow {
            client_id: client.client_id.clone(),
            response_type,
            nonce,
            verifier,
            created: now,
        };
        Ok(Started {
            state,
            flow,
            mode,
            pairs,
            par,
            request_object,
        })
    }

    /// Where to send the browser for `started`: the authorization endpoint with the parameters
    /// in the query; or, for a request object, with the client's signed JWT in `request` (and
    /// the parameters OIDC Core §6.1 wants outside it); or, with PAR, after pushing either of
    /// those to the PAR endpoint, with only `client_id` and the `request_uri` it returned.
    ///
    /// # Errors
    ///
    /// The message for the user when signing or pushing fails.
    pub(super) async fn location(
        &self,
        started: &Started,
        now: UnixTime,
    ) -> Result<String, String> {
        let client = self
            .client(&started.flow.client_id)
            .ok_or("the client is no longer registered")?;
        let param = |name: &str| {
            started
                .pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let mut pairs = started.pairs.clone();
        if started.request_object {
            let object = jwt::request_object(client, &self.issuer, &started.pairs, now)?;
            let outer = if started.par {
                vec![]
            } else {
                ["response_type", "scope"]
                    .map(|n| (n.to_owned(), param(n).unwrap_or_default()))
                    .to_vec()
            };
            pairs = [("client_id".to_owned(), client.client_id.clone())]
                .into_iter()
                .chain(outer)
                .chain([("request".to_owned(), object)])
                .collect();
        }
        if started.par {
            let request_uri = self.push(client, &pairs).await?;
            pairs = vec![
                ("client_id".to_owned(), client.client_id.clone()),
                ("request_uri".to_owned(), request_uri),
            ];
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Ok(format!("{}?{query}", self.authorization_endpoint))
    }

    /// Plays the rest of `flow` after its authorization response `pairs` (in `mode`) arrived,
    /// as `client`, at `now`.
    pub(super) async fn finish(
        &self,
        flow: &Flow,
        client: &PlaygroundClient,
        mode: ResponseMode,
        pairs: Vec<(String, String)>,
        params: &HashMap<String, String>,
        now: UnixTime,
    ) -> Report {
        let run = Run {
            rp: self,
            flow,
            client,
            params,
            now: now.as_secs(),
        };
        let mut report = Report::default();
        run.play(&mut report, mode, pairs).await;
        report
    }

    /// The back-channel URL of an endpoint: its path, on the local listener.
    fn url(&self, endpoint: &str) -> String {
        format!("{}{}", self.back_channel, route_path(endpoint))
    }

    fn http(&self) -> Result<&reqwest::Client, String> {
        self.http
            .as_ref()
            .ok_or_else(|| "the HTTP client could not be built".to_owned())
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<(u16, String), String> {
        let response = request
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| format!("reading the response failed: {e}"))?;
        Ok((status, text))
    }

    pub(super) async fn jwks(&self) -> Result<Vec<PublicKey>, String> {
        let (status, text) = self
            .call(self.http()?.get(self.url(&self.jwks_uri)))
            .await?;
        if status != 200 {
            return Err(format!("JWKS answered {status}"));
        }
        let set: JwkSet =
            serde_json::from_str(&text).map_err(|e| format!("JWKS is not a JWK set: {e}"))?;
        set.keys
            .iter()
            .map(|jwk| {
                PublicKey::from_jwk(jwk).map_err(|e| format!("unusable key {}: {e}", jwk.kid))
            })
            .collect()
    }

    /// A POST of `pairs` to `endpoint` as `client`, authenticated with its registered method
    /// (a fresh client assertion for the JWT methods).
    async fn client_post(
        &self,
        client: &PlaygroundClient,
        endpoint: &str,
        pairs: &[(&str, &str)],
    ) -> Result<(u16, String), String> {
        let mut request = self
            .http()?
            .post(self.url(endpoint))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        let mut pairs = pairs.to_vec();
        let secret = client.secret.as_deref().unwrap_or_default();
        let assertion = jwt::assertion(client, &self.issuer, SystemClock.now())?;
        // A pushed request names its client already.
        let named = pairs.iter().any(|(name, _)| *name == "client_id");
        if !named && client.method != TokenEndpointAuthMethod::ClientSecretBasic {
            pairs.push(("client_id", &client.client_id));
        }
        match (client.method, &assertion) {
            (_, Some(assertion)) => pairs.extend([
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", assertion),
            ]),
            (TokenEndpointAuthMethod::ClientSecretBasic, None) => {
                let encode =
                    |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let credentials = format!("{}:{}", encode(&client.client_id), encode(secret));
                request = request.header(
                    AUTHORIZATION,
                    format!("Basic {}", Base64::encode_string(credentials.as_bytes())),
                );
            }
            (TokenEndpointAuthMethod::ClientSecretPost, None) => {
                pairs.push(("client_secret", secret));
            }
            _ => {}
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.call(request.body(body)).await
    }

    /// A token request as `client`.
    async fn token(
        &self,
        client: &PlaygroundClient,
        pairs: Vec<(&str, &str)>,
    ) -> Result<(u16, Value), String> {
        let (status, text) = self
            .client_post(client, &self.token_endpoint, &pairs)
            .await?;
        let json = serde_json::from_str(&text)
            .map_err(|_| format!("the token endpoint answered {status} with no JSON"))?;
        Ok((status, json))
    }

    /// Pushes `pairs` as `client` (RFC 9126 §2.1); returns the `request_uri`.
    async fn push(
        &self,
        client: &PlaygroundClient,
        pairs: &[(String, String)],
    ) -> Result<String, String> {
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let (status, text) = self.client_post(client, &self.par_endpoint, &pairs).await?;
        let json: Value = serde_json::from_str(&text).unwrap_or_default();
        match (status, json["request_uri"].as_str()) {
            (201, Some(request_uri)) => Ok(request_uri.to_owned()),
            _ => Err(format!("the PAR endpoint answered {status}: {text}")),
        }
    }

    async fn userinfo(&self, access_token: &str) -> Result<(u16, Value), String> {
        let request = self
            .http()?
            .get(self.url(&self.userinfo_endpoint))
            .header(AUTHORIZATION, format!("Bearer {access_token}"));
        let (status, text) = self.call(request).await?;
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, json))
    }
}

/// One flow's back half, step by step.
struct Run<'a> {
    rp: &'a Rp,
    flow: &'a Flow,
    client: &'a PlaygroundClient,
    /// The authorization response's parameters, each name once.
    params: &'a HashMap<String, String>,
    now: u64,
}

impl Run<'_> {
    /// Every step in order; a step that cannot go on ends the report.
    async fn play(&self, report: &mut Report, mode: ResponseMode, pairs: Vec<(String, String)>) {
        let Some(code) = self.response(report, mode, pairs) else {
            return;
        };
        let keys = match self.rp.jwks().await {
            Ok(keys) => keys,
            Err(e) => {
                let check = Check::new("jwks", "JWKS", false, e);
                report.sections.push(Section::single("JWKS", check));
                return;
            }
        };
        let front_token = self.param("access_token");
        let front = self
            .param("id_token")
            .map(|jwt| self.front_id_token(report, jwt, &keys, code, front_token));
        if let Some(token) = front_token {
            self.front_userinfo(report, token).await;
        }
        let Some(tokens) = self.exchange(report, code).await else {
            return;
        };
        let access = tokens["access_token"].as_str().unwrap_or_default();
        let Some(back) = self.back_id_token(report, &tokens, &keys, access) else {
            return;
        };
        report.consistency = self.consistency(report, front.as_ref(), &back);
        self.userinfo(report, access, &back).await;
        if let Some(refresh) = tokens["refresh_token"].as_str() {
            self.refresh(report, refresh, &keys, &back).await;
        }
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// What an ID token of this flow must satisfy; the caller adjusts the rest.
    fn expect(&self, prefix: &'static str) -> Expect<'_> {
        Expect {
            prefix,
            issuer: &self.rp.issuer,
            client_id: &self.client.client_id,
            alg: self.client.alg,
            nonce: Some(&self.flow.nonce),
            original_nonce: &self.flow.nonce,
            now: self.now,
            code: None,
            access_token: None,
            at_hash_required: false,
            state: None,
        }
    }

    /// 1. The authorization response: `iss`, an error or a code, the tokens the response type
    ///    asks for. Returns the code.
    fn response(
        &self,
        report: &mut Report,
        mode: ResponseMode,
        pairs: Vec<(String, String)>,
    ) -> Option<&str> {
        let mut section = Section::new(format!("1. Authorization response ({})", mode.as_str()));
        section.shown = Shown::Response(pairs);
        let checks = &mut section.checks;
        let iss = self.param("iss");
        checks.push(Check::new(
            "response.iss",
            "iss (RFC 9207)",
            iss == Some(self.rp.issuer.as_str()),
            iss.unwrap_or("missing"),
        ));
        let code = if let Some(error) = self.param("error") {
            let description = self.param("error_description").unwrap_or_default();
            let detail = format!("{error}: {description}");
            checks.push(Check::new("response.error", "error", false, detail));
            None
        } else if let Some(code) = self.param("code") {
            checks.push(Check::new("response.code", "code", true, "present"));
            self.response_tokens(checks);
            Some(code)
        } else {
            checks.push(Check::new("response.code", "code", false, "missing"));
            None
        };
        report.sections.push(section);
        code
    }

    /// The front-channel access token and ID token, as the response type asks.
    fn response_tokens(&self, checks: &mut Vec<Check>) {
        let response_type = self.flow.response_type;
        if response_type.has_token() {
            checks.push(Check::new(
                "response.access_token",
                "access_token",
                self.param("access_token").is_some() && self.param("token_type") == Some("Bearer"),
                "front-channel access token with token_type Bearer",
            ));
        }
        checks.push(Check::new(
            "response.id_token",
            "id_token",
            self.param("id_token").is_some() == response_type.has_id_token(),
            if response_type.has_id_token() {
                "present, as the response type asks"
            } else {
                "absent, as the response type asks"
            },
        ));
    }

    /// 2. The front-channel ID token, with `c_hash` (and `at_hash`, `s_hash`).
    fn front_id_token(
        &self,
        report: &mut Report,
        jwt: &str,
        keys: &[PublicKey],
        code: &str,
        access_token: Option<&str>,
    ) -> Value {
        let mut section = Section::new("2. Front-channel ID token");
        let expect = Expect {
            code: Some(code),
            access_token,
            at_hash_required: true,
            state: self.param("state"),
            ..self.expect("front")
        };
        let token = validate_id_token(&mut section.checks, jwt, keys, &expect);
        let claims = token.claims.clone();
        section.shown = Shown::IdToken {
            prefix: "front",
            token,
        };
        report.sections.push(section);
        claims
    }

    /// The front-channel access token works at UserInfo.
    async fn front_userinfo(&self, report: &mut Report, token: &str) {
        let check = match self.rp.userinfo(token).await {
            Ok((status, _)) => Check::new(
                "front.userinfo",
                "UserInfo",
                status == 200,
                format!("UserInfo answered {status} to the front-channel access token"),
            ),
            Err(e) => Check::new("front.userinfo", "UserInfo", false, e),
        };
        report
            .sections
            .push(Section::single("Front-channel access token", check));
    }

    /// 3. The code at the token endpoint. Returns the token response.
    async fn exchange(&self, report: &mut Report, code: &str) -> Option<Value> {
        let title = format!("3. Token response ({})", self.client.method.as_str());
        let pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.rp.redirect_uri),
            ("code_verifier", &self.flow.verifier),
        ];
        let failed = |detail: String| Check::new("token.status", "token endpoint", false, detail);
        let tokens = match self.rp.token(self.client, pairs).await {
            Ok((200, tokens)) => tokens,
            Ok((status, body)) => {
                let check = failed(format!("{status}: {body}"));
                report.sections.push(Section::single(title, check));
                return None;
            }
            Err(e) => {
                report.sections.push(Section::single(title, failed(e)));
                return None;
            }
        };
        let mut section = Section::new(title);
        section
            .checks
            .push(Check::new("token.status", "token endpoint", true, "200 OK"));
        section.checks.push(Check::new(
            "token.token_type",
            "token_type",
            tokens["token_type"] == "Bearer",
            tokens["token_type"].to_string(),
        ));
        section.shown = Shown::Tokens(tokens.clone());
        report.sections.push(section);
        Some(tokens)
    }

    /// 4. The back-channel ID token. Returns its claims.
    fn back_id_token(
        &self,
        report: &mut Report,
        tokens: &Value,
        keys: &[PublicKey],
        access_token: &str,
    ) -> Option<Value> {
        let title = "4. Back-channel ID token";
        let Some(jwt) = tokens["id_token"].as_str() else {
            let check = Check::new("back.present", "id_token", false, "missing");
            report.sections.push(Section::single(title, check));
            return None;
        };
        let mut section = Section::new(title);
        let expect = Expect {
            access_token: Some(access_token),
            ..self.expect("back")
        };
        let token = validate_id_token(&mut section.checks, jwt, keys, &expect);
        let claims = token.claims.clone();
        section.shown = Shown::IdToken {
            prefix: "back",
            token,
        };
        report.sections.push(section);
        Some(claims)
    }

    /// 5. Both ID tokens agree. Returns whether they do, if there were two.
    fn consistency(
        &self,
        report: &mut Report,
        front: Option<&Value>,
        back: &Value,
    ) -> Option<bool> {
        let mut section = Section::new("5. Consistency of the two ID tokens");
        let agree = match front {
            Some(front) => {
                section.checks = checks::consistency(front, back);
                Some(section.checks.iter().all(|c| c.ok))
            }
            None => {
                section.shown = Shown::Note(
                    "No front-channel ID token in this response type: nothing to compare.",
                );
                None
            }
        };
        report.sections.push(section);
        agree
    }

    /// 6. UserInfo with the back-channel access token: the same `sub` as the ID token.
    async fn userinfo(&self, report: &mut Report, access_token: &str, back: &Value) {
        let mut section = Section::new("6. UserInfo");
        let failed = |detail: String| Check::new("userinfo.status", "UserInfo", false, detail);
        match self.rp.userinfo(access_token).await {
            Ok((200, claims)) => {
                let sub = claims["sub"].as_str().unwrap_or_default().to_owned();
                section.checks.push(Check::new(
                    "userinfo.sub",
                    "sub",
                    !sub.is_empty() && back["sub"] == sub.as_str(),
                    "equals the ID token's sub (OIDC Core §5.3.2)",
                ));
                report.userinfo_sub = Some(sub.clone());
                section.shown = Shown::UserInfo { sub, claims };
            }
            Ok((status, body)) => section.checks.push(failed(format!("{status}: {body}"))),
            Err(e) => section.checks.push(failed(e)),
        }
        report.sections.push(section);
    }

    /// 7. The refresh token: rotated, and a new ID token for the same End-User.
    async fn refresh(&self, report: &mut Report, refresh: &str, keys: &[PublicKey], back: &Value) {
        let mut section = Section::new("7. Refresh");
        let pairs = vec![("grant_type", "refresh_token"), ("refresh_token", refresh)];
        let failed = |detail: String| Check::new("refresh.status", "token endpoint", false, detail);
        match self.rp.token(self.client, pairs).await {
            Ok((200, tokens)) => {
                section.checks.push(Check::new(
                    "refresh.rotated",
                    "refresh token rotated",
                    tokens["refresh_token"]
                        .as_str()
                        .is_some_and(|new| new != refresh),
                    "a new refresh token replaces the old one",
                ));
                if let Some(jwt) = tokens["id_token"].as_str() {
                    let expect = Expect {
                        nonce: None,
                        access_token: Some(tokens["access_token"].as_str().unwrap_or_default()),
                        ..self.expect("refresh")
                    };
                    let token = validate_id_token(&mut section.checks, jwt, keys, &expect);
                    let same = checks::same_as_original(&token.claims, back);
                    section.checks.extend(same);
                    section.shown = Shown::IdToken {
                        prefix: "refresh",
                        token,
                    };
                }
            }
            Ok((status, body)) => section.checks.push(failed(format!("{status}: {body}"))),
            Err(e) => section.checks.push(failed(e)),
        }
        report.sections.push(section);
    }
}
