//! The SSRF guard: which URLs and addresses an outbound request may reach, and the HTTP client
//! that connects only to addresses it checked.

use alloc::sync::Arc;
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{Certificate, Client, Response, Url};

/// The policy for requests to URLs that clients supplied (`jwks_uri` now, back-channel logout
/// URIs later): **https** only, no credentials in the URL, and never an address outside the
/// public internet — loopback, private (RFC 1918), shared (RFC 6598), link-local,
/// unique-local, multicast, broadcast, unspecified, documentation, benchmarking or reserved,
/// for IPv4 and IPv6 alike, including IPv4 addresses embedded in IPv6 (mapped, compatible,
/// NAT64, 6to4).
///
/// Host names are resolved by the guard's own resolver, which drops every refused address
/// before the connection is made, so the address connected to is the address checked (a name
/// that resolves to a public address once and to `127.0.0.1` the next time gains nothing).
/// Redirects are never followed, proxies are never used, and every request has a connect and
/// a total time limit.
#[derive(Clone)]
pub struct Guard {
    allow_loopback: bool,
    connect_timeout: Duration,
    timeout: Duration,
    roots: Vec<Certificate>,
}

impl Default for Guard {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("allow_loopback", &self.allow_loopback)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("extra_roots", &self.roots.len())
            .finish()
    }
}

impl Guard {
    /// The strict policy: public addresses only, 2 s to connect, 5 s in all, the web PKI's
    /// roots.
    #[must_use]
    pub fn new() -> Self {
        Self {
            allow_loopback: false,
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            roots: Vec::new(),
        }
    }

    /// **Danger**: also lets requests reach loopback addresses (`127.0.0.0/8`, `::1`, and a
    /// `localhost` that resolves to them). For development and tests on one machine only: in
    /// production it lets any client that registers a URL make the provider call its own
    /// local services. Every other rule (https, the other ranges) still holds.
    #[must_use]
    pub fn dangerously_allow_loopback(mut self) -> Self {
        self.allow_loopback = true;
        self
    }

    /// Trusts `certificate` (DER) as a root besides the web PKI's (a private CA, or a test
    /// server's own certificate).
    ///
    /// # Errors
    ///
    /// [`reqwest::Error`] when the bytes are not a DER certificate.
    pub fn with_root_certificate(mut self, certificate: &[u8]) -> Result<Self, reqwest::Error> {
        self.roots.push(Certificate::from_der(certificate)?);
        Ok(self)
    }

    /// Sets the time limits: `connect` for the TCP and TLS connection, `total` for the whole
    /// request, body included.
    #[must_use]
    pub fn with_timeouts(mut self, connect: Duration, total: Duration) -> Self {
        self.connect_timeout = connect;
        self.timeout = total;
        self
    }

    /// Whether the policy lets a request connect to `ip`.
    #[must_use]
    pub fn allows(&self, ip: IpAddr) -> bool {
        is_public(ip) || (self.allow_loopback && is_loopback(ip))
    }

    /// Parses `url` and checks what can be checked before resolving its host: the scheme is
    /// `https`, there are no credentials, and an IP literal host is an allowed address.
    ///
    /// # Errors
    ///
    /// [`Refused`] naming the broken rule.
    pub fn check_url(&self, url: &str) -> Result<Url, Refused> {
        let url = Url::parse(url).map_err(|_| Refused::Malformed)?;
        if url.scheme() != "https" {
            return Err(Refused::NotHttps);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused::Credentials);
        }
        let literal = match url.host() {
            Some(url::Host::Domain(_)) => None,
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            None => return Err(Refused::Malformed),
        };
        match literal {
            Some(ip) if !self.allows(ip) => Err(Refused::Address),
            _ => Ok(url),
        }
    }

    /// An HTTP client that applies the policy: https only, resolution through the guard
    /// (refused addresses are never connected to), no redirects, no proxy, no `Referer`, the
    /// time limits, and the extra roots. URLs must still pass [`check_url`](Self::check_url)
    /// first: IP literal hosts are not resolved, so only that check sees them.
    ///
    /// # Errors
    ///
    /// [`reqwest::Error`] when the TLS backend cannot be set up.
    pub fn client(&self) -> Result<Client, reqwest::Error> {
        let mut builder = Client::builder()
            .use_rustls_tls()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .referer(false)
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .dns_resolver(Arc::new(GuardedResolver {
                allow_loopback: self.allow_loopback,
            }));
        for root in &self.roots {
            builder = builder.add_root_certificate(root.clone());
        }
        builder.build()
    }
}

