//! A small, careful HTML form reader: enough of the HTML tokenizer to find every `<form>` of a
//! page — a login or consent page, a `form_post` response page — with its successful controls,
//! as a browser would submit them.
//!
//! It understands start and end tags with attributes in double quotes, single quotes or bare,
//! character references in attribute values and text (`&amp;`, `&quot;`, `&#39;`, `&#x27;` …),
//! comments, and the raw-text elements `script`, `style` and `textarea`. Controls: `input`
//! (hidden, text, password, email …; checkboxes and radios only when `checked`; `disabled` ones
//! skipped), `textarea`, `select` (the `selected` option, else the first), and submit buttons
//! (`<button>` without a type or with `type=submit`, `<input type=submit>`), kept apart so the
//! caller decides which one is pressed.

/// One HTML form as a user agent would submit it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form {
    /// The `action` attribute (`None` when absent: the form posts to its page's URL).
    pub action: Option<String>,
    /// The `method` attribute, lowercased (`get` when absent, as in HTML).
    pub method: String,
    /// The successful controls in document order (name, value).
    pub fields: Vec<(String, String)>,
    /// The submit buttons in document order (name, value; the name may be empty).
    pub buttons: Vec<(String, String)>,
}

impl Form {
    /// Whether a field of that name is present.
    #[must_use]
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, _)| n == name)
    }

    /// The value of the first field of that name.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// What a browser sends when the user set `fill` and pressed submit button `button` (an
    /// index into [`buttons`](Self::buttons)): the fields, `fill` replacing the same-named
    /// values and adding the others, then the button's name and value if it has a name (and
    /// nothing for a button that does not exist).
    #[must_use]
    pub fn submit<N: AsRef<str>, V: AsRef<str>>(
        &self,
        fill: &[(N, V)],
        button: usize,
    ) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .fields
            .iter()
            .filter(|(n, _)| !fill.iter().any(|(f, _)| f.as_ref() == n))
            .cloned()
            .collect();
        pairs.extend(
            fill.iter()
                .map(|(n, v)| (n.as_ref().to_owned(), v.as_ref().to_owned())),
        );
        if let Some((name, value)) = self.buttons.get(button)
            && !name.is_empty()
        {
            pairs.push((name.clone(), value.clone()));
        }
        pairs
    }

    /// What a scripted user sends without knowing the page: [`submit`](Self::submit) with the
    /// first button, and `fill` only if the form has a field it names (a login form); other
    /// forms (a consent page) are sent as they are.
    #[must_use]
    pub fn submission(&self, fill: &[(String, String)]) -> Vec<(String, String)> {
        if fill.iter().any(|(name, _)| self.has_field(name)) {
            self.submit(fill, 0)
        } else {
            self.submit::<&str, &str>(&[], 0)
        }
    }
}

/// A start tag: lowercased name and attributes (lowercased names, decoded values).
#[derive(Debug)]
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
}

impl Tag {
    fn get(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.attrs.iter().any(|(n, _)| n == name)
    }
}

/// What the tokenizer yields.
#[derive(Debug)]
enum Token<'h> {
    Start(Tag),
    End(String),
    Text(&'h str),
}

/// The tokenizer over an HTML document.
struct Tokens<'h> {
    html: &'h str,
    pos: usize,
    /// After a raw-text start tag (`script`, `style`, `textarea`): its name, so the next token
    /// is its text up to the matching end tag.
    raw: Option<&'static str>,
}

impl<'h> Tokens<'h> {
    fn new(html: &'h str) -> Self {
        Self {
            html,
            pos: 0,
            raw: None,
        }
    }
}

/// Finds `needle` (ASCII) in `hay` from `from`, ASCII case-insensitively.
fn find_ci(hay: &str, from: usize, needle: &str) -> Option<usize> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    if n.is_empty() {
        return Some(from);
    }
    (from..=h.len().checked_sub(n.len())?).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

impl<'h> Iterator for Tokens<'h> {
    type Item = Token<'h>;

