//! Build script: `sqlx::migrate!` embeds the files under `migrations/`, so rebuild when they
//! change.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
