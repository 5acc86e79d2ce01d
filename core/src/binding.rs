//! Sender-constrained tokens: what a token is bound to (`cnf`, RFC 7800 §3.1) and the one rule
//! that checks a presented proof against it — a DPoP key thumbprint (`jkt`, RFC 9449 §6) or a
//! client certificate thumbprint (`x5t#S256`, RFC 8705 §3).

use alloc::string::String;
use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Reject;

/// What a token is bound to: the `cnf` claim of JWT access tokens and introspection answers,
/// and the record stores keep. Records written before it existed read as unbound.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Confirmation {
    /// The RFC 7638 thumbprint of the DPoP key (RFC 9449 §6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
    /// The SHA-256 thumbprint of the client certificate (RFC 8705 §3.1).
    #[serde(rename = "x5t#S256", default, skip_serializing_if = "Option::is_none")]
    pub x5t_s256: Option<String>,
}

impl Confirmation {
    /// Bound to a DPoP key.
    #[must_use]
    pub fn dpop(jkt: impl Into<String>) -> Self {
        Self {
            jkt: Some(jkt.into()),
            x5t_s256: None,
        }
    }

    /// Bound to a client certificate.
    #[must_use]
    pub fn certificate(thumbprint: impl Into<String>) -> Self {
        Self {
            jkt: None,
            x5t_s256: Some(thumbprint.into()),
        }
    }

    /// Whether nothing is bound.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.jkt.is_none() && self.x5t_s256.is_none()
    }

    /// Whether a request that proved possession of the DPoP key `jkt` (if any) and presented
    /// the certificate of thumbprint `x5t` (if any) satisfies this binding: every bound
    /// confirmation must be matched (RFC 9449 §7.1, RFC 8705 §3).
    ///
    /// # Errors
    ///
    /// [`Reject::DpopKeyMismatch`] for a missing or other DPoP key;
    /// [`Reject::CertificateMismatch`] for a missing or other certificate.
    pub fn check(&self, jkt: Option<&str>, x5t: Option<&str>) -> Result<(), Reject> {
        if self.jkt.is_some() && self.jkt.as_deref() != jkt {
            return Err(Reject::DpopKeyMismatch);
        }
        if self.x5t_s256.is_some() && self.x5t_s256.as_deref() != x5t {
            return Err(Reject::CertificateMismatch);
        }
        Ok(())
    }
}

/// What a request presented besides its parameters, read by the host's HTTP layer: the method,
/// the `Authorization` header, the `DPoP` header (RFC 9449 §4.1) and the client certificate of
/// a mutual-TLS connection (RFC 8705 §2). Built from `Option<&str>` (the `Authorization`
/// header alone) for hosts that offer neither DPoP nor mutual TLS.
///
/// A request with more than one `DPoP` header must be refused (RFC 9449 §4.3 step 1): pass the
/// values joined with `,`, which no proof contains, and it is.
///
/// ```
/// use oidc_hybrid::binding::Presented;
///
/// let presented = Presented::new("POST")
///     .with_authorization(Some("Basic Y2xpZW50OnNlY3JldA=="))
///     .with_dpop(None);
/// assert_eq!(presented.method(), Some("POST"));
/// ```
#[derive(Clone, Copy, Default)]
pub struct Presented<'a> {
    method: Option<&'a str>,
    authorization: Option<&'a str>,
    dpop: Option<&'a str>,
    certificate: Option<&'a ClientCertificate>,
}

impl<'a> Presented<'a> {
    /// A request made with HTTP `method`.
    #[must_use]
    pub fn new(method: &'a str) -> Self {
        Self {
            method: Some(method),
            ..Self::default()
        }
    }

    /// With the `Authorization` header, if any.
    #[must_use]
    pub fn with_authorization(mut self, authorization: Option<&'a str>) -> Self {
        self.authorization = authorization;
        self
    }

    /// With the `DPoP` header, if any.
    #[must_use]
    pub fn with_dpop(mut self, dpop: Option<&'a str>) -> Self {
        self.dpop = dpop;
        self
    }

    /// With the client certificate of the TLS connection, if any.
    #[must_use]
    pub fn with_certificate(mut self, certificate: Option<&'a ClientCertificate>) -> Self {
        self.certificate = certificate;
        self
    }

    /// The HTTP method.
    #[must_use]
    pub fn method(&self) -> Option<&'a str> {
        self.method
    }

    /// The `Authorization` header.
    #[must_use]
    pub fn authorization(&self) -> Option<&'a str> {
        self.authorization
    }

    /// The `DPoP` header.
    #[must_use]
    pub fn dpop(&self) -> Option<&'a str> {
        self.dpop
    }

    /// The client certificate.
    #[must_use]
    pub fn certificate(&self) -> Option<&'a ClientCertificate> {
        self.certificate
    }
}

impl fmt::Debug for Presented<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Credentials and proofs are secrets or single-use: only whether they are there.
        f.debug_struct("Presented")
            .field("method", &self.method)
            .field("authorization", &self.authorization.is_some())
            .field("dpop", &self.dpop.is_some())
            .field("certificate", &self.certificate)
            .finish()
    }
}

impl<'a> From<Option<&'a str>> for Presented<'a> {
    /// The `Authorization` header alone.
    fn from(authorization: Option<&'a str>) -> Self {
        Self::default().with_authorization(authorization)
    }
}

/// The `x5t#S256` of a certificate: base64url of the SHA-256 of its DER encoding (RFC 8705
/// §3.1).
#[must_use]
pub fn certificate_thumbprint(der: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(der))
}

/// The client certificate of a mutual-TLS connection (RFC 8705 §2), as the host's TLS layer
/// verified the connection's proof of possession: its thumbprint (what tokens are bound to,
/// `x5t#S256`, §3.1) and the names `tls_client_auth` matches a client by (§2.1.2).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub struct ClientCertificate {
    /// base64url of the SHA-256 of the certificate's DER encoding.
    pub x5t_s256: String,
    /// The subject distinguished name, in RFC 4514 string form.
    pub subject_dn: Option<String>,
    /// The `dNSName` subject alternative names.
    pub san_dns: alloc::vec::Vec<String>,
    /// The `uniformResourceIdentifier` subject alternative names.
    pub san_uri: alloc::vec::Vec<String>,
    /// The `iPAddress` subject alternative names, in textual form.
    pub san_ip: alloc::vec::Vec<String>,
    /// The `rfc822Name` subject alternative names.
    pub san_email: alloc::vec::Vec<String>,
}

impl ClientCertificate {
    /// A certificate known by its DER encoding only (its names are not read: enough for
    /// `self_signed_tls_client_auth` and for binding tokens).
    #[must_use]
    pub fn from_der(der: &[u8]) -> Self {
        Self {
            x5t_s256: certificate_thumbprint(der),
            ..Self::default()
        }
    }
}
