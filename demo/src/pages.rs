//! The demo's HTML: one layout, one stylesheet, the login and consent pages. Every value that
//! came from a request or a registration is escaped.

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use oidc_hybrid_axum::respond::{self, escape};

/// The stylesheet, served at `/demo.css` (pages allow styles from their own origin only).
const CSS: &str = r#"
:root { color-scheme: light; --fg: #1d2330; --muted: #5d6577; --line: #dfe3ea; --accent: #2f5fd0;
        --ok: #16794a; --bad: #b3261e; --bg: #f5f6f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
       background: var(--bg); }
header.top { background: #fff; border-bottom: 1px solid var(--line); padding: .6rem 1.5rem;
             display: flex; gap: 1rem; align-items: center; justify-content: space-between; }
header.top a { color: var(--fg); text-decoration: none; font-weight: 600; }
header.top nav { display: flex; gap: 1rem; align-items: center; font-size: .95rem; }
header.top nav a { font-weight: 400; color: var(--accent); }
main { max-width: 56rem; margin: 2rem auto; padding: 0 1.5rem; }
main.narrow { max-width: 26rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 1.5rem 1.75rem;
        margin-bottom: 1.25rem; box-shadow: 0 1px 2px rgba(0,0,0,.04); }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
h3 { font-size: 1rem; margin: 1rem 0 .5rem; }
p { margin: .4rem 0 .9rem; }
.muted { color: var(--muted); font-size: .93rem; }
label { display: block; font-weight: 600; margin: .9rem 0 .3rem; }
input[type=text], input[type=password], input[type=number], select {
  width: 100%; padding: .55rem .7rem; border: 1px solid #c4cad6; border-radius: 6px; font: inherit; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: .9rem 0 0; padding: .4rem .9rem .7rem; }
legend { font-weight: 600; padding: 0 .3rem; }
fieldset label { display: inline-flex; gap: .35rem; align-items: center; font-weight: 400; margin: .3rem 1rem .3rem 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 0 1.25rem; }
.actions { display: flex; gap: .75rem; margin-top: 1.4rem; }
button { font: inherit; padding: .55rem 1.2rem; border-radius: 6px; border: 1px solid #c4cad6;
         background: #fff; cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; font-weight: 600; }
button.link { border: 0; background: none; color: var(--accent); padding: 0; }
.error { background: #fdecea; color: var(--bad); border: 1px solid #f3c2bd; border-radius: 6px; padding: .55rem .8rem; }
.hint { background: #eef3fd; border: 1px solid #cfdcf7; border-radius: 6px; padding: .55rem .8rem; font-size: .93rem; }
ul.scopes { list-style: none; padding: 0; margin: .5rem 0; }
ul.scopes li { padding: .45rem 0; border-bottom: 1px solid var(--line); }
ul.scopes li:last-child { border-bottom: 0; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .88rem; }
pre { background: #f1f3f7; border: 1px solid var(--line); border-radius: 6px; padding: .75rem; overflow-x: auto;
      white-space: pre-wrap; word-break: break-all; }
ul.checks { list-style: none; padding: 0; margin: .5rem 0; }
ul.checks li { padding: .2rem 0 .2rem 1.6rem; position: relative; }
ul.checks li::before { position: absolute; left: 0; font-weight: 700; }
ul.checks li.ok::before { content: "\2713"; color: var(--ok); }
ul.checks li.fail::before { content: "\2717"; color: var(--bad); }
ul.checks li.fail { color: var(--bad); }
.badge { display: inline-block; padding: .15rem .6rem; border-radius: 999px; font-weight: 600; font-size: .9rem; }
.badge.ok { background: #e3f4ea; color: var(--ok); }
.badge.fail { background: #fdecea; color: var(--bad); }
.badge.na { background: #eceff4; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: .93rem; }
td, th { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { width: 12rem; font-weight: 600; }
td code { word-break: break-all; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 1.25rem; }
@media (max-width: 50rem) { .columns { grid-template-columns: 1fr; } }
"#;

/// `GET /demo.css`.
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        CSS,
    )
        .into_response()
}

/// `GET /favicon.ico`: nothing (browsers ask for it).
pub(crate) async fn favicon() -> Response {
    (
        StatusCode::NO_CONTENT,
        [(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400"),
        )],
    )
        .into_response()
}

/// The CSP of the demo's pages: styles from this origin, no script unless its hash is given,
/// forms posted to this origin (and `form_action`, the client's origin, for pages whose form
/// answers with a redirect to the client), no framing.
pub(crate) fn csp(form_action: Option<&str>, script_hash: Option<&str>) -> String {
    let script = script_hash.map_or_else(String::new, |h| format!(" script-src '{h}';"));
    let extra = form_action.map_or_else(String::new, |s| format!(" {s}"));
    format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:;{script} \
         form-action 'self'{extra}; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// The CSP source for a redirect URI's origin (`https://rp.example:8443`), or its scheme for a
/// private-use scheme (`com.example.app:`); `None` if it cannot be expressed safely.
pub(crate) fn form_action_source(redirect_uri: &str) -> Option<String> {
    let source = match redirect_uri.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let authority = authority.rsplit('@').next().unwrap_or_default();
            format!("{scheme}://{authority}")
        }
        None => format!("{}:", redirect_uri.split(':').next().unwrap_or_default()),
    };
    let safe = source.len() > 1
        && source
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.:/[]".contains(&b));
    safe.then_some(source)
}

/// An HTML page response with the demo's CSP.
pub(crate) fn respond(status: StatusCode, html: String, csp: &str) -> Response {
    let mut response = respond::html(status, html);
    if let Ok(value) = HeaderValue::try_from(csp) {
        response
            .headers_mut()
            .insert(CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// The layout: a header with the demo's links, then `body`.
pub(crate) fn layout(base: &str, title: &str, narrow: bool, body: &str) -> String {
    let base = escape(base);
    let title = escape(title);
    let class = if narrow { " class=\"narrow\"" } else { "" };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · oidc-hybrid demo</title>\
         <link rel=\"stylesheet\" href=\"{base}/demo.css\"></head>\n<body>\n\
         <header class=\"top\"><a href=\"{base}/\">oidc-hybrid demo OP</a><nav>\
         <a href=\"{base}/playground\">Playground</a>\
         <a href=\"{base}/.well-known/openid-configuration\">Discovery</a>\
         <a href=\"{base}/jwks\">JWKS</a></nav></header>\n<main{class}>\n{body}\n</main>\n</body></html>\n"
    )
}

/// A page with a title and a paragraph.
pub(crate) fn message(base: &str, title: &str, text: &str) -> String {
    layout(
        base,
        title,
        true,
        &format!(
            "<div class=\"card\"><h1>{}</h1><p id=\"message\">{}</p>\
             <p><a href=\"{}/playground\">Back to the playground</a></p></div>",
            escape(title),
            escape(text),
            escape(base)
        ),
    )
}

/// A page with a title and a message, under the demo's CSP.
pub(crate) fn problem(base: &str, status: StatusCode, title: &str, text: &str) -> Response {
    respond(status, message(base, title, text), &csp(None, None))
}

/// The logout confirmation page (RP-Initiated Logout 1.0 §2): a form that posts the waiting
/// request's id back to `POST /logout`.
pub(crate) fn confirm_logout(base: &str, waiting: &str, csrf: &str) -> Response {
    let base = escape(base);
    let body = format!(
        "<div class=\"card\"><h1>Sign out?</h1><p>An application asks to sign you out of this \
         provider and of every application you signed in to with it.</p>\
         <form method=\"post\" action=\"{base}/logout\">\
         <input type=\"hidden\" name=\"logout\" value=\"{}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\" id=\"confirm-logout\" name=\"decision\" value=\"logout\">Sign out</button> \
         <button type=\"submit\" name=\"decision\" value=\"stay\">Stay signed in</button></form></div>",
        escape(waiting),
        escape(csrf)
    );
    respond(
        StatusCode::OK,
        layout(&base, "Sign out", true, &body),
        &csp(None, None),
    )
}

/// What the login page shows.
pub(crate) struct Login<'a> {
    pub(crate) base: &'a str,
    pub(crate) client: &'a str,
    pub(crate) interaction: &'a str,
    pub(crate) csrf: &'a str,
    pub(crate) username: &'a str,
    pub(crate) error: Option<&'a str>,
    pub(crate) demo_hint: bool,
    pub(crate) signed_in_as: Option<&'a str>,
}

pub(crate) fn login(page: &Login<'_>) -> String {
    let error = page.error.map_or_else(String::new, |e| {
        format!("<p class=\"error\" id=\"login-error\">{}</p>", escape(e))
    });
    let hint = if page.demo_hint {
        "<p class=\"hint\">Demo user: <code>alice</code> / <code>wonderland</code></p>"
    } else {
        ""
    };
    let current = page.signed_in_as.map_or_else(String::new, |who| {
        format!(
            "<p class=\"muted\">You are signed in as <strong>{}</strong>; the application asks \
             you to sign in again or to choose an account.</p>",
            escape(who)
        )
    });
    let body = format!(
        "<div class=\"card\"><h1>Sign in</h1>\
         <p class=\"muted\">to continue to <strong id=\"client\">{client}</strong></p>\
         {current}{error}\
         <form method=\"post\" action=\"{base}/login\">\
         <input type=\"hidden\" name=\"interaction\" value=\"{interaction}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"username\">Username</label>\
         <input type=\"text\" id=\"username\" name=\"username\" value=\"{username}\" \
         autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required autofocus>\
         <label for=\"password\">Password</label>\
         <input type=\"password\" id=\"password\" name=\"password\" \
         autocomplete=\"current-password\" required>\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\">Sign in</button>\
         <button type=\"submit\" name=\"cancel\" value=\"1\" formnovalidate>Cancel</button></div>\
         </form></div>{hint}",
        client = escape(page.client),
        base = escape(page.base),
        interaction = escape(page.interaction),
        csrf = escape(page.csrf),
        username = escape(page.username),
    );
    layout(page.base, "Sign in", true, &body)
}

/// A human description of a scope value.
fn describe(scope: &str) -> String {
    match scope {
        "openid" => "Sign you in with your account identifier".into(),
        "profile" => "Your name, nickname, picture, birthdate and other profile details".into(),
        "email" => "Your email address and whether it is verified".into(),
        "address" => "Your postal address".into(),
        "phone" => "Your phone number and whether it is verified".into(),
        "offline_access" => "Keep access while you are away (refresh tokens)".into(),
        other => format!("Access labelled \u{201c}{other}\u{201d}"),
    }
}

/// What the consent page shows.
pub(crate) struct ConsentPage<'a> {
    pub(crate) base: &'a str,
    pub(crate) client: &'a str,
    pub(crate) scopes: Vec<&'a str>,
    pub(crate) return_to: Option<&'a str>,
    pub(crate) user: &'a str,
    pub(crate) interaction: &'a str,
    pub(crate) csrf: &'a str,
}

pub(crate) fn consent(page: &ConsentPage<'_>) -> String {
    let scopes: String = page
        .scopes
        .iter()
        .map(|s| {
            format!(
                "<li data-scope=\"{s}\"><code>{s}</code> — {d}</li>",
                s = escape(s),
                d = escape(&describe(s))
            )
        })
        .collect();
    let return_to = page.return_to.map_or_else(String::new, |origin| {
        format!(
            "<p class=\"muted\">You will then be sent back to <code>{}</code>.</p>",
            escape(origin)
        )
    });
    let body = format!(
        "<div class=\"card\"><h1>Allow access?</h1>\
         <p><strong id=\"client\">{client}</strong> would like to:</p>\
         <ul class=\"scopes\" id=\"scopes\">{scopes}</ul>{return_to}\
         <p class=\"muted\">Signed in as <strong>{user}</strong>.</p>\
         <form method=\"post\" action=\"{base}/consent\">\
         <input type=\"hidden\" name=\"interaction\" value=\"{interaction}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <div class=\"actions\">\
         <button type=\"submit\" name=\"decision\" value=\"approve\" class=\"primary\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></div>\
         </form></div>",
        client = escape(page.client),
        user = escape(page.user),
        base = escape(page.base),
        interaction = escape(page.interaction),
        csrf = escape(page.csrf),
    );
    layout(page.base, "Allow access", true, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_action_sources() {
        assert_eq!(
            form_action_source("https://rp.example:8443/cb?x=1").as_deref(),
            Some("https://rp.example:8443")
        );
        assert_eq!(
            form_action_source("http://127.0.0.1:9000/cb").as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(
            form_action_source("com.example.app:/cb").as_deref(),
            Some("com.example.app:")
        );
        assert_eq!(form_action_source("https://a b/"), None);
        assert_eq!(form_action_source("https://x';script-src *"), None);
    }

    #[test]
    fn pages_escape_what_they_show() {
        let html = login(&Login {
            base: "",
            client: "<script>",
            interaction: "i\"d",
            csrf: "c",
            username: "a&b",
            error: Some("<b>"),
            demo_hint: false,
            signed_in_as: None,
        });
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
        assert!(html.contains("i&quot;d") && html.contains("a&amp;b"));
        assert!(html.contains("name=\"username\"") && html.contains("name=\"password\""));
        let html = consent(&ConsentPage {
            base: "",
            client: "rp",
            scopes: vec!["openid", "x<y"],
            return_to: Some("https://rp.example"),
            user: "alice",
            interaction: "i",
            csrf: "c",
        });
        let approve = html.find("value=\"approve\"").expect("approve");
        let deny = html.find("value=\"deny\"").expect("deny");
        assert!(approve < deny, "the first button approves");
        assert!(html.contains("x&lt;y"));
    }
}
