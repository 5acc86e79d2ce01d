//! A whole hybrid flow's results, validated as a relying party would.

use core::fmt;

use serde_json::Value;

use super::id_token::{Expected, IdTokenRules, consistency};
use super::keys::KeySet;

/// What one hybrid flow produced, for [`check_flow`]: what the RP sent, what came back in the
/// authorization response, from the token endpoint and from UserInfo.
#[derive(Clone, Copy, Debug, Default)]
pub struct FlowEvidence<'a> {
    /// The `state` sent.
    pub state_sent: &'a str,
    /// The `state` of the authorization response.
    pub state: Option<&'a str>,
    /// The `iss` authorization response parameter (RFC 9207), if any.
    pub iss: Option<&'a str>,
    /// The code.
    pub code: &'a str,
    /// The ID token of the authorization response.
    pub front_id_token: Option<&'a str>,
    /// The access token of the authorization response.
    pub front_access_token: Option<&'a str>,
    /// The ID token of the token response.
    pub back_id_token: Option<&'a str>,
    /// The access token of the token response.
    pub back_access_token: &'a str,
    /// The UserInfo response body, when UserInfo was called.
    pub userinfo: Option<&'a [u8]>,
    /// Whether the response type asks for an ID token in the authorization response.
    pub expect_front_id_token: bool,
}

/// Why a flow is invalid: a short kind (`state`, `iss parameter`, `front ID token <check>`,
/// `back ID token <check>`, `front ID token missing`, `UserInfo`, `sub differs`, …) under
/// which failures can be counted, and the details.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct FlowFailure {
    /// What failed.
    pub what: String,
    /// What was found.
    pub detail: String,
}

impl FlowFailure {
    fn new(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for FlowFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.detail)
    }
}

impl core::error::Error for FlowFailure {}

/// Validates one hybrid flow as a relying party would (OIDC Core §3.3.2.12, §3.3.3.6, §5.3.2;
/// RFC 9207 §2.4): `state` came back unchanged; the `iss` parameter, if sent, is the issuer;
/// the front-channel ID token is there if the response type asks for it and passes `rules`
/// with a `c_hash` of the code and, with a front-channel access token, its `at_hash`; the
/// back-channel ID token passes `rules` with an optional `at_hash` of its access token; both
/// ID tokens agree ([`consistency`]); and UserInfo, if called, answers JSON with the same
/// `sub`.
///
/// `rules` give the issuer, client, profile, time, nonce and algorithm; their hash rules are
/// replaced as said.
///
/// # Errors
///
/// The first [`FlowFailure`].
pub fn check_flow(
    rules: &IdTokenRules<'_>,
    keys: &(impl KeySet + ?Sized),
    evidence: &FlowEvidence<'_>,
) -> Result<(), FlowFailure> {
    let e = evidence;
    if e.state != Some(e.state_sent) {
        return Err(FlowFailure::new(
            "state",
            format!("{:?} came back for {:?}", e.state, e.state_sent),
        ));
    }
    if let Some(iss) = e.iss
        && iss != rules.issuer()
    {
        return Err(FlowFailure::new(
            "iss parameter",
            format!("{iss:?} is not the issuer {:?}", rules.issuer()),
        ));
    }
    let id_token = |which: &str, token: &str, rules: IdTokenRules<'_>| {
        let report = rules.check(token, keys);
        match report.first_failure() {
            Some(check) => Err(FlowFailure::new(
                format!("{which} ID token {}", check.name),
                check.detail.clone(),
            )),
            None => Ok(report.claims().clone()),
        }
    };
    let front = match (e.front_id_token, e.expect_front_id_token) {
        (Some(token), _) => {
            let front_rules = rules
                .c_hash(Expected::Equal(e.code))
                .at_hash(e.front_access_token.map_or(Expected::Any, Expected::Equal));
            Some(id_token("front", token, front_rules)?)
        }
        (None, true) => {
            return Err(FlowFailure::new(
                "front ID token missing",
                "no id_token in the authorization response",
            ));
        }
        (None, false) => None,
    };
    let back_token = e.back_id_token.ok_or_else(|| {
        FlowFailure::new("back ID token missing", "no id_token in the token response")
    })?;
    let back_rules = rules
        .c_hash(Expected::Any)
        .at_hash(Expected::AbsentOr(e.back_access_token));
    let back = id_token("back", back_token, back_rules)?;
    if let Some(front) = &front
        && let Some(check) = consistency(front, &back).into_iter().find(|c| !c.passed)
    {
        let what = if check.name == "sub" {
            "sub differs".to_owned()
        } else {
            format!("ID tokens differ in {}", check.name)
        };
        return Err(FlowFailure::new(what, check.detail));
    }
    if let Some(body) = e.userinfo {
        let claims: Value = serde_json::from_slice(body).map_err(|_| {
            FlowFailure::new(
                "UserInfo",
                String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
            )
        })?;
        let sub = claims["sub"].as_str().unwrap_or_default();
        if Some(sub) != back["sub"].as_str() {
            return Err(FlowFailure::new(
                "sub differs",
                format!("ID token {}, UserInfo {sub:?}", back["sub"]),
            ));
        }
    }
    Ok(())
}
