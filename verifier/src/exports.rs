//! Checks of the node's signed exports.
//!
//! - [`check_disclosure`]: the public checks a disclosure export (lists,
//!   demand notices, scores of listed entities): the signature by the log's
//!   key, the checkpoint it names, and every listing, notice and score
//!   recomputed from the log up to that checkpoint — the log is replayed
//!   and audited in full on the way (the same checks as `audit`), and the
//!   book of lists is folded from it by the same fold the node runs
//!   (`lvyue_ledger::book`). Every difference is reported.
//! - [`check_report`]: a lender checks an entity credit report: the
//!   signature, each summarised record's inclusion proof in the signed
//!   tree, and the summary recomputed from those records.

use crate::audit::tile_consistency_proof;
use crate::source::{Source, tile_at};
use crate::{Failure, Proven, check_consistency, origin_of};
use lvyue_ledger::audit::Auditor;
use lvyue_ledger::book::{self, Disclosure, Listing, MemRows, NoticeItem};
use lvyue_ledger::checkpoint;
use lvyue_ledger::export::{self, CreditReport, ExportError, SignedExport, Summarizer};
use lvyue_ledger::keys::VerifierKey;
use lvyue_ledger::record::{Body, Entry};
use lvyue_ledger::tlog::TILE_WIDTH;
use std::collections::BTreeMap;

fn export_failure(what: &str, e: ExportError) -> Failure {
    let (index, expected, found) = match &e {
        ExportError::Record { index, .. } => (Some(*index), None, None),
        ExportError::Summary {
            expected, found, ..
        } => (None, Some(expected.clone()), Some(found.clone())),
        ExportError::Digest { signed, found } => (None, Some(signed.clone()), Some(found.clone())),
        _ => (None, None, None),
    };
    Failure::Violation(Box::new(Proven {
        message: format!("{what}: {e}"),
        first_bad_index: index,
        expected,
        found,
        misbehaviour: None,
    }))
}

/// What a clean disclosure check covered.
#[derive(Debug, serde::Serialize)]
pub struct DisclosureCheck {
    pub size: u64,
    pub red_list: usize,
    pub black_list: usize,
    pub demand_notices: usize,
}