/// Reads `response`'s body, refusing one over `cap` bytes (by its `Content-Length` before
/// reading, and while reading).
///
/// # Errors
///
/// [`BodyError::TooLarge`] over the cap, [`BodyError::Read`] when the body cannot be read (or
/// the time limit ends).
pub async fn read_capped(mut response: Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|len| len > cap as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Why a body was not read.
#[derive(Debug)]
#[non_exhaustive]
pub enum BodyError {
    /// The body could not be read.
    Read(reqwest::Error),
    /// The body is over the cap.
    TooLarge,
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(e) => write!(f, "the body could not be read: {e}"),
            Self::TooLarge => f.write_str("the body is over the size cap"),
        }
    }
}

impl core::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Read(e) => Some(e),
            Self::TooLarge => None,
        }
    }
}

/// Why the guard refused a URL.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Refused {
    /// The host is (or resolves only to) an address the policy refuses.
    Address,
    /// The URL carries a user name or password.
    Credentials,
    /// The URL does not parse, or has no host.
    Malformed,
    /// The scheme is not `https`.
    NotHttps,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Address => "the host is not a public internet address",
            Self::Credentials => "the URL carries credentials",
            Self::Malformed => "the URL is malformed",
            Self::NotHttps => "the URL is not https",
        })
    }
}

impl core::error::Error for Refused {}

/// Whether `error` (or an error it wraps) is the guard's refusal of every resolved address.
pub(crate) fn refused_by_resolver(error: &(dyn core::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.downcast_ref::<Refused>().is_some() {
            return true;
        }
        current = error.source();
    }
    false
}

