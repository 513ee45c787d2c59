//! Parsing and checking client input before anything is signed: value
//! forms (clap value parsers, also used by the bulk import), the compact
//! party and milestone forms (docs/API.md, "Bulk import formats"), and the
//! checks of a whole event.
//!
//! Local checks catch what can be known without the log: value forms
//! (dates `YYYY-MM-DD`, amounts in whole fen, USCC check characters, hashes),
//! the shape of a contract (parties, milestones) and resident identity
//! numbers in free text. Whether the signer may do this to that contract is
//! for the node's rules engine to say.

use lvyue_ledger::Hash;
use lvyue_ledger::event::{
    Contract, Event, ExemptionGround, Extent, MediationOutcome, Milestone, Party, Source,
};
use lvyue_ledger::types::{Category, ContractId, Date, Fen, MaskedName, Name, Role, Subject, Text};
use lvyue_ledger::uscc::Uscc;
use std::collections::BTreeSet;

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
