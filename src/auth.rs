//! Credentials: which presented key is whose, and what it may do.
//!
//! Two kinds: the team key (SPEC's `WAAAH_API_KEY`, full rights, people name themselves) and
//! per-person tokens (`warroom token create`), which fix the person's name and carry a role.
//! Only a token's SHA-256 is stored. Adapters never compare keys themselves.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use unicode_normalization::UnicodeNormalization;

use crate::domain::input::person_key;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads and receives events; every write is refused with FORBIDDEN.
    Viewer,
    /// Reads and writes the board.
    Editor,
    /// Everything an editor can, and the holder of the team key.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Viewer, Role::Editor, Role::Admin].into_iter().find(|r| r.as_str() == s)
    }

    pub fn can_write(self) -> bool {
        self != Role::Viewer
    }
}

/// Who a valid key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Scopes idempotency keys and REST rate limits: `team`, or `token:<id>`.
    pub id: String,
    pub role: Role,
    /// A token's person: their name is fixed. `None` for the team key.
    pub person: Option<String>,
    /// The boards a token is limited to; `None` reaches every board (the team key does).
    pub boards: Option<Arc<[String]>>,
}

impl Credential {
    /// Whether this credential may read (and, by its role, write) `board`.
    pub fn can_see(&self, board: &str) -> bool {
        can_see(self.boards.as_deref(), board)
    }

    /// FORBIDDEN outside the credential's boards.
    pub fn check_board(&self, board: &str) -> AppResult<()> {
        check_board(self.boards.as_deref(), board)
    }

    /// The name a REST write acts as: the token's person; with the team key the person named
    /// by `X-Warroom-Name` (already validated as a name), else `api`. A token's person naming
    /// someone else is FORBIDDEN, as at the socket handshake.
    pub fn rest_name(&self, named: Option<String>) -> AppResult<String> {
        match (&self.person, named) {
            (Some(person), Some(named)) if person_key(person) != person_key(&named) => {
                Err(AppError::Forbidden(format!("This token belongs to {person}")))
            }
            (Some(person), _) => Ok(person.clone()),
            (None, named) => Ok(named.unwrap_or_else(|| "api".to_owned())),
        }
    }
}

/// Whether a credential limited to `scope` (`None`: every board) reaches `board`.
pub fn can_see(scope: Option<&[String]>, board: &str) -> bool {
    scope.is_none_or(|boards| boards.iter().any(|b| b == board))
}

/// FORBIDDEN outside `scope`.
pub fn check_board(scope: Option<&[String]>, board: &str) -> AppResult<()> {
    if can_see(scope, board) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("This credential does not reach the board {board}")))
    }
}

/// A per-person token as stored: never the token itself.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredToken {
    pub id: String,
    pub name: String,
    pub role: Role,
    #[serde(skip)]
    pub hash: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// The boards it reaches; `None`: every board.
    pub boards: Option<Vec<String>>,
}

/// An invite link as stored: the SHA-256 of its code, never the code.
#[derive(Debug, Clone)]
pub struct Invite {
    pub hash: String,
    pub role: Role,
    pub boards: Option<Vec<String>>,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub used_at: Option<String>,
}

/// A new invite code (URL-safe hex) and its stored form.
pub fn new_invite(
    role: Role,
    boards: Option<Vec<String>>,
    by: &str,
    now: &str,
    expires_at: &str,
) -> (String, Invite) {
    let code = hex(&random_bytes::<16>());
    let invite = Invite {
        hash: hash_token(&code),
        role,
        boards,
        created_by: by.to_owned(),
        created_at: now.to_owned(),
        expires_at: expires_at.to_owned(),
        used_at: None,
    };
    (code, invite)
}

impl StoredToken {
    fn credential(&self) -> Credential {
        // Names made before they were normalised on input are normalised here.
        let person = Some(self.name.nfc().collect());
        let boards = self.boards.as_deref().map(Arc::from);
        Credential { id: format!("token:{}", self.id), role: self.role, person, boards }
    }
}

pub struct Keys {
    team_key: String,
    /// Refreshed from the store (so a revocation by the command line reaches a running
    /// server). Read on every handshake, request and socket command; written on refresh.
    tokens: RwLock<Tokens>,
}

#[derive(Default)]
struct Tokens {
    /// Live tokens by hash.
    live: HashMap<String, Credential>,
    /// Ids of the credentials revoked while this server ran. A socket keeps the credential it
    /// authenticated with, so it must be able to learn that it no longer holds: updated under
    /// the same lock as `live`, so no reader sees a token gone from one and not in the other.
    revoked: HashSet<String>,
}

impl Keys {
    pub fn new(team_key: String) -> Keys {
        Keys { team_key, tokens: RwLock::default() }
    }

