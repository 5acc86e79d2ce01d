//! Raw request parameters: `application/x-www-form-urlencoded` bytes (a GET query or a POST
//! body) split into name/value pairs, with size limits, strict UTF-8 and duplicate detection.
//!
//! This is where attacker input stops being bytes. Rules (RFC 6749 §3.1, §3.2): a parameter
//! sent with an empty value is treated as absent; unknown parameters are kept but ignored by the
//! endpoints; a known parameter that appears more than once is an error, reported when the
//! endpoint asks for it ([`Params::get`]).

use alloc::borrow::Cow;
use alloc::vec::Vec;

use percent_encoding::percent_decode;

use crate::error::Reject;

/// Largest accepted encoded input (query string or form body), in bytes.
pub const MAX_INPUT_LEN: usize = 16 * 1024;
/// Largest accepted decoded value of one parameter, in bytes.
pub const MAX_VALUE_LEN: usize = 8 * 1024;
/// Most parameters accepted in one request.
pub const MAX_PARAMS: usize = 64;

/// Decoded parameters of one request, borrowed from the input where no decoding was needed.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Params<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> Params<'a> {
    /// Parses form-urlencoded input (a query string without `?`, or a form body).
    ///
    /// # Errors
    ///
    /// - [`Reject::RequestTooLarge`] above [`MAX_INPUT_LEN`] bytes;
    /// - [`Reject::TooManyParameters`] above [`MAX_PARAMS`] pairs;
    /// - [`Reject::ParameterTooLong`] for a value above [`MAX_VALUE_LEN`] bytes;
    /// - [`Reject::MalformedEncoding`] for percent-decoded bytes that are not UTF-8.
    pub fn parse(input: &'a str) -> Result<Self, Reject> {
        if input.len() > MAX_INPUT_LEN {
            return Err(Reject::RequestTooLarge);
        }
        let pieces = input.bytes().filter(|&b| b == b'&').count() + 1;
        let mut pairs = Vec::with_capacity(pieces.min(MAX_PARAMS));
        for piece in input.split('&') {
            if piece.is_empty() {
                continue;
            }
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            push_limited(&mut pairs, decode(name)?, decode(value)?)?;
        }
        Ok(Self { pairs })
    }

    /// Builds parameters from already-decoded pairs (for hosts whose framework decoded them).
    /// Empty values are dropped; the limits of [`Params::parse`] apply.
    ///
    /// # Errors
    ///
    /// As for [`Params::parse`], except encoding errors.
    pub fn from_pairs<I, N, V>(pairs: I) -> Result<Self, Reject>
    where
        I: IntoIterator<Item = (N, V)>,
        N: Into<Cow<'a, str>>,
        V: Into<Cow<'a, str>>,
    {
        let mut out = Vec::new();
        let mut total = 0usize;
        for (name, value) in pairs {
            let (name, value) = (name.into(), value.into());
            total = total.saturating_add(name.len() + value.len() + 2);
            if total > MAX_INPUT_LEN {
                return Err(Reject::RequestTooLarge);
            }
            push_limited(&mut out, name, value)?;
        }
        Ok(Self { pairs: out })
    }

    /// The value of `name`: `Ok(None)` if absent (or empty).
    ///
    /// # Errors
    ///
    /// [`Reject::ParameterDuplicated`] if `name` appears more than once (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Result<Option<&str>, Reject> {
        let mut found = None;
        for (n, v) in &self.pairs {
            if n == name {
                if found.is_some() {
                    return Err(Reject::ParameterDuplicated);
                }
                found = Some(v.as_ref());
            }
        }
        Ok(found)
    }

    /// Every value of `name`, in input order: for the parameters that may repeat (RFC 8707 §2
    /// `resource`); [`Params::get`] refuses a repetition of any other.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> {
        self.pairs
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// Whether `name` is present (possibly more than once).
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    /// All pairs, in input order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (n.as_ref(), v.as_ref()))
    }

    /// The number of (non-empty) pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are no pairs.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// Adds a decoded pair under the limits of [`Params::parse`] and [`Params::from_pairs`]: an
/// empty name or value is treated as omitted (RFC 6749 §3.1), a value may have
/// [`MAX_VALUE_LEN`] octets and there may be [`MAX_PARAMS`] pairs.
fn push_limited<'a>(
    pairs: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
    name: Cow<'a, str>,
    value: Cow<'a, str>,
) -> Result<(), Reject> {
    if name.is_empty() || value.is_empty() {
        return Ok(());
    }
    if value.len() > MAX_VALUE_LEN {
        return Err(Reject::ParameterTooLong);
    }
    if pairs.len() == MAX_PARAMS {
        return Err(Reject::TooManyParameters);
    }
    pairs.push((name, value));
    Ok(())
}

/// Decodes one form-urlencoded component: `+` is a space, `%XX` an octet; the octets must be
/// UTF-8 (a malformed `%` sequence is kept literally, as browsers do).
pub(crate) fn decode(raw: &str) -> Result<Cow<'_, str>, Reject> {
    if !raw.bytes().any(|b| b == b'+' || b == b'%') {
        return Ok(Cow::Borrowed(raw));
    }
    let replaced: Cow<'_, [u8]> = if raw.contains('+') {
        Cow::Owned(
            raw.bytes()
                .map(|b| if b == b'+' { b' ' } else { b })
                .collect(),
        )
    } else {
        Cow::Borrowed(raw.as_bytes())
    };
    let mut decoded = Vec::with_capacity(replaced.len());
    decoded.extend(percent_decode(&replaced));
    alloc::string::String::from_utf8(decoded)
        .map(Cow::Owned)
        .map_err(|_| Reject::MalformedEncoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_absent_and_duplicates_detected() {
        let p = Params::parse("a=1&b=&c=x+y%20z&a=2&&d").unwrap();
        assert_eq!(p.get("a"), Err(Reject::ParameterDuplicated));
        assert_eq!(p.get("b"), Ok(None));
        assert_eq!(p.get("c"), Ok(Some("x y z")));
        assert_eq!(p.get("d"), Ok(None));
    }

    #[test]
    fn limits_and_encoding() {
        assert_eq!(Params::parse("a=%FF"), Err(Reject::MalformedEncoding));
        let big = alloc::format!("a={}", "x".repeat(MAX_VALUE_LEN + 1));
        assert_eq!(Params::parse(&big), Err(Reject::ParameterTooLong));
        let many: Vec<_> = (0..=MAX_PARAMS).map(|i| alloc::format!("p{i}=1")).collect();
        assert_eq!(
            Params::parse(&many.join("&")),
            Err(Reject::TooManyParameters)
        );
        let huge = "a=1&".repeat(MAX_INPUT_LEN);
        assert_eq!(Params::parse(&huge), Err(Reject::RequestTooLarge));
    }
}