    fn next(&mut self) -> Option<Token<'h>> {
        let html = self.html;
        let bytes = html.as_bytes();
        if let Some(raw) = self.raw.take() {
            let close = format!("</{raw}");
            let end = find_ci(html, self.pos, &close).unwrap_or(html.len());
            let text = &html[self.pos..end];
            self.pos = end;
            if !text.is_empty() {
                return Some(Token::Text(text));
            }
        }
        loop {
            if self.pos >= bytes.len() {
                return None;
            }
            if bytes[self.pos] != b'<' {
                let end = html[self.pos..]
                    .find('<')
                    .map_or(html.len(), |i| self.pos + i);
                let text = &html[self.pos..end];
                self.pos = end;
                return Some(Token::Text(text));
            }
            let rest = &html[self.pos..];
            if let Some(comment) = rest.strip_prefix("<!--") {
                self.pos = comment
                    .find("-->")
                    .map_or(html.len(), |i| self.pos + 4 + i + 3);
                continue;
            }
            if rest.starts_with("<!") || rest.starts_with("<?") {
                // Doctype, CDATA-like or processing instruction: skip to '>'.
                self.pos = rest.find('>').map_or(html.len(), |i| self.pos + i + 1);
                continue;
            }
            let (closing, name_start) = if rest.starts_with("</") {
                (true, self.pos + 2)
            } else {
                (false, self.pos + 1)
            };
            let name_len = bytes[name_start..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b':')
                .count();
            if name_len == 0 || !bytes[name_start].is_ascii_alphabetic() {
                // A lone '<' in text.
                self.pos += 1;
                return Some(Token::Text("<"));
            }
            let name = html[name_start..name_start + name_len].to_ascii_lowercase();
            let mut i = name_start + name_len;
            if closing {
                self.pos = html[i..].find('>').map_or(html.len(), |j| i + j + 1);
                return Some(Token::End(name));
            }
            let mut attrs = Vec::new();
            loop {
                while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                    i += 1;
                }
                if i >= bytes.len() {
                    break;
                }
                if bytes[i] == b'>' {
                    i += 1;
                    break;
                }
                let start = i;
                while i < bytes.len()
                    && !bytes[i].is_ascii_whitespace()
                    && !matches!(bytes[i], b'=' | b'>' | b'/')
                {
                    i += 1;
                }
                // A '/' inside a name ("a/b") would loop forever: always advance.
                if i == start {
                    i += 1;
                    continue;
                }
                let attr = html[start..i].to_ascii_lowercase();
                let mut j = i;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                if j < bytes.len() && bytes[j] == b'=' {
                    j += 1;
                    while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    let value;
                    if j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'') {
                        let quote = bytes[j] as char;
                        let open = j + 1;
                        let close = html[open..].find(quote).map_or(html.len(), |k| open + k);
                        value = decode_entities(&html[open..close]);
                        i = (close + 1).min(html.len());
                    } else {
                        let open = j;
                        while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>'
                        {
                            j += 1;
                        }
                        value = decode_entities(&html[open..j]);
                        i = j;
                    }
                    attrs.push((attr, value));
                } else {
                    attrs.push((attr, String::new()));
                }
            }
            self.pos = i;
            self.raw = match name.as_str() {
                "script" => Some("script"),
                "style" => Some("style"),
                "textarea" => Some("textarea"),
                _ => None,
            };
            return Some(Token::Start(Tag { name, attrs }));
        }
    }
}

