//! The playground's HTML: the form that starts a flow, the page that relays a fragment
//! response to the server, and the result page rendered from a [`Report`]. Every value that
//! came from a response or a registration is escaped.

use base64ct::{Base64, Encoding as _};
use oidc_hybrid::{ResponseMode, ResponseType};
use oidc_hybrid_axum::respond::escape;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::checks::Check;
use super::rp::{Report, SCOPES, Section, Shown};
use crate::clients::PlaygroundClient;
use crate::session::LoggedIn;

/// The relay page's script: posts the fragment to the server, then forgets it.
const RELAY_SCRIPT: &str = "var f=document.getElementById('relay');\
f.elements.namedItem('fragment').value=location.hash.slice(1);\
history.replaceState(null,'',location.pathname);f.submit();";

/// The fixed choices of the start form: response type and mode, `prompt`, `max_age`.
const CHOICES: &str = "<div><label for=\"response_type\">Response type</label>\
<select id=\"response_type\" name=\"response_type\">\
<option value=\"code id_token\" selected>code id_token</option>\
<option value=\"code token\">code token</option>\
<option value=\"code id_token token\">code id_token token</option>\
<option value=\"code\">code</option></select></div>\
<div><label for=\"response_mode\">Response mode</label>\
<select id=\"response_mode\" name=\"response_mode\">\
<option value=\"fragment\" selected>fragment</option>\
<option value=\"form_post\">form_post</option>\
<option value=\"query\">query (code only)</option></select></div>\
<div><label for=\"prompt\">prompt</label><select id=\"prompt\" name=\"prompt\">\
<option value=\"\" selected>(not sent)</option><option value=\"none\">none</option>\
<option value=\"login\">login</option><option value=\"consent\">consent</option>\
<option value=\"select_account\">select_account</option></select></div>\
<div><label for=\"max_age\">max_age (seconds)</label>\
<input type=\"number\" id=\"max_age\" name=\"max_age\" min=\"0\"></div>";

/// The CSP source of the relay script (`sha256-…`).
pub(super) fn relay_script_hash() -> String {
    format!(
        "sha256-{}",
        Base64::encode_string(&Sha256::digest(RELAY_SCRIPT.as_bytes()))
    )
}

/// What the start page shows.
pub(super) struct StartPage<'a> {
    pub(super) base: &'a str,
    pub(super) clients: &'a [PlaygroundClient],
    pub(super) redirect_uri: &'a str,
    pub(super) csrf: &'a str,
    pub(super) user: Option<&'a LoggedIn>,
    /// The sign-out form's CSRF token (it goes with the sign-in session cookie).
    pub(super) logout_csrf: &'a str,
}

/// The body of `GET /playground`: the start form and the provider session.
pub(super) fn start_page(page: &StartPage<'_>) -> String {
    let base = escape(page.base);
    let clients: String = page
        .clients
        .iter()
        .map(|c| {
            format!(
                "<option value=\"{}\">{}</option>",
                escape(&c.client_id),
                escape(&c.name)
            )
        })
        .collect();
    let scopes: String = SCOPES
        .iter()
        .map(|s| {
            let checked = if *s == "offline_access" {
                ""
            } else {
                " checked"
            };
            format!(
                "<label><input type=\"checkbox\" name=\"scope\" value=\"{s}\"{checked}> {s}</label>"
            )
        })
        .collect();
    let no_clients = if page.clients.is_empty() {
        format!(
            "<p class=\"error\">No registered client has the playground's redirect URI \
             <code>{}</code>.</p>",
            escape(page.redirect_uri)
        )
    } else {
        String::new()
    };
    format!(
        "<div class=\"card\"><h1>Relying-party playground</h1>\
         <p class=\"muted\">This page is a relying party. It sends you to the provider's \
         authorization endpoint, receives the response, and then — in server-side Rust, over \
         HTTP — checks the front-channel ID token against the provider's JWKS (<code>c_hash</code>, \
         <code>at_hash</code>), redeems the code, checks the second ID token and that both agree, \
         and calls UserInfo.</p>{no_clients}\
         <form method=\"post\" action=\"{base}/playground/start\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <div class=\"grid\">\
         <div><label for=\"client\">Client</label><select id=\"client\" name=\"client\">{clients}</select></div>\
         {CHOICES}</div>\
         <fieldset><legend>Scopes</legend>\
         <label><input type=\"checkbox\" checked disabled> openid</label>{scopes}</fieldset>\
         <p class=\"muted\"><code>offline_access</code> is granted only with \
         <code>prompt=consent</code>, and only then is a refresh token issued (OIDC Core \
         §11).</p>\
         <fieldset><legend>Request</legend>\
         <label><input type=\"checkbox\" name=\"par\" value=\"on\"> push it first \
         (PAR, RFC 9126)</label>\
         <label><input type=\"checkbox\" name=\"request_object\" value=\"on\"> as a request \
         object signed with the client's key (RFC 9101; key clients only)</label></fieldset>\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\" id=\"start\">\
         Start the flow</button></div></form></div>\
         <div class=\"card\"><h2>Session</h2>{session}</div>",
        csrf = escape(page.csrf),
        session = session(&base, page.logout_csrf, page.user),
    )
}

/// Who is signed in at the provider, with a sign-out button.
fn session(base: &str, csrf: &str, user: Option<&LoggedIn>) -> String {
    match user {
        Some(user) => format!(
            "<p>Signed in at the provider as <strong id=\"signed-in\">{}</strong> \
             (<code>auth_time</code> {}).</p>\
             <form method=\"post\" action=\"{base}/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Sign out</button></form>",
            escape(&user.username),
            user.auth_time,
            escape(csrf)
        ),
        None => "<p class=\"muted\" id=\"signed-in\">Not signed in at the provider: the flow \
                 will show its login page.</p>"
            .into(),
    }
}

