//! [`client_certificate`]: what the core needs to know of a client certificate, read from its
//! DER encoding.

use core::fmt::Write as _;
use core::net::{Ipv4Addr, Ipv6Addr};

use oidc_hybrid::binding::ClientCertificate;
use x509_parser::der_parser::asn1_rs::{Any, Class, Tag};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer as _, X509Certificate, X509Error};
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// The bytes given are not one X.509 certificate (RFC 5280 §4.1), or its subject alternative
/// name extension is malformed.
#[derive(Debug, thiserror::Error)]
#[error("not an X.509 certificate: {source}")]
#[non_exhaustive]
pub struct InvalidCertificate {
    /// What the parser found wrong.
    #[source]
    pub source: X509Error,
}

/// Reads a client certificate (DER, RFC 5280 §4.1) into a [`ClientCertificate`]: its SHA-256
/// thumbprint (RFC 8705 §3.1, as [`ClientCertificate::from_der`] computes it), its subject DN
/// as an RFC 4514 string and its subject alternative names (RFC 5280 §4.2.1.6) by kind:
/// `dNSName`, `uniformResourceIdentifier`, `iPAddress` (dotted decimal, or RFC 5952 text for
/// IPv6) and `rfc822Name` — what `tls_client_auth` matches a client's registration against
/// (RFC 8705 §2.1.2). An empty subject gives `subject_dn: None`.
///
/// For hosts that run their own TLS stack: insert the result into each request's extensions.
/// Give names only for a certificate whose chain the TLS layer validated against the CAs the
/// deployment trusts (RFC 8705 §2.1); for a certificate accepted without chain validation
/// (self-signed, §2.2) use [`ClientCertificate::from_der`], which leaves the names empty, so
/// that nobody can be authenticated by names they wrote into a certificate themselves.
///
/// # Errors
///
/// [`InvalidCertificate`] if `der` is not one DER-encoded certificate, with nothing after it.
pub fn client_certificate(der: &[u8]) -> Result<ClientCertificate, InvalidCertificate> {
    let invalid = |source| InvalidCertificate { source };
    let (rest, parsed) = X509Certificate::from_der(der).map_err(|e| match e {
        x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e) => invalid(e),
        x509_parser::nom::Err::Incomplete(_) => invalid(X509Error::InvalidCertificate),
    })?;
    if !rest.is_empty() {
        return Err(invalid(X509Error::InvalidCertificate));
    }
    let mut certificate = ClientCertificate::from_der(der);
    let subject = rfc4514(parsed.subject());
    certificate.subject_dn = (!subject.is_empty()).then_some(subject);
    let names = parsed.subject_alternative_name().map_err(invalid)?;
    for name in names.iter().flat_map(|names| &names.value.general_names) {
        match name {
            GeneralName::DNSName(dns) => certificate.san_dns.push((*dns).to_owned()),
            GeneralName::URI(uri) => certificate.san_uri.push((*uri).to_owned()),
            GeneralName::RFC822Name(email) => certificate.san_email.push((*email).to_owned()),
            GeneralName::IPAddress(bytes) => {
                if let Some(ip) = ip_text(bytes) {
                    certificate.san_ip.push(ip);
                }
            }
            _ => {}
        }
    }
    Ok(certificate)
}

/// An `iPAddress` name as text: 4 octets are IPv4, 16 are IPv6 (RFC 5280 §4.2.1.6); anything
/// else (a name constraint's address and mask has no place in a SAN) is skipped.
fn ip_text(bytes: &[u8]) -> Option<String> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(Ipv4Addr::from(v4).to_string());
    }
    let v6 = <[u8; 16]>::try_from(bytes).ok()?;
    Some(Ipv6Addr::from(v6).to_string())
}

/// The RFC 4514 §2 string of a distinguished name: its RDNs last to first, separated by `,`;
/// the attributes of a multi-valued RDN joined by `+`.
fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<_> = name.iter_rdn().collect();
    let mut out = String::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attribute) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            attribute_text(attribute, &mut out);
        }
    }
    out
}

