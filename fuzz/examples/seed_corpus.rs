//! Writes the seed corpora under `fuzz/corpus/<target>/`: requests from the test suite and the
//! specifications' examples, tokens signed with the committed test keys, client metadata and
//! key documents. Re-run it after changing the fixtures:
//!
//! ```sh
//! cd fuzz && cargo +nightly run --example seed_corpus
//! ```
//!
//! Files are named `seed-<name>`; inputs found by fuzzing keep libFuzzer's hash names.

use std::fs;
use std::path::{Path, PathBuf};

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::jose::sign_jwt;
use oidc_hybrid::{JwsAlgorithm, Signer};
use oidc_hybrid_fuzz::{
    DPOP_ACCESS_TOKEN, DPOP_NONCE_KEY, DPOP_RESOURCE_URI, DPOP_TOKEN_URI, DeterministicRng, SECRET,
    START, basic, client_metadata, form, hash_signers,
};
use oidc_hybrid_rustcrypto::{Es256Signer, RsaSigner};
use serde_json::json;

const ES256_PEM: &str = include_str!("../../tests/keys/es256.pem");
const RS256_PEM: &str = include_str!("../../tests/keys/rs256.pem");

struct Corpus {
    dir: PathBuf,
    count: usize,
}

impl Corpus {
    fn new(root: &Path, target: &str) -> Self {
        let dir = root.join(target);
        fs::create_dir_all(&dir).expect("corpus directory");
        if let Ok(entries) = fs::read_dir(&dir) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with("seed-") {
                    fs::remove_file(entry.path()).expect("remove old seed");
                }
            }
        }
        Self { dir, count: 0 }
    }

    fn add(&mut self, name: &str, bytes: impl AsRef<[u8]>) {
        self.count += 1;
        let file = self.dir.join(format!("seed-{:03}-{name}", self.count));
        fs::write(file, bytes).expect("write seed");
    }
}

