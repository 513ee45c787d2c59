//! Client commands: each builds one [`Event`] from flags (or a JSON file),
//! checks it locally, signs it with the user's key file and submits it
//! (`remote::send`). Nothing is sent when a local check fails.
//!
//! Local checks catch what can be known without the log: value forms
//! (dates `YYYY-MM-DD`, amounts in whole fen, USCC check characters, hashes),
//! the shape of a contract (parties, milestones) and resident identity
//! numbers in free text. Whether the signer may do this to that contract is
//! for the node's rules engine to say.

use crate::remote::{ClientError, Ctx, SignOpts};
use lvyue_ledger::Hash;
use lvyue_ledger::event::{
    Contract, Event, ExemptionGround, Extent, KeyRegistration, MediationOutcome, Milestone, Party,
    Source,
};
use lvyue_ledger::keys::{Signer, VerifierKey};
use lvyue_ledger::types::{
    Category, ContractId, Date, Fen, MaskedName, Name, Role, SignerName, Subject, Text,
};
use lvyue_ledger::uscc::Uscc;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------
// Value parsers (also used as clap value parsers: `fn(&str) -> Result<T, String>`).

/// An amount in fen: a whole number in `0..=i64::MAX`, checked before signing.
pub fn parse_fen(s: &str) -> Result<Fen, String> {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "amount {s:?}: want a whole number of fen (1 yuan = 100 fen), without separators"
        ));
    }
    if t.starts_with('-') && digits.bytes().any(|b| b != b'0') {
        return Err(format!("amount {t}: must not be negative"));
    }
    let v: i64 = digits
        .parse()
        .map_err(|_| format!("amount {t}: out of range (at most {} fen)", i64::MAX))?;
    Fen::new(v)
}

/// A calendar date `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s.trim())
}

/// A USCC, checked for form here; the check character is checked for the
/// whole event by [`check_event`] (where the legacy allow-list is known).
pub fn parse_uscc_form(s: &str) -> Result<Uscc, String> {
    Uscc::parse_legacy(s.trim()).map_err(|e| e.to_string())
}

/// A party or subject: a USCC, or a natural person as `MASKED_NAME:COMMITMENT_HEX`
/// (e.g. `王某:ab…ab`, the office's keyed commitment of the ID number).
pub fn parse_subject(s: &str) -> Result<Subject, String> {
    let s = s.trim();
    match s.split_once(':') {
        Some((name, commitment)) => Ok(Subject::Person {
            masked_name: MaskedName::new(name.trim())?,
            commitment: parse_hash(commitment)
                .map_err(|e| format!("person {s:?}: commitment: {e}"))?,
        }),
        None => Ok(Subject::Org(parse_uscc_form(s)?)),
    }
}

/// A SHA-256 digest in hex.
pub fn parse_hash(s: &str) -> Result<Hash, String> {
    Hash::from_hex(s.trim()).map_err(|e| format!("{e} (want 64 hex digits)"))
}

pub fn parse_contract_id(s: &str) -> Result<ContractId, String> {
    ContractId::new(s.trim())
}

pub fn parse_text(s: &str) -> Result<Text, String> {
    Text::new(s)
}

pub fn parse_name(s: &str) -> Result<Name, String> {
    Name::new(s.trim())
}

/// A unit enum from its snake_case JSON name, listing the choices on error.
fn snake<T: serde::de::DeserializeOwned>(what: &str, s: &str, choices: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.trim().to_string()))
        .map_err(|_| format!("{what} {s:?}: want one of {choices}"))
}

pub fn parse_role(s: &str) -> Result<Role, String> {
    snake(
        "role",
        s,
        "credit_office, source_unit, market_entity, data_feed, service_agency",
    )
}

pub fn parse_category(s: &str) -> Result<Category, String> {
    snake(
        "category",
        s,
        "government_procurement, investment_promotion, public_private_partnership, construction, state_asset_transaction, public_resource_trading, policy_support, commercial",
    )
}

pub fn parse_extent(s: &str) -> Result<Extent, String> {
    snake("extent", s, "full, partial")
}

pub fn parse_ground(s: &str) -> Result<ExemptionGround, String> {
    snake(
        "ground",
        s,
        "force_majeure, accident, changed_circumstances",
    )
}

/// Where a filing came from: `department`, `self_filed`,
/// `delegated:PRINCIPAL_USCC` or `import:EXTERNAL_REF`.
pub fn parse_source(s: &str) -> Result<Source, String> {
    let s = s.trim();
    match s.split_once(':') {
        Some(("delegated", p)) => Ok(Source::Delegated {
            principal: parse_uscc_form(p)?,
        }),
        Some(("import", r)) => Ok(Source::Import {
            external_ref: Name::new(r)?,
        }),
        _ => match s {
            "department" => Ok(Source::Department),
            "self_filed" => Ok(Source::SelfFiled),
            _ => Err(format!(
                "source {s:?}: want department, self_filed, delegated:USCC or import:REF"
            )),
        },
    }
}

