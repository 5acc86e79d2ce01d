#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod client;
pub mod clock;
pub mod error;
pub mod pkce;
pub mod random;
pub mod response;
pub mod secret;
pub mod signer;
pub mod storage;
pub mod value;

pub use client::{ApplicationType, Client, ClientMetadata, GrantType, TokenEndpointAuthMethod};
#[cfg(feature = "std")]
pub use clock::SystemClock;
pub use clock::{Clock, UnixTime};
pub use error::{AuthorizeError, Disposition, EndpointError, ErrorCode, Reject};
pub use random::{RandomError, SecureRandom};
pub use response::AuthorizationResponse;
pub use secret::{AccessToken, AuthorizationCode, ClientSecret, RefreshToken, SecretDigest};
pub use signer::{HashAlgorithm, Jwk, JwkSet, JwsAlgorithm, SignError, Signer};
pub use storage::{
    AccessTokenRecord, CodeRecord, Insertion, Redemption, RefreshTokenRecord, Rotation, Storage,
};
pub use value::{
    ClientId, CodeChallenge, CodeChallengeMethod, GrantId, Nonce, Prompt, RedirectUri,
    ResponseMode, ResponseType, Scope, State, Subject,
};
