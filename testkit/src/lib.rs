#![doc = include_str!("../README.md")]
//!
//! # Modules
//!
//! - [`contract`] (feature `contract`): the storage contract suite and
//!   [`storage_contract!`];
//! - [`rp`]: the relying party's side — ID token validation ([`rp::IdTokenRules`]) against a
//!   [`rp::KeySet`] such as the provider's JWK set ([`rp::Jwks`], feature `jwks`), the hash
//!   claims, the consistency of several ID tokens, a whole flow's check, and the decoding of an
//!   authorization response as the client receives it ([`rp::Delivered`]);
//! - [`html`]: the forms of an HTML page, as a browser submits them;
//! - [`TestClock`], and the [`fixtures`] every contract store holds.
//!
//! Everything here is test support: the assertion helpers panic on failure (each says so under
//! `# Panics`); the checks that report instead return what failed.
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

mod clock;
#[cfg(feature = "contract")]
pub mod contract;
pub mod fixtures;
pub mod html;
pub mod rp;

pub use clock::TestClock;