/// A node time in UTC milliseconds from `YYYY-MM-DD` (a CST calendar day:
/// its first millisecond, or with `end_of_day` its last) or an RFC 3339 time.
pub fn parse_time_ms(s: &str, end_of_day: bool) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(dt.timestamp_millis());
    }
    let d = Date::parse(s).map_err(|e| format!("{e}, or an RFC 3339 time"))?;
    const DAY_MS: i64 = 86_400_000;
    const CST_MS: i64 = 8 * 3_600_000;
    let start = i64::from(d.days()) * DAY_MS - CST_MS;
    Ok(if end_of_day {
        start + DAY_MS - 1
    } else {
        start
    })
}

fn sha256_file(path: &Path) -> Result<Hash, ClientError> {
    let bytes = std::fs::read(path).map_err(|source| ClientError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(lvyue_ledger::hash::sha256(&bytes))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ClientError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClientError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| ClientError::Input(format!("{}: {e}", path.display())))
}

fn input(e: String) -> ClientError {
    ClientError::Input(e)
}

// ---------------------------------------------------------------------------
// Local checks of a whole event.

/// Every USCC an event names.
fn usccs(event: &Event) -> Vec<Uscc> {
    let mut out = Vec::new();
    let subject = |s: &Subject, out: &mut Vec<Uscc>| {
        if let Subject::Org(u) = s {
            out.push(*u);
        }
    };
    let milestones = |ms: &[Milestone], out: &mut Vec<Uscc>| {
        for m in ms {
            for s in [&m.obligor, &m.obligee] {
                if let Subject::Org(u) = s {
                    out.push(*u);
                }
            }
        }
    };
    match event {
        Event::KeyRegistered { key } => subject(&key.holder, &mut out),
        Event::ContractFiled { contract: c } => {
            for p in &c.parties {
                subject(&p.subject, &mut out);
            }
            milestones(&c.milestones, &mut out);
            if let Source::Delegated { principal } = &c.source {
                out.push(*principal);
            }
        }
        Event::ContractAmended { milestones: ms, .. }
        | Event::MediationRecorded {
            outcome: MediationOutcome::Settled { milestones: ms },
            ..
        } => milestones(ms, &mut out),
        Event::FilingAcknowledged { party, .. } => subject(party, &mut out),
        Event::RepairApplied { entity, .. } => subject(entity, &mut out),
        Event::DelegationGranted {
            principal, agency, ..
        }
        | Event::DelegationRevoked { principal, agency } => out.extend([*principal, *agency]),
        _ => {}
    }
    out
}

/// A USCC's check character (GB 32100-2015), unless `legacy` allows the code.
pub fn check_uscc(u: &Uscc, legacy: &[Uscc]) -> Result<(), String> {
    match Uscc::parse(u.as_str()) {
        Err(e) if !legacy.contains(u) => Err(format!(
            "{e} (pass --allow-legacy-uscc if the credit office allows this code)"
        )),
        _ => Ok(()),
    }
}

/// What the client checks before signing any event: USCC check characters
/// (unless allowed as legacy), no resident ID number in free text, the
/// shape of contracts and milestone lists. (The entry size is checked
/// after signing, in `remote::send`.)
pub fn check_event(event: &Event, legacy: &[Uscc]) -> Result<(), String> {
    for u in usccs(event) {
        check_uscc(&u, legacy)?;
    }
    lvyue_ledger::admission::check_no_id_numbers(event).map_err(|e| e.to_string())?;
    match event {
        Event::ContractFiled { contract } => check_contract(contract)?,
        Event::ContractAmended { milestones, .. }
        | Event::MediationRecorded {
            outcome: MediationOutcome::Settled { milestones },
            ..
        } => check_milestone_numbers("milestones", milestones)?,
        _ => {}
    }
    Ok(())
}

fn check_milestone_numbers(what: &str, ms: &[Milestone]) -> Result<(), String> {
    if ms.is_empty() {
        return Err(format!("{what}: at least one milestone is needed"));
    }
    let mut seen = BTreeSet::new();
    for m in ms {
        if m.number == 0 || !seen.insert(m.number) {
            return Err(format!(
                "{what}: milestone numbers must be unique and at least 1 (got {} twice or 0)",
                m.number
            ));
        }
        if m.obligor == m.obligee {
            return Err(format!(
                "{what}: milestone {}: obligor and obligee are the same ({})",
                m.number, m.obligor
            ));
        }
    }
    Ok(())
}