/// Decodes the character references of an attribute value or a text run: the named ones a
/// login page uses (`amp`, `lt`, `gt`, `quot`, `apos`, `nbsp`) and every numeric one. Unknown
/// references stay as written.
#[must_use]
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[1..]
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '#')
            .map_or(rest.len(), |i| i + 1);
        let body = &rest[1..end];
        let decoded = match body {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => body.strip_prefix('#').and_then(|num| {
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse().ok(),
                };
                code.and_then(char::from_u32)
            }),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                // The ';' is optional for these; consume it when present.
                rest = rest[end..].strip_prefix(';').unwrap_or(&rest[end..]);
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every `<form>` of `html`, with its controls. Controls outside any form are ignored, as is a
/// `<form>` nested in another (as browsers do).
#[must_use]
pub fn forms(html: &str) -> Vec<Form> {
    let mut out: Vec<Form> = Vec::new();
    let mut open = false;
    // The open <select>: its name, the first option's value, the selected option's value.
    let mut select: Option<(String, Option<String>, Option<String>)> = None;
    // An <option> without a value attribute takes its text.
    let mut option_text: Option<bool> = None;
    // The open <textarea>'s name.
    let mut textarea: Option<String> = None;
    for token in Tokens::new(html) {
        match token {
            Token::Start(tag) => match tag.name.as_str() {
                "form" if !open => {
                    open = true;
                    out.push(Form {
                        action: tag.get("action").map(str::to_owned),
                        method: tag.get("method").unwrap_or("get").to_ascii_lowercase(),
                        fields: Vec::new(),
                        buttons: Vec::new(),
                    });
                }
                _ if !open => {}
                "input" => {
                    let Some(form) = out.last_mut() else { continue };
                    let Some(name) = tag.get("name") else {
                        continue;
                    };
                    if tag.has("disabled") {
                        continue;
                    }
                    let kind = tag.get("type").unwrap_or("text").to_ascii_lowercase();
                    let value = tag.get("value");
                    match kind.as_str() {
                        "submit" => form
                            .buttons
                            .push((name.to_owned(), value.unwrap_or("Submit").to_owned())),
                        "image" | "reset" | "button" | "file" => {}
                        "checkbox" | "radio" => {
                            if tag.has("checked") {
                                form.fields
                                    .push((name.to_owned(), value.unwrap_or("on").to_owned()));
                            }
                        }
                        _ => form
                            .fields
                            .push((name.to_owned(), value.unwrap_or_default().to_owned())),
                    }
                }
                "button" => {
                    let Some(form) = out.last_mut() else { continue };
                    let kind = tag.get("type").unwrap_or("submit").to_ascii_lowercase();
                    if kind == "submit" && !tag.has("disabled") {
                        form.buttons.push((
                            tag.get("name").unwrap_or_default().to_owned(),
                            tag.get("value").unwrap_or_default().to_owned(),
                        ));
                    }
                }
                "textarea" => {
                    textarea = tag
                        .get("name")
                        .filter(|_| !tag.has("disabled"))
                        .map(str::to_owned);
                }
                "select" => {
                    select = tag
                        .get("name")
                        .filter(|_| !tag.has("disabled"))
                        .map(|n| (n.to_owned(), None, None));
                }
                "option" => {
                    if let Some((_, first, selected)) = select.as_mut() {
                        match tag.get("value") {
                            Some(value) => {
                                if first.is_none() {
                                    *first = Some(value.to_owned());
                                }
                                if tag.has("selected") {
                                    *selected = Some(value.to_owned());
                                }
                                option_text = None;
                            }
                            None => option_text = Some(tag.has("selected")),
                        }
                    }
                }
                _ => {}
            },
            Token::Text(text) => {
                if let Some(name) = textarea.take() {
                    if let Some(form) = out.last_mut() {
                        // One leading newline after <textarea> is not part of the value.
                        let text = text.strip_prefix('\n').unwrap_or(text);
                        form.fields.push((name, decode_entities(text)));
                    }
                } else if let (Some(is_selected), Some((_, first, selected))) =
                    (option_text.take(), select.as_mut())
                {
                    let value = decode_entities(text.trim());
                    if first.is_none() {
                        *first = Some(value.clone());
                    }
                    if is_selected {
                        *selected = Some(value);
                    }
                }
            }
            Token::End(name) => match name.as_str() {
                "form" => open = false,
                "textarea" => {
                    // An empty textarea yields no text token.
                    if let (Some(name), Some(form)) = (textarea.take(), out.last_mut()) {
                        form.fields.push((name, String::new()));
                    }
                }
                "select" => {
                    if let (Some((name, first, selected)), Some(form)) =
                        (select.take(), out.last_mut())
                        && let Some(value) = selected.or(first)
                    {
                        form.fields.push((name, value));
                    }
                }
                _ => {}
            },
        }
    }
    out
}

