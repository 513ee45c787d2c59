//! Client commands: each builds one [`Event`] from flags (or a JSON file);
//! `remote::send` checks it locally (`input::check_event`), signs it with
//! the user's key file and submits it. Nothing is sent when a local check
//! fails.

use crate::input::{
    parse_category, parse_contract_id, parse_date, parse_extent, parse_fen, parse_ground,
    parse_hash, parse_milestone, parse_name, parse_party, parse_role, parse_source, parse_subject,
    parse_text, parse_time_ms, parse_uscc_form,
};
use crate::remote::{ClientError, Ctx, SignOpts};
use lvyue_ledger::Hash;
use lvyue_ledger::event::{
    Contract, Event, ExemptionGround, Extent, KeyRegistration, MediationOutcome, Milestone, Source,
};
use lvyue_ledger::keys::{Signer, VerifierKey};
use lvyue_ledger::types::{Category, ContractId, Date, Fen, Name, Role, SignerName, Subject, Text};
use lvyue_ledger::uscc::Uscc;
use std::path::{Path, PathBuf};

fn sha256_file(path: &Path) -> Result<Hash, ClientError> {
    let bytes = crate::remote::read_input(path)?;
    Ok(lvyue_ledger::hash::sha256(&bytes))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ClientError> {
    let text = crate::remote::read_input_text(path)?;
    serde_json::from_str(&text).map_err(|e| ClientError::Input(format!("{}: {e}", path.display())))
}

fn input(e: String) -> ClientError {
    ClientError::Input(e)
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

/// Milestones that replace a contract's open ones (an amendment, a settled
/// mediation): a JSON file or repeated compact forms.
#[derive(clap::Args, Debug)]
pub struct MilestoneList {
    /// JSON file with the milestones (an array of Milestone objects)
    #[arg(long)]
    pub milestones: Option<PathBuf>,
    /// A milestone NUMBER|OBLIGOR>OBLIGEE|DUE|AMOUNT_FEN|DESCRIPTION (subjects as USCC or 王某:HEX); repeat for more
    #[arg(long, allow_hyphen_values = true)]
    pub milestone: Vec<String>,
}

impl MilestoneList {
    fn read(&self) -> Result<Vec<Milestone>, ClientError> {
        milestones_from(self.milestones.as_ref(), &self.milestone, &[])
    }

    fn is_empty(&self) -> bool {
        self.milestones.is_none() && self.milestone.is_empty()
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
        let contract = match &self.contract {
            Some(path) => self.contract_from_file(path)?,
            None => self.contract_from_flags()?,
        };
        Ok(Event::ContractFiled { contract })
    }

    /// The file's Contract; `--source`, when given, replaces (or supplies)
    /// its `source` member.
    fn contract_from_file(&self, path: &Path) -> Result<Contract, ClientError> {
        let mut v: serde_json::Value = read_json(path)?;
        if let (Some(source), Some(obj)) = (&self.source, v.as_object_mut()) {
            let source = serde_json::to_value(source).map_err(|e| input(e.to_string()))?;
            obj.insert("source".into(), source);
        }
        serde_json::from_value(v).map_err(|e| input(format!("{}: {e}", path.display())))
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
    /// The replacing milestones
    #[command(flatten)]
    pub milestones: MilestoneList,
    /// Reason (free text, up to 2000 characters)
    #[arg(long, value_parser = parse_text)]
    pub reason: Text,
}

impl Amend {
    pub fn event(&self) -> Result<Event, ClientError> {
        Ok(Event::ContractAmended {
            contract: self.contract.clone(),
            amendment: self.amendment,
            milestones: self.milestones.read()?,
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
    /// settled (give the agreed milestones with --milestone or --milestones) or failed
    #[arg(long, value_parser = ["settled", "failed"])]
    pub outcome: String,
    /// Settled: the agreed milestones
    #[command(flatten)]
    pub milestones: MilestoneList,
    /// Summary (free text, up to 2000 characters)
    #[arg(long, value_parser = parse_text)]
    pub summary: Text,
}

impl Mediate {
    pub fn event(&self) -> Result<Event, ClientError> {
        let outcome = if self.outcome == "settled" {
            MediationOutcome::Settled {
                milestones: self.milestones.read()?,
            }
        } else {
            if !self.milestones.is_empty() {
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
