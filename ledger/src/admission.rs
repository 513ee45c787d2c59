//! Admission: which signed submissions may enter the log.
//!
//! The [`Registry`] is the key directory as the log defines it: `Genesis`
//! registers the node key and the first credit-office keys, `KeyRegistered`
//! adds keys, `KeyRevoked` revokes them. The node uses it to admit
//! submissions; the verifier replays it to re-check every admitted entry.
//!
//! A submission is admitted when, at node time `t` and log index `i`:
//! 1. its signer is a registered key (name and key id) that is not revoked
//!    before `i` and whose validity window contains `t`;
//! 2. the signer's role may sign the event kind ([`Event::allowed_roles`]);
//! 3. the event is consistent with the registry (no duplicate key, revocation
//!    of a known key, `Genesis` only as entry 0) and every organisation code
//!    it names is a valid USCC (or on the operator's legacy allow-list);
//! 4. its signature verifies strictly over [`Payload::signed_message`](crate::record::Payload::signed_message)
//!    (checked in batches by the caller, see [`crate::keys::verify_batch_strict`]).

use crate::event::{Event, KeyRegistration};
use crate::keys::{KeyName, VerifierKey};
use crate::record::{KeyRef, Signed};
use crate::types::{Role, Subject};
use crate::uscc::Uscc;
use bincode::{Decode, Encode};
use std::collections::{BTreeMap, BTreeSet};

/// Why a submission was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    #[error("unknown key {0}")]
    UnknownKey(String),
    #[error("key {key} was revoked at index {at}")]
    RevokedKey { key: String, at: u64 },
    #[error("key {key} is not valid at node time {time_ms}")]
    OutsideValidity { key: String, time_ms: i64 },
    #[error("role {role} of key {key} may not sign {kind} (allowed: {allowed})")]
    WrongRole {
        key: String,
        role: Role,
        kind: &'static str,
        allowed: String,
    },
    #[error("bad signature by key {0}")]
    BadSignature(String),
    #[error("duplicate submission: already in the log at index {0}")]
    Duplicate(u64),
    #[error("key {0} is already registered")]
    KeyExists(String),
    #[error("rejected key {name}: {reason}")]
    BadKey { name: String, reason: String },
    #[error("genesis may only be entry 0")]
    MisplacedGenesis,
    #[error("{0}")]
    InvalidEvent(String),
}

/// A key's registration and status, as persisted by the node.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct KeyState {
    pub registration: KeyRegistration,
    /// Index of the entry that registered the key.
    pub registered_at: u64,
    /// Index of the entry that revoked the key.
    pub revoked_at: Option<u64>,
}

/// The key directory defined by the log.
#[derive(Default, Clone)]
pub struct Registry {
    keys: BTreeMap<KeyRef, (KeyState, VerifierKey)>,
    /// Legacy USCCs the operator allows despite a wrong check character.
    legacy_uscc: BTreeSet<Uscc>,
}

fn verifier_for(reg: &KeyRegistration) -> Result<VerifierKey, AdmissionError> {
    let bad = |reason: String| AdmissionError::BadKey {
        name: reg.name.to_string(),
        reason,
    };
    let name = KeyName::new(reg.name.as_str()).map_err(|e| bad(e.to_string()))?;
    VerifierKey::new(name, &reg.public_key).map_err(|e| bad(e.to_string()))
}

impl Registry {
    /// An empty registry allowing the given legacy codes.
    #[must_use]
    pub fn new(legacy_uscc: impl IntoIterator<Item = Uscc>) -> Registry {
        Registry {
            keys: BTreeMap::new(),
            legacy_uscc: legacy_uscc.into_iter().collect(),
        }
    }

    /// Sets the legacy USCC allow-list (as published by the rule set in force).
    pub fn set_legacy(&mut self, codes: impl IntoIterator<Item = Uscc>) {
        self.legacy_uscc = codes.into_iter().collect();
    }

