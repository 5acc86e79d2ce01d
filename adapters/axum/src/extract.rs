//! Extractors: the input of each endpoint, read from the request with the adapter's limits
//! before the core sees it. A refused input is an [`InputRejection`].

use core::fmt;
use core::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use oidc_hybrid::binding::{ClientCertificate, Presented};
use oidc_hybrid::params::MAX_INPUT_LEN;
use oidc_hybrid::{EndpointError, Params, Reject};
use tracing::{info, warn};

use crate::respond::{Reply, error_page, error_status, has_media_type};

/// The endpoint an input belongs to: how its refusal is rendered and logged.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Endpoint {
    /// The authorization endpoint: refusals are HTML pages, never redirects.
    Authorize,
    /// The pushed authorization request endpoint (RFC 9126): refusals are JSON errors.
    Par,
    /// The introspection endpoint (RFC 7662): refusals are JSON errors.
    Introspect,
    /// The revocation endpoint (RFC 7009): refusals are JSON errors.
    Revoke,
    /// The token endpoint: refusals are JSON errors (RFC 6749 §5.2).
    Token,
    /// The UserInfo endpoint: refusals are JSON errors.
    UserInfo,
}

impl Endpoint {
    /// The name used in the logs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Authorize => "authorize",
            Self::Par => "par",
            Self::Introspect => "introspect",
            Self::Revoke => "revoke",
            Self::Token => "token",
            Self::UserInfo => "userinfo",
        }
    }
}

/// An input refused before the core saw it: a body over 16 KiB (**413**), an authorization
/// query over 16 KiB (**414**), a body that is not a UTF-8 form, more than one
/// `Authorization` header, or parameters [`Params::parse`] refuses (400).
///
/// At the authorization endpoint it answers with the escaped error page (the client is not
/// verified yet: OIDC Core §3.1.2.6), elsewhere with the JSON error of RFC 6749 §5.2.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct InputRejection {
    endpoint: Endpoint,
    reject: Reject,
    status: StatusCode,
}