/// The shape of a contract (the node checks the same, and more).
pub fn check_contract(c: &Contract) -> Result<(), String> {
    let id = &c.id;
    let parties: BTreeSet<&Subject> = c.parties.iter().map(|p| &p.subject).collect();
    if parties.len() < 2 || parties.len() != c.parties.len() {
        return Err(format!(
            "contract {id}: needs at least two distinct parties"
        ));
    }
    check_milestone_numbers(&format!("contract {id}"), &c.milestones)?;
    for m in &c.milestones {
        for (what, s) in [("obligor", &m.obligor), ("obligee", &m.obligee)] {
            if !parties.contains(s) {
                return Err(format!(
                    "contract {id}: milestone {}: {what} {s} is not a party",
                    m.number
                ));
            }
        }
        if m.due < c.signed {
            return Err(format!(
                "contract {id}: milestone {}: due date {} is before the signed date {}",
                m.number, m.due, c.signed
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Compact party and milestone forms (flags and CSV).

/// A party in compact form: `SUBJECT|NAME|ROLE`, e.g. `91350100M000100Y43|某科技有限公司|乙方`.
pub fn parse_party(s: &str) -> Result<Party, String> {
    let parts: Vec<&str> = s.split('|').collect();
    let [subject, name, role] = parts[..] else {
        return Err(format!("party {s:?}: want SUBJECT|NAME|ROLE"));
    };
    Ok(Party {
        subject: parse_subject(subject)?,
        name: parse_name(name)?,
        role: parse_name(role)?,
    })
}

/// One milestone in compact form: `NUMBER|OBLIGOR>OBLIGEE|DUE|AMOUNT_FEN|DESCRIPTION`.
/// OBLIGOR and OBLIGEE are party letters (`a` = first party, `b` = second, …)
/// when `parties` is given, or subjects (USCC / `王某:HEX`). The description
/// is the rest of the text and may be empty.
pub fn parse_milestone(s: &str, parties: &[Subject]) -> Result<Milestone, String> {
    let fields: Vec<&str> = s.trim().splitn(5, '|').collect();
    let [number, who, due, amount, description] = fields[..] else {
        return Err(format!(
            "milestone {s:?}: want NUMBER|OBLIGOR>OBLIGEE|DUE|AMOUNT_FEN|DESCRIPTION"
        ));
    };
    let number: u32 = number
        .trim()
        .parse()
        .map_err(|_| format!("milestone {s:?}: number {number:?} is not a whole number"))?;
    let (obligor, obligee) = who
        .split_once('>')
        .ok_or_else(|| format!("milestone {number}: {who:?}: want OBLIGOR>OBLIGEE"))?;
    let subject = |x: &str| -> Result<Subject, String> {
        let x = x.trim();
        let mut chars = x.chars();
        match (chars.next(), chars.next()) {
            (Some(c @ 'a'..='z'), None) => parties
                .get(usize::from(c as u8 - b'a'))
                .cloned()
                .ok_or_else(|| format!("milestone {number}: there is no party {c}")),
            _ => parse_subject(x),
        }
    };
    Ok(Milestone {
        number,
        obligor: subject(obligor)?,
        obligee: subject(obligee)?,
        due: parse_date(due).map_err(|e| format!("milestone {number}: {e}"))?,
        description: Text::new(description.trim())?,
        amount: parse_fen(amount).map_err(|e| format!("milestone {number}: {e}"))?,
    })
}

/// Several milestones: from a JSON file (an array of Milestone objects) or
/// compact forms (`--milestone`, repeatable).
fn milestones_from(
    file: Option<&PathBuf>,
    compact: &[String],
    parties: &[Subject],
) -> Result<Vec<Milestone>, ClientError> {
    match (file, compact.is_empty()) {
        (Some(path), true) => read_json(path),
        (None, _) => compact
            .iter()
            .map(|m| parse_milestone(m, parties).map_err(input))
            .collect(),
        (Some(_), false) => Err(input(
            "give milestones either as a JSON file or with --milestone, not both".into(),
        )),
    }
}

// ---------------------------------------------------------------------------
// Commands.

/// Registers an organisation's key (signed by a credit-office key).
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("new_key").required(true)))]
pub struct Register {
    #[command(flatten)]
    pub sign: SignOpts,
    /// USCC of the organisation that holds the new key
    #[arg(long, value_parser = parse_uscc_form)]
    pub holder_uscc: Uscc,
    /// Its name
    #[arg(long, value_parser = parse_name)]
    pub holder_name: Name,
    /// Role the key acts in: credit_office, source_unit, market_entity, data_feed, service_agency
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// The new key's verifier key string NAME+HEX8+BASE64, as keygen prints it
    #[arg(long, group = "new_key")]
    pub pubkey: Option<String>,
    /// Or the new key's secret key file (only its public half is used)
    #[arg(long, group = "new_key")]
    pub key_file: Option<PathBuf>,
    /// First day the key may sign: YYYY-MM-DD (CST) or an RFC 3339 time [default: at once]
    #[arg(long)]
    pub valid_from: Option<String>,
    /// Last day the key may sign: YYYY-MM-DD (CST, inclusive) or an RFC 3339 time [default: no end]
    #[arg(long)]
    pub valid_until: Option<String>,
}

impl Register {
    pub fn event(&self) -> Result<Event, ClientError> {
        let vkey = match (&self.pubkey, &self.key_file) {
            (Some(s), _) => VerifierKey::parse(s.trim())?,
            (None, Some(path)) => Signer::read_file(path)?.verifier_key(),
            (None, None) => return Err(input("give --pubkey or --key-file".into())),
        };
        let valid_from_ms = self
            .valid_from
            .as_deref()
            .map(|s| parse_time_ms(s, false).map_err(|e| input(format!("--valid-from: {e}"))))
            .transpose()?;
        let valid_until_ms = self
            .valid_until
            .as_deref()
            .map(|s| parse_time_ms(s, true).map_err(|e| input(format!("--valid-until: {e}"))))
            .transpose()?;
        if let (Some(f), Some(u)) = (valid_from_ms, valid_until_ms) {
            if u < f {
                return Err(input("--valid-until is before --valid-from".into()));
            }
        }
        Ok(Event::KeyRegistered {
            key: KeyRegistration {
                name: SignerName::new(vkey.name().as_str()).map_err(input)?,
                public_key: vkey.key().to_bytes(),
                holder: Subject::Org(self.holder_uscc),
                holder_name: self.holder_name.clone(),
                role: self.role,
                valid_from_ms,
                valid_until_ms,
            },
        })
    }
}

/// Revokes a registered key (signed by a credit-office key).
#[derive(clap::Args, Debug)]
pub struct Revoke {
    #[command(flatten)]
    pub sign: SignOpts,
    /// Key name (not needed when --key-id is a whole verifier key string)
    #[arg(long)]
    pub name: Option<String>,
    /// Key id as 8 hex digits, or the verifier key string NAME+HEX8+BASE64
    #[arg(long)]
    pub key_id: String,
    /// Reason (free text, up to 2000 characters)
    #[arg(long, value_parser = parse_text)]
    pub reason: Text,
}

impl Revoke {
    pub fn event(&self) -> Result<Event, ClientError> {
        let k = self.key_id.trim();
        let (name, key_id) = if k.contains('+') {
            let vk = VerifierKey::parse(k)?;
            if let Some(n) = &self.name {
                if n != vk.name().as_str() {
                    return Err(input(format!(
                        "--name {n} differs from the key's name {}",
                        vk.name()
                    )));
                }
            }
            (vk.name().as_str().to_string(), vk.id())
        } else {
            let ok = k.len() == 8 && k.bytes().all(|b| b.is_ascii_hexdigit());
            let id = u32::from_str_radix(k, 16)
                .ok()
                .filter(|_| ok)
                .ok_or_else(|| {
                    input(format!(
                        "key id {k:?}: want 8 hex digits or a verifier key string"
                    ))
                })?;
            let name = self
                .name
                .clone()
                .ok_or_else(|| input("--name is needed with a bare key id".into()))?;
            (name, id)
        };
        Ok(Event::KeyRevoked {
            name: SignerName::new(name).map_err(input)?,
            key_id,
            reason: self.reason.clone(),
        })
    }
}

/// Files a contract: from a JSON file of the Contract (docs/FORMAT.md §5.7),
/// or from flags for a simple contract.
#[derive(clap::Args, Debug)]
pub struct File {
    #[command(flatten)]
    pub sign: SignOpts,
    /// Contract JSON file (the Contract object of docs/FORMAT.md)
    #[arg(long, conflicts_with_all = ["id", "category", "name", "summary", "amount", "signed", "party", "milestone", "document"])]
    pub contract: Option<PathBuf>,
    /// Source of the filing: department, self_filed, delegated:USCC, import:REF (overrides the file's)
    #[arg(long, value_parser = parse_source)]
    pub source: Option<Source>,
    /// Contract id (flags form)
    #[arg(long, value_parser = parse_contract_id, required_unless_present = "contract")]
    pub id: Option<ContractId>,
    /// Category, e.g. government_procurement, construction, commercial
    #[arg(long, value_parser = parse_category, required_unless_present = "contract")]
    pub category: Option<Category>,
    /// Contract name
    #[arg(long, value_parser = parse_name, required_unless_present = "contract")]
    pub name: Option<Name>,
    /// Summary [default: empty]
    /// Summary (free text, up to 2000 characters)
    #[arg(long, value_parser = parse_text)]
    pub summary: Option<Text>,
    /// Total amount in fen (1 yuan = 100 fen)
    #[arg(long, allow_hyphen_values = true, value_parser = parse_fen, required_unless_present = "contract")]
    pub amount: Option<Fen>,
    /// Signed date YYYY-MM-DD
    #[arg(long, value_parser = parse_date, required_unless_present = "contract")]
    pub signed: Option<Date>,
    /// A party SUBJECT|NAME|ROLE, repeatable in order a, b, … (SUBJECT: USCC or 王某:HEX)
    #[arg(long)]
    pub party: Vec<String>,
    /// A milestone NUMBER|OBLIGOR>OBLIGEE|DUE|AMOUNT_FEN|DESCRIPTION, repeatable (OBLIGOR, OBLIGEE: party letters)
    #[arg(long, allow_hyphen_values = true)]
    pub milestone: Vec<String>,
    /// The contract document, whose SHA-256 is recorded
    #[arg(long)]
    pub document: Option<PathBuf>,
}

impl File {
    pub fn event(&self) -> Result<Event, ClientError> {
        let mut contract = match &self.contract {
            Some(path) => read_json::<Contract>(path)?,
            None => self.contract_from_flags()?,
        };
        if let Some(source) = &self.source {
            contract.source = source.clone();
        }
        Ok(Event::ContractFiled { contract })
    }

    fn contract_from_flags(&self) -> Result<Contract, ClientError> {
        let missing = |f: &str| input(format!("--{f} is needed without --contract"));
        let parties = self
            .party
            .iter()
            .map(|p| parse_party(p).map_err(input))
            .collect::<Result<Vec<_>, _>>()?;
        let subjects: Vec<Subject> = parties.iter().map(|p| p.subject.clone()).collect();
        Ok(Contract {
            id: self.id.clone().ok_or_else(|| missing("id"))?,
            category: self.category.ok_or_else(|| missing("category"))?,
            name: self.name.clone().ok_or_else(|| missing("name"))?,
            parties,
            summary: self
                .summary
                .clone()
                .unwrap_or(Text::new("").map_err(input)?),
            amount: self.amount.ok_or_else(|| missing("amount"))?,
            signed: self.signed.ok_or_else(|| missing("signed"))?,
            milestones: milestones_from(None, &self.milestone, &subjects)?,
            document_sha256: self.document.as_deref().map(sha256_file).transpose()?,
            source: self.source.clone().ok_or_else(|| missing("source"))?,
        })
    }
}

/// Amends a contract's milestones (every party submits the same amendment).
#[derive(clap::Args, Debug)]
pub struct Amend {
    #[command(flatten)]
    pub sign: SignOpts,
    /// Contract id
    #[arg(long, value_parser = parse_contract_id)]
    pub contract: ContractId,
    /// Amendment number (1 for the first amendment of the contract, …)
    #[arg(long)]
    pub amendment: u32,
    /// JSON file with the replacing milestones (an array of Milestone objects)
    #[arg(long)]
    pub milestones: Option<PathBuf>,
    /// A replacing milestone NUMBER|OBLIGOR>OBLIGEE|DUE|AMOUNT_FEN|DESCRIPTION (subjects as USCC or 王某:HEX)
    #[arg(long, allow_hyphen_values = true)]
    pub milestone: Vec<String>,
    /// Reason (free text, up to 2000 characters)
    #[arg(long, value_parser = parse_text)]
    pub reason: Text,
}

impl Amend {
    pub fn event(&self) -> Result<Event, ClientError> {
        Ok(Event::ContractAmended {
            contract: self.contract.clone(),
            amendment: self.amendment,
            milestones: milestones_from(self.milestones.as_ref(), &self.milestone, &[])?,
            reason: self.reason.clone(),
        })
    }
}

/// Acknowledges (co-signs) a filing that names the signer's organisation.
#[derive(clap::Args, Debug)]
pub struct Acknowledge {
    #[command(flatten)]
    pub sign: SignOpts,
    /// Contract id
    #[arg(long, value_parser = parse_contract_id)]
    pub contract: ContractId,
    /// The acknowledging party (the key holder): USCC or 王某:HEX
    #[arg(long, value_parser = parse_subject)]
    pub party: Subject,
}

impl Acknowledge {
    pub fn event(&self) -> Result<Event, ClientError> {
        Ok(Event::FilingAcknowledged {
            contract: self.contract.clone(),
            party: self.party.clone(),
        })
    }
}

/// A milestone's performance (for `confirm` and `claim`).
#[derive(clap::Args, Debug)]
pub struct Performance {
    #[command(flatten)]
    pub sign: SignOpts,
    /// Contract id
    #[arg(long, value_parser = parse_contract_id)]
    pub contract: ContractId,
    /// Milestone number
    #[arg(long)]
    pub milestone: u32,
    /// Date performed, YYYY-MM-DD
    #[arg(long, value_parser = parse_date)]
    pub performed: Date,
    /// SHA-256 (hex) of the evidence document
    #[arg(long, value_parser = parse_hash, conflicts_with = "evidence_file")]
    pub evidence: Option<Hash>,
    /// The evidence document, whose SHA-256 is recorded
    #[arg(long)]
    pub evidence_file: Option<PathBuf>,
}

impl Performance {
    fn evidence(&self) -> Result<Option<Hash>, ClientError> {
        match &self.evidence_file {
            Some(p) => sha256_file(p).map(Some),
            None => Ok(self.evidence),
        }
    }
    /// `confirm`: the obligee (or filing source unit) confirms performance.
    pub fn confirmed(&self) -> Result<Event, ClientError> {
        Ok(Event::PerformanceConfirmed {
            contract: self.contract.clone(),
            milestone: self.milestone,
            performed: self.performed,
            evidence: self.evidence()?,
        })
    }
    /// `claim`: the obligor claims performance.
    pub fn claimed(&self) -> Result<Event, ClientError> {
        Ok(Event::PerformanceClaimed {
            contract: self.contract.clone(),
            milestone: self.milestone,
            performed: self.performed,
            evidence: self.evidence()?,
        })
    }
}

/// Disputes an obligor's performance claim (the obligee).
#[derive(clap::Args, Debug)]
pub struct Dispute {
    #[command(flatten)]
    pub sign: SignOpts,
    /// Contract id
    #[arg(long, value_parser = parse_contract_id)]
    pub contract: ContractId,
    /// Milestone number
    #[arg(long)]
    pub milestone: u32,
    /// Reason (free text, up to 2000 characters)
    #[arg(long, value_parser = parse_text)]
    pub reason: Text,
}

impl Dispute {
    pub fn event(&self) -> Result<Event, ClientError> {
        Ok(Event::ClaimDisputed {
            contract: self.contract.clone(),
            milestone: self.milestone,
            reason: self.reason.clone(),
        })
    }
}

/// Reports non-performance of a milestone (obligee or source unit).
#[derive(clap::Args, Debug)]
pub struct ReportDefault {
    #[command(flatten)]
    pub sign: SignOpts,
    /// Contract id
    #[arg(long, value_parser = parse_contract_id)]
    pub contract: ContractId,
    /// Milestone number
    #[arg(long)]
    pub milestone: u32,
    /// full or partial
    #[arg(long, value_parser = parse_extent)]
    pub extent: Extent,
    /// Reason (free text, up to 2000 characters)
    #[arg(long, value_parser = parse_text)]
    pub reason: Text,
}

impl ReportDefault {
    pub fn event(&self) -> Result<Event, ClientError> {
        Ok(Event::NonPerformanceReported {
            contract: self.contract.clone(),
            milestone: self.milestone,
            extent: self.extent,
            reason: self.reason.clone(),
        })
    }
}

/// Claims an exemption for a milestone (the obligor).
#[derive(clap::Args, Debug)]
pub struct ClaimExemption {
    #[command(flatten)]
    pub sign: SignOpts,
    /// Contract id
    #[arg(long, value_parser = parse_contract_id)]
    pub contract: ContractId,
    /// Milestone number
    #[arg(long)]
    pub milestone: u32,
    /// force_majeure, accident or changed_circumstances
    #[arg(long, value_parser = parse_ground)]
    pub ground: ExemptionGround,
    /// Date of the event relied on, YYYY-MM-DD
    #[arg(long, value_parser = parse_date)]
    pub event_date: Date,
    /// Statement (free text, up to 2000 characters)
    #[arg(long, value_parser = parse_text)]
    pub statement: Text,
}

impl ClaimExemption {
    pub fn event(&self) -> Result<Event, ClientError> {
        Ok(Event::ExemptionClaimed {
            contract: self.contract.clone(),
            milestone: self.milestone,
            ground: self.ground,
            event_date: self.event_date,
            statement: self.statement.clone(),
        })
    }
}

/// A credit-office decision.
#[derive(clap::Subcommand, Debug)]
pub enum Decide {
    /// Decide an exemption claim
    #[command(group(clap::ArgGroup::new("verdict").required(true)))]
    Exemption {
        #[command(flatten)]
        sign: SignOpts,
        /// Log index of the exemption_claimed entry
        #[arg(long)]
        claim_index: u64,
        /// Approve
        #[arg(long, group = "verdict")]
        approve: bool,
        /// Refuse
        #[arg(long, group = "verdict")]
        refuse: bool,
        /// Reason (free text, up to 2000 characters)
        #[arg(long, value_parser = parse_text)]
        reason: Text,
    },
    /// Decide an objection
    #[command(group(clap::ArgGroup::new("verdict").required(true)))]
    Objection {
        #[command(flatten)]
        sign: SignOpts,
        /// Log index of the objection_filed entry
        #[arg(long)]
        objection_index: u64,
        /// The objection is upheld (the default is reversed)
        #[arg(long, group = "verdict")]
        uphold: bool,
        /// The objection is dismissed
        #[arg(long, group = "verdict")]
        dismiss: bool,
        /// Reason (free text, up to 2000 characters)
        #[arg(long, value_parser = parse_text)]
        reason: Text,
    },
    /// Decide a credit-repair application
    #[command(group(clap::ArgGroup::new("verdict").required(true)))]
    Repair {
        #[command(flatten)]
        sign: SignOpts,
        /// Log index of the repair_applied entry
        #[arg(long)]
        application_index: u64,
        /// Approve
        #[arg(long, group = "verdict")]
        approve: bool,
        /// Refuse
        #[arg(long, group = "verdict")]
        refuse: bool,
        /// Reason (free text, up to 2000 characters)
        #[arg(long, value_parser = parse_text)]
        reason: Text,
    },
}

impl Decide {
    pub fn sign(&self) -> &SignOpts {
        match self {
            Decide::Exemption { sign, .. }
            | Decide::Objection { sign, .. }
            | Decide::Repair { sign, .. } => sign,
        }
    }
    pub fn event(&self) -> Result<Event, ClientError> {
        Ok(match self {
            Decide::Exemption {
                claim_index,
                approve,
                reason,
                ..
            } => Event::ExemptionDecided {
                claim_index: *claim_index,
                approved: *approve,
                reason: reason.clone(),
            },
            Decide::Objection {
                objection_index,
                uphold,
                reason,
                ..
            } => Event::ObjectionDecided {
                objection_index: *objection_index,
                upheld: *uphold,
                reason: reason.clone(),
            },
            Decide::Repair {
                application_index,
                approve,
                reason,
                ..
            } => Event::RepairDecided {
                application_index: *application_index,
                approved: *approve,
                reason: reason.clone(),
            },
        })
    }
}

/// Objects to a default or demand notice against the signer's organisation.
#[derive(clap::Args, Debug)]
pub struct Object {
    #[command(flatten)]
    pub sign: SignOpts,
    /// Log index of the default_determined or demand_notice_published entry
    #[arg(long)]
    pub target_index: u64,
    /// Statement (free text, up to 2000 characters)
    #[arg(long, value_parser = parse_text)]
    pub statement: Text,
}

impl Object {
    pub fn event(&self) -> Result<Event, ClientError> {
        Ok(Event::ObjectionFiled {
            target_index: self.target_index,
            statement: self.statement.clone(),
        })
    }
}

/// Applies for credit repair (a listed entity).
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("commit").required(true)))]
pub struct ApplyRepair {
    #[command(flatten)]
    pub sign: SignOpts,
    /// The listed entity: USCC or 王某:HEX
    #[arg(long, value_parser = parse_subject)]
    pub entity: Subject,
    /// SHA-256 (hex) of the signed commitment text (信用承诺书)
    #[arg(long, value_parser = parse_hash, group = "commit")]
    pub commitment: Option<Hash>,
    /// Or the commitment document itself, whose SHA-256 is recorded
    #[arg(long, group = "commit")]
    pub commitment_file: Option<PathBuf>,
}

