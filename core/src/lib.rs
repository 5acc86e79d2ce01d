#![doc = include_str!("../README.md")]
//!
//! [`token`]: crate::token
//! [`userinfo`]: crate::userinfo
//! [`discovery`]: crate::discovery
//! [`introspection`]: crate::introspection
//! [`claims`]: crate::claims
//! [`access_token`]: crate::access_token
//! [`pairwise`]: crate::pairwise
//! [`keys`]: crate::keys
//! [`session`]: crate::session
//! [`logout`]: crate::logout
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod access_token;
pub mod authorize;
pub mod binding;
pub mod claims;
pub mod client;
pub mod client_auth;
pub mod client_keys;
pub mod clock;
pub mod config;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod fapi;
mod id_token;
pub mod introspection;
pub mod jose;
pub mod keys;
pub mod logout;
pub mod mint;
pub mod pairwise;
pub mod par;
pub mod params;
pub mod pkce;
pub mod provider;
pub mod random;
pub mod request_object;
pub mod response;
pub mod revocation;
pub mod secret;
pub mod session;
pub mod signer;
pub mod storage;
pub mod token;
pub mod userinfo;
pub mod value;

pub use authorize::{
    Approval, Approved, Authentication, AuthorizeRequest, BoundRequest, Consent, DisplayMode,
    Session, Step,
};
pub use claims::{ClaimsQuery, ClaimsRequest, ClaimsTarget};
pub use client::{
    AccessTokenFormat, ApplicationType, Client, ClientMetadata, GrantType, RequestObjectSigning,
    SubjectType, TokenEndpointAuthMethod, UnsupportedMetadata,
};
pub use client_auth::{AuthenticatedClient, Credentials};
pub use client_keys::{
    ClientJwk, ClientJwks, FetchError, JwksFetcher, JwsVerifier, MacAlgorithm, SignatureAlgorithm,
};
#[cfg(feature = "std")]
pub use clock::SystemClock;
pub use clock::{Clock, UnixTime};
pub use config::{AuthTimePolicy, Config, ConfigError, Rs256Policy};
pub use discovery::ProviderMetadata;
pub use error::{EndpointError, ErrorCode, Reject};
pub use id_token::IdTokenClaims;
pub use introspection::{Introspection, IntrospectionRequest};
#[cfg(feature = "std")]
pub use keys::SharedKeys;
pub use keys::{KeySet, KeySource, KeyState, KeysGuard};
pub use logout::{LoggedOut, LogoutRequest, LogoutSender, SendError};
pub use mint::Mint;
pub use pairwise::{PairwiseSecret, SectorFetcher};
pub use par::{PushRequest, PushedResponse};
pub use params::Params;
pub use pkce::{CodeChallenge, CodeChallengeMethod, CodeVerifier};
pub use provider::{ErrorObserver, Provider};
pub use random::{RandomError, SecureRandom};
pub use response::{AuthorizationResponse, AuthorizeError, Disposition};
pub use revocation::RevocationRequest;
pub use secret::{AccessToken, AuthorizationCode, ClientSecret, RefreshToken, SecretDigest};
pub use session::{EndedSession, LogoutPolicy, SessionGrant, SessionId, SessionRecord};
pub use signer::{HashAlgorithm, Jwk, JwkSet, JwsAlgorithm, SignError, Signer};
pub use storage::{
    AccessTokenRecord, CodeRecord, Insertion, PushedRequestRecord, REVOCATION_GRACE_SECS,
    Redemption, RefreshLookup, RefreshTokenRecord, Rotation, Storage,
};
pub use token::{TokenRequest, TokenResponse};
pub use userinfo::{Claims, ClaimsSource, UserInfoRequest};
pub use value::{
    ClientId, GrantId, Nonce, Prompt, RedirectUri, ResponseMode, ResponseType, Scope, State,
    Subject,
};