fn authorize_seeds(root: &Path) {
    let mut c = Corpus::new(root, "authorize_params");
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"; // RFC 7636 Appendix B
    // OIDC Core §3.3.2.1 example, pointed at a fixture client.
    c.add(
        "oidc-core-3.3.2.1",
        "response_type=code%20id_token&client_id=rs-basic&redirect_uri=https%3A%2F%2Frp.example%2Fcb\
         &scope=openid%20profile%20email&nonce=n-0S6_WzA2Mj&state=af0ifjsldkj",
    );
    // OIDC Core §3.1.2.1 example (authorization code flow).
    c.add(
        "oidc-core-3.1.2.1",
        "response_type=code&scope=openid%20profile%20email&client_id=rs-basic\
         &state=af0ifjsldkj&redirect_uri=https%3A%2F%2Frp.example%2Fcb",
    );
    for (client, rt, mode) in [
        ("rs-basic", "code id_token token", None),
        ("rs-basic", "code token", Some("form_post")),
        ("es-post", "code id_token", Some("form_post")),
        ("es-post", "code", Some("query")),
        ("default", "code id_token", None),
        ("ps-512", "code id_token token", Some("fragment")),
        ("rs-basic", "code id_token", Some("query")),
    ] {
        let mut pairs = vec![
            ("response_type", rt),
            ("client_id", client),
            ("redirect_uri", "https://rp.example/cb"),
            ("scope", "email profile openid"),
            ("state", "af0ifjsldkj &<\"'>"),
            ("nonce", "n-0S6_WzA2Mj"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ];
        if client == "ps-512" {
            pairs[2].1 = "https://ps.example/cb/";
        }
        if let Some(mode) = mode {
            pairs.push(("response_mode", mode));
        }
        c.add(&format!("{client}-{}", rt.replace(' ', "_")), form(&pairs));
    }
    c.add(
        "native-loopback-port",
        form(&[
            ("response_type", "code"),
            ("client_id", "native"),
            ("redirect_uri", "http://127.0.0.1:51004/cb"),
            ("scope", "openid"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]),
    );
    c.add(
        "native-custom-scheme",
        form(&[
            ("response_type", "code id_token"),
            ("client_id", "native"),
            ("redirect_uri", "com.example.app:/oauth"),
            ("scope", "openid"),
            ("nonce", "n"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]),
    );
    c.add(
        "tenant-query",
        "response_type=code&client_id=rs-basic&redirect_uri=https%3A%2F%2Frp.example%2Fcb%3Ftenant%3D7&scope=openid&state=s",
    );
    c.add(
        "prompt-none-max-age",
        "response_type=code+id_token&client_id=rs-basic&redirect_uri=https://rp.example/cb&scope=openid&nonce=n&prompt=none&max_age=0&display=popup&ui_locales=fr-CA+fr+en&acr_values=urn:example:loa:1&login_hint=alice",
    );
    let hint_claims = json!({"iss": "https://op.example", "sub": "alice", "aud": "rs-basic"});
    let hint =
        sign_jwt(&hash_signers()[0], &hint_claims, &DeterministicRng::new(3)).expect("signs");
    c.add(
        "id-token-hint-valid",
        form(&[
            ("response_type", "code"),
            ("client_id", "rs-basic"),
            ("redirect_uri", "https://rp.example/cb"),
            ("scope", "openid"),
            ("prompt", "none"),
            ("id_token_hint", hint.as_str()),
        ]),
    );
    c.add(
        "id-token-hint",
        "response_type=code&client_id=rs-basic&redirect_uri=https://rp.example/cb&scope=openid&id_token_hint=eyJhbGciOiJSUzI1NiJ9.e30.AA",
    );
    // Errors the test suite checks: before binding (shown) and after (redirected).
    for (name, query) in [
        (
            "no-client",
            "response_type=code&redirect_uri=https://rp.example/cb&scope=openid",
        ),
        (
            "dup-client",
            "client_id=rs-basic&client_id=es-post&redirect_uri=https://rp.example/cb",
        ),
        (
            "bad-redirect",
            "response_type=code&client_id=rs-basic&redirect_uri=https://evil.example/cb&scope=openid",
        ),
        (
            "bad-mode",
            "response_type=code&client_id=rs-basic&redirect_uri=https://rp.example/cb&response_mode=jwt",
        ),
        (
            "no-openid",
            "response_type=code&client_id=rs-basic&redirect_uri=https://rp.example/cb&scope=profile&state=x",
        ),
        (
            "no-nonce",
            "response_type=code%20id_token&client_id=rs-basic&redirect_uri=https://rp.example/cb&scope=openid",
        ),
        (
            "request-obj",
            "response_type=code&client_id=rs-basic&redirect_uri=https://rp.example/cb&scope=openid&request=eyJ",
        ),
        (
            "unsupported-rt",
            "response_type=id_token&client_id=rs-basic&redirect_uri=https://rp.example/cb&scope=openid&nonce=n",
        ),
        (
            "dup-state",
            "response_type=code&client_id=rs-basic&redirect_uri=https://rp.example/cb&scope=openid&state=a&state=b",
        ),
        (
            "bad-utf8",
            "response_type=code&client_id=rs-basic&redirect_uri=https://rp.example/cb&scope=openid&state=%FF",
        ),
        (
            "plain-pkce",
            "response_type=code&client_id=native&redirect_uri=http://127.0.0.1/cb&scope=openid&code_challenge=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG&code_challenge_method=plain",
        ),
        (
            "prompt-mix",
            "response_type=code&client_id=rs-basic&redirect_uri=https://rp.example/cb&scope=openid&prompt=none%20login",
        ),
    ] {
        c.add(name, query);
    }
}

fn token_seeds(root: &Path) {
    let mut c = Corpus::new(root, "token_request");
    let header = basic("rs-basic", SECRET);
    // RFC 6749 §4.1.3 example, with the fixture client.
    c.add(
        "rfc6749-4.1.3",
        format!(
            "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA\
             &redirect_uri=https%3A%2F%2Frp.example%2Fcb\n{header}"
        ),
    );
    // RFC 6749 §6 example.
    c.add(
        "rfc6749-6",
        format!("grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA\n{header}"),
    );
    // RFC 6749 §2.3.1 example header (another client id).
    c.add(
        "rfc6749-2.3.1",
        "grant_type=authorization_code&code=x\nBasic czZCaGRSa3F0MzpnWDFmQmF0M2JW",
    );
    c.add(
        "post-secret",
        form(&[
            ("grant_type", "authorization_code"),
            ("code", "SplxlOBeZQQYbYS6WxSbIA"),
            ("redirect_uri", "https://rp.example/cb"),
            ("client_id", "es-post"),
            ("client_secret", SECRET),
        ]),
    );
    c.add(
        "public-pkce",
        form(&[
            ("grant_type", "authorization_code"),
            ("code", "SplxlOBeZQQYbYS6WxSbIA"),
            ("redirect_uri", "http://127.0.0.1/cb"),
            ("client_id", "native"),
            (
                "code_verifier",
                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            ),
        ]),
    );
    c.add(
        "refresh-scope",
        format!(
            "grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA&scope=openid+email\n{}",
            basic("rs-basic", SECRET)
        ),
    );
    c.add(
        "header-and-body",
        format!("grant_type=authorization_code&code=x&client_id=es-post&client_secret=y\n{header}"),
    );
    c.add(
        "conflicting-ids",
        format!("grant_type=authorization_code&code=x&client_id=es-post\n{header}"),
    );
    c.add(
        "wrong-secret",
        format!(
            "grant_type=authorization_code&code=x\n{}",
            basic("rs-basic", "not-the-secret")
        ),
    );
    c.add(
        "assertion",
        "grant_type=authorization_code&code=x&client_id=rs-basic\
         &client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer\
         &client_assertion=eyJhbGciOiJSUzI1NiJ9.e30.AA",
    );
    c.add(
        "revoke",
        format!("token=45ghiukldjahdnhzdauz&token_type_hint=refresh_token\n{header}"),
    );
    c.add("no-grant-type", format!("code=x\n{header}"));
    c.add(
        "unknown-grant",
        format!("grant_type=password&username=a&password=b\n{header}"),
    );
    c.add(
        "bearer-header",
        "grant_type=authorization_code&code=x\nBearer abc",
    );
    c.add(
        "bad-base64",
        "grant_type=authorization_code&code=x\nBasic !!!!",
    );
    c.add(
        "urlencoded-id",
        format!(
            "grant_type=authorization_code&code=x\n{}",
            basic("rs%2Dbasic", SECRET)
        ),
    );
}

fn set_seeds(root: &Path) {
    let mut c = Corpus::new(root, "sets");
    for (name, value) in [
        ("rt-code", "code"),
        ("rt-code-id-token", "code id_token"),
        ("rt-reordered", "id_token token code"),
        ("rt-dup", "code code"),
        ("rt-double-space", "code  id_token"),
        ("scope-basic", "openid profile email"),
        ("scope-unordered", "email openid profile openid"),
        ("scope-odd-chars", "openid !#[]~ https://api.example/read"),
        ("scope-quote", "openid \"x\\y"),
        ("prompt-none", "none"),
        ("prompt-multi", "login consent select_account"),
        ("prompt-none-login", "none login"),
        ("mode-form-post", "form_post"),
        ("pkce-s256", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        (
            "pkce-plain",
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk~._",
        ),
        ("params", "a=1&b=&c=x+y%20z&a=2&&d"),
        (
            "params-utf8",
            "name=%C3%A9t%C3%A9&emoji=%F0%9F%94%91&k%3Dy=v%26w",
        ),
    ] {
        c.add(name, value);
    }
}

fn redirect_seeds(root: &Path) {
    let mut c = Corpus::new(root, "redirect_uri");
    for (name, registered, requested) in [
        ("exact", "https://rp.example/cb", "https://rp.example/cb"),
        (
            "trailing-slash",
            "https://rp.example/cb",
            "https://rp.example/cb/",
        ),
        ("case", "https://rp.example/cb", "https://RP.example/cb"),
        (
            "query",
            "https://rp.example/cb?tenant=7",
            "https://rp.example/cb?tenant=7&x=1",
        ),
        (
            "loopback-port",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:51004/cb",
        ),
        ("loopback-v6", "http://[::1]:8000/cb", "http://[::1]:9/cb"),
        (
            "loopback-path",
            "http://127.0.0.1:80/cb",
            "http://127.0.0.1:80/cb/../x",
        ),
        (
            "loopback-host",
            "http://127.0.0.1/cb",
            "http://127.0.0.1.evil.example/cb",
        ),
        (
            "loopback-userinfo",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:80@evil.example/cb",
        ),
        (
            "localhost",
            "http://localhost:8080/cb",
            "http://localhost:8081/cb",
        ),
        (
            "custom-scheme",
            "com.example.app:/oauth",
            "com.example.app:/oauth",
        ),
        (
            "reserved-query",
            "https://rp.example/cb?code=1",
            "https://rp.example/cb?code=1",
        ),
        (
            "fragment",
            "https://rp.example/cb#x",
            "https://rp.example/cb",
        ),
        (
            "userinfo",
            "https://user@rp.example/cb",
            "https://rp.example/cb",
        ),
        (
            "encoded",
            "https://rp.example/c%62",
            "https://rp.example/cb",
        ),
    ] {
        c.add(name, format!("{registered}\n{requested}"));
    }
}

fn jws_seeds(root: &Path) {
    let mut c = Corpus::new(root, "jws");
    // RFC 7515 Appendix A.1 (HS256), A.2 (RS256), A.3 (ES256) and A.5 (unsecured) examples.
    c.add(
        "rfc7515-a1",
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    );
    c.add(
        "rfc7515-a2",
        "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw",
    );
    c.add(
        "rfc7515-a3",
        "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
    );
    c.add(
        "rfc7515-a5",
        "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.",
    );
    let claims = json!({
        "iss": "https://op.example",
        "sub": "alice",
        "aud": "rs-basic",
        "exp": 1_800_000_600u64,
        "iat": 1_800_000_000u64,
        "nonce": "n-0S6_WzA2Mj",
        "c_hash": "LDktKdoQak3Pk0cnXxCltA",
    });
    let rng = DeterministicRng::new(1);
    let es256 = Es256Signer::from_pkcs8_pem(ES256_PEM, Some("es-1")).expect("test key");
    let rs256 =
        RsaSigner::from_pkcs8_pem(RS256_PEM, JwsAlgorithm::RS256, Some("rs-1")).expect("key");
    c.add(
        "test-key-es256",
        sign_jwt(&es256, &claims, &rng).expect("signs"),
    );
    c.add(
        "test-key-rs256",
        sign_jwt(&rs256, &claims, &rng).expect("signs"),
    );
    for signer in hash_signers() {
        let name = format!("fuzz-key-{}", signer.algorithm());
        c.add(&name, sign_jwt(&signer, &claims, &rng).expect("signs"));
    }
    let header = |h: &str| Base64UrlUnpadded::encode_string(h.as_bytes());
    c.add(
        "crit",
        format!("{}.e30.AA", header(r#"{"alg":"ES256","crit":["exp"]}"#)),
    );
    c.add("no-kid", format!("{}.e30.AA", header(r#"{"alg":"ES256"}"#)));
    c.add(
        "jwk-in-header",
        format!(
            "{}.e30.AA",
            header(r#"{"alg":"RS256","kid":"rs-1","jwk":{"kty":"RSA"}}"#)
        ),
    );
    c.add(
        "hs256-confusion",
        format!("{}.e30.AA", header(r#"{"alg":"HS256","kid":"rs-1"}"#)),
    );
    c.add(
        "padded",
        format!("{}==.e30.AA", header(r#"{"alg":"ES256"}"#)),
    );
}

fn metadata_seeds(root: &Path) {
    let mut c = Corpus::new(root, "client_metadata");
    for (i, metadata) in client_metadata().into_iter().enumerate() {
        c.add(
            &format!("fixture-{i}"),
            serde_json::to_string_pretty(&metadata).expect("JSON"),
        );
    }
    // OpenID Connect Dynamic Client Registration §3.1 example (the fields this crate knows).
    c.add(
        "oidc-registration-3.1",
        r#"{"client_id":"s6BhdRkqt3","client_secret":"ZJYCqe3GGRvdrudKyZS0XhGv_Z45DuKhCUk0gBR1vZk","application_type":"web","redirect_uris":["https://client.example.org/callback","https://client.example.org/callback2"],"client_name":"My Example","token_endpoint_auth_method":"client_secret_basic","id_token_signed_response_alg":"ES256","response_types":["code","code id_token"]}"#,
    );
    c.add(
        "unknown-field",
        r#"{"client_id":"x","redirect_uris":["https://a.example/cb"],"jwks_uri":"https://a.example/jwks"}"#,
    );
    c.add(
        "inconsistent-grants",
        r#"{"client_id":"x","client_secret":"0123456789abcdef0123456789abcdef","redirect_uris":["https://a.example/cb"],"response_types":["code token"],"grant_types":["authorization_code"]}"#,
    );
    c.add(
        "http-web",
        r#"{"client_id":"x","token_endpoint_auth_method":"none","redirect_uris":["http://a.example/cb"]}"#,
    );
    let es256 = Es256Signer::from_pkcs8_pem(ES256_PEM, Some("es-1")).expect("test key");
    let rs256 =
        RsaSigner::from_pkcs8_pem(RS256_PEM, JwsAlgorithm::RS256, Some("rs-1")).expect("key");
    let jwks = json!({ "keys": [es256.public_jwk(), rs256.public_jwk()] });
    c.add("test-jwks", serde_json::to_string(&jwks).expect("JSON"));
    c.add(
        "test-jwk-es256",
        serde_json::to_string(&es256.public_jwk()).expect("JSON"),
    );
    c.add(
        "test-jwk-rs256",
        serde_json::to_string(&rs256.public_jwk()).expect("JSON"),
    );
    // RFC 7517 Appendix A.1 public keys.
    c.add(
        "rfc7517-a1-ec",
        r#"{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","use":"enc","kid":"1"}"#,
    );
    c.add(
        "rfc7517-a1-rsa",
        r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
    );
    c.add(
        "private-jwk",
        r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}"#,
    );
}

fn flow_seeds(root: &Path) {
    let mut c = Corpus::new(root, "flow_sequence");
    let rng = DeterministicRng::new(2024);
    for i in 0..24 {
        let mut bytes = vec![0u8; 64 + 48 * i];
        oidc_hybrid::SecureRandom::try_fill(&rng, &mut bytes).expect("random");
        c.add(&format!("random-{i:02}"), bytes);
    }
}

/// DPoP proofs signed with the committed test keys: each verifies against one of the target's
/// requests at `START` (the token endpoint, the resource with `ath`, with a server nonce), and a
/// few near misses.
fn dpop_seeds(root: &Path) {
    let mut c = Corpus::new(root, "dpop_proof");
    let rng = DeterministicRng::new(2);
    let es256 = Es256Signer::from_pkcs8_pem(ES256_PEM, Some("es-1")).expect("test key");
    let rs256 =
        RsaSigner::from_pkcs8_pem(RS256_PEM, JwsAlgorithm::RS256, Some("rs-1")).expect("key");
    let b64 = |value: &serde_json::Value| {
        Base64UrlUnpadded::encode_string(&serde_json::to_vec(value).expect("JSON"))
    };
    let proof = |signer: &dyn Signer, header: serde_json::Value, claims: serde_json::Value| {
        let input = format!("{}.{}", b64(&header), b64(&claims));
        let signature = signer.try_sign(input.as_bytes(), &rng).expect("signs");
        format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature))
    };
    // The public key alone, as a client puts it in the header (RFC 9449 §4.2).
    let header = |signer: &dyn Signer| {
        let mut jwk = serde_json::to_value(signer.public_jwk()).expect("JWK");
        let object = jwk.as_object_mut().expect("object");
        for member in ["kid", "use", "alg"] {
            object.remove(member);
        }
        json!({"typ": "dpop+jwt", "alg": signer.algorithm().to_string(), "jwk": jwk})
    };
    let token = |jti: &str| json!({"jti": jti, "htm": "POST", "htu": DPOP_TOKEN_URI, "iat": START});
    let ath = oidc_hybrid::dpop::access_token_hash(DPOP_ACCESS_TOKEN);
    let resource = json!({
        "jti": "r-1", "htm": "GET", "htu": DPOP_RESOURCE_URI, "iat": START, "ath": ath,
    });
    let nonce = oidc_hybrid::dpop::fresh_nonce(
        &oidc_hybrid::config::NonceKey::new(DPOP_NONCE_KEY),
        oidc_hybrid::UnixTime::from_secs(START),
    );
    let mut with_nonce = token("n-1");
    with_nonce["nonce"] = json!(nonce);
    let mut normalised = token("u-1");
    normalised["htu"] = json!("HTTPS://OP.EXAMPLE:443/./token?query#fragment");
    let mut stale = token("s-1");
    stale["iat"] = json!(START - 3_600);
    let mut private = header(&es256);
    private["jwk"]["d"] = json!("AAAA");
    let mut jwt_typ = header(&es256);
    jwt_typ["typ"] = json!("JWT");
    c.add("es256-token", proof(&es256, header(&es256), token("t-1")));
    c.add("rs256-token", proof(&rs256, header(&rs256), token("t-2")));
    c.add(
        "es256-resource-ath",
        proof(&es256, header(&es256), resource),
    );
    c.add(
        "es256-token-nonce",
        proof(&es256, header(&es256), with_nonce),
    );
    c.add(
        "es256-token-htu-normalised",
        proof(&es256, header(&es256), normalised),
    );
    c.add("es256-stale-iat", proof(&es256, header(&es256), stale));
    c.add("private-jwk", proof(&es256, private, token("p-1")));
    c.add("typ-jwt", proof(&es256, jwt_typ, token("j-1")));
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    authorize_seeds(&root);
    token_seeds(&root);
    set_seeds(&root);
    redirect_seeds(&root);
    jws_seeds(&root);
    metadata_seeds(&root);
    flow_seeds(&root);
    dpop_seeds(&root);
    println!("seeds written under {}", root.display());
}
