//! The command line.

use std::path::PathBuf;
use std::time::Duration;

/// The help text.
pub(crate) const USAGE: &str = "\
flowbench: a loopback load test of an OpenID Provider's hybrid flow

Usage:
  cargo run --release -p oidc-hybrid-tests --bin flowbench -- \\
      --issuer URL --client-id ID --client-secret SECRET --redirect-uri URI [OPTIONS]

Each of --concurrency tasks loops whole flows, playing both the browser and the relying party:
  authorize  GET the authorization endpoint (response_mode=fragment, fresh state and nonce,
             optionally PKCE S256) with the session cookie; the redirect is not followed: a
             302/303 to the redirect URI is expected and its fragment parsed
  token      POST the code to the token endpoint (grant_type=authorization_code)
  userinfo   (with --userinfo) GET the UserInfo endpoint with the access token
Latencies are measured per leg and per flow; every --validate-every'th flow is validated like a
relying party would (validation time is not part of the latencies).

Target:
  --issuer URL             the OP's issuer; endpoints come from
                           {issuer}/.well-known/openid-configuration (http:// on loopback;
                           this build has no TLS)
  --client-id ID           a registered client allowed the response type
  --client-secret SECRET   its secret (not needed with --auth-method none)
  --redirect-uri URI       one of its registered redirect URIs (never contacted)
  --auth-method M          basic (client_secret_basic: id and secret form-urlencoded, then
                           Base64, RFC 6749 2.3.1), post (client_secret_post) or none
                           (public client; use --pkce) (default basic)
  --response-type T        default \"code id_token\"; also \"code token\",
                           \"code id_token token\", \"code\"
  --scope S                default \"openid profile email\"
  --pkce                   send a fresh S256 code_challenge, redeem with its code_verifier
  --param NAME=VALUE       an extra authorization request parameter (repeatable)
  --userinfo               call UserInfo with the access token in every flow

Session (how the tool gets logged in at the OP):
  Before the load starts, one authorization request runs in a browser-like way: redirects on the
  OP's origin are followed by hand, and whenever a page (200) has a <form>, the form is filled
  in and submitted (its hidden inputs and their values, --form values replacing or adding
  fields by name, the first submit button's name and value if it has a name; the method and
  action of the form, the action resolved against the page URL), until a redirect to the
  redirect URI comes (the code in it is redeemed and validated as a check) or 12 requests have
  been made. The cookies set on the way are the session every flow of the load uses: they go
  with every authorization request (Set-Cookie answers during the load are kept, as a browser
  would), never with the token and UserInfo requests, which come from the relying party.
  --form NAME=VALUE        a value for the login form (repeatable), e.g. for this project's
                           demo: --form username=alice --form password=wonderland; for the
                           Node.js oidc-provider's development interactions:
                           --form login=alice --form password=any
  --cookie 'N=V; N2=V2'    start with these cookies for the OP's origin (an existing
                           session copied from a browser; repeatable); the check flow then
                           needs no login (forms are still filled in if a page comes)
  When a page has several forms, the first one with a field named by --form is submitted,
  else the first POST form, else the first form.
  --sessions N             log in N times, each in its own cookie jar (default 1); task i
                           uses session i mod N. Many users rather than one: an OP that keeps
                           per-grant or per-session state (e.g. oidc-provider reuses one grant
                           per user and client, and its memory adapter indexes every code and
                           token of a grant) is then not measured on one ever-growing grant.
                           Needs --form (not --cookie).

Load:
  --concurrency N          concurrent flows (default 8)
  --threads N              runtime worker threads of this tool (default 2)
  --warmup D               flows before measuring, not counted (default 2s)
  --duration D             how long to measure (default 10s); D like 500ms, 30s, 1.5s, 1m, 90
                           (seconds)
  --timeout D              per-request timeout (default 10s)
  --validate-every N       validate one flow in N (default 50; 1 = all; 0 = none): both ID
                           tokens' signatures against the JWKS (ES256, ES384, RS256/384/512,
                           PS256/384/512, EdDSA; by kid, or the key of the right type), iss,
                           aud = client_id, azp if present, exp and iat (60 s leeway), sub,
                           nonce, state round trip, the iss response parameter (RFC 9207) if
                           present, c_hash against the code (required in the front ID token),
                           at_hash against the access tokens when present, both ID tokens
                           agreeing (iss, sub, aud, azp, nonce, auth_time, acr, amr) and the
                           same sub at UserInfo
  --max-errors N           exit with status 1 when more errors than this (default 0)
  Flows count when they end within the measured window; errors count from the first flow of
  the warmup on. When the check flows after the login fail, the failure is printed and the
  load runs anyway, so that the report counts the errors by kind.