/// Resolves with the system resolver and keeps only the addresses the policy allows.
struct GuardedResolver {
    allow_loopback: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = Guard {
            allow_loopback: self.allow_loopback,
            ..Guard::new()
        };
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = resolved.filter(|a| guard.allows(a.ip())).collect();
            if allowed.is_empty() {
                tracing::info!(host, "outbound request refused: no public address");
                return Err(Box::new(Refused::Address) as Box<dyn core::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Whether `ip` is an address of the public internet: none of the special-purpose ranges of
/// RFC 6890 (IANA's IPv4 and IPv6 special-purpose address registries) that a request must not
/// reach. IPv4 addresses embedded in IPv6 are judged as IPv4.
#[must_use]
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = a == 0 // "this network", 0.0.0.0/8
        || a == 10 // private
        || a == 127 // loopback
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGN), RFC 6598
        || (a == 169 && b == 254) // link-local
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast (deprecated)
        || (a == 192 && b == 168) // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast 224/4, reserved 240/4, broadcast
    !special
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    match segments {
        // ::/96 (unspecified, loopback, the deprecated IPv4-compatible addresses)
        [0, 0, 0, 0, 0, 0, _, _] => false,
        // NAT64 64:ff9b::/96: the IPv4 address it translates to
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => is_public_v4(embedded_v4(hi, lo)),
        // 6to4 2002::/16: the IPv4 address of the tunnel
        [0x2002, hi, lo, ..] => is_public_v4(embedded_v4(hi, lo)),
        // IETF protocol assignments 2001::/23 (Teredo, benchmarking, ORCHID…)
        [0x2001, b, ..] if b < 0x200 => false,
        // documentation 2001:db8::/32 and 3fff::/20
        [0x2001, 0xdb8, ..] => false,
        [0x3fff, b, ..] if b & 0xf000 == 0 => false,
        // discard-only 100::/64
        [0x100, 0, 0, 0, ..] => false,
        // unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8
        [s, ..] if s & 0xfe00 == 0xfc00 || s & 0xffc0 == 0xfe80 || s & 0xffc0 == 0xfec0 => false,
        [s, ..] if s & 0xff00 == 0xff00 => false,
        // Only global unicast 2000::/3 is routed on the internet.
        [s, ..] => s & 0xe000 == 0x2000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn special_purpose_addresses_are_not_public() {
        for refused in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "2001::1",
            "2001:2::1",
            "2001:db8::1",
            "3fff::1",
            "100::1",
            "3fff:fff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "4000::1",
        ] {
            assert!(!is_public(ip(refused)), "{refused} must be refused");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for allowed in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "3fff:1000::1",
        ] {
            assert!(is_public(ip(allowed)), "{allowed} must be allowed");
        }
    }

    #[test]
    fn loopback_only_when_dangerously_allowed() {
        let strict = Guard::new();
        let dev = Guard::new().dangerously_allow_loopback();
        for loopback in ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"] {
            assert!(!strict.allows(ip(loopback)), "{loopback}");
            assert!(dev.allows(ip(loopback)), "{loopback}");
        }
        for private in [
            "10.0.0.1",
            "192.168.0.1",
            "169.254.169.254",
            "fd00::1",
            "fe80::1",
        ] {
            assert!(!dev.allows(ip(private)), "{private} stays refused");
        }
    }

    #[test]
    fn urls_are_https_without_credentials_and_literal_hosts_are_checked() {
        let strict = Guard::new();
        assert!(strict.check_url("https://rp.example/jwks").is_ok());
        assert!(strict.check_url("https://8.8.8.8/jwks").is_ok());
        assert_eq!(
            strict.check_url("http://rp.example/jwks"),
            Err(Refused::NotHttps)
        );
        assert_eq!(
            strict.check_url("ftp://rp.example/"),
            Err(Refused::NotHttps)
        );
        assert_eq!(
            strict.check_url("file:///etc/passwd"),
            Err(Refused::NotHttps)
        );
        assert_eq!(strict.check_url("jwks"), Err(Refused::Malformed));
        assert_eq!(
            strict.check_url("https://user:pw@rp.example/"),
            Err(Refused::Credentials)
        );
        for literal in [
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://[::ffff:7f00:1]/",
            "https://10.0.0.1/",
            "https://169.254.169.254/latest/meta-data/",
            "https://[fd00::1]:8443/",
            // Other spellings of 127.0.0.1, normalised by the URL parser.
            "https://2130706433/",
            "https://0x7f.1/",
            "https://0177.0.0.1/",
        ] {
            assert_eq!(
                strict.check_url(literal),
                Err(Refused::Address),
                "{literal}"
            );
        }
        let dev = Guard::new().dangerously_allow_loopback();
        assert!(dev.check_url("https://127.0.0.1:8443/").is_ok());
        assert_eq!(dev.check_url("http://127.0.0.1/"), Err(Refused::NotHttps));
        assert_eq!(dev.check_url("https://10.0.0.1/"), Err(Refused::Address));
    }

    #[tokio::test]
    async fn the_resolver_drops_refused_addresses() {
        let strict = GuardedResolver {
            allow_loopback: false,
        };
        let name: Name = "localhost".parse().expect("a name");
        let error = strict.resolve(name).await.err().expect("refused");
        assert!(refused_by_resolver(error.as_ref()));
        let dev = GuardedResolver {
            allow_loopback: true,
        };
        let name: Name = "localhost".parse().expect("a name");
        let addrs: Vec<SocketAddr> = dev.resolve(name).await.expect("resolved").collect();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
