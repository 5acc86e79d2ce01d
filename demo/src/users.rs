//! The demo's users: a built-in user, or a `--users` JSON file; Argon2id password hashes.

use std::collections::HashMap;
use std::path::Path;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use oidc_hybrid::{Claims, Subject};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{BUILTIN_USER, DemoError};

/// A postal address (OIDC Core §5.1.1).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    formatted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    street_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    country: Option<String>,
}

/// One entry of a users file: the login, and the standard claims (OIDC Core §5.1) by their
/// names. Serialising it yields the claims only.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    #[serde(skip_serializing)]
    username: String,
    #[serde(default, skip_serializing)]
    password: Option<String>,
    #[serde(default, skip_serializing)]
    password_hash: Option<String>,
    #[serde(default, skip_serializing)]
    sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    preferred_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    picture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    birthdate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    zoneinfo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone_number_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated_at: Option<u64>,
}

fn some(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// The built-in user: a full set of profile, email, address and phone claims.
fn builtin() -> Entry {
    Entry {
        username: BUILTIN_USER.0.into(),
        password: some(BUILTIN_USER.1),
        sub: some("alice"),
        name: some("Alice Liddell"),
        given_name: some("Alice"),
        family_name: some("Liddell"),
        middle_name: some("Pleasance"),
        nickname: some("Al"),
        preferred_username: some("alice"),
        profile: some("https://wonderland.example/alice"),
        picture: some("https://wonderland.example/alice.png"),
        website: some("https://wonderland.example"),
        email: some("alice@wonderland.example"),
        email_verified: Some(true),
        gender: some("female"),
        birthdate: some("1852-05-04"),
        zoneinfo: some("Europe/London"),
        locale: some("en-GB"),
        phone_number: some("+44 1865 276150"),
        phone_number_verified: Some(true),
        address: Some(Address {
            formatted: some("Christ Church\nSt Aldates\nOxford OX1 1DP\nUnited Kingdom"),
            street_address: some("Christ Church\nSt Aldates"),
            locality: some("Oxford"),
            region: some("Oxfordshire"),
            postal_code: some("OX1 1DP"),
            country: some("GB"),
        }),
        updated_at: Some(1_700_000_000),
        ..Entry::default()
    }
}

/// A user who can log in.
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub(crate) username: String,
    pub(crate) subject: Subject,
    hash: String,
    pub(crate) claims: Claims,
}

/// The user directory.
#[derive(Debug)]
pub(crate) struct Users {
    by_name: HashMap<String, User>,
    by_subject: HashMap<Subject, String>,
    /// A hash checked for unknown usernames, so that they cost as much as known ones.
    decoy: String,
    /// Whether this is the built-in user.
    pub(crate) builtin: bool,
}

fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` matches the PHC string `hash` (the comparison is constant time).
pub(crate) fn check(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

impl Users {
    /// The password hash to check for `username`: theirs, or the decoy (then the check's result
    /// must be ignored). Returns the user too when there is one.
    pub(crate) fn hash_for(&self, username: &str) -> (Option<&User>, String) {
        match self.by_name.get(username) {
            Some(user) => (Some(user), user.hash.clone()),
            None => (None, self.decoy.clone()),
        }
    }

    /// Every user's name by subject.
    pub(crate) fn names(&self) -> HashMap<Subject, String> {
        self.by_subject.clone()
    }

    /// The user with this subject.
    pub(crate) fn by_subject(&self, subject: &Subject) -> Option<&User> {
        self.by_subject
            .get(subject)
            .and_then(|name| self.by_name.get(name))
    }
}

/// Loads the users file, or the built-in user.
pub(crate) fn load(path: Option<&Path>) -> Result<Users, DemoError> {
    let (entries, origin) = match path {
        None => (vec![builtin()], None),
        Some(path) => {
            let name = path.display().to_string();
            let fail = |message: String| DemoError::Users(format!("users file {name}: {message}"));
            let text = std::fs::read_to_string(path).map_err(|e| fail(format!("{e}")))?;
            let values: Vec<Value> = serde_json::from_str(&text)
                .map_err(|e| fail(format!("not a JSON array of user objects ({e})")))?;
            if values.is_empty() {
                return Err(fail("the array is empty: no user could log in".into()));
            }
            let mut entries = Vec::with_capacity(values.len());
            for (i, value) in values.into_iter().enumerate() {
                let label = entry_label(i, &value, "username");
                let entry: Entry =
                    serde_json::from_value(value).map_err(|e| fail(format!("{label}: {e}")))?;
                entries.push(entry);
            }
            (entries, Some(name))
        }
    };
    let mut users = Users {
        by_name: HashMap::new(),
        by_subject: HashMap::new(),
        decoy: hash("decoy password").map_err(DemoError::Users)?,
        builtin: origin.is_none(),
    };
    for (i, entry) in entries.into_iter().enumerate() {
        let label = format!("entry {} ({:?})", i + 1, entry.username);
        let fail = |reason: String| {
            DemoError::Users(match &origin {
                Some(name) => format!("users file {name}: {label}: {reason}"),
                None => format!("built-in user: {reason}"),
            })
        };
        let user = validate(entry).map_err(&fail)?;
        if users.by_name.contains_key(&user.username) {
            return Err(fail(format!("username {:?} appears twice", user.username)));
        }
        if users.by_subject.contains_key(&user.subject) {
            return Err(fail(format!(
                "sub {:?} appears twice",
                user.subject.as_str()
            )));
        }
        users
            .by_subject
            .insert(user.subject.clone(), user.username.clone());
        users.by_name.insert(user.username.clone(), user);
    }
    Ok(users)
}

/// "entry N" plus the entry's name, for messages.
pub(crate) fn entry_label(index: usize, value: &Value, key: &str) -> String {
    match value.get(key).and_then(Value::as_str) {
        Some(name) => format!("entry {} ({name:?})", index + 1),
        None => format!("entry {}", index + 1),
    }
}

fn validate(entry: Entry) -> Result<User, String> {
    let username = entry.username.clone();
    if username.is_empty()
        || username.chars().count() > 64
        || username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("username must be 1 to 64 characters without spaces".into());
    }
    let hash = match (&entry.password, &entry.password_hash) {
        (Some(password), None) if !password.is_empty() => hash(password)?,
        (Some(_), None) => return Err("password is empty".into()),
        (None, Some(phc)) => {
            let parsed = PasswordHash::new(phc)
                .map_err(|e| format!("password_hash is not a PHC string ({e})"))?;
            if !parsed.algorithm.as_str().starts_with("argon2") {
                return Err("password_hash must be an Argon2 PHC string ($argon2id$…)".into());
            }
            phc.clone()
        }
        _ => return Err("give exactly one of password and password_hash".into()),
    };
    let subject = Subject::new(entry.sub.clone().unwrap_or_else(|| username.clone()))
        .map_err(|_| "sub must be 1 to 255 printable ASCII characters without spaces")?;
    let Ok(Value::Object(claims)) = serde_json::to_value(&entry) else {
        return Err("claims do not serialise".into());
    };
    Ok(User {
        username,
        subject,
        hash,
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(json: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("users.json");
        std::fs::write(&path, json).expect("write");
        (dir, path)
    }

    fn error(json: &str) -> String {
        let (_dir, path) = write(json);
        load(Some(&path)).expect_err("rejected").to_string()
    }

    #[test]
    fn builtin_user_logs_in_with_full_claims() {
        let users = load(None).expect("built-in");
        assert!(users.builtin);
        let (user, hash) = users.hash_for("alice");
        let user = user.expect("alice");
        assert!(check(&hash, "wonderland"));
        assert!(!check(&hash, "Wonderland"));
        for claim in [
            "name",
            "email",
            "email_verified",
            "address",
            "phone_number",
            "birthdate",
            "updated_at",
        ] {
            assert!(user.claims.contains_key(claim), "{claim}");
        }
        for secret in ["password", "password_hash", "username", "sub"] {
            assert!(!user.claims.contains_key(secret), "{secret}");
        }
        assert!(users.hash_for("bob").0.is_none());
    }

    #[test]
    fn file_users_and_their_errors() {
        let (_dir, path) = write(
            r#"[{"username": "bob", "password": "builder", "sub": "b-1", "email": "bob@x.example"}]"#,
        );
        let users = load(Some(&path)).expect("loads");
        assert!(!users.builtin);
        assert!(
            users
                .by_subject(&Subject::new("b-1").expect("subject"))
                .is_some()
        );

        let e = error(r#"[{"username": "bob", "password": "x", "emial": "typo"}]"#);
        assert!(
            e.contains("users.json") && e.contains("entry 1 (\"bob\")"),
            "{e}"
        );
        assert!(e.contains("unknown field `emial`"), "{e}");
        let e =
            error(r#"[{"username": "a", "password": "x"}, {"username": "a", "password": "y"}]"#);
        assert!(e.contains("entry 2") && e.contains("appears twice"), "{e}");
        let e = error(r#"[{"username": "a"}]"#);
        assert!(
            e.contains("exactly one of password and password_hash"),
            "{e}"
        );
        let e = error(r#"[{"username": "a", "password_hash": "plain"}]"#);
        assert!(e.contains("PHC"), "{e}");
        let e = error(r#"[{"username": "a", "password": "x", "sub": "has space"}]"#);
        assert!(e.contains("sub must be"), "{e}");
        let e = error(r#"{"username": "a"}"#);
        assert!(e.contains("not a JSON array"), "{e}");
        let e = error("[]");
        assert!(e.contains("empty"), "{e}");
    }
}
