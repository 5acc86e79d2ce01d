//! `flowbench`: a loopback load test of any OpenID Provider's hybrid flow.
//!
//! It discovers the provider, logs in once like a browser (following redirects and filling in
//! the login and consent forms, or starting from `--cookie`), then runs `--concurrency` tasks
//! that loop whole flows — authorization request with the session cookie, code redemption at
//! the token endpoint, optionally UserInfo — and reports per-leg latency percentiles,
//! throughput, errors by kind, the provider's CPU time per flow and its memory, validating a
//! sample of the flows the way a relying party would. `--help` documents everything.

mod args;
mod bootstrap;
mod flow;
mod procfs;
mod stats;
mod validate;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::cookie::Jar;
use reqwest::{Client, Url};

use crate::args::{Args, AuthMethod, Command, USAGE};
use crate::flow::{Cookies, DETAILS_KEPT, Rng, Secrets, Target, TaskResult, Window};
use crate::procfs::{Cpu, Proc};
use crate::stats::{CpuDelta, Report, Rss, Summary};
use crate::validate::Verifier;

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Command::Run(args)) => args,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("flowbench: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("flowbench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(report) => {
            print!("{}", report.markdown());
            if let Some(path) = &args.json {
                let text = serde_json::to_string_pretty(&report.json()).unwrap_or_default();
                if let Err(e) = std::fs::write(path, text + "\n") {
                    eprintln!("flowbench: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
            if let (Some(path), Some(rss)) = (&args.rss_trace, &report.rss) {
                let mut text = String::from("elapsed_s,rss_kib\n");
                for (t, kib) in &rss.samples {
                    text.push_str(&format!("{t:.3},{kib}\n"));
                }
                if let Err(e) = std::fs::write(path, text) {
                    eprintln!("flowbench: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
            if report.errors > args.max_errors {
                eprintln!(
                    "flowbench: {} errors (more than --max-errors {})",
                    report.errors, args.max_errors
                );
                ExitCode::FAILURE
            } else if report.flows() == 0 {
                eprintln!("flowbench: no flow completed within the measured window");
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            eprintln!("flowbench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What the monitor thread measured over the window.
#[derive(Debug, Default)]
struct Measured {
    op_cpu: Option<CpuDelta>,
    client_cpu: Option<CpuDelta>,
    rss: Option<Rss>,
    warnings: Vec<String>,
}

/// Sleeps (the thread) until `when`.
fn sleep_until(when: Instant) {
    let now = Instant::now();
    if when > now {
        std::thread::sleep(when - now);
    }
}

/// The monitor: on its own thread so that the load's scheduling cannot delay its readings.
/// Reads both processes' CPU time at the window's start and end and samples the OP's RSS
/// every second in between.
fn monitor(window: Window, op: Option<Proc>, clk_tck: u64) -> Measured {
    let me = Proc::myself();
    let mut out = Measured::default();
    sleep_until(window.start);
    let op_before = op.as_ref().map(Proc::cpu);
    let me_before = me.cpu().ok();
    let mut rss = Rss::default();
    let mut next = window.start;
    loop {
        sleep_until(next);
        if let Some(kib) = op.as_ref().and_then(Proc::rss_kib) {
            rss.samples.push((
                next.saturating_duration_since(window.start).as_secs_f64(),
                kib,
            ));
        }
        if next >= window.end {
            break;
        }
        next = (next + Duration::from_secs(1)).min(window.end);
    }
    let op_after = op.as_ref().map(Proc::cpu);
    let me_after = me.cpu().ok();
    out.client_cpu = me_before
        .zip(me_after)
        .map(|(a, b): (Cpu, Cpu)| CpuDelta::between(&a, &b, clk_tck));
    match (op_before, op_after) {
        (Some(Ok(a)), Some(Ok(b))) => out.op_cpu = Some(CpuDelta::between(&a, &b, clk_tck)),
        (Some(Err(e)), _) | (_, Some(Err(e))) => {
            out.warnings.push(format!("the OP's CPU time: {e}"));
        }
        _ => {}
    }
    if op.is_some() {
        out.rss = Some(rss);
    }
    out
}

/// Adds `--cookie` values (`name=value; name2=value2`) to the jar for `origin`.
fn preload_cookies(jar: &Jar, cookies: &[String], origin: &Url) -> Result<(), String> {
    for list in cookies {
        for cookie in list.split(';').map(str::trim).filter(|c| !c.is_empty()) {
            if !cookie.contains('=') {
                return Err(format!("--cookie: {cookie:?} is not name=value"));
            }
            jar.add_cookie_str(&format!("{cookie}; Path=/"), origin);
        }
    }
    Ok(())
}

async fn run(args: &Args) -> Result<Report, String> {
    let op = match args.pid {
        Some(pid) => {
            let op = Proc::pid(pid);
            op.check().map_err(|e| format!("--pid {pid}: {e}"))?;
            Some(op)
        }
        None => None,
    };
    // Clients that never follow redirects: one browser per session, each with its cookie jar
    // for the bootstrap, and the load's (keep-alive pool; the session cookie is added by hand to
    // the authorization requests only, see `flow::Cookies`).
    let builder = || {
        Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(args.timeout)
            .connect_timeout(args.timeout)
            .tcp_nodelay(true)
    };
    let client = builder()
        .pool_max_idle_per_host(args.concurrency * 2 + 4)
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;

    let (discovery, jwks) = bootstrap::discover(&client, &args.issuer).await?;
    let verifier = Verifier::new(&jwks, &args.issuer, &args.client_id)
        .map_err(|e| format!("JWKS {}: {e}", discovery.jwks_uri))?;
    eprintln!(
        "flowbench: {} ({} usable JWKS keys); authorization {}, token {}{}",
        args.issuer,
        verifier.key_count(),
        discovery.authorization_endpoint,
        discovery.token_endpoint,
        match (&discovery.userinfo_endpoint, args.userinfo) {
            (Some(url), true) => format!(", userinfo {url}"),
            _ => String::new(),
        }
    );
    let target = Arc::new(Target::new(args, &discovery, verifier)?);
    let authorization = Url::parse(&discovery.authorization_endpoint)
        .map_err(|e| format!("authorization_endpoint: {e}"))?;
    let origin = Url::parse(&authorization.origin().ascii_serialization())
        .map_err(|e| format!("authorization_endpoint: {e}"))?;

    // The sessions: one authorization each like a browser, its code redeemed and validated;
    // then one more flow on the session alone, as every flow of the load will. Failures of
    // these checks are reported and the load still runs: it counts and reports them by kind.
    let mut rng = Rng::from_os();
    let mut checked = true;
    let mut sessions = Vec::with_capacity(args.sessions);
    for number in 0..args.sessions {
        let jar = Arc::new(Jar::default());
        let browser = builder()
            .cookie_provider(Arc::clone(&jar))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        preload_cookies(&jar, &args.cookies, &origin)?;
        let secrets = Secrets::new(&mut rng, args.pkce);
        let url = target.authorize_url(&secrets);
        let (location, trace) =
            bootstrap::session(&browser, url.as_str(), &target.redirect_uri, &args.forms)
                .await
                .map_err(|e| format!("session bootstrap: {e}"))?;
        if number == 0 {
            eprintln!("flowbench: session ready after {} requests:", trace.len());
            for line in &trace {
                eprintln!("  {line}");
            }
        }
        let now = Instant::now();
        if let Err(f) = target
            .complete(&client, &location, &secrets, true, now, now)
            .await
        {
            checked = false;
            eprintln!(
                "flowbench: the login's authorization response came, but its flow failed: {}",
                f.describe()
            );
        }
        let cookies = Arc::new(Cookies::new(jar, authorization.clone()));
        if let Err(f) = target.flow(&client, &cookies, &mut rng, true).await {
            checked = false;
            eprintln!(
                "flowbench: a check flow on the session failed: {}",
                f.describe()
            );
        }
        sessions.push(cookies);
    }
    if args.sessions > 1 {
        eprintln!("flowbench: {} sessions ready", sessions.len());
    }
    eprintln!(
        "flowbench: {}; {} tasks, warmup {:?}, measuring {:?}",
        if checked {
            "check flows validated"
        } else {
            "running the load anyway"
        },
        args.concurrency,
        args.warmup,
        args.duration
    );

    // The load.
    let launch = Instant::now();
    let window = Window {
        start: launch + args.warmup,
        end: launch + args.warmup + args.duration,
    };
    let watcher = {
        let op = op.clone();
        let clk_tck = args.clk_tck;
        std::thread::Builder::new()
            .name("flowbench-monitor".into())
            .spawn(move || monitor(window, op, clk_tck))
            .map_err(|e| format!("monitor thread: {e}"))?
    };
    let mut tasks = Vec::with_capacity(args.concurrency);
    for index in 0..args.concurrency {
        tasks.push(tokio::spawn(flow::run_task(
            Arc::clone(&target),
            client.clone(),
            Arc::clone(&sessions[index % sessions.len()]),
            window,
            launch,
            args.validate_every,
            index as u64,
        )));
    }
    let mut total = TaskResult::default();
    for task in tasks {
        total.merge(task.await.map_err(|e| format!("a load task failed: {e}"))?);
    }
    let measured = tokio::task::spawn_blocking(move || watcher.join())
        .await
        .map_err(|e| format!("monitor thread: {e}"))?
        .map_err(|_| "the monitor thread panicked".to_owned())?;
    for warning in &measured.warnings {
        eprintln!("flowbench: warning: {warning}");
    }

    total.details.sort_by_key(|(at, _)| *at);
    total.details.truncate(DETAILS_KEPT);
    let auth = match args.auth_method {
        AuthMethod::Basic => "client_secret_basic",
        AuthMethod::Post => "client_secret_post",
        AuthMethod::None => "none",
    };
    let on = |b: bool| if b { "on" } else { "off" };
    Ok(Report {
        title: format!(
            "flowbench: {}, client {}, response_type \"{}\"",
            args.issuer, args.client_id, args.response_type
        ),
        settings: format!(
            "{} concurrent flows over {} session(s) on {} threads, warmup {:?}, measured {:?}; \
             {auth}, PKCE {}, UserInfo {}, validating {}",
            args.concurrency,
            args.sessions,
            args.threads,
            args.warmup,
            args.duration,
            on(args.pkce),
            on(args.userinfo),
            match args.validate_every {
                0 => "no flow".to_owned(),
                1 => "every flow".to_owned(),
                n => format!("1 flow in {n}"),
            }
        ),
        duration: args.duration,
        authorize: Summary::of(&mut total.authorize),
        token: Summary::of(&mut total.token),
        userinfo: args.userinfo.then(|| Summary::of(&mut total.userinfo)),
        flow: Summary::of(&mut total.flow),
        validated: total.validated,
        errors: total.errors,
        kinds: total.kinds,
        details: total
            .details
            .into_iter()
            .map(|(at, d)| format!("[+{:.3} s] {d}", at.as_secs_f64()))
            .collect(),
        op_cpu: measured.op_cpu,
        client_cpu: measured.client_cpu,
        rss: measured.rss,
        clk_tck: args.clk_tck,
    })
}