    /// The team key is compared in constant time, so timing reveals nothing about it; a token
    /// is looked up by its hash, which reveals nothing about any other token.
    pub fn identify(&self, presented: &str) -> Option<Credential> {
        let team: bool = presented.as_bytes().ct_eq(self.team_key.as_bytes()).into();
        if team {
            return Some(Credential { id: "team".into(), role: Role::Admin, person: None, boards: None });
        }
        if !presented.starts_with(TOKEN_PREFIX) {
            return None;
        }
        self.tokens.read().unwrap().live.get(&hash_token(presented)).cloned()
    }

    /// Whether a credential identified earlier still holds: false from the instant its
    /// revocation is read. Sockets ask before every command and once they are connected.
    pub fn is_live(&self, credential: &Credential) -> bool {
        credential.person.is_none() || !self.tokens.read().unwrap().revoked.contains(&credential.id)
    }

    /// Makes a token just stored valid at once, before the next refresh reads it.
    pub fn add(&self, token: &StoredToken) {
        self.tokens.write().unwrap().live.insert(token.hash.clone(), token.credential());
    }

    /// Replaces the live tokens; returns the credential ids that are no longer valid.
    pub fn refresh(&self, stored: &[StoredToken]) -> Vec<String> {
        let live: HashMap<String, Credential> = stored
            .iter()
            .filter(|t| t.revoked_at.is_none())
            .map(|t| (t.hash.clone(), t.credential()))
            .collect();
        let mut tokens = self.tokens.write().unwrap();
        let gone: Vec<String> = tokens
            .live
            .iter()
            .filter(|(hash, _)| !live.contains_key(*hash))
            .map(|(_, c)| c.id.clone())
            .collect();
        tokens.revoked.extend(gone.iter().cloned());
        tokens.live = live;
        gone
    }
}

const TOKEN_PREFIX: &str = "wr_";

/// A new team key: 32 random bytes, hex-encoded (URL- and header-safe).
pub fn generate_key() -> String {
    hex(&random_bytes::<32>())
}

/// A new token `wr_<id>_<secret>` and its stored form.
pub fn new_token(name: &str, role: Role, boards: Option<Vec<String>>, now: &str) -> (String, StoredToken) {
    let id = hex(&random_bytes::<6>());
    let token = format!("{TOKEN_PREFIX}{id}_{}", hex(&random_bytes::<24>()));
    let stored = StoredToken {
        id,
        name: name.to_owned(),
        role,
        hash: hash_token(&token),
        created_at: now.to_owned(),
        revoked_at: None,
        boards,
    };
    (token, stored)
}

pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::RngCore;
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_known_only_while_it_is_not_revoked() {
        let keys = Keys::new("team".into());
        let (token, mut stored) = new_token("Adam", Role::Viewer, None, "2026-01-01T00:00:00.000Z");
        assert!(keys.identify(&token).is_none());
        keys.refresh(std::slice::from_ref(&stored));
        let credential = keys.identify(&token).expect("live token");
        assert_eq!(credential.person.as_deref(), Some("Adam"));
        assert_eq!(credential.role, Role::Viewer);
        assert!(keys.is_live(&credential));
        stored.revoked_at = Some("2026-01-02T00:00:00.000Z".into());
        assert_eq!(keys.refresh(&[stored]), vec![credential.id.clone()]);
        assert!(keys.identify(&token).is_none());
        assert!(!keys.is_live(&credential), "a credential identified before its revocation no longer holds");
    }

    #[test]
    fn a_rest_write_with_a_token_acts_as_its_person_and_may_not_name_another() {
        let token = Credential {
            id: "token:1".into(),
            role: Role::Editor,
            person: Some("José".into()),
            boards: Some(Arc::from(["web".to_owned()])),
        };
        assert!(token.can_see("web") && !token.can_see("main"));
        assert_eq!(token.check_board("ops").unwrap_err().code(), "FORBIDDEN");
        assert_eq!(token.rest_name(None).unwrap(), "José");
        assert_eq!(token.rest_name(Some("jose\u{301}".into())).unwrap(), "José");
        assert_eq!(token.rest_name(Some("Mallory".into())).unwrap_err().code(), "FORBIDDEN");
        let team = Credential { id: "team".into(), role: Role::Admin, person: None, boards: None };
        assert!(team.can_see("anything"));
        assert_eq!(team.rest_name(None).unwrap(), "api");
        assert_eq!(team.rest_name(Some("Adam".into())).unwrap(), "Adam");
    }

    #[test]
    fn the_team_key_is_an_admin_without_a_fixed_name() {
        let keys = Keys::new("secret".into());
        let c = keys.identify("secret").unwrap();
        assert_eq!((c.role, c.person), (Role::Admin, None));
        assert!(keys.identify("secreT").is_none());
        assert!(keys.identify("").is_none());
    }
}