    /// Restores a key from its persisted state.
    pub fn restore(&mut self, state: KeyState) -> Result<(), AdmissionError> {
        let vk = verifier_for(&state.registration)?;
        let r = KeyRef {
            name: state.registration.name.clone(),
            id: vk.id(),
        };
        self.keys.insert(r, (state, vk));
        Ok(())
    }

    /// The state of a key.
    #[must_use]
    pub fn get(&self, key: &KeyRef) -> Option<&KeyState> {
        self.keys.get(key).map(|(s, _)| s)
    }

    /// The verifier key registered as `key` (revoked or not).
    #[must_use]
    pub fn verifier(&self, key: &KeyRef) -> Option<&VerifierKey> {
        self.keys.get(key).map(|(_, vk)| vk)
    }

    /// Every registered key (revoked included) with its verifier key.
    pub fn verifiers(&self) -> impl Iterator<Item = (&KeyRef, &VerifierKey)> {
        self.keys.iter().map(|(r, (_, vk))| (r, vk))
    }

    /// The registration of the key that signed `signed` (for Genesis, the
    /// node key it registers).
    #[must_use]
    pub fn signer_registration<'a>(&'a self, signed: &'a Signed) -> Option<&'a KeyRegistration> {
        if let Event::Genesis { node_key, .. } = &signed.payload.event {
            return Some(node_key);
        }
        self.get(&signed.payload.signer).map(|s| &s.registration)
    }

    /// The state of every registered key (revoked included), in key order:
    /// with [`Registry::legacy_codes`], everything [`Registry::restore`]
    /// needs to rebuild the registry.
    pub fn states(&self) -> impl Iterator<Item = &KeyState> {
        self.keys.values().map(|(s, _)| s)
    }

    /// The legacy USCC allow-list in force.
    pub fn legacy_codes(&self) -> impl Iterator<Item = &Uscc> {
        self.legacy_uscc.iter()
    }