impl ApplyRepair {
    pub fn event(&self) -> Result<Event, ClientError> {
        let commitment = match (&self.commitment, &self.commitment_file) {
            (Some(h), _) => *h,
            (None, Some(p)) => sha256_file(p)?,
            (None, None) => return Err(input("give --commitment or --commitment-file".into())),
        };
        Ok(Event::RepairApplied {
            entity: self.entity.clone(),
            commitment,
        })
    }
}

/// Delegation of filing to a service agency (a market entity).
#[derive(clap::Subcommand, Debug)]
pub enum Delegate {
    /// Let a service agency file on the principal's behalf
    Grant {
        #[command(flatten)]
        sign: SignOpts,
        /// USCC of the delegating entity (the key holder)
        #[arg(long, value_parser = parse_uscc_form)]
        principal: Uscc,
        /// USCC of the service agency
        #[arg(long, value_parser = parse_uscc_form)]
        agency: Uscc,
        /// Last day of the delegation, YYYY-MM-DD [default: no end]
        #[arg(long, value_parser = parse_date)]
        until: Option<Date>,
    },
    /// End a delegation
    Revoke {
        #[command(flatten)]
        sign: SignOpts,
        /// USCC of the delegating entity
        #[arg(long, value_parser = parse_uscc_form)]
        principal: Uscc,
        /// USCC of the service agency
        #[arg(long, value_parser = parse_uscc_form)]
        agency: Uscc,
    },
}

