#![doc = include_str!("../README.md")]
//!
//! [`token`]: crate::token
//! [`userinfo`]: crate::userinfo
//! [`discovery`]: crate::discovery
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod authorize;
pub mod client;
pub mod clock;
pub mod config;
pub mod discovery;
pub mod error;
mod id_token;
pub mod jose;
pub mod params;
pub mod pkce;
pub mod provider;
pub mod random;
pub mod response;
pub mod secret;
pub mod signer;
pub mod storage;
pub mod token;
pub mod userinfo;
pub mod value;

pub use authorize::{
    Approval, Approved, AuthorizeRequest, BoundRequest, Consent, Display, Mint, Session, Step,
};
pub use client::{ApplicationType, Client, ClientMetadata, GrantType, TokenEndpointAuthMethod};
#[cfg(feature = "std")]
pub use clock::SystemClock;
pub use clock::{Clock, UnixTime};
pub use config::{AuthTimePolicy, Config, ConfigError};
pub use discovery::ProviderMetadata;
pub use error::{AuthorizeError, Disposition, EndpointError, ErrorCode, Reject};
pub use id_token::IdTokenClaims;
pub use params::Params;
pub use provider::{ErrorObserver, Provider};
pub use random::{RandomError, SecureRandom};
pub use response::AuthorizationResponse;
pub use secret::{AccessToken, AuthorizationCode, ClientSecret, RefreshToken, SecretDigest};
pub use signer::{HashAlgorithm, Jwk, JwkSet, JwsAlgorithm, SignError, Signer};
pub use storage::{
    AccessTokenRecord, CodeRecord, Insertion, REVOCATION_GRACE_SECS, Redemption, RefreshLookup,
    RefreshTokenRecord, Rotation, Storage,
};
pub use token::{Credentials, Grant, TokenResponse};
pub use userinfo::{Claims, ClaimsSource};
pub use value::{
    ClientId, CodeChallenge, CodeChallengeMethod, GrantId, Nonce, Prompt, RedirectUri,
    ResponseMode, ResponseType, Scope, State, Subject,
};
