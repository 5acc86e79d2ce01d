//! The smallest host of `oidc-hybrid-axum`: a provider on a memory store with one client, a
//! host whose "login page" only names the step, and [`oidc_hybrid_axum::serve`] with its time
//! limits. `cargo run -p oidc-hybrid-axum --example minimal_host`, then open
//! <http://127.0.0.1:8080/.well-known/openid-configuration>.
#![allow(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    reason = "a std example"
)]

use std::sync::Arc;

use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use oidc_hybrid::{
    BoundRequest, Claims, ClaimsSource, Client, ClientMetadata, Config, JwsAlgorithm, Provider,
    Signer, Step, Subject, SystemClock,
};
use oidc_hybrid_axum::{Authentication, Host, Timeouts};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::{OsRandom, RsaSigner};

const RS256_PEM: &str = include_str!("../../../tests/keys/rs256.pem");

struct MyHost;

impl ClaimsSource for MyHost {
    type Error = core::convert::Infallible;

    async fn claims(&self, _subject: &Subject) -> Result<Option<Claims>, Self::Error> {
        Ok(Some(Claims::new()))
    }
}

impl Host for MyHost {
    async fn authentication(&self, _parts: &Parts) -> Option<Authentication> {
        None // read the host's session cookie here
    }

    async fn interact(&self, request: BoundRequest, step: Step, _parts: &Parts) -> Response {
        // keep `request` in the server-side session, then render the page for `step`
        let _ = request;
        Html(format!("<p>{step:?} page</p>")).into_response()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn core::error::Error>> {
    let metadata = ClientMetadata {
        client_id: "rp".into(),
        client_secret: Some("an-example-secret-long-enough-0123456789".into()),
        redirect_uris: vec!["https://rp.example/cb".into()],
        ..ClientMetadata::default()
    };
    let store = MemoryStore::with_clients([Client::register(metadata)?]);
    let key = RsaSigner::from_pkcs8_pem(RS256_PEM, JwsAlgorithm::RS256, None)?;
    let keys: Vec<Box<dyn Signer>> = vec![Box::new(key)];
    let config = Config::new("http://127.0.0.1:8080")?;
    let provider = Provider::new(config, store, keys, SystemClock, OsRandom)?;
    let app = oidc_hybrid_axum::router(Arc::new(provider), MyHost);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    oidc_hybrid_axum::serve(listener, app, Timeouts::default(), shutdown).await;
    Ok(())
}
