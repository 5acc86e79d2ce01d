//! The signing keys, kept as PKCS#8 PEM files: loaded if present, generated and written
//! (owner-only permissions) on first start. Besides the provider's keys, the playground's
//! `private_key_jwt` client has an ES256 key of its own (`{stem}.client-es256.pem`): only its
//! public half is registered, in the client's `jwks`.

use alloc::sync::Arc;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use oidc_hybrid::{JwsAlgorithm, KeySet, Signer, UnixTime};
use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom, RsaSigner};
use tracing::info;

use crate::DemoError;
use crate::options::SignerKind;

/// The demo's keys and a line saying where they came from.
pub(crate) struct Keys {
    pub(crate) rs256: RsaSigner,
    pub(crate) es256: Es256Signer,
    /// The playground client's own key (client assertions, request objects).
    pub(crate) client_es256: Arc<dyn Signer>,
    pub(crate) note: String,
}

/// Writes `pem` to a new file readable by the owner only; an existing file is never replaced.
fn write_new(path: &Path, pem: &str) -> Result<(), DemoError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| DemoError::Keys(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| DemoError::Keys(format!("cannot write {}: {e}", path.display())))
}

fn read(path: &Path) -> Result<Option<String>, DemoError> {
    match fs::read_to_string(path) {
        Ok(pem) => Ok(Some(pem)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(DemoError::Keys(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Loads `{dir}/{stem}.es256.pem` and `{dir}/{stem}.rs256.pem`, creating what is missing.
pub(crate) fn load_or_create_keys(dir: &Path, stem: &str) -> Result<Keys, DemoError> {
    fs::create_dir_all(dir)
        .map_err(|e| DemoError::Keys(format!("cannot create {}: {e}", dir.display())))?;
    let es_path: PathBuf = dir.join(format!("{stem}.es256.pem"));
    let rs_path: PathBuf = dir.join(format!("{stem}.rs256.pem"));
    let client_path: PathBuf = dir.join(format!("{stem}.client-es256.pem"));
    let mut created = Vec::new();

    let es256 = load_or_create_es256(&es_path, &mut created)?;
    let client_es256 = Arc::new(load_or_create_es256(&client_path, &mut created)?);
    let rs256 = match read(&rs_path)? {
        Some(pem) => RsaSigner::from_pkcs8_pem(&pem, JwsAlgorithm::RS256, None).map_err(|e| {
            DemoError::Keys(format!(
                "{}: not a PKCS#8 RSA private key of 2048 to 8192 bits ({e})",
                rs_path.display()
            ))
        })?,
        None => {
            info!("generating a 2048-bit RS256 key (first start only)");
            let key = RsaSigner::generate(&OsRandom, 2048, JwsAlgorithm::RS256, None)
                .map_err(|e| DemoError::Keys(format!("cannot generate the RS256 key: {e}")))?;
            let pem = key
                .to_pkcs8_pem()
                .map_err(|e| DemoError::Keys(format!("cannot encode the RS256 key: {e}")))?;
            write_new(&rs_path, &pem)?;
            created.push(rs_path.display().to_string());
            key
        }
    };
    let note = if created.is_empty() {
        format!(
            "loaded {}, {} and {}",
            es_path.display(),
            rs_path.display(),
            client_path.display()
        )
    } else {
        format!("created {}", created.join(" and "))
    };
    Ok(Keys {
        rs256,
        es256,
        client_es256,
        note,
    })
}

/// Loads the ES256 key at `path`, or generates it and writes it there (and into `created`).
fn load_or_create_es256(path: &Path, created: &mut Vec<String>) -> Result<Es256Signer, DemoError> {
    if let Some(pem) = read(path)? {
        return Es256Signer::from_pkcs8_pem(&pem, None).map_err(|e| {
            DemoError::Keys(format!(
                "{}: not a PKCS#8 P-256 private key ({e})",
                path.display()
            ))
        });
    }
    let key = Es256Signer::generate(&OsRandom, None)
        .map_err(|e| DemoError::Keys(format!("cannot generate an ES256 key: {e}")))?;
    let pem = key
        .to_pkcs8_pem()
        .map_err(|e| DemoError::Keys(format!("cannot encode an ES256 key: {e}")))?;
    write_new(path, &pem)?;
    created.push(path.display().to_string());
    Ok(key)
}

/// New ES256 and RS256 keys, kept in memory only (`--database-url memory:` without
/// `--keys-dir`): nothing is read or written.
pub(crate) fn generate_in_memory() -> Result<Keys, DemoError> {
    let generate_es256 = || {
        Es256Signer::generate(&OsRandom, None)
            .map_err(|e| DemoError::Keys(format!("cannot generate an ES256 key: {e}")))
    };
    let (es256, client_es256) = (generate_es256()?, Arc::new(generate_es256()?));
    let rs256 = RsaSigner::generate(&OsRandom, 2048, JwsAlgorithm::RS256, None)
        .map_err(|e| DemoError::Keys(format!("cannot generate the RS256 key: {e}")))?;
    let note = "generated in memory, written nowhere (--keys-dir DIR keeps them)".into();
    Ok(Keys {
        rs256,
        es256,
        client_es256,
        note,
    })
}

/// The same keys behind ring's signers (same `kid`s: RFC 7638 thumbprints of the same keys).
pub(crate) fn ring_signers(keys: &Keys) -> Result<Vec<Box<dyn Signer>>, DemoError> {
    let fail = |e: &dyn core::fmt::Display| DemoError::Keys(format!("ring cannot load a key: {e}"));
    let rs_der = keys.rs256.to_pkcs8_der().map_err(|e| fail(&e))?;
    let es_der = keys.es256.to_pkcs8_der().map_err(|e| fail(&e))?;
    let rs256 = oidc_hybrid_ring::RsaSigner::from_pkcs8_der(&rs_der, JwsAlgorithm::RS256, None)
        .map_err(|e| fail(&e))?;
    let es256 =
        oidc_hybrid_ring::Es256Signer::from_pkcs8_der(&es_der, None).map_err(|e| fail(&e))?;
    Ok(vec![Box::new(rs256), Box::new(es256)])
}

/// The key manifest of a keys directory (docs/integration.md, "Rotating keys"): when present,
/// it alone says which keys the provider has and in which state, and it is read again at every
/// sweep, so an operator rolls keys over by editing it — on every node at once when the
/// directory is shared.
pub(crate) const MANIFEST: &str = "keys.json";

/// One key of the manifest: a PKCS#8 PEM file of the directory, its algorithm, its state
/// (`next`, `active` or `retired`) and, for a retired key, until when (Unix seconds).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestKey {
    file: String,
    alg: JwsAlgorithm,
    state: String,
    #[serde(default)]
    until: Option<u64>,
}

/// The key set `{dir}/keys.json` describes, with signers of `kind`; `None` without a manifest.
/// Each key's `kid` is its RFC 7638 thumbprint, so every node derives the same JWK set.
pub(crate) fn load_manifest(dir: &Path, kind: SignerKind) -> Result<Option<KeySet>, DemoError> {
    let path = dir.join(MANIFEST);
    let Some(text) = read(&path)? else {
        return Ok(None);
    };
    let bad = |m: String| DemoError::Keys(format!("{}: {m}", path.display()));
    let entries: Vec<ManifestKey> =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a key manifest ({e})")))?;
    let mut active = Vec::new();
    let mut later = Vec::new();
    for entry in entries {
        if entry.file.contains(['/', '\\']) || entry.file.starts_with('.') {
            return Err(bad(format!(
                "{:?}: only files of the directory",
                entry.file
            )));
        }
        let file = dir.join(&entry.file);
        let pem = read(&file)?.ok_or_else(|| bad(format!("{} is missing", file.display())))?;
        let signer =
            signer_of(&pem, entry.alg, kind).map_err(|e| bad(format!("{}: {e}", entry.file)))?;
        match (entry.state.as_str(), entry.until) {
            ("active", None) => active.push(signer),
            ("next", None) => later.push((signer, None)),
            ("retired", Some(until)) => later.push((signer, Some(UnixTime::from_secs(until)))),
            _ => {
                return Err(bad(format!(
                    "{}: state next, active, or retired with until",
                    entry.file
                )));
            }
        }
    }
    let mut set = KeySet::new(active);
    for (signer, until) in later {
        let kid = signer.key_id().to_owned();
        set = set.add_next(signer).map_err(|e| bad(e.to_string()))?;
        if let Some(until) = until {
            set = set.retire(&kid, until).map_err(|e| bad(e.to_string()))?;
        }
    }
    Ok(Some(set))
}

/// A signer of `kind` for a PKCS#8 PEM key.
fn signer_of(pem: &str, alg: JwsAlgorithm, kind: SignerKind) -> Result<Box<dyn Signer>, String> {
    let text = |e: &dyn core::fmt::Display| e.to_string();
    Ok(match (alg, kind) {
        (JwsAlgorithm::ES256, SignerKind::Ring) => {
            let der = Es256Signer::from_pkcs8_pem(pem, None).map_err(|e| text(&e))?;
            let der = der.to_pkcs8_der().map_err(|e| text(&e))?;
            Box::new(
                oidc_hybrid_ring::Es256Signer::from_pkcs8_der(&der, None).map_err(|e| text(&e))?,
            )
        }
        (JwsAlgorithm::ES256, _) => {
            Box::new(Es256Signer::from_pkcs8_pem(pem, None).map_err(|e| text(&e))?)
        }
        (JwsAlgorithm::RS256 | JwsAlgorithm::PS256, SignerKind::Ring) => {
            let key = RsaSigner::from_pkcs8_pem(pem, alg, None).map_err(|e| text(&e))?;
            let der = key.to_pkcs8_der().map_err(|e| text(&e))?;
            Box::new(
                oidc_hybrid_ring::RsaSigner::from_pkcs8_der(&der, alg, None)
                    .map_err(|e| text(&e))?,
            )
        }
        (JwsAlgorithm::RS256 | JwsAlgorithm::PS256, _) => {
            Box::new(RsaSigner::from_pkcs8_pem(pem, alg, None).map_err(|e| text(&e))?)
        }
        _ => return Err("only ES256, RS256 and PS256 keys".into()),
    })
}

#[cfg(test)]
mod tests {
    use oidc_hybrid::{KeyState, Rs256Policy, SharedKeys};

    use super::*;

    fn write_es256(dir: &Path, file: &str) -> String {
        let key = Es256Signer::generate(&OsRandom, None).expect("key");
        fs::write(dir.join(file), key.to_pkcs8_pem().expect("pem")).expect("write");
        key.key_id().to_owned()
    }

    #[test]
    fn a_manifest_describes_next_active_and_retired_keys_and_reloads_into_shared_keys() {
        let dir = tempfile::tempdir().expect("dir");
        assert!(
            load_manifest(dir.path(), SignerKind::RustCrypto)
                .expect("read")
                .is_none()
        );
        let old = write_es256(dir.path(), "old.pem");
        let current = write_es256(dir.path(), "current.pem");
        let next = write_es256(dir.path(), "next.pem");
        let manifest = serde_json::json!([
            { "file": "current.pem", "alg": "ES256", "state": "active" },
            { "file": "next.pem", "alg": "ES256", "state": "next" },
            { "file": "old.pem", "alg": "ES256", "state": "retired", "until": 1_900_000_000 },
        ]);
        fs::write(dir.path().join(MANIFEST), manifest.to_string()).expect("write");
        for kind in [SignerKind::RustCrypto, SignerKind::Ring] {
            let set = load_manifest(dir.path(), kind)
                .expect("valid")
                .expect("present");
            assert_eq!(set.state(&current), Some(KeyState::Active));
            assert_eq!(set.state(&next), Some(KeyState::Next));
            let until = UnixTime::from_secs(1_900_000_000);
            assert_eq!(set.state(&old), Some(KeyState::Retired(until)));
            assert_eq!(
                set.signer(JwsAlgorithm::ES256)
                    .map(|s| s.key_id().to_owned()),
                Some(current.clone())
            );
        }
        // The promoted manifest replaces the set a provider reads.
        let shared = SharedKeys::new(
            load_manifest(dir.path(), SignerKind::RustCrypto)
                .expect("valid")
                .expect("present"),
            Rs256Policy::WaiveNonConforming,
        )
        .expect("shared");
        let promoted = serde_json::json!([
            { "file": "next.pem", "alg": "ES256", "state": "active" },
            { "file": "current.pem", "alg": "ES256", "state": "retired", "until": 1_900_000_000 },
        ]);
        fs::write(dir.path().join(MANIFEST), promoted.to_string()).expect("write");
        let reloaded = load_manifest(dir.path(), SignerKind::RustCrypto)
            .expect("valid")
            .expect("present");
        shared.replace(reloaded).expect("replaced");
        let snapshot = shared.snapshot();
        assert_eq!(
            snapshot
                .signer(JwsAlgorithm::ES256)
                .map(|s| s.key_id().to_owned()),
            Some(next)
        );
        assert_eq!(snapshot.state(&old), None);
    }

    #[test]
    fn a_broken_manifest_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        write_es256(dir.path(), "a.pem");
        for manifest in [
            r#"[{"file": "../a.pem", "alg": "ES256", "state": "active"}]"#,
            r#"[{"file": "missing.pem", "alg": "ES256", "state": "active"}]"#,
            r#"[{"file": "a.pem", "alg": "ES256", "state": "retired"}]"#,
            r#"[{"file": "a.pem", "alg": "ES256", "state": "sleeping"}]"#,
            r#"[{"file": "a.pem", "alg": "RS256", "state": "active"}]"#,
            r#"{"keys": []}"#,
        ] {
            fs::write(dir.path().join(MANIFEST), manifest).expect("write");
            assert!(
                load_manifest(dir.path(), SignerKind::RustCrypto).is_err(),
                "{manifest}"
            );
        }
    }
}
