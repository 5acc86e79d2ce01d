//! The storage contract suite of `oidc-hybrid-testkit` for the SQL stores: SQLite in memory,
//! SQLite in a file, and PostgreSQL (a temporary database per test; skipped with a message when
//! no server is reachable, failing instead under `CI=true`). The memory store runs it in its own
//! crate (`adapters/memory/tests/contract.rs`).

use oidc_hybrid_tests::backends;

oidc_hybrid_testkit::storage_contract!(sqlite_memory, backends::sqlite_memory);
oidc_hybrid_testkit::storage_contract!(sqlite_file, backends::sqlite_file);
oidc_hybrid_testkit::storage_contract!(postgres, backends::postgres);

/// The SQL store keeps revocation markers for the contract's grace period (the suite checks
/// the marker's end to the second against the core constant).
#[test]
fn sql_grace_period_is_the_contracts() {
    assert_eq!(
        oidc_hybrid_sql::REVOCATION_GRACE_SECS,
        oidc_hybrid::REVOCATION_GRACE_SECS
    );
}