/// The book folded from the first `size` entries of the log at `source`,
/// each entry audited on the way; the root of those entries must be the
/// one `cp` signs.
fn fold_log(
    source: &Source,
    vkey: &VerifierKey,
    cp: &checkpoint::VerifiedCheckpoint,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<MemRows, Failure> {
    let mut rows = MemRows::default();
    replay_to(source, vkey, cp, progress, &mut |auditor, i, entry| {
        match &entry.body {
            Body::Submitted(s) => book::apply_event(&mut rows, i, &s.payload.event),
            Body::Derived(d) => {
                let engine = auditor.engine();
                let notice_day = |k: u64| engine.notice_record(k).map(|n| n.day);
                book::apply_derived(&mut rows, i, entry.time_ms, d, &notice_day)
                    .map_err(|e| Failure::CouldNotCheck(e.to_string()))?;
            }
        }
        Ok(())
    })?;
    Ok(rows)
}

/// Replays and audits the first `cp.size()` entries of the log at
/// `source`, calling `on_entry` after each; their root must be `cp`'s.
fn replay_to(
    source: &Source,
    vkey: &VerifierKey,
    cp: &checkpoint::VerifiedCheckpoint,
    progress: &mut dyn FnMut(u64, u64),
    on_entry: &mut dyn FnMut(&Auditor, u64, &Entry) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let origin = origin_of(vkey)?;
    let size = cp.size();
    // The source may hold a larger tree: it must extend the export's.
    let note = source.get("checkpoint")?;
    let head = checkpoint::open(&note, &origin, vkey).map_err(|e| {
        Failure::violation(format!("checkpoint {}: {e}", source.locate("checkpoint")))
    })?;
    if head.size() < size {
        return Err(Failure::CouldNotCheck(format!(
            "the log at {} has {} entries; the export is at size {size}",
            source.locate(""),
            head.size()
        )));
    }
    check_consistency(cp.note_bytes(), &note, vkey, |a, b| {
        tile_consistency_proof(source, a, b)
    })?;
    let mut auditor = Auditor::new(origin.as_str(), Default::default());
    let mut n = 0;
    while n * TILE_WIDTH < size {
        let t = tile_at(0, n, head.size());
        let path = t.entries_path();
        let data = source.get(&path)?;
        let mut rest = data.as_slice();
        let mut i = n * TILE_WIDTH;
        while i < size && i < (n + 1) * TILE_WIDTH {
            let Some((len, tail)) = rest.split_first_chunk::<2>() else {
                return Err(Failure::violation(format!("entry {i}: {path} ends early")));
            };
            let len = usize::from(u16::from_be_bytes(*len));
            let Some((bytes, tail)) = tail.split_at_checked(len) else {
                return Err(Failure::violation(format!(
                    "entry {i}: {path} is truncated"
                )));
            };
            rest = tail;
            auditor.feed(bytes)?;
            let entry =
                Entry::decode(bytes).map_err(|e| Failure::violation(format!("entry {i}: {e}")))?;
            on_entry(&auditor, i, &entry)?;
            i += 1;
        }
        progress(i, size);
        n += 1;
    }
    auditor.finish(cp)?;
    Ok(())
}

fn listing_text(l: &Listing) -> String {
    format!(
        "{} {} score {} since {} (index {}, {})",
        l.entity, l.name, l.score, l.since, l.since_index, l.reason
    )
}

fn notice_text(n: &NoticeItem) -> String {
    format!(
        "notice {} against {} {} published {} defaults {:?} repair from {} until {}",
        n.index, n.entity, n.name, n.published, n.defaults, n.repair_from, n.publicity_until
    )
}

/// Every difference between the export's content and the recomputation.
#[must_use]
pub fn differences(found: &Disclosure, expected: &Disclosure) -> Vec<String> {
    let mut out = Vec::new();
    for (name, f, e) in [
        ("red list", &found.red_list, &expected.red_list),
        ("black list", &found.black_list, &expected.black_list),
    ] {
        let fm: BTreeMap<_, _> = f.iter().map(|l| (&l.entity, l)).collect();
        let em: BTreeMap<_, _> = e.iter().map(|l| (&l.entity, l)).collect();
        for (k, l) in &em {
            match fm.get(k) {
                None => out.push(format!("{name}: missing {}", listing_text(l))),
                Some(x) if x != l => out.push(format!(
                    "{name}: {k}: expected {}, found {}",
                    listing_text(l),
                    listing_text(x)
                )),
                Some(_) => {}
            }
        }
        for (k, l) in &fm {
            if !em.contains_key(k) {
                out.push(format!("{name}: not in the log: {}", listing_text(l)));
            }
        }
        if f != e && !out.iter().any(|o| o.starts_with(name)) {
            out.push(format!("{name}: entries out of order or repeated"));
        }
    }
    let fm: BTreeMap<_, _> = found.demand_notices.iter().map(|n| (n.index, n)).collect();
    let em: BTreeMap<_, _> = expected
        .demand_notices
        .iter()
        .map(|n| (n.index, n))
        .collect();
    for (k, n) in &em {
        match fm.get(k) {
            None => out.push(format!("demand notices: missing {}", notice_text(n))),
            Some(x) if x != n => out.push(format!(
                "demand notices: expected {}, found {}",
                notice_text(n),
                notice_text(x)
            )),
            Some(_) => {}
        }
    }
    for (k, n) in &fm {
        if !em.contains_key(k) {
            out.push(format!(
                "demand notices: not in the log: {}",
                notice_text(n)
            ));
        }
    }
    if found.demand_notices != expected.demand_notices
        && !out.iter().any(|o| o.starts_with("demand notices"))
    {
        out.push("demand notices: entries out of order or repeated".into());
    }
    // Whatever else differs (FORMAT.md §19.5: the encodings must be equal).
    if out.is_empty() && found != expected {
        out.push("the content differs from the recomputation".into());
    }
    out
}

/// Checks a signed disclosure export against the log at `source`
/// (see the module documentation). `csv`, if given, must be the export's
/// CSV rendering byte for byte.
pub fn check_disclosure(
    json: &[u8],
    csv: Option<&[u8]>,
    source: &Source,
    vkey: &VerifierKey,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DisclosureCheck, Failure> {
    let e: SignedExport<Disclosure> = serde_json::from_slice(json)
        .map_err(|err| Failure::CouldNotCheck(format!("not a disclosure export: {err}")))?;
    if e.format != export::DISCLOSURE_FORMAT {
        return Err(Failure::CouldNotCheck(format!(
            "unsupported export format {:?} (this build knows {})",
            e.format,
            export::DISCLOSURE_FORMAT
        )));
    }
    let cp = export::open(&e, vkey).map_err(|err| export_failure("disclosure export", err))?;
    if let Some(csv) = csv
        && csv != e.content.to_csv().as_bytes()
    {
        return Err(Failure::violation(
            "disclosure CSV: it is not the rendering of the signed JSON export (docs/FORMAT.md, \"Exports\")"
                .into(),
        ));
    }
    let rows = fold_log(source, vkey, &cp, progress)?;
    let expected = book::disclosure(&rows, &e.content.origin, cp.size(), cp.root())
        .map_err(|err| Failure::CouldNotCheck(err.to_string()))?;
    let diffs = differences(&e.content, &expected);
    if !diffs.is_empty() {
        return Err(Failure::Violation(Box::new(Proven {
            message: format!(
                "the signed disclosure at size {} differs from the log in {} place(s):\n  {}",
                cp.size(),
                diffs.len(),
                diffs.join("\n  ")
            ),
            first_bad_index: None,
            expected: Some("the lists and notices recomputed from the log".into()),
            found: diffs.first().cloned(),
            misbehaviour: None,
        })));
    }
    Ok(DisclosureCheck {
        size: cp.size(),
        red_list: expected.red_list.len(),
        black_list: expected.black_list.len(),
        demand_notices: expected.demand_notices.len(),
    })
}

/// What a clean credit report check covered.
#[derive(Debug, serde::Serialize)]
pub struct ReportCheck {
    /// With `--log`: every record about the entity up to the report's size is in it.
    pub complete: Option<bool>,
    pub entity: String,
    pub size: u64,
    pub score: i64,
    pub records: usize,
}

/// Checks a signed entity credit report offline; with `log`, also that it
/// is complete: the log up to the report's checkpoint is replayed and
/// audited, the entity's summary is recomputed from every record about it,
/// and every score, list, default, reversal and notice record about it
/// must be among the report's records.
pub fn check_report_with_log(
    json: &[u8],
    vkey: &VerifierKey,
    log: Option<&Source>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ReportCheck, Failure> {
    let checked = check_report(json, vkey)?;
    let Some(source) = log else {
        return Ok(checked);
    };
    let e: SignedExport<CreditReport> = serde_json::from_slice(json)
        .map_err(|err| Failure::CouldNotCheck(format!("not a credit report: {err}")))?;
    let cp = export::open(&e, vkey).map_err(|err| export_failure("credit report", err))?;
    let mut sum = Summarizer::new(e.content.entity.clone());
    let mut about = Vec::new();
    replay_to(source, vkey, &cp, progress, &mut |_, i, entry| {
        if sum.concerns(entry) {
            if matches!(entry.body, Body::Derived(_)) {
                about.push(i);
            }
            sum.feed(entry)
                .map_err(|m| Failure::violation(format!("entry {i}: {m}")))?;
        }
        Ok(())
    })?;
    let have: std::collections::BTreeSet<u64> = e.content.records.iter().map(|r| r.index).collect();
    if let Some(missing) = about.iter().find(|i| !have.contains(i)) {
        return Err(Failure::Violation(Box::new(Proven {
            message: format!(
                "credit report of {}: record {missing} about the entity is in the log but not in the report",
                e.content.entity
            ),
            first_bad_index: Some(*missing),
            expected: Some(format!("{} records about the entity", about.len())),
            found: Some(format!("{} in the report", have.len())),
            misbehaviour: None,
        })));
    }
    let expected = sum.finish();
    if let Some((field, want, got)) = expected.first_difference(&e.content.summary) {
        return Err(Failure::Violation(Box::new(Proven {
            message: format!(
                "credit report of {}: {field} is {got} in the report, {want} recomputed from the log",
                e.content.entity
            ),
            first_bad_index: None,
            expected: Some(want),
            found: Some(got),
            misbehaviour: None,
        })));
    }
    Ok(ReportCheck {
        complete: Some(true),
        ..checked
    })
}

/// Checks a signed entity credit report offline.
pub fn check_report(json: &[u8], vkey: &VerifierKey) -> Result<ReportCheck, Failure> {
    let e: SignedExport<CreditReport> = serde_json::from_slice(json)
        .map_err(|err| Failure::CouldNotCheck(format!("not a credit report: {err}")))?;
    if e.format != export::REPORT_FORMAT {
        return Err(Failure::CouldNotCheck(format!(
            "unsupported report format {:?} (this build knows {})",
            e.format,
            export::REPORT_FORMAT
        )));
    }
    let cp = export::open(&e, vkey).map_err(|err| export_failure("credit report", err))?;
    e.content
        .check()
        .map_err(|err| export_failure("credit report", err))?;
    Ok(ReportCheck {
        complete: None,
        entity: e.content.entity.to_string(),
        size: cp.size(),
        score: e.content.summary.score,
        records: e.content.records.len(),
    })
}
