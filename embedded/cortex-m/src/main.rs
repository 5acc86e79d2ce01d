//! One whole OpenID Connect `code id_token` flow (OIDC Core §3.3) on a Cortex-M4F, as QEMU's
//! `mps2-an386` emulates it: authorize → approve → token, both ID tokens verified, the code's
//! replay refused. Prints `measure: name=value` lines, then `OK`; anything else is a failure.
//!
//! **Not a secure device.** The clock is fixed, the "random" source is a counter, and the keys
//! are the repository's published test keys (see [`insecure`] and [`keys`]): all of it is there
//! so the example is deterministic, and all of it must be replaced on a real device.

#![no_std]
#![no_main]

extern crate alloc;

mod heap;
mod insecure;
mod keys;
mod measure;
mod out;
#[cfg(not(feature = "op-only"))]
mod relying_party;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::future::Future;

use cortex_m_rt::entry;
use oidc_hybrid::storage::model::complete_now;
use oidc_hybrid::{
    Approval, Client, ClientMetadata, Config, Consent, JwsAlgorithm, Params, Provider, Reject,
    SecretDigest, Session, Signer, Step, Storage, Subject, UnixTime,
};
use oidc_hybrid_embedded_store::{Capacity, EmbeddedStore};
use oidc_hybrid_rustcrypto::Es256Signer;

use crate::insecure::{CounterRandom, FixedClock, NOW};
use crate::out::{check, fail};

const ISSUER: &str = "https://op.example";
const CLIENT_ID: &str = "device-rp";
/// NOT SECRET: an example client secret.
const CLIENT_SECRET: &str = "an-example-secret-of-at-least-32-characters";
const REDIRECT_URI: &str = "https://rp.example/cb";
const NONCE: &str = "n-0S6_WzA2Mj";
const STATE: &str = "af0ifjsldkj";
/// The client's `id_token_signed_response_alg`.
#[cfg(not(feature = "rs256-flow"))]
const ID_TOKEN_ALG: JwsAlgorithm = JwsAlgorithm::ES256;
#[cfg(feature = "rs256-flow")]
const ID_TOKEN_ALG: JwsAlgorithm = JwsAlgorithm::RS256;

type Op = Provider<EmbeddedStore, FixedClock, CounterRandom>;

#[entry]
fn main() -> ! {
    heap::init();
    let stack = measure::paint_stack();
    let mut counter = measure::Instructions::new();
    out::measure("calibration_loop_2000000_insns", counter.calibrate());

    let (op, setup) = counter.count(provider);
    out::measure("setup_insns", setup);
    let baseline = heap::current();
    heap::reset_peak();
    let ((), instructions) = counter.count(|| flow(&op));
    out::measure("flow_insns", instructions);
    out::measure("heap_peak_per_flow", heap::peak().saturating_sub(baseline));
    out::measure(
        "heap_live_after_flow",
        heap::current().saturating_sub(baseline),
    );
    out::measure("heap_peak_total", heap::peak_ever());
    out::measure("heap_size", heap::SIZE);
    out::measure("stack_peak", stack.used());
    out::line("OK");
    out::exit_success()
}

/// A provider with the ES256 key (from its raw scalar) and, in the conforming image, the RS256
/// key OIDC Core §15.1 requires; one client registered for ES256 ID tokens (RS256 in the
/// `rs256-flow` variant).
fn provider() -> Op {
    let config = Config::new(ISSUER).unwrap_or_else(|_| fail("issuer"));
    #[cfg(feature = "rsa")]
    let keys: Vec<Box<dyn Signer>> = vec![Box::new(es256()), Box::new(rs256())];
    // The ES256-only image: not a conforming OP (OIDC Core §15.1), and says so in its config.
    #[cfg(not(feature = "rsa"))]
    let (config, keys): (Config, Vec<Box<dyn Signer>>) =
        (config.waive_rs256_nonconforming(), vec![Box::new(es256())]);

    let store = EmbeddedStore::new(Capacity::uniform(4).with_clients(1).with_jtis(0));
    let client = Client::register(ClientMetadata {
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        redirect_uris: vec![REDIRECT_URI.into()],
        response_types: Some(vec!["code id_token".into()]),
        id_token_signed_response_alg: Some(ID_TOKEN_ALG),
        ..ClientMetadata::default()
    })
    .unwrap_or_else(|_| fail("client registration"));
    store
        .insert_client(client)
        .unwrap_or_else(|_| fail("client insertion"));
    let op = Provider::new(config, store, keys, FixedClock, CounterRandom::new())
        .unwrap_or_else(|_| fail("Provider::new"));
    let algorithms = op.discovery().id_token_signing_alg_values_supported;
    check(
        algorithms.contains(&JwsAlgorithm::RS256) == cfg!(feature = "rsa"),
        "discovery claims RS256 exactly when an RS256 key is configured",
    );
    op
}