    /// Number of registered keys (revoked included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is registered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Steps 1–3 of the module documentation for a submission that would be
    /// entry `index` at node time `time_ms`. Returns the key to verify with.
    pub fn authorize(
        &self,
        signed: &Signed,
        index: u64,
        time_ms: i64,
    ) -> Result<VerifierKey, AdmissionError> {
        let event = &signed.payload.event;
        if let Event::Genesis { .. } = event {
            return self.authorize_genesis(signed, index);
        }
        let key = &signed.payload.signer;
        let (state, vk) = self
            .keys
            .get(key)
            .ok_or_else(|| AdmissionError::UnknownKey(key.to_string()))?;
        if let Some(at) = state.revoked_at {
            return Err(AdmissionError::RevokedKey {
                key: key.to_string(),
                at,
            });
        }
        let reg = &state.registration;
        let before = reg.valid_from_ms.is_some_and(|f| time_ms < f);
        let after = reg.valid_until_ms.is_some_and(|u| time_ms > u);
        if before || after {
            return Err(AdmissionError::OutsideValidity {
                key: key.to_string(),
                time_ms,
            });
        }
        let allowed = event.allowed_roles();
        if !allowed.contains(&reg.role) {
            return Err(AdmissionError::WrongRole {
                key: key.to_string(),
                role: reg.role,
                kind: event.kind(),
                allowed: allowed
                    .iter()
                    .map(Role::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        self.check_event(event)?;
        Ok(vk.clone())
    }

    fn authorize_genesis(
        &self,
        signed: &Signed,
        index: u64,
    ) -> Result<VerifierKey, AdmissionError> {
        let Event::Genesis { node_key, .. } = &signed.payload.event else {
            return Err(AdmissionError::MisplacedGenesis);
        };
        if index != 0 || !self.keys.is_empty() {
            return Err(AdmissionError::MisplacedGenesis);
        }
        let vk = verifier_for(node_key)?;
        if node_key.role != Role::Node
            || signed.payload.signer.id != vk.id()
            || signed.payload.signer.name != node_key.name
        {
            return Err(AdmissionError::InvalidEvent(
                "genesis must be signed by its own node key".into(),
            ));
        }
        self.check_event(&signed.payload.event)?;
        Ok(vk)
    }

    /// Step 3: the event against the registry and the USCC rules.
    pub fn check_event(&self, event: &Event) -> Result<(), AdmissionError> {
        match event {
            Event::Genesis {
                node_key,
                office_keys,
                ..
            } => {
                let mut seen = BTreeSet::new();
                for reg in std::iter::once(node_key).chain(office_keys) {
                    let vk = verifier_for(reg)?;
                    if !seen.insert((reg.name.clone(), vk.id())) {
                        return Err(AdmissionError::KeyExists(format!(
                            "{}+{:08x}",
                            reg.name,
                            vk.id()
                        )));
                    }
                    self.check_subject(&reg.holder)?;
                }
                if office_keys.iter().any(|k| k.role != Role::CreditOffice) {
                    return Err(AdmissionError::InvalidEvent(
                        "genesis office keys must have role credit_office".into(),
                    ));
                }
            }
            Event::KeyRegistered { key } => {
                let vk = verifier_for(key)?;
                let r = KeyRef {
                    name: key.name.clone(),
                    id: vk.id(),
                };
                if self.keys.contains_key(&r) {
                    return Err(AdmissionError::KeyExists(r.to_string()));
                }
                if key.role == Role::Node {
                    return Err(AdmissionError::InvalidEvent(
                        "only genesis may register a node key".into(),
                    ));
                }
                self.check_subject(&key.holder)?;
            }
            Event::KeyRevoked { name, key_id, .. } => {
                let r = KeyRef {
                    name: name.clone(),
                    id: *key_id,
                };
                match self.keys.get(&r) {
                    None => return Err(AdmissionError::UnknownKey(r.to_string())),
                    Some((s, _)) if s.revoked_at.is_some() => {
                        return Err(AdmissionError::InvalidEvent(format!(
                            "key {r} is already revoked"
                        )));
                    }
                    Some((s, _)) if s.registration.role == Role::Node => {
                        return Err(AdmissionError::InvalidEvent(format!(
                            "key {r} is the node key"
                        )));
                    }
                    Some(_) => {}
                }
            }
            other => self.check_subjects(other)?,
        }
        Ok(())
    }

    fn check_subject(&self, s: &Subject) -> Result<(), AdmissionError> {
        match s {
            Subject::Org(u) => self.check_uscc(u),
            Subject::Person { .. } => Ok(()),
        }
    }

    fn check_uscc(&self, u: &Uscc) -> Result<(), AdmissionError> {
        if self.legacy_uscc.contains(u) {
            return Ok(());
        }
        Uscc::parse(u.as_str())
            .map(|_| ())
            .map_err(|e| AdmissionError::InvalidEvent(e.to_string()))
    }

    fn check_milestones(
        &self,
        milestones: &[crate::event::Milestone],
    ) -> Result<(), AdmissionError> {
        for m in milestones {
            self.check_subject(&m.obligor)?;
            self.check_subject(&m.obligee)?;
        }
        Ok(())
    }

    /// Every organisation code an ordinary event names must be valid.
    fn check_subjects(&self, event: &Event) -> Result<(), AdmissionError> {
        match event {
            Event::ContractFiled { contract } => {
                for p in &contract.parties {
                    self.check_subject(&p.subject)?;
                }
                self.check_milestones(&contract.milestones)?;
                if let crate::event::Source::Delegated { principal } = &contract.source {
                    self.check_uscc(principal)?;
                }
                Ok(())
            }
            Event::ContractAmended { milestones, .. }
            | Event::MediationRecorded {
                outcome: crate::event::MediationOutcome::Settled { milestones },
                ..
            } => self.check_milestones(milestones),
            Event::FilingAcknowledged { party, .. } => self.check_subject(party),
            Event::RepairApplied { entity, .. } => self.check_subject(entity),
            Event::DelegationGranted {
                principal, agency, ..
            }
            | Event::DelegationRevoked { principal, agency } => {
                self.check_uscc(principal)?;
                self.check_uscc(agency)
            }
            _ => Ok(()),
        }
    }

    /// Applies an admitted event at log index `index`, returning the keys whose
    /// state changed (for the node to persist in the same batch).
    pub fn apply(&mut self, index: u64, event: &Event) -> Result<Vec<KeyState>, AdmissionError> {
        if let Event::Genesis { rules, .. } | Event::RuleSetPublished { rules } = event {
            self.legacy_uscc = rules.legacy_uscc.iter().copied().collect();
        }
        let mut changed = Vec::new();
        match event {
            Event::Genesis {
                node_key,
                office_keys,
                ..
            } => {
                for reg in std::iter::once(node_key).chain(office_keys) {
                    changed.push(KeyState {
                        registration: reg.clone(),
                        registered_at: index,
                        revoked_at: None,
                    });
                }
            }
            Event::KeyRegistered { key } => {
                changed.push(KeyState {
                    registration: key.clone(),
                    registered_at: index,
                    revoked_at: None,
                });
            }
            Event::KeyRevoked { name, key_id, .. } => {
                let r = KeyRef {
                    name: name.clone(),
                    id: *key_id,
                };
                if let Some((s, _)) = self.keys.get(&r) {
                    changed.push(KeyState {
                        revoked_at: Some(index),
                        ..s.clone()
                    });
                }
            }
            _ => {}
        }
        for s in &changed {
            self.restore(s.clone())?;
        }
        Ok(changed)
    }
}

/// Natural persons never appear in clear: any free-text string of the event
/// ([`Event::texts`]) holding a PRC resident identity number (GB 11643: 17
/// digits and a valid ISO 7064 MOD 11-2 check character, as a run of
/// exactly 18) is refused. A pure function of the event, so the node runs it
/// in parallel before sequencing, and the audit runs it again.
pub fn check_no_id_numbers(event: &Event) -> Result<(), AdmissionError> {
    let mut found = false;
    event.texts(&mut |s| found = found || find_id_number(s).is_some());
    if found {
        // The number itself is not echoed back.
        return Err(AdmissionError::InvalidEvent(format!(
            "a free-text field of {} holds a resident identity number in clear; natural persons appear only as a masked name and a keyed commitment",
            event.kind()
        )));
    }
    Ok(())
}

/// The byte offset of the first resident identity number in `s`, if any.
fn find_id_number(s: &str) -> Option<usize> {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let run = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let end = i + run;
        let with_x = run == 17 && matches!(b.get(end), Some(b'X' | b'x'));
        let len = if with_x { 18 } else { run };
        let boundary = b.get(i + len).is_none_or(|c| !c.is_ascii_alphanumeric());
        if len == 18 && boundary {
            let sum: u32 = b[i..i + 17]
                .iter()
                .zip(W)
                .map(|(c, w)| u32::from(c - b'0') * w)
                .sum();
            if CHECK[(sum % 11) as usize] == b[i + 17].to_ascii_uppercase() {
                return Some(i);
            }
        }
        i = end.max(i + 1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::find_id_number;

    #[test]
    fn resident_id_numbers_are_found_only_when_valid() {
        // 11010519491231002X is the standard's own example.
        assert_eq!(find_id_number("身份证 11010519491231002X 某"), Some(10));
        assert_eq!(find_id_number("11010519491231002x"), Some(0));
        assert_eq!(
            find_id_number("110105194912310021"),
            None,
            "wrong check digit"
        );
        assert_eq!(
            find_id_number("phone 13800138000, order 1234567890123456789"),
            None
        );
        assert_eq!(
            find_id_number("A11010519491231002X"),
            None,
            "part of a longer code"
        );
        // The examples of docs/FORMAT.md §13, rule P.
        assert!(find_id_number("联系人身份证11010519491231002x。").is_some());
        for not_a_number in [
            "11010519491231002X1",
            "A11010519491231002X",
            "11010519491231002",
            "110105194912310021",
        ] {
            assert_eq!(find_id_number(not_a_number), None, "{not_a_number}");
        }
    }
}