/// The text of a page, squeezed, for error messages: the `<title>` and the first words.
#[must_use]
pub fn summary(html: &str) -> String {
    let mut title = None;
    let mut in_title = false;
    let mut words = String::new();
    let mut skip = false;
    for token in Tokens::new(html) {
        match token {
            Token::Start(tag) => {
                in_title = tag.name == "title";
                skip = matches!(tag.name.as_str(), "script" | "style");
            }
            Token::End(_) => {
                in_title = false;
                skip = false;
            }
            Token::Text(text) if in_title => {
                title = Some(decode_entities(text.trim()));
            }
            Token::Text(text) if !skip => {
                for word in text.split_whitespace() {
                    if words.len() > 300 {
                        break;
                    }
                    if !words.is_empty() {
                        words.push(' ');
                    }
                    words.push_str(&decode_entities(word));
                }
            }
            Token::Text(_) => {}
        }
    }
    match title {
        Some(title) if !title.is_empty() => format!("\"{title}\": {words}"),
        _ => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    /// The dev-interaction login page of the Node.js `oidc-provider` (older releases: one
    /// action per prompt).
    const NODE_LOGIN: &str = r#"<!DOCTYPE html>
<html >
  <head>
    <meta charset="utf-8">
    <title>Sign-in</title>
    <style>
      .login-card input[type=text], input[type=email], input[type=password] { height: 44px; }
      .x::before { content: "<form>"; }
    </style>
  </head>
  <body>
    <div class="login-card">
      <h1>Sign-in</h1>
      <form autocomplete="off" action="/interaction/Fo0_b4r-UID/login" method="post">
        <input required type="text" name="login" placeholder="Enter any login" autofocus="on">
        <input required type="password" name="password" placeholder="and password">
        <label><input type="checkbox" name="remember" value="yes" checked="yes">Stay signed in</label>
        <button type="submit" class="login login-submit">Sign-in</button>
      </form>
      <div class="login-help">
        <a href="/interaction/Fo0_b4r-UID/abort">[ Cancel ]</a>
      </div>
    </div>
    <div class="grant-debug"><details><summary>DEBUG</summary>
      <div>PARAMS <br> ======== <br> client_id: 'rp'<br/>redirect_uri: 'http://a/cb?x=1&amp;y=2'</div>
    </details></div>
  </body>
</html>"#;

    const NODE_CONSENT: &str = r#"<div class="login-card"><h1>Authorize</h1>
<ul>
  <li>scopes:</li>
  <ul><li>profile</li><li>email</li></ul>
</ul>
<form autocomplete="off" action="/interaction/Fo0_b4r-UID/confirm" method="post">
  <input type="hidden" name="prompt" value="consent"/>
  <button autofocus type="submit" class="login login-submit">Continue</button>
</form></div>"#;

    #[test]
    fn oidc_provider_login_page() {
        let forms = forms(NODE_LOGIN);
        assert_eq!(forms.len(), 1, "{forms:?}");
        let form = &forms[0];
        assert_eq!(
            form.action.as_deref(),
            Some("/interaction/Fo0_b4r-UID/login")
        );
        assert_eq!(form.method, "post");
        assert_eq!(
            form.fields,
            vec![
                pair("login", ""),
                pair("password", ""),
                pair("remember", "yes")
            ]
        );
        assert_eq!(form.buttons, vec![pair("", "")]);
        let fill = [pair("login", "alice"), pair("password", "pw")];
        assert_eq!(
            form.submission(&fill),
            vec![
                pair("remember", "yes"),
                pair("login", "alice"),
                pair("password", "pw")
            ]
        );
        assert!(summary(NODE_LOGIN).starts_with("\"Sign-in\": Sign-in"));
    }

    #[test]
    fn oidc_provider_consent_page() {
        let forms = forms(NODE_CONSENT);
        assert_eq!(forms.len(), 1);
        assert_eq!(
            forms[0].action.as_deref(),
            Some("/interaction/Fo0_b4r-UID/confirm")
        );
        assert_eq!(forms[0].fields, vec![pair("prompt", "consent")]);
        assert_eq!(forms[0].submission(&[]), vec![pair("prompt", "consent")]);
        // The login values are not sent with a form that does not ask for them.
        let fill = [pair("login", "alice"), pair("password", "pw")];
        assert_eq!(forms[0].submission(&fill), vec![pair("prompt", "consent")]);
    }

    #[test]
    fn the_demo_pages() {
        // The shape of the demo's login and consent forms (demo/src/pages.rs).
        let login = "<form method=\"post\" action=\"/login\">\
            <input type=\"hidden\" name=\"interaction\" value=\"i&amp;d\">\
            <input type=\"hidden\" name=\"csrf\" value=\"c-&quot;x&quot;\">\
            <label for=\"username\">Username</label>\
            <input type=\"text\" id=\"username\" name=\"username\" value=\"\" required autofocus>\
            <input type=\"password\" id=\"password\" name=\"password\" required>\
            <div class=\"actions\"><button type=\"submit\" class=\"primary\">Sign in</button>\
            <button type=\"submit\" name=\"cancel\" value=\"1\" formnovalidate>Cancel</button></div>\
            </form>";
        let form = &forms(login)[0];
        assert_eq!(form.action.as_deref(), Some("/login"));
        assert_eq!(
            form.fields,
            vec![
                pair("interaction", "i&d"),
                pair("csrf", "c-\"x\""),
                pair("username", ""),
                pair("password", ""),
            ]
        );
        // The first button has no name: nothing is added for it (not the cancel button).
        let sent = form.submission(&[pair("username", "alice"), pair("extra", "1")]);
        assert!(!sent.iter().any(|(n, _)| n == "cancel"), "{sent:?}");
        assert_eq!(
            sent,
            vec![
                pair("interaction", "i&d"),
                pair("csrf", "c-\"x\""),
                pair("password", ""),
                pair("username", "alice"),
                pair("extra", "1"),
            ]
        );
        let consent = "<form method=\"post\" action=\"/consent\">\
            <input type=\"hidden\" name=\"interaction\" value=\"i\">\
            <input type=\"hidden\" name=\"csrf\" value=\"c\">\
            <button type=\"submit\" name=\"decision\" value=\"approve\" class=\"primary\">Allow</button>\
            <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>";
        let sent = forms(consent)[0].submission(&[]);
        assert_eq!(
            sent,
            vec![
                pair("interaction", "i"),
                pair("csrf", "c"),
                pair("decision", "approve")
            ]
        );
    }

    #[test]
    fn quoting_case_and_entities() {
        let html = "<FORM Action='/a?x=1&amp;y=2' METHOD=POST>\
            <INPUT TYPE=hidden NAME=bare VALUE=v&#38;w>\
            <input type='hidden' name='single' value='say \"hi\"'>\
            <input type=\"hidden\" name=\"num\" value=\"&#x27;&#39;&lt;&gt;&apos;&amp\">\
            <input name = \"spaced\" value = \"s p\" />\
            <input type=\"hidden\" name=\"unknown\" value=\"&copy;&;&#xZZ;\">\
            <input type=\"checkbox\" name=\"off\" value=\"1\">\
            <input type=\"radio\" name=\"on\" checked>\
            <input type=\"hidden\" name=\"gone\" value=\"x\" disabled>\
            <input type=\"submit\" name=\"go\" value=\"Go &amp; see\">\
            </form>";
        let form = &forms(html)[0];
        assert_eq!(form.action.as_deref(), Some("/a?x=1&y=2"));
        assert_eq!(form.method, "post");
        assert_eq!(
            form.fields,
            vec![
                pair("bare", "v&w"),
                pair("single", "say \"hi\""),
                pair("num", "''<>'&"),
                pair("spaced", "s p"),
                pair("unknown", "&copy;&;&#xZZ;"),
                pair("on", "on"),
            ]
        );
        assert_eq!(form.buttons, vec![pair("go", "Go & see")]);
        assert_eq!(form.submission(&[]).last(), Some(&pair("go", "Go & see")));
    }

    #[test]
    fn comments_scripts_textarea_select_and_several_forms() {
        let html = "<!-- <form action=\"/commented\"> -->\
            <script>if (a < b) { document.write('<form action=\"/script\">'); }</script>\
            <input name=\"outside\" value=\"x\">\
            <form action=\"/one\" method=\"post\">\
              <textarea name=\"t\">\nline &lt;1&gt;</textarea>\
              <textarea name=\"empty\"></textarea>\
              <select name=\"s\"><option value=\"a\">A<option value=\"b\" selected>B</select>\
              <select name=\"u\"><option>first</option><option>second</option></select>\
              <button type=\"button\" name=\"no\">No</button>\
            </form>\
            <form><input type=\"hidden\" name=\"k\" value=\"v\"></form>";
        let all = forms(html);
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(all[0].action.as_deref(), Some("/one"));
        assert_eq!(
            all[0].fields,
            vec![
                pair("t", "line <1>"),
                pair("empty", ""),
                pair("s", "b"),
                pair("u", "first"),
            ]
        );
        assert!(all[0].buttons.is_empty());
        assert_eq!(all[1].action, None);
        assert_eq!(all[1].method, "get");
        assert!(all[1].has_field("k"));
    }

    #[test]
    fn malformed_input_does_not_hang_or_panic() {
        for html in [
            "<",
            "<form",
            "<form action=\"/x",
            "<form action='/x' <input name=a value='b",
            "< form>",
            "<form/><input/name=a/value=b>",
            "&",
            "&#",
            "&#x;",
            "<form><input name=\"a\" value=\"&#1114112;\"></form>",
            "<textarea name=x>",
            "<!-- never closed",
            "<form><select name=s><option>",
            "<form>\u{e9}<input name=\"\u{e9}\" value=\"\u{1f600}\"></form>",
        ] {
            let _ = forms(html);
            let _ = summary(html);
        }
        assert_eq!(
            forms("<form><input name=\"\u{e9}\" value=\"\u{1f600}&amp;\"></form>")[0].fields,
            vec![pair("\u{e9}", "\u{1f600}&")]
        );
    }
}