/// The body of the page that relays a fragment response (which never reaches the server by
/// itself) with its one inline script.
pub(super) fn relay_page(base: &str) -> String {
    format!(
        "<div class=\"card\"><h1>Receiving the response…</h1>\
         <form id=\"relay\" method=\"post\" action=\"{}/playground/callback/fragment\">\
         <input type=\"hidden\" name=\"fragment\">\
         <noscript><p>The response is in the URL fragment, which only a script can read: \
         enable JavaScript.</p></noscript></form></div><script>{RELAY_SCRIPT}</script>",
        escape(base)
    )
}

/// The flow a result page reports on.
pub(super) struct Outcome<'a> {
    pub(super) base: &'a str,
    pub(super) client_id: &'a str,
    pub(super) response_type: ResponseType,
    pub(super) mode: ResponseMode,
}

/// The body of the result page: the verdicts, then one card per section.
pub(super) fn result_page(outcome: &Outcome<'_>, report: &Report) -> String {
    let (total, failed) = counts(report);
    let summary = if failed == 0 {
        format!("<span class=\"badge ok\">All {total} checks passed</span>")
    } else {
        format!("<span class=\"badge fail\">{failed} of {total} checks failed</span>")
    };
    let consistency = match report.consistency {
        Some(true) => "<span class=\"badge ok\">consistency OK</span>",
        Some(false) => "<span class=\"badge fail\">consistency FAILED</span>",
        None => "<span class=\"badge na\">consistency n/a</span>",
    };
    let mut body = format!(
        "<div class=\"card\"><h1>Playground result</h1>\
         <table><tr><th>Client</th><td><code>{}</code></td></tr>\
         <tr><th>Response type</th><td><code id=\"response-type\">{}</code></td></tr>\
         <tr><th>Response mode</th><td><code id=\"response-mode\">{}</code></td></tr></table>\
         <p id=\"summary\">{summary}</p><p id=\"consistency\">{consistency}</p>\
         <p><a href=\"{}/playground\">Run another flow</a></p></div>",
        escape(outcome.client_id),
        outcome.response_type.as_str(),
        outcome.mode.as_str(),
        escape(outcome.base),
    );
    for section in &report.sections {
        body.push_str(&card(section));
    }
    body
}

/// How many checks the report made, and how many failed.
pub(super) fn counts(report: &Report) -> (usize, usize) {
    let checks = report.sections.iter().flat_map(|s| &s.checks);
    let failed = checks.clone().filter(|c| !c.ok).count();
    (checks.count(), failed)
}

fn card(section: &Section) -> String {
    let checks: String = section.checks.iter().map(check).collect();
    let list = if checks.is_empty() {
        String::new()
    } else {
        format!("<ul class=\"checks\">{checks}</ul>")
    };
    format!(
        "<div class=\"card\"><h2>{}</h2>{list}{}</div>",
        escape(&section.title),
        shown(&section.shown)
    )
}

fn check(c: &Check) -> String {
    format!(
        "<li class=\"{}\" data-check=\"{}\"><strong>{}</strong> {} — {}</li>",
        if c.ok { "ok" } else { "fail" },
        escape(&c.id),
        escape(&c.label),
        if c.ok { "OK" } else { "FAILED" },
        escape(&c.detail)
    )
}

fn shown(shown: &Shown) -> String {
    match shown {
        Shown::Response(pairs) => {
            let rows: String = pairs
                .iter()
                .map(|(name, value)| {
                    let value = if is_secret(name) {
                        short(value)
                    } else {
                        value.clone()
                    };
                    format!(
                        "<tr><th>{}</th><td><code>{}</code></td></tr>",
                        escape(name),
                        escape(&value)
                    )
                })
                .collect();
            format!("<table>{rows}</table>")
        }
        Shown::IdToken { prefix, token } => format!(
            "<div class=\"columns\"><div><h3>Header</h3><pre>{}</pre></div>\
             <div><h3>Claims</h3><pre id=\"{prefix}-claims\">{}</pre></div></div>",
            pretty(&token.header),
            pretty(&token.claims)
        ),
        Shown::Tokens(tokens) => {
            let mut tokens = tokens.clone();
            for name in ["access_token", "refresh_token", "id_token"] {
                if let Some(value) = tokens[name].as_str().map(short) {
                    tokens[name] = Value::String(value);
                }
            }
            format!("<pre>{}</pre>", pretty(&tokens))
        }
        Shown::UserInfo { sub, claims } => format!(
            "<p>sub: <code id=\"userinfo-sub\">{}</code></p><pre id=\"userinfo\">{}</pre>",
            escape(sub),
            pretty(claims)
        ),
        Shown::Note(text) => format!("<p class=\"muted\">{}</p>", escape(text)),
        Shown::Nothing => String::new(),
    }
}

/// Whether a response parameter is a credential (shown shortened).
fn is_secret(name: &str) -> bool {
    ["code", "access_token", "id_token", "refresh_token"].contains(&name)
}

/// A token shortened for display.
fn short(token: &str) -> String {
    if token.chars().count() <= 14 {
        return token.to_owned();
    }
    let head: String = token.chars().take(10).collect();
    format!("{head}… ({} chars)", token.len())
}

fn pretty(value: &Value) -> String {
    escape(&serde_json::to_string_pretty(value).unwrap_or_default())
}
