//! Throughput of one authorization code's life in the store — `insert_code` then
//! `redeem_code` (a `Fresh` redemption) — from one caller (`insert_code+redeem_code`) and from
//! 8 concurrent callers (`… 8 callers`: iterations per second across all of them), per
//! backend: memory (the reference), SQLite in memory,
//! SQLite in a WAL file (`synchronous = FULL`), and PostgreSQL (a temporary database on
//! `OIDC_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`; built with
//! `--features postgres`, skipped with a message when unreachable).
//!
//! ```text
//! cargo bench -p oidc-hybrid-sql --features postgres --bench redeem -- --quick
//! ```

extern crate alloc;

use alloc::sync::Arc;
use core::hint::black_box;
use core::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use oidc_hybrid::{CodeRecord, GrantId, Redemption, SecretDigest, Storage, UnixTime};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_sql::SqliteStore;
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

const T0: u64 = 1_800_000_000;

/// Callers in the concurrent benchmark.
const CALLERS: u64 = 8;

fn template() -> CodeRecord {
    serde_json::from_value(serde_json::json!({
        "digest": SecretDigest::of("template").to_base64url(),
        "grant_id": "g",
        "client_id": "rs-basic",
        "redirect_uri": "https://rp.example/cb",
        "response_type": "code id_token",
        "scope": "openid profile email",
        "nonce": "n-0S6_WzA2Mj",
        "subject": "alice",
        "auth_time": T0 - 5,
        "auth_time_required": false,
        "acr": "urn:example:loa:1",
        "amr": ["pwd"],
        "code_challenge": { "value": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "method": "S256" },
        "issued_at": T0,
        "expires_at": T0 + 60,
    }))
    .expect("a valid code record")
}

/// A fresh code of a fresh grant per call.
fn next_code(template: &CodeRecord, counter: &AtomicU64) -> CodeRecord {
    let n = counter.fetch_add(1, Ordering::Relaxed);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&n.to_le_bytes());
    let mut record = template.clone();
    record.digest = SecretDigest::from_bytes(bytes);
    record.grant_id = GrantId::new(format!("g-{n}"));
    record
}

async fn life_of_a_code<S: Storage>(store: &S, record: CodeRecord) {
    store.insert_code(&record, None).await.expect("insert_code");
    let redemption = store
        .redeem_code(&record.digest, UnixTime::from_secs(T0))
        .await
        .expect("redeem_code");
    assert!(matches!(redemption, Redemption::Fresh(_)));
    black_box(redemption);
}

fn bench_store<S: Storage + 'static>(
    c: &mut Criterion,
    runtime: &Runtime,
    name: &str,
    store: &Arc<S>,
) {
    let template = Arc::new(template());
    let counter = Arc::new(AtomicU64::new(0));

    let mut group = c.benchmark_group("insert_code+redeem_code");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.to_async(runtime)
            .iter(|| life_of_a_code(&**store, next_code(&template, &counter)));
    });
    group.finish();

    let mut group = c.benchmark_group(format!("insert_code+redeem_code {CALLERS} callers"));
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.to_async(runtime).iter_custom(|iters| {
            let (store, template, counter) = (store.clone(), template.clone(), counter.clone());
            async move {
                let start = Instant::now();
                let mut callers = JoinSet::new();
                for caller in 0..CALLERS {
                    let share = iters / CALLERS + u64::from(caller < iters % CALLERS);
                    let (store, template, counter) =
                        (store.clone(), template.clone(), counter.clone());
                    callers.spawn(async move {
                        for _ in 0..share {
                            life_of_a_code(&*store, next_code(&template, &counter)).await;
                        }
                    });
                }
                while let Some(done) = callers.join_next().await {
                    done.expect("a caller panicked");
                }
                start.elapsed()
            }
        });
    });
    group.finish();
}

fn redeem(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");

    bench_store(c, &runtime, "memory", &Arc::new(MemoryStore::new()));

    let in_memory = runtime.block_on(async {
        let store = SqliteStore::memory().await.expect("in-memory SQLite");
        store.migrate().await.expect("migrate");
        Arc::new(store)
    });
    bench_store(c, &runtime, "sqlite_memory", &in_memory);

    let dir = tempfile::tempdir().expect("temporary directory");
    let file = runtime.block_on(async {
        let store = SqliteStore::open(dir.path().join("bench.sqlite"))
            .await
            .expect("SQLite file");
        store.migrate().await.expect("migrate");
        Arc::new(store)
    });
    bench_store(c, &runtime, "sqlite_file", &file);
    runtime.block_on(file.close());

    postgres::bench(c, &runtime);
}

#[cfg(feature = "postgres")]
mod postgres {
    use core::str::FromStr;
    use core::time::Duration;

    use criterion::Criterion;
    use oidc_hybrid_sql::PostgresStore;
    use oidc_hybrid_sql::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use oidc_hybrid_sql::sqlx::{ConnectOptions, Connection, Executor};
    use tokio::runtime::Runtime;

    const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

    pub(crate) fn bench(c: &mut Criterion, runtime: &Runtime) {
        let url = std::env::var("OIDC_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.into());
        let admin = PgConnectOptions::from_str(&url).expect("a postgres:// URL");
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // The test suites' prefix, so that their clean-up drops a database a killed run left.
        let name = format!("oidc_test_{secs}_bench_{}", std::process::id());
        let created = runtime.block_on(async {
            let mut conn = tokio::time::timeout(Duration::from_secs(5), admin.connect())
                .await
                .map_err(|_| "timed out".to_owned())?
                .map_err(|e| e.to_string())?;
            conn.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .map_err(|e| e.to_string())?;
            conn.close().await.map_err(|e| e.to_string())
        });
        if let Err(e) = created {
            eprintln!(
                "postgres: skipped: no PostgreSQL at {}:{} ({e})",
                admin.get_host(),
                admin.get_port()
            );
            return;
        }
        let store = runtime.block_on(async {
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .connect_with(admin.clone().database(&name))
                .await
                .expect("connect to the bench database");
            let store = PostgresStore::from_pool(pool);
            store.migrate().await.expect("migrate");
            alloc::sync::Arc::new(store)
        });
        super::bench_store(c, runtime, "postgres", &store);
        runtime.block_on(async {
            store.close().await;
            if let Ok(mut conn) = admin.connect().await {
                let _ = conn
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await;
            }
        });
    }
}

#[cfg(not(feature = "postgres"))]
mod postgres {
    pub(crate) fn bench(_: &mut criterion::Criterion, _: &tokio::runtime::Runtime) {
        eprintln!(
            "postgres: skipped (built without the `postgres` feature; add `--features postgres`)"
        );
    }
}

criterion_group!(benches, redeem);
criterion_main!(benches);