/// `type=value` (RFC 4514 §2.3): the short names of §3 for their types, the dotted OID for
/// others; a string value escaped (§2.4), any other value as `#` and the hex of its BER
/// encoding.
fn attribute_text(attribute: &AttributeTypeAndValue<'_>, out: &mut String) {
    let oid = attribute.attr_type().to_id_string();
    let short = match oid.as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        _ => oid.as_str(),
    };
    out.push_str(short);
    out.push('=');
    let value = attribute.attr_value();
    match string_value(value) {
        Some(text) => escape(&text, out),
        None => {
            out.push('#');
            for byte in encoding(value) {
                let _ = write!(out, "{byte:02x}");
            }
        }
    }
}

/// The text of a value of one of the string types of `DirectoryString` and its kin (RFC 5280
/// §4.1.2.4), if it is one and decodes.
fn string_value(value: &Any<'_>) -> Option<String> {
    let data = value.data;
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::NumericString => {
            core::str::from_utf8(data).ok().map(str::to_owned)
        }
        Tag::BmpString => {
            let units = data
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
            data.len()
                .is_multiple_of(2)
                .then(|| {
                    char::decode_utf16(units)
                        .collect::<Result<String, _>>()
                        .ok()
                })
                .flatten()
        }
        Tag::UniversalString => {
            let chars = data.chunks_exact(4).map(|quad| {
                char::from_u32(u32::from_be_bytes([quad[0], quad[1], quad[2], quad[3]]))
            });
            data.len()
                .is_multiple_of(4)
                .then(|| chars.collect::<Option<String>>())
                .flatten()
        }
        _ => None,
    }
}

/// A value's encoding, header included (RFC 4514 §2.4: the hex form is of the BER encoding).
fn encoding(value: &Any<'_>) -> Vec<u8> {
    let class = match value.class() {
        Class::Universal => 0x00,
        Class::Application => 0x40,
        Class::ContextSpecific => 0x80,
        Class::Private => 0xc0,
    };
    let constructed = if value.header.is_constructed() {
        0x20
    } else {
        0
    };
    let mut out = Vec::with_capacity(value.data.len() + 8);
    let tag = value.tag().0;
    if tag < 31 {
        // The tag fits the identifier octet (X.690 §8.1.2.2).
        out.push(class | constructed | (tag as u8));
    } else {
        // High tag numbers: base 128, most significant group first (X.690 §8.1.2.4).
        out.push(class | constructed | 0x1f);
        let mut groups = Vec::new();
        let mut rest = tag;
        loop {
            groups.push((rest & 0x7f) as u8);
            rest >>= 7;
            if rest == 0 {
                break;
            }
        }
        let last = groups.len() - 1;
        out.extend(groups.iter().rev().enumerate().map(
            |(i, g)| {
                if i == last { *g } else { *g | 0x80 }
            },
        ));
    }
    let len = value.data.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value.data);
    out
}

/// Appends `text` escaped per RFC 4514 §2.4: `"`, `+`, `,`, `;`, `<`, `>` and `\` everywhere,
/// a leading space or `#`, a trailing space, and NUL (as `\00`).
fn escape(text: &str, out: &mut String) {
    let last = text.chars().count().saturating_sub(1);
    for (i, c) in text.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' ' | '#' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_rfc_4514() {
        let escaped = |text: &str| {
            let mut out = String::new();
            escape(text, &mut out);
            out
        };
        assert_eq!(escaped("Sue, Grabbit and Runn"), "Sue\\, Grabbit and Runn");
        assert_eq!(escaped("#1 "), "\\#1\\ ");
        assert_eq!(escaped(" a+b;<c>\"\\"), "\\ a\\+b\\;\\<c\\>\\\"\\\\");
        assert_eq!(escaped("a\0b"), "a\\00b");
        assert_eq!(escaped("Lučić"), "Lučić");
        assert_eq!(escaped(""), "");
    }

    #[test]
    fn ip_addresses_as_text() {
        assert_eq!(ip_text(&[127, 0, 0, 1]).as_deref(), Some("127.0.0.1"));
        let mut v6 = [0; 16];
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[2] = 0x0d;
        v6[3] = 0xb8;
        v6[15] = 1;
        assert_eq!(ip_text(&v6).as_deref(), Some("2001:db8::1"));
        assert_eq!(ip_text(&[10, 0, 0, 0, 255, 0, 0, 0]), None);
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(client_certificate(b"not a certificate").is_err());
        assert!(client_certificate(&[]).is_err());
    }
}
