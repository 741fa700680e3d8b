//! Credentials: which presented key is whose. For now the team key; per-person tokens will
//! resolve here too, so adapters never compare keys themselves.

use subtle::ConstantTimeEq;

/// Who a valid key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Scopes idempotency keys and REST rate limits.
    pub id: String,
    /// The name a REST write with this credential acts as.
    pub rest_name: String,
}

#[derive(Clone)]
pub struct Keys {
    team_key: String,
}

impl Keys {
    pub fn new(team_key: String) -> Keys {
        Keys { team_key }
    }

    /// Compares in constant time, so response timing reveals nothing about the key.
    pub fn identify(&self, presented: &str) -> Option<Credential> {
        let ok: bool = presented.as_bytes().ct_eq(self.team_key.as_bytes()).into();
        ok.then(|| Credential { id: "team".into(), rest_name: "api".into() })
    }
}

/// A new team key: 32 random bytes, hex-encoded (URL- and header-safe).
pub fn generate_key() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
