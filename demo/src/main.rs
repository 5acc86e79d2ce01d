//! The demo OpenID Provider: `cargo run -p oidc-hybrid-demo`, then open
//! <http://127.0.0.1:8080/playground>. `--help` lists the options.

use std::process::ExitCode;

use oidc_hybrid_demo::{self as demo, Command, LogFormat, Options};
use tracing_subscriber::EnvFilter;

/// Logs to standard error, as text or as JSON lines (each with the span of its request:
/// method, path and request id).
fn init_logs(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == LogFormat::Json {
        logs.json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::from_args(std::env::args().skip(1)) {
        Ok(Command::Run(options)) => options,
        Ok(_) => {
            print!("{}", demo::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("demo: {message}");
            return ExitCode::from(2);
        }
    };
    init_logs(options.log_format);
    match demo::run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("demo: {error}");
            ExitCode::FAILURE
        }
    }
}