impl Delegate {
    pub fn sign(&self) -> &SignOpts {
        match self {
            Delegate::Grant { sign, .. } | Delegate::Revoke { sign, .. } => sign,
        }
    }
    pub fn event(&self) -> Result<Event, ClientError> {
        Ok(match self {
            Delegate::Grant {
                principal,
                agency,
                until,
                ..
            } => Event::DelegationGranted {
                principal: *principal,
                agency: *agency,
                until: *until,
            },
            Delegate::Revoke {
                principal, agency, ..
            } => Event::DelegationRevoked {
                principal: *principal,
                agency: *agency,
            },
        })
    }
}

/// Records a pre-litigation mediation (a service agency).
#[derive(clap::Args, Debug)]
pub struct Mediate {
    #[command(flatten)]
    pub sign: SignOpts,
    /// Contract id
    #[arg(long, value_parser = parse_contract_id)]
    pub contract: ContractId,
    /// settled or failed
    #[arg(long, value_parser = ["settled", "failed"])]
    pub outcome: String,
    /// Settled: JSON file with the agreed milestones (an array of Milestone objects)
    #[arg(long)]
    pub milestones: Option<PathBuf>,
    /// Settled: an agreed milestone NUMBER|OBLIGOR>OBLIGEE|DUE|AMOUNT_FEN|DESCRIPTION
    #[arg(long, allow_hyphen_values = true)]
    pub milestone: Vec<String>,
    /// Summary (free text, up to 2000 characters)
    #[arg(long, value_parser = parse_text)]
    pub summary: Text,
}