impl InputRejection {
    /// `reject` at `endpoint`, with the status the reason calls for (413 for
    /// [`Reject::RequestTooLarge`]).
    #[must_use]
    pub fn new(endpoint: Endpoint, reject: Reject) -> Self {
        let status = match (endpoint, reject) {
            (_, Reject::RequestTooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
            (Endpoint::Authorize, _) => error_status(reject),
            _ => StatusCode::from_u16(EndpointError::from(reject).status())
                .unwrap_or(StatusCode::BAD_REQUEST),
        };
        Self {
            endpoint,
            reject,
            status,
        }
    }

    /// An authorization request whose query is over the size limit: **414 URI Too Long**.
    #[must_use]
    pub fn uri_too_long() -> Self {
        Self {
            status: StatusCode::URI_TOO_LONG,
            ..Self::new(Endpoint::Authorize, Reject::RequestTooLarge)
        }
    }

    /// The endpoint.
    #[must_use]
    pub const fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// The reason.
    #[must_use]
    pub const fn reject(&self) -> Reject {
        self.reject
    }

    /// The HTTP status of the answer.
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for InputRejection {
    fn into_response(self) -> Response {
        let (endpoint, reject) = (self.endpoint.as_str(), self.reject);
        let error = reject.code().as_str();
        let mut response = if self.endpoint == Endpoint::Authorize {
            if reject == Reject::ServerError {
                warn!(endpoint, "internal failure shown to the user");
            } else {
                info!(endpoint, error, reason = ?reject, "error shown to the user (not redirected)");
            }
            error_page(reject)
        } else {
            info!(endpoint, error, reason = ?reject, "request refused");
            Reply(EndpointError::from(reject)).into_response()
        };
        *response.status_mut() = self.status;
        response
    }
}

/// The parameters of an authorization request — the query of a `GET`, the form body of a
/// `POST` — and the request's head, where the [`Host`](crate::Host) finds its session.
pub struct AuthorizeInput {
    raw: String,
    parts: Parts,
}

impl AuthorizeInput {
    /// The parameters.
    ///
    /// # Errors
    ///
    /// An [`InputRejection`] for too many parameters, an over-long value or bad encoding.
    pub fn params(&self) -> Result<Params<'_>, InputRejection> {
        Params::parse(&self.raw).map_err(|reject| InputRejection::new(Endpoint::Authorize, reject))
    }

    /// The request's head (method, URI, headers, extensions).
    #[must_use]
    pub fn parts(&self) -> &Parts {
        &self.parts
    }
}

impl fmt::Debug for AuthorizeInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The parameters carry hints and the state: only their size is shown.
        f.debug_struct("AuthorizeInput")
            .field("len", &self.raw.len())
            .field("method", &self.parts.method)
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequest<S> for AuthorizeInput {
    type Rejection = InputRejection;

    async fn from_request(request: Request, _: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let raw = if parts.method == Method::POST {
            form_body(Endpoint::Authorize, &parts.headers, body).await?
        } else {
            let query = parts.uri.query().unwrap_or_default();
            if query.len() > MAX_INPUT_LEN {
                return Err(InputRejection::uri_too_long());
            }
            query.to_owned()
        };
        Ok(Self { raw, parts })
    }
}

/// What a request presented besides its parameters, owned: the method, the one
/// `Authorization` header, the `DPoP` header(s) (several joined with `,`, which the core
/// refuses, RFC 9449 §4.3) and the client certificate the host's TLS layer put in the request's
/// extensions (RFC 8705; `oidc_hybrid_tls::serve_tls` does, or see docs/integration.md).
struct Presentation {
    method: Method,
    authorization: Option<String>,
    dpop: Option<String>,
    certificate: Option<ClientCertificate>,
}

impl Presentation {
    fn read(endpoint: Endpoint, parts: &Parts) -> Result<Self, InputRejection> {
        let dpop: Vec<_> = parts.headers.get_all("dpop").iter().collect();
        Ok(Self {
            method: parts.method.clone(),
            authorization: authorization(endpoint, &parts.headers)?,
            dpop: (!dpop.is_empty()).then(|| {
                let values = dpop.iter().map(|v| String::from_utf8_lossy(v.as_bytes()));
                values.collect::<Vec<_>>().join(",")
            }),
            certificate: parts.extensions.get::<ClientCertificate>().cloned(),
        })
    }

    fn presented(&self) -> Presented<'_> {
        Presented::new(self.method.as_str())
            .with_authorization(self.authorization.as_deref())
            .with_dpop(self.dpop.as_deref())
            .with_certificate(self.certificate.as_ref())
    }
}

/// The form body and what else a client's request (token, revocation, PAR, introspection)
/// presented, each read once.
struct ClientForm {
    form: Option<String>,
    presentation: Presentation,
    client_addr: Option<IpAddr>,
}

impl ClientForm {
    async fn read(endpoint: Endpoint, request: Request) -> Result<Self, InputRejection> {
        let (parts, body) = request.into_parts();
        let presentation = Presentation::read(endpoint, &parts)?;
        // UserInfo reads a body only for a form POST (RFC 6750 §2.2); the others always.
        let form = if endpoint != Endpoint::UserInfo
            || (parts.method == Method::POST && is_form(&parts.headers))
        {
            Some(form_body(endpoint, &parts.headers, body).await?)
        } else {
            None
        };
        let addr = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        let client_addr = addr.map(|ConnectInfo(addr)| addr.ip());
        Ok(Self {
            form,
            presentation,
            client_addr,
        })
    }

    fn params(&self, endpoint: Endpoint) -> Result<Option<Params<'_>>, InputRejection> {
        let form = self.form.as_deref().map(Params::parse).transpose();
        form.map_err(|reject| InputRejection::new(endpoint, reject))
    }
}

impl fmt::Debug for ClientForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Codes, tokens and client secrets: never shown.
        f.debug_struct("ClientForm")
            .field("len", &self.form.as_ref().map(String::len))
            .field("presented", &self.presentation.presented())
            .finish()
    }
}