The OP's cost (Linux):
  --pid PID                the OP's process: its CPU time over the measurement from
                           /proc/PID/stat (utime + stime, all threads, in clock ticks) and from
                           /proc/PID/task/*/schedstat (ns on CPU per thread; finer, but a thread
                           that exits meanwhile takes its share with it), per flow; VmRSS
                           sampled every second
  --clk-tck N              clock ticks per second for /proc/PID/stat (default 100, Linux's
                           USER_HZ)
  --rss-trace FILE         write the RSS samples as `elapsed_s,rss_kib` lines
  This tool's own CPU per flow (/proc/self, schedstat when available) is reported too.

Output:
  A Markdown report on standard output; errors are counted by kind (HTTP status, error= in the
  redirect, missing parameter, validation failure) with the first few in detail.
  --json FILE              the same numbers as JSON: flows, duration_s, flows_per_s, errors,
                           error_kinds, validated, legs.{authorize,token,userinfo,flow}.
                           {count,p50_us,p90_us,p99_us,max_us} (count 0 for an unused leg),
                           op_cpu_s, op_cpu_us_per_flow, op_cpu_us_per_flow_schedstat,
                           client_cpu_us_per_flow, rss_kib.{start,end,max} (null when not
                           measured)
  -h, --help               this help

Exit status: 0 success; 1 errors above --max-errors, no flow completed, or discovery / session
bootstrap failed; 2 bad arguments.

State, nonce and PKCE verifiers come from a fast non-cryptographic generator (xoshiro256++)
seeded once per task from the operating system: unique and unpredictable enough for a load
test, not for a real relying party.

Example against the demo OP of this project:
  cargo build --release -p oidc-hybrid-demo
  RUST_LOG=warn target/release/oidc-hybrid-demo --addr 127.0.0.1:8080 & OP=$!
  cargo run --release -p oidc-hybrid-tests --bin flowbench -- --issuer http://127.0.0.1:8080 \\
      --client-id demo-client-es256 --auth-method post \\
      --client-secret demo-secret-for-the-playground-only-0123456789 \\
      --redirect-uri http://127.0.0.1:8080/playground/callback \\
      --form username=alice --form password=wonderland --userinfo \\
      --concurrency 32 --duration 30s --pid $OP
";

/// How the client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AuthMethod {
    /// `client_secret_basic`.
    Basic,
    /// `client_secret_post`.
    Post,
    /// A public client: `client_id` in the body.
    None,
}

/// Everything the command line says.
#[derive(Clone, Debug)]
pub(crate) struct Args {
    pub(crate) issuer: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<String>,
    pub(crate) redirect_uri: String,
    pub(crate) auth_method: AuthMethod,
    pub(crate) response_type: String,
    pub(crate) scope: String,
    pub(crate) pkce: bool,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) userinfo: bool,
    pub(crate) forms: Vec<(String, String)>,
    pub(crate) cookies: Vec<String>,
    pub(crate) concurrency: usize,
    pub(crate) sessions: usize,
    pub(crate) threads: usize,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    pub(crate) timeout: Duration,
    pub(crate) validate_every: u64,
    pub(crate) max_errors: u64,
    pub(crate) pid: Option<u32>,
    pub(crate) clk_tck: u64,
    pub(crate) rss_trace: Option<PathBuf>,
    pub(crate) json: Option<PathBuf>,
}

/// What to do.
#[derive(Debug)]
pub(crate) enum Command {
    Run(Box<Args>),
    Help,
}

/// Parses `500ms`, `30s`, `1.5s`, `1m`, `2h` or a bare number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration like 500ms, 30s, 1m");
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| bad())?;
    let scale = match unit.trim() {
        "ms" => 1e-3,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(bad()),
    };
    let secs = number * scale;
    if !secs.is_finite() || !(0.0..=1e7).contains(&secs) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

fn pair(option: &str, value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("{option} wants NAME=VALUE, got {value:?}")),
    }
}

fn number<T: core::str::FromStr>(option: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{option} wants a number, got {value:?}"))
}

/// Options that take no value.
const FLAGS: [&str; 2] = ["--pkce", "--userinfo"];
/// Options that take a value.
const VALUED: [&str; 22] = [
    "--issuer",
    "--client-id",
    "--client-secret",
    "--redirect-uri",
    "--auth-method",
    "--response-type",
    "--scope",
    "--param",
    "--form",
    "--cookie",
    "--concurrency",
    "--sessions",
    "--threads",
    "--warmup",
    "--duration",
    "--timeout",
    "--validate-every",
    "--max-errors",
    "--pid",
    "--clk-tck",
    "--rss-trace",
    "--json",
];

impl Args {
    /// Parses the arguments (without the program name).
    pub(crate) fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
        let mut issuer = None;
        let mut client_id = None;
        let mut redirect_uri = None;
        let mut out = Self {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: None,
            redirect_uri: String::new(),
            auth_method: AuthMethod::Basic,
            response_type: "code id_token".into(),
            scope: "openid profile email".into(),
            pkce: false,
            params: Vec::new(),
            userinfo: false,
            forms: Vec::new(),
            cookies: Vec::new(),
            concurrency: 8,
            sessions: 1,
            threads: 2,
            warmup: Duration::from_secs(2),
            duration: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
            validate_every: 50,
            max_errors: 0,
            pid: None,
            clk_tck: 100,
            rss_trace: None,
            json: None,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "-h" || arg == "--help" {
                return Ok(Command::Help);
            }
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value)),
                _ => (arg.clone(), None),
            };
            if FLAGS.contains(&name.as_str()) {
                if inline.is_some() {
                    return Err(format!("{name} takes no value"));
                }
                match name.as_str() {
                    "--pkce" => out.pkce = true,
                    _ => out.userinfo = true,
                }
                continue;
            }
            if !VALUED.contains(&name.as_str()) {
                return Err(format!("unknown argument {arg:?} (see --help)"));
            }
            let value = match inline {
                Some(value) => value.to_owned(),
                None => args
                    .next()
                    .ok_or_else(|| format!("{name} needs a value (see --help)"))?,
            };
            match name.as_str() {
                "--issuer" => issuer = Some(value),
                "--client-id" => client_id = Some(value),
                "--client-secret" => out.client_secret = Some(value),
                "--redirect-uri" => redirect_uri = Some(value),
                "--auth-method" => {
                    out.auth_method = match value.as_str() {
                        "basic" | "client_secret_basic" => AuthMethod::Basic,
                        "post" | "client_secret_post" => AuthMethod::Post,
                        "none" => AuthMethod::None,
                        _ => {
                            return Err(format!(
                                "--auth-method is basic, post or none, not {value:?}"
                            ));
                        }
                    }
                }
                "--response-type" => out.response_type = value,
                "--scope" => out.scope = value,
                "--param" => out.params.push(pair(&name, &value)?),
                "--form" => out.forms.push(pair(&name, &value)?),
                "--cookie" => out.cookies.push(value),
                "--concurrency" => out.concurrency = number(&name, &value)?,
                "--sessions" => out.sessions = number(&name, &value)?,
                "--threads" => out.threads = number(&name, &value)?,
                "--warmup" => out.warmup = parse_duration(&value)?,
                "--duration" => out.duration = parse_duration(&value)?,
                "--timeout" => out.timeout = parse_duration(&value)?,
                "--validate-every" => out.validate_every = number(&name, &value)?,
                "--max-errors" => out.max_errors = number(&name, &value)?,
                "--pid" => out.pid = Some(number(&name, &value)?),
                "--clk-tck" => out.clk_tck = number(&name, &value)?,
                "--rss-trace" => out.rss_trace = Some(value.into()),
                _ => out.json = Some(value.into()),
            }
        }
        out.issuer = issuer.ok_or("--issuer is required (see --help)")?;
        out.client_id = client_id.ok_or("--client-id is required (see --help)")?;
        out.redirect_uri = redirect_uri.ok_or("--redirect-uri is required (see --help)")?;
        if out.auth_method != AuthMethod::None && out.client_secret.is_none() {
            return Err("--client-secret is required unless --auth-method none".into());
        }
        if out.concurrency == 0 || out.threads == 0 || out.clk_tck == 0 || out.sessions == 0 {
            return Err(
                "--concurrency, --sessions, --threads and --clk-tck must be at least 1".into(),
            );
        }
        if out.sessions > 1 && !out.cookies.is_empty() {
            return Err("--sessions above 1 logs in with --form; --cookie is one session".into());
        }
        if out.duration.is_zero() {
            return Err("--duration must be more than 0".into());
        }
        if !out.response_type.split(' ').any(|t| t == "code") {
            return Err(format!(
                "--response-type {:?}: flowbench redeems a code, the response type must include \
                 \"code\"",
                out.response_type
            ));
        }
        if !out.redirect_uri.contains("://") && !out.redirect_uri.contains(':') {
            return Err(format!(
                "--redirect-uri {:?} is not an absolute URI",
                out.redirect_uri
            ));
        }
        Ok(Command::Run(Box::new(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(list: &[&str]) -> Result<Command, String> {
        Args::parse(list.iter().map(|s| (*s).to_owned()))
    }

    const BASE: [&str; 8] = [
        "--issuer",
        "http://127.0.0.1:8080",
        "--client-id",
        "rp",
        "--client-secret",
        "s",
        "--redirect-uri",
        "http://127.0.0.1:8080/cb",
    ];

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn arguments() {
        let mut list = BASE.to_vec();
        list.extend([
            "--form",
            "username=alice",
            "--form=password=a=b",
            "--cookie",
            "sid=1; other=2",
            "--pkce",
            "--userinfo",
            "--concurrency=32",
            "--duration",
            "500ms",
            "--auth-method",
            "post",
            "--pid",
            "42",
        ]);
        let Ok(Command::Run(args)) = parse(&list) else {
            panic!("parses")
        };
        assert_eq!(args.issuer, "http://127.0.0.1:8080");
        assert_eq!(
            args.forms,
            vec![
                ("username".into(), "alice".into()),
                ("password".into(), "a=b".into())
            ]
        );
        assert_eq!(args.cookies, vec!["sid=1; other=2".to_owned()]);
        assert!(args.pkce && args.userinfo);
        assert_eq!(args.concurrency, 32);
        assert_eq!(args.duration, Duration::from_millis(500));
        assert_eq!(args.auth_method, AuthMethod::Post);
        assert_eq!(args.pid, Some(42));
        assert_eq!(args.response_type, "code id_token");
        assert_eq!(args.validate_every, 50);
        assert_eq!(args.sessions, 1);
        assert!(matches!(parse(&["--help"]), Ok(Command::Help)));
        let mut many = BASE.to_vec();
        many.extend(["--sessions", "16", "--form", "username=alice"]);
        let Ok(Command::Run(args)) = parse(&many) else {
            panic!("parses")
        };
        assert_eq!(args.sessions, 16);
    }

    #[test]
    fn bad_arguments() {
        assert!(parse(&[]).is_err());
        assert!(parse(&BASE[..6]).is_err(), "no redirect URI");
        assert!(parse(&BASE[..2]).is_err(), "no client");
        for extra in [
            &["--frobnicate"][..],
            &["--form", "novalue"],
            &["--concurrency", "0"],
            &["--sessions", "0"],
            &["--sessions", "2", "--cookie", "sid=1"],
            &["--duration", "soon"],
            &["--auth-method", "jwt"],
            &["--response-type", "id_token"],
            &["--pkce=yes"],
            &["--pid"],
        ] {
            let mut list = BASE.to_vec();
            list.extend_from_slice(extra);
            assert!(parse(&list).is_err(), "{extra:?}");
        }
        // A public client needs no secret.
        let mut list = vec![BASE[0], BASE[1], BASE[2], BASE[3], BASE[6], BASE[7]];
        assert!(parse(&list).is_err());
        list.extend(["--auth-method", "none"]);
        assert!(matches!(parse(&list), Ok(Command::Run(_))));
    }
}