impl Mediate {
    pub fn event(&self) -> Result<Event, ClientError> {
        let outcome = if self.outcome == "settled" {
            MediationOutcome::Settled {
                milestones: milestones_from(self.milestones.as_ref(), &self.milestone, &[])?,
            }
        } else {
            if self.milestones.is_some() || !self.milestone.is_empty() {
                return Err(input("a failed mediation has no milestones".into()));
            }
            MediationOutcome::Failed
        };
        Ok(Event::MediationRecorded {
            contract: self.contract.clone(),
            outcome,
            summary: self.summary.clone(),
        })
    }
}

/// Builds and sends one event; `remote::send` does the checks, signing and submission.
pub fn send(
    ctx: &Ctx,
    sign: &SignOpts,
    event: Result<Event, ClientError>,
) -> Result<(), ClientError> {
    crate::remote::send(ctx, sign, event?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "91350100M000100Y43";

    #[test]
    fn amounts_are_whole_non_negative_fen() {
        assert_eq!(parse_fen("1250000").unwrap().get(), 1_250_000);
        assert_eq!(parse_fen(" 0 ").unwrap().get(), 0);
        assert_eq!(parse_fen("-0").unwrap().get(), 0);
        assert_eq!(
            parse_fen("-5").unwrap_err(),
            "amount -5: must not be negative"
        );
        assert!(
            parse_fen("12.50")
                .unwrap_err()
                .contains("whole number of fen")
        );
        assert!(
            parse_fen("1,000")
                .unwrap_err()
                .contains("whole number of fen")
        );
        assert!(parse_fen("").unwrap_err().contains("whole number of fen"));
        assert_eq!(parse_fen("9223372036854775807").unwrap().get(), i64::MAX);
        assert!(
            parse_fen("9223372036854775808")
                .unwrap_err()
                .contains("out of range")
        );
    }

    #[test]
    fn subjects_sources_and_times() {
        assert_eq!(parse_subject(A).unwrap().to_string(), A);
        let p = parse_subject(&format!("王某:{}", "ab".repeat(32))).unwrap();
        assert!(matches!(p, Subject::Person { .. }));
        assert!(
            parse_subject("王五:00")
                .unwrap_err()
                .contains("masked name")
        );
        assert!(
            parse_subject("91350100M000100YI3")
                .unwrap_err()
                .contains("'I'")
        );
        assert_eq!(
            parse_source(&format!("delegated:{A}")).unwrap(),
            Source::Delegated {
                principal: Uscc::parse(A).unwrap()
            }
        );
        assert!(parse_source("self").unwrap_err().contains("self_filed"));
        // 2026-01-01 00:00 CST = 2025-12-31T16:00Z.
        assert_eq!(
            parse_time_ms("2026-01-01", false).unwrap(),
            1_767_225_600_000 - 8 * 3_600_000
        );
        assert_eq!(
            parse_time_ms("2026-01-01", true).unwrap(),
            1_767_225_600_000 + 16 * 3_600_000 - 1
        );
        assert_eq!(
            parse_time_ms("2026-01-01T00:00:00Z", false).unwrap(),
            1_767_225_600_000
        );
        assert!(parse_time_ms("2026-02-30", false).is_err());
    }

    #[test]
    fn compact_milestones_name_parties_by_letter_or_subject() {
        let b = Uscc::with_check("91610300MA6X00001").unwrap();
        let parties = [Subject::Org(Uscc::parse(A).unwrap()), Subject::Org(b)];
        let m = parse_milestone("1|b>a|2026-06-30|600000|交付|第一批", &parties).unwrap();
        assert_eq!(m.number, 1);
        assert_eq!(m.obligor, parties[1]);
        assert_eq!(m.obligee, parties[0]);
        assert_eq!(m.amount.get(), 600_000);
        assert_eq!(m.description.as_str(), "交付|第一批");
        let m = parse_milestone(&format!("2|{b}>{A}|2026-07-01|0|"), &[]).unwrap();
        assert_eq!(m.obligor, parties[1]);
        assert!(
            parse_milestone("1|c>a|2026-06-30|1|x", &parties)
                .unwrap_err()
                .contains("no party c")
        );
        assert!(
            parse_milestone("1|b>a|2026-06-30|-1|x", &parties)
                .unwrap_err()
                .contains("must not be negative")
        );
        assert!(
            parse_milestone("1|b>a|2026-06-31|1|x", &parties)
                .unwrap_err()
                .contains("2026-06-31")
        );
        assert!(
            parse_milestone("1|b>a|2026-06-30", &parties)
                .unwrap_err()
                .contains("want NUMBER")
        );
    }

    fn contract(parties: &[&str], ms: &[&str]) -> Contract {
        let parties: Vec<Party> = parties.iter().map(|p| parse_party(p).unwrap()).collect();
        let subjects: Vec<Subject> = parties.iter().map(|p| p.subject.clone()).collect();
        Contract {
            id: ContractId::new("C-1").unwrap(),
            category: Category::Commercial,
            name: Name::new("合同").unwrap(),
            parties,
            summary: Text::new("").unwrap(),
            amount: Fen::new(1).unwrap(),
            signed: Date::parse("2026-01-01").unwrap(),
            milestones: ms
                .iter()
                .map(|m| parse_milestone(m, &subjects).unwrap())
                .collect(),
            document_sha256: None,
            source: Source::SelfFiled,
        }
    }

    #[test]
    fn events_are_checked_before_signing() {
        let b = Uscc::with_check("91610300MA6X00001").unwrap().to_string();
        let pa = format!("{A}|甲公司|甲方");
        let pb = format!("{b}|乙公司|乙方");
        let ok = contract(&[&pa, &pb], &["1|b>a|2026-02-01|1|交付"]);
        check_event(
            &Event::ContractFiled {
                contract: ok.clone(),
            },
            &[],
        )
        .unwrap();

        // A wrong check character is named, unless the code is allowed as legacy.
        let bad = "91350100M000100Y44";
        let c = contract(
            &[&format!("{bad}|甲公司|甲方"), &pb],
            &["1|b>a|2026-02-01|1|交付"],
        );
        let e = check_event(
            &Event::ContractFiled {
                contract: c.clone(),
            },
            &[],
        )
        .unwrap_err();
        assert!(
            e.starts_with("uscc 91350100M000100Y44: check character is '4', want '3'"),
            "{e}"
        );
        let legacy = Uscc::parse_legacy(bad).unwrap();
        check_event(&Event::ContractFiled { contract: c }, &[legacy]).unwrap();

        let c = contract(&[&pa, &pb], &["1|b>a|2025-12-01|1|交付"]);
        let e = check_event(&Event::ContractFiled { contract: c }, &[]).unwrap_err();
        assert!(e.contains("before the signed date"), "{e}");
        let c = contract(&[&pa, &pb], &["1|b>b|2026-02-01|1|交付"]);
        let e = check_event(&Event::ContractFiled { contract: c }, &[]).unwrap_err();
        assert!(e.contains("obligor and obligee are the same"), "{e}");
        let c = contract(&[&pa, &pa], &["1|b>a|2026-02-01|1|交付"]);
        let e = check_event(&Event::ContractFiled { contract: c }, &[]).unwrap_err();
        assert!(e.contains("two distinct parties"), "{e}");
        let mut c = ok;
        c.summary = Text::new("身份证 11010519491231002X").unwrap();
        let e = check_event(&Event::ContractFiled { contract: c }, &[]).unwrap_err();
        assert!(e.contains("resident identity number"), "{e}");
    }
}
