//! The signing keys, kept as PKCS#8 PEM files: loaded if present, generated and written
//! (owner-only permissions) on first start. Besides the provider's keys, the playground's
//! `private_key_jwt` client has an ES256 key of its own (`{stem}.client-es256.pem`): only its
//! public half is registered, in the client's `jwks`.

use alloc::sync::Arc;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use oidc_hybrid::{JwsAlgorithm, Signer};
use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom, RsaSigner};
use tracing::info;

use crate::DemoError;

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
