//! The storage contract suite (`oidc_hybrid_tests::contract`) for every store: memory, the
//! bounded no_std store, SQLite in memory, SQLite in a file, and PostgreSQL (a temporary database
//! per test; skipped with a message when no server is reachable, failing instead under
//! `CI=true`).

oidc_hybrid_tests::storage_contract!(memory => oidc_hybrid_tests::backends::memory());
oidc_hybrid_tests::storage_contract!(embedded => oidc_hybrid_tests::backends::embedded());
oidc_hybrid_tests::storage_contract!(sqlite_memory => oidc_hybrid_tests::backends::sqlite_memory());
oidc_hybrid_tests::storage_contract!(sqlite_file => oidc_hybrid_tests::backends::sqlite_file());
oidc_hybrid_tests::storage_contract!(postgres => oidc_hybrid_tests::backends::postgres());