macro_rules! client_input {
    ($(#[$doc:meta])* $input:ident, $endpoint:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $input(ClientForm);

        impl $input {
            /// The form parameters.
            ///
            /// # Errors
            ///
            /// An [`InputRejection`] for too many parameters, an over-long value or bad
            /// encoding.
            pub fn params(&self) -> Result<Params<'_>, InputRejection> {
                Ok(self.0.params($endpoint)?.unwrap_or_default())
            }

            /// The method, `Authorization` and `DPoP` headers and client certificate.
            #[must_use]
            pub fn presented(&self) -> Presented<'_> {
                self.0.presentation.presented()
            }

            /// The client's address, if the server gave it (as [`serve`](crate::serve) does).
            #[must_use]
            pub fn client_addr(&self) -> Option<IpAddr> {
                self.0.client_addr
            }
        }

        impl<S: Send + Sync> FromRequest<S> for $input {
            type Rejection = InputRejection;

            async fn from_request(request: Request, _: &S) -> Result<Self, Self::Rejection> {
                ClientForm::read($endpoint, request).await.map(Self)
            }
        }
    };
}

client_input!(
    /// A token request: its form body and its `Authorization` header (`client_secret_basic`).
    TokenInput, Endpoint::Token
);
client_input!(
    /// A revocation request (RFC 7009): its form body and its `Authorization` header.
    RevocationInput, Endpoint::Revoke
);
client_input!(
    /// An introspection request (RFC 7662): its form body and its `Authorization` header.
    IntrospectionInput, Endpoint::Introspect
);
client_input!(
    /// A pushed authorization request (RFC 9126 §2.1): its form body and `Authorization` header.
    PushInput, Endpoint::Par
);

/// A UserInfo request: the access token in the `Authorization` header (with its `DPoP` proof),
/// or a form body with `access_token` (RFC 6750 §2.2: for a `POST` with a form content type
/// only).
#[derive(Debug)]
pub struct UserInfoInput(ClientForm);

impl UserInfoInput {
    /// The form parameters, if the token came in a form body.
    ///
    /// # Errors
    ///
    /// An [`InputRejection`] for too many parameters, an over-long value or bad encoding.
    pub fn params(&self) -> Result<Option<Params<'_>>, InputRejection> {
        self.0.params(Endpoint::UserInfo)
    }

    /// The method, `Authorization` and `DPoP` headers and client certificate.
    #[must_use]
    pub fn presented(&self) -> Presented<'_> {
        self.0.presentation.presented()
    }
}

impl<S: Send + Sync> FromRequest<S> for UserInfoInput {
    type Rejection = InputRejection;

    async fn from_request(request: Request, _: &S) -> Result<Self, Self::Rejection> {
        ClientForm::read(Endpoint::UserInfo, request)
            .await
            .map(Self)
    }
}

/// Whether the request declares an `application/x-www-form-urlencoded` body.
fn is_form(headers: &HeaderMap) -> bool {
    has_media_type(headers, "application/x-www-form-urlencoded")
}

/// Reads a form body: at most [`MAX_INPUT_LEN`] bytes ([`Reject::RequestTooLarge`], answered
/// with 413), declared as `application/x-www-form-urlencoded` and UTF-8
/// ([`Reject::MalformedEncoding`] otherwise).
async fn form_body(
    endpoint: Endpoint,
    headers: &HeaderMap,
    body: Body,
) -> Result<String, InputRejection> {
    let refuse = |reject| InputRejection::new(endpoint, reject);
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_INPUT_LEN as u64) {
        return Err(refuse(Reject::RequestTooLarge));
    }
    if !is_form(headers) {
        return Err(refuse(Reject::MalformedEncoding));
    }
    let bytes = axum::body::to_bytes(body, MAX_INPUT_LEN)
        .await
        .map_err(|_| refuse(Reject::RequestTooLarge))?;
    String::from_utf8(bytes.to_vec()).map_err(|_| refuse(Reject::MalformedEncoding))
}

/// The one `Authorization` header, if any (two are malformed).
fn authorization(
    endpoint: Endpoint,
    headers: &HeaderMap,
) -> Result<Option<String>, InputRejection> {
    let refuse = || InputRejection::new(endpoint, Reject::MalformedAuthorizationHeader);
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(refuse());
    }
    first
        .map(|v| v.to_str().map(str::to_owned).map_err(|_| refuse()))
        .transpose()
}