fn es256() -> Es256Signer {
    #[cfg(not(feature = "pkcs8"))]
    let signer = Es256Signer::from_scalar_bytes(&keys::P256_SCALAR, Some("es-1"));
    #[cfg(feature = "pkcs8")]
    let signer = Es256Signer::from_pkcs8_der(keys::P256_PKCS8_DER, Some("es-1"));
    signer.unwrap_or_else(|_| fail("ES256 key"))
}

#[cfg(feature = "rsa")]
fn rs256() -> oidc_hybrid_rustcrypto::RsaSigner {
    use oidc_hybrid_rustcrypto::RsaSigner;
    use oidc_hybrid_rustcrypto::rsa::{BoxedUint, RsaPrivateKey};

    let int = |bytes: &[u8]| BoxedUint::from_be_slice_vartime(bytes);
    let key = RsaPrivateKey::from_components(
        int(&keys::RSA_N),
        BoxedUint::from(keys::RSA_E),
        int(&keys::RSA_D),
        vec![int(&keys::RSA_P), int(&keys::RSA_Q)],
    )
    .unwrap_or_else(|_| fail("RSA components"));
    RsaSigner::rs256(key, Some("rs-1")).unwrap_or_else(|_| fail("RS256 key"))
}

/// Authorize → approve → token, checked as a relying party would, then the replay.
fn flow(op: &Op) {
    let query = format!(
        "response_type=code%20id_token&client_id={CLIENT_ID}&redirect_uri=https%3A%2F%2Frp.example%2Fcb\
         &scope=openid&state={STATE}&nonce={NONCE}"
    );
    let params = Params::parse(&query).unwrap_or_else(|_| fail("authorization parameters"));
    let request = ready(op.authorize(&params)).unwrap_or_else(|_| fail("authorize"));
    let subject = Subject::new(String::from("alice")).unwrap_or_else(|_| fail("subject"));
    let auth_time = UnixTime::from_secs(NOW - 30);
    let session = Session::new(subject.clone(), auth_time);
    let step = op
        .next_step(&request, Some(&session), Consent::GivenNow)
        .unwrap_or_else(|_| fail("next step"));
    check(
        step == Step::Approve,
        "a fresh session with consent approves",
    );
    let response = ready(op.approve(request, Approval::new(subject, auth_time)))
        .unwrap_or_else(|_| fail("approve"));

    check(response.param("state") == Some(STATE), "state echoed");
    check(response.param("iss") == Some(ISSUER), "iss (RFC 9207)");
    let code = response.param("code").unwrap_or_else(|| fail("code"));
    let front = response
        .param("id_token")
        .unwrap_or_else(|| fail("id_token"));

    let basic = basic_auth();
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Frp.example%2Fcb"
    );
    let token_params = Params::parse(&body).unwrap_or_else(|_| fail("token parameters"));
    let tokens =
        ready(op.token(&token_params, Some(basic.as_str()))).unwrap_or_else(|_| fail("token"));
    let back = tokens
        .id_token()
        .unwrap_or_else(|| fail("token endpoint id_token"));
    #[cfg(not(feature = "op-only"))]
    relying_party::check_id_tokens(&op.jwks(), front, back, code);
    #[cfg(feature = "op-only")]
    check(front.len() > 100 && back.len() > 100, "two ID tokens");
    let access = SecretDigest::of(tokens.access_token());
    let now = UnixTime::from_secs(NOW);
    check(
        matches!(ready(op.storage().access_token(&access, now)), Ok(Some(_))),
        "access token stored",
    );

    // The same code again: refused, and its grant revoked (RFC 6749 §4.1.2).
    match ready(op.token(&token_params, Some(basic.as_str()))) {
        Err(error) => check(
            error.reject() == Reject::CodeReplayed,
            "a replayed code is refused as a replay",
        ),
        Ok(_) => fail("replayed code accepted"),
    }
    check(
        matches!(ready(op.storage().access_token(&access, now)), Ok(None)),
        "the replay revoked the access token",
    );
}

/// `Authorization: Basic` for the example client (RFC 6749 §2.3.1; its id and secret are
/// unreserved characters, so form-urlencoding leaves them as they are).
fn basic_auth() -> String {
    use base64ct::{Base64, Encoding};
    let credentials = format!("{CLIENT_ID}:{CLIENT_SECRET}");
    format!("Basic {}", Base64::encode_string(credentials.as_bytes()))
}

/// Polls a future that completes without waiting: every `EmbeddedStore` operation returns a
/// completed future, so the provider's futures never pend here.
fn ready<F: Future>(future: F) -> F::Output {
    complete_now(future).unwrap_or_else(|| fail("a provider future pended"))
}
