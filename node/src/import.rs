//! Bulk import by a data feed (`lvyue-node import`): contract rows from an
//! NDJSON or CSV file become `contract_filed` events with source
//! `import {external_ref}`, each signed with the feed's key, and are posted
//! together to `POST /v1/import` as NDJSON (one `Signed` JSON per line).
//!
//! The row formats are documented in docs/API.md, "Bulk import formats".
//! Every row is checked locally first; a row that fails is reported as
//! rejected with its row number and reason and is not sent.
//!
//! Each row is signed with nonce 0, so running the same import again
//! produces byte-identical submissions: the node answers `exists` for a row
//! it already holds, which is what makes a feed's import idempotent.

use crate::input::{
    check_event, parse_category, parse_contract_id, parse_date, parse_fen, parse_hash,
    parse_milestone, parse_name, parse_subject,
};
use crate::remote::{ClientError, Ctx, Remote, out};
use lvyue_ledger::event::{Contract, Event, Party, Source};
use lvyue_ledger::keys::Signer;
use lvyue_ledger::types::{Name, Subject, Text};
use lvyue_ledger::uscc::Uscc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The nonce every imported row is signed with (see the module doc).
pub const IMPORT_NONCE: u64 = 0;

/// Input file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line: a Contract plus "external_ref"
    Ndjson,
    /// A header line, then one contract per record
    Csv,
}

/// One input row: its number, and its contract or why it was refused.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// NDJSON: the line number; CSV: the record number after the header (1 = first data record).
    pub row: u64,
    pub external_ref: Option<String>,
    pub contract: Result<Contract, String>,
}

/// The columns of the CSV form, in the order `import` documents them.
pub const CSV_COLUMNS: &[&str] = &[
    "external_ref",
    "id",
    "category",
    "name",
    "summary",
    "amount_fen",
    "signed",
    "party_a",
    "party_a_name",
    "party_a_role",
    "party_b",
    "party_b_name",
    "party_b_role",
    "milestones",
    "document_sha256",
];

/// Columns that may be left out of the header.
const CSV_OPTIONAL: &[&str] = &["summary", "document_sha256"];

/// Parses the rows of `text`. An error is about the whole file (a CSV
/// header without a required column, or with an unknown one).
pub fn parse_rows(format: Format, text: &str) -> Result<Vec<Row>, String> {
    match format {
        Format::Ndjson => Ok(parse_ndjson(text)),
        Format::Csv => parse_csv(text),
    }
}

/// NDJSON rows: blank lines are skipped (but counted).
#[must_use]
pub fn parse_ndjson(text: &str) -> Vec<Row> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            let row = i as u64 + 1;
            match ndjson_row(line) {
                Ok((r, c)) => Row {
                    row,
                    external_ref: Some(r),
                    contract: c,
                },
                Err(e) => Row {
                    row,
                    external_ref: None,
                    contract: Err(e),
                },
            }
        })
        .collect()
}

/// One NDJSON line: the external ref (when readable) and the contract.
fn ndjson_row(line: &str) -> Result<(String, Result<Contract, String>), String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(mut obj) = v else {
        return Err("want a JSON object".into());
    };
    let r = match obj.remove("external_ref") {
        Some(Value::String(s)) => s,
        Some(_) => return Err("external_ref: want a string".into()),
        None => return Err("external_ref is missing".into()),
    };
    let contract = ndjson_contract(obj, &r);
    Ok((r, contract))
}

/// The contract of an NDJSON row whose `external_ref` was taken out: its
/// source is set to `import {external_ref}` (a given source must say the same).
fn ndjson_contract(mut obj: serde_json::Map<String, Value>, r: &str) -> Result<Contract, String> {
    let source = import_source(r)?;
    match obj.get("source") {
        None | Some(Value::Null) => {}
        Some(s) if serde_json::from_value::<Source>(s.clone()).ok() == Some(source.clone()) => {}
        Some(s) => {
            return Err(format!(
                "source {s}: an imported row's source is import with its own external_ref (leave it out)"
            ));
        }
    }
    let source = serde_json::to_value(&source).map_err(|e| e.to_string())?;
    obj.insert("source".into(), source);
    serde_json::from_value::<Contract>(Value::Object(obj)).map_err(|e| e.to_string())
}

fn import_source(external_ref: &str) -> Result<Source, String> {
    Ok(Source::Import {
        external_ref: Name::new(external_ref).map_err(|e| format!("external_ref: {e}"))?,
    })
}

/// CSV rows (see docs/API.md for the columns).
pub fn parse_csv(text: &str) -> Result<Vec<Row>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| format!("csv header: {e}"))?
        .clone();
    let mut columns = BTreeMap::new();
    for (i, name) in header.iter().enumerate() {
        if !CSV_COLUMNS.contains(&name) {
            return Err(format!(
                "csv header: unknown column {name:?} (columns: {})",
                CSV_COLUMNS.join(",")
            ));
        }
        if columns.insert(name.to_string(), i).is_some() {
            return Err(format!("csv header: column {name:?} appears twice"));
        }
    }
    if let Some(missing) = CSV_COLUMNS
        .iter()
        .find(|c| !CSV_OPTIONAL.contains(c) && !columns.contains_key(**c))
    {
        return Err(format!(
            "csv header: required column {missing:?} is missing"
        ));
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i as u64 + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rows.push(Row {
                    row,
                    external_ref: None,
                    contract: Err(format!("csv: {e}")),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let fields = Fields {
            columns: &columns,
            record: &record,
        };
        let external_ref = Some(fields.get("external_ref").to_string()).filter(|s| !s.is_empty());
        let contract = if record.len() != header.len() {
            Err(format!(
                "line {line}: {} fields, the header has {}",
                record.len(),
                header.len()
            ))
        } else {
            csv_contract(&fields).map_err(|e| format!("line {line}: {e}"))
        };
        rows.push(Row {
            row,
            external_ref,
            contract,
        });
    }
    Ok(rows)
}

/// One CSV record's fields by column name.
struct Fields<'r> {
    columns: &'r BTreeMap<String, usize>,
    record: &'r csv::StringRecord,
}

impl<'r> Fields<'r> {
    /// The field, or "" when the column is absent.
    fn get(&self, c: &str) -> &'r str {
        self.columns
            .get(c)
            .and_then(|&i| self.record.get(i))
            .unwrap_or("")
    }
    /// The field, which must not be empty unless the column is optional.
    fn field(&self, c: &str) -> Result<&'r str, String> {
        let v = self.get(c);
        if v.is_empty() && !CSV_OPTIONAL.contains(&c) {
            return Err(format!("{c} is empty"));
        }
        Ok(v)
    }
}

fn csv_contract(f: &Fields<'_>) -> Result<Contract, String> {
    let field = |c: &str| f.field(c);
    let ctx = |c: &'static str| move |e: String| format!("{c}: {e}");
    let party = |p: &str| -> Result<Party, String> {
        Ok(Party {
            subject: parse_subject(field(p)?).map_err(|e| format!("{p}: {e}"))?,
            name: parse_name(field(&format!("{p}_name"))?).map_err(|e| format!("{p}_name: {e}"))?,
            role: parse_name(field(&format!("{p}_role"))?).map_err(|e| format!("{p}_role: {e}"))?,
        })
    };
    let parties = vec![party("party_a")?, party("party_b")?];
    let subjects: Vec<Subject> = parties.iter().map(|p| p.subject.clone()).collect();
    let milestones = field("milestones")?
        .split(';')
        .filter(|m| !m.trim().is_empty())
        .map(|m| parse_milestone(m, &subjects).map_err(ctx("milestones")))
        .collect::<Result<Vec<_>, _>>()?;
    let doc = field("document_sha256")?;
    Ok(Contract {
        id: parse_contract_id(field("id")?).map_err(ctx("id"))?,
        category: parse_category(field("category")?)?,
        name: parse_name(field("name")?).map_err(ctx("name"))?,
        parties,
        summary: Text::new(field("summary")?).map_err(ctx("summary"))?,
        amount: parse_fen(field("amount_fen")?).map_err(ctx("amount_fen"))?,
        signed: parse_date(field("signed")?).map_err(ctx("signed"))?,
        milestones,
        document_sha256: if doc.is_empty() {
            None
        } else {
            Some(parse_hash(doc).map_err(ctx("document_sha256"))?)
        },
        source: import_source(field("external_ref")?)?,
    })
}

/// Checks every row that parsed (the event checks of `client::check_event`,
/// and no external_ref or contract id twice in one file); a failing row
/// keeps its number and gets the reason.
pub fn validate(rows: &mut [Row], legacy: &[Uscc]) {
    let mut refs: BTreeMap<String, u64> = BTreeMap::new();
    let mut ids: BTreeMap<String, u64> = BTreeMap::new();
    for row in rows.iter_mut() {
        let Ok(c) = &row.contract else { continue };
        let event = Event::ContractFiled {
            contract: c.clone(),
        };
        let verdict = check_event(&event, legacy).and_then(|()| {
            let r = row.external_ref.clone().unwrap_or_default();
            if let Some(first) = refs.get(&r) {
                return Err(format!("external_ref {r:?} repeats row {first}"));
            }
            if let Some(first) = ids.get(c.id.as_str()) {
                return Err(format!("contract id {} repeats row {first}", c.id));
            }
            refs.insert(r, row.row);
            ids.insert(c.id.as_str().to_string(), row.row);
            Ok(())
        });
        if let Err(e) = verdict {
            row.contract = Err(e);
        }
    }
}

/// The request body for `POST /v1/import`: one signed `contract_filed`
/// per valid row, one JSON per line, in row order; and the row number of
/// each line (line `k` of the body, 1-based, is input row `sent[k - 1]`).
pub fn request_body(
    rows: &[Row],
    feed: &Signer,
    origin: &str,
) -> Result<(Vec<u8>, Vec<u64>), ClientError> {
    let mut body = Vec::new();
    let mut sent = Vec::new();
    for row in rows {
        let Ok(c) = &row.contract else { continue };
        let event = Event::ContractFiled {
            contract: c.clone(),
        };
        let signed = crate::remote::sign(feed, origin, event, IMPORT_NONCE)?;
        serde_json::to_writer(&mut body, &signed).map_err(|e| ClientError::Input(e.to_string()))?;
        body.push(b'\n');
        sent.push(row.row);
    }
    Ok((body, sent))
}

/// One row's outcome, as printed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowResult {
    pub row: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub external_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub contract: Option<String>,
    /// accepted, exists or rejected.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<String>,
}

/// The server's answer: `{"results": [{"row", "status", "index" | "error", "detail"}]}`,
/// `row` being the line of the request body.
#[derive(Deserialize)]
struct ServerAnswer {
    results: Vec<RowResult>,
}

/// Every input row's outcome: local rejections, and the server's results
/// mapped from body lines back to input rows. A sent row the server did not
/// answer for is reported as rejected.
pub fn merge(rows: &[Row], sent: &[u64], server: Vec<RowResult>) -> Vec<RowResult> {
    let mut by_row: BTreeMap<u64, RowResult> = BTreeMap::new();
    for mut r in server {
        let Some(&input_row) = usize::try_from(r.row)
            .ok()
            .and_then(|k| k.checked_sub(1))
            .and_then(|k| sent.get(k))
        else {
            continue;
        };
        r.row = input_row;
        by_row.insert(input_row, r);
    }
    rows.iter()
        .map(|row| {
            let contract = row
                .contract
                .as_ref()
                .ok()
                .map(|c| c.id.as_str().to_string());
            let mut r = match &row.contract {
                Err(e) => RowResult {
                    row: row.row,
                    external_ref: None,
                    contract: None,
                    status: "rejected".into(),
                    index: None,
                    error: Some("invalid_row".into()),
                    detail: Some(e.clone()),
                },
                Ok(_) => by_row.remove(&row.row).unwrap_or(RowResult {
                    row: row.row,
                    external_ref: None,
                    contract: None,
                    status: "rejected".into(),
                    index: None,
                    error: Some("no_result".into()),
                    detail: Some("the node gave no result for this row".into()),
                }),
            };
            r.external_ref = row.external_ref.clone();
            r.contract = contract;
            r
        })
        .collect()
}

fn human(r: &RowResult) -> String {
    let what = match (&r.contract, &r.external_ref) {
        (Some(c), Some(e)) => format!(" {c} ({e})"),
        (None, Some(e)) => format!(" ({e})"),
        (Some(c), None) => format!(" {c}"),
        (None, None) => String::new(),
    };
    let outcome = match (r.status.as_str(), r.index) {
        ("accepted", Some(i)) => format!("accepted at index {i}"),
        ("exists", Some(i)) => format!("exists at index {i}"),
        (s, _) => format!(
            "{s}: {} {}",
            r.error.as_deref().unwrap_or(""),
            r.detail.as_deref().unwrap_or("")
        ),
    };
    format!("row {}{what}: {}\n", r.row, outcome.trim_end())
}

/// Import options.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The data feed's secret key file
    #[arg(long, env = "LVYUE_FEED_KEY")]
    pub feed_key: std::path::PathBuf,
    /// Input format [default: from the file extension: .csv, else ndjson]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Sign for this log origin instead of asking the node for it
    #[arg(long)]
    pub origin: Option<String>,
    /// Print the NDJSON request body instead of sending it (local rejections go to standard error)
    #[arg(long)]
    pub dry_run: bool,
    /// The input file
    pub file: std::path::PathBuf,
}

/// Runs `import`.
pub fn run(ctx: &Ctx, a: &ImportArgs) -> Result<(), ClientError> {
    let format = a
        .format
        .unwrap_or_else(|| match a.file.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::Ndjson,
        });
    let text = crate::remote::read_input_text(&a.file)?;
    let mut rows = parse_rows(format, &text)
        .map_err(|e| ClientError::Input(format!("{}: {e}", a.file.display())))?;
    validate(&mut rows, &ctx.legacy);
    let feed = Signer::read_file(&a.feed_key)?;
    let remote = Remote::new(&ctx.node);
    let origin = match &a.origin {
        Some(o) => o.clone(),
        None => remote.origin()?,
    };
    let (body, sent) = request_body(&rows, &feed, &origin)?;
    let server = if a.dry_run || sent.is_empty() {
        Vec::new()
    } else {
        let answer = remote.post("/v1/import", "application/x-ndjson", &body)?;
        let answer: ServerAnswer = remote.json("/v1/import", answer)?;
        answer.results
    };
    let mut results = merge(&rows, &sent, server);
    if a.dry_run {
        // Nothing was sent: only local rejections are outcomes.
        results.retain(|r| r.error.as_deref() != Some("no_result"));
    }
    let rejected = results.iter().filter(|r| r.status == "rejected").count();
    if a.dry_run {
        for r in results.iter().filter(|r| r.status == "rejected") {
            eprint!("{}", human(r));
        }
        out(&String::from_utf8_lossy(&body))?;
    } else if ctx.json {
        let count = |s: &str| results.iter().filter(|r| r.status == s).count();
        let v = serde_json::json!({
            "results": results,
            "accepted": count("accepted"),
            "exists": count("exists"),
            "rejected": rejected,
        });
        out(&(serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"))?;
    } else {
        let text: String = results.iter().map(human).collect();
        out(&text)?;
    }
    if rejected > 0 {
        return Err(ClientError::ImportRejected {
            rejected,
            rows: results.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvyue_ledger::keys::KeyName;

    const A: &str = "91350100M000100Y43";
    fn b() -> String {
        Uscc::with_check("91610300MA6X00001").unwrap().to_string()
    }

    fn csv_text() -> String {
        let b = b();
        format!(
            "external_ref,id,category,name,summary,amount_fen,signed,party_a,party_a_name,party_a_role,party_b,party_b_name,party_b_role,milestones,document_sha256\n\
             GP-1,BJ-1,government_procurement,办公设备采购,采购,1000,2026-01-01,{A},宝鸡市某局,甲方,{b},某公司,乙方,1|b>a|2026-03-01|600|交付; 2|b>a|2026-06-01|400|尾款,\n\
             GP-2,BJ-2,government_procurement,x,,-5,2026-01-01,{A},局,甲方,{b},公司,乙方,1|b>a|2026-03-01|1|交付,\n\
             GP-3,BJ-3,commercial,y,,5,2026-01-01,91350100M000100Y44,局,甲方,{b},公司,乙方,1|b>a|2026-03-01|5|交付,\n\
             GP-4,BJ-4,commercial,\"名称, 含逗号\",\"两行\n摘要\",5,2026-01-01,{A},局,甲方,{b},公司,乙方,1|a>b|2026-03-01|5|付款,{}\n\
             GP-1,BJ-5,commercial,z,,5,2026-01-01,{A},局,甲方,{b},公司,乙方,1|b>a|2026-03-01|5|交付,\n",
            "cd".repeat(32)
        )
    }

    #[test]
    fn csv_rows_parse_and_bad_rows_are_named() {
        let mut rows = parse_csv(&csv_text()).unwrap();
        validate(&mut rows, &[]);
        assert_eq!(rows.len(), 5);
        let c1 = rows[0].contract.as_ref().unwrap();
        assert_eq!(c1.id.as_str(), "BJ-1");
        assert_eq!(c1.milestones.len(), 2);
        assert_eq!(c1.milestones[1].amount.get(), 400);
        assert_eq!(c1.milestones[1].description.as_str(), "尾款");
        assert_eq!(
            c1.source,
            Source::Import {
                external_ref: Name::new("GP-1").unwrap()
            }
        );
        let e = rows[1].contract.as_ref().unwrap_err();
        assert!(
            e.contains("line 3") && e.contains("amount -5: must not be negative"),
            "{e}"
        );
        let e = rows[2].contract.as_ref().unwrap_err();
        assert!(e.contains("check character is '4', want '3'"), "{e}");
        let c4 = rows[3].contract.as_ref().unwrap();
        assert_eq!(c4.name.as_str(), "名称, 含逗号");
        assert_eq!(c4.summary.as_str(), "两行\n摘要");
        assert!(c4.document_sha256.is_some());
        assert_eq!(rows[4].row, 5);
        let e = rows[4].contract.as_ref().unwrap_err();
        assert_eq!(e, "external_ref \"GP-1\" repeats row 1");
    }

    #[test]
    fn csv_header_problems_refuse_the_file() {
        let e = parse_csv("external_ref,id\nx,y\n").unwrap_err();
        assert!(e.contains("required column \"category\" is missing"), "{e}");
        let mut header = CSV_COLUMNS.join(",");
        header.push_str(",colour\n");
        let e = parse_csv(&header).unwrap_err();
        assert!(e.contains("unknown column \"colour\""), "{e}");
        // Optional columns may be left out; a short record is a bad row.
        let cols: Vec<&str> = CSV_COLUMNS
            .iter()
            .copied()
            .filter(|c| !CSV_OPTIONAL.contains(c))
            .collect();
        let rows = parse_csv(&format!("{}\nR,1,commercial\n", cols.join(","))).unwrap();
        let e = rows[0].contract.as_ref().unwrap_err();
        assert!(e.contains("3 fields, the header has 13"), "{e}");
    }

    /// The examples in docs/API.md are accepted as they stand.
    #[test]
    fn the_documented_examples_parse() {
        let docs = include_str!("../../docs/API.md");
        let block = |lang: &str| {
            let heading = if lang == "csv" {
                "### CSV"
            } else {
                "### NDJSON"
            };
            let section = &docs[docs.find(heading).unwrap()..];
            let start = section.find(&format!("```{lang}\n")).unwrap() + lang.len() + 4;
            let end = start + section[start..].find("```").unwrap();
            section[start..end].to_string()
        };
        for (format, text) in [(Format::Csv, block("csv")), (Format::Ndjson, block("json"))] {
            let mut rows = parse_rows(format, &text).unwrap();
            validate(&mut rows, &[]);
            assert!(!rows.is_empty());
            for r in &rows {
                let c = r
                    .contract
                    .as_ref()
                    .unwrap_or_else(|e| panic!("{format:?}: {e}"));
                assert_eq!(c.id.as_str(), "BJ-2026-0001");
            }
        }
    }

    fn ndjson_line(ext: &str, id: &str, amount: &str, extra: &str) -> String {
        let b = b();
        format!(
            r#"{{"external_ref":"{ext}","id":"{id}","category":"construction","name":"工程","parties":[{{"subject":{{"org":"{A}"}},"name":"局","role":"甲方"}},{{"subject":{{"org":"{b}"}},"name":"公司","role":"乙方"}}],"summary":"","amount":{amount},"signed":"2026-01-01","milestones":[{{"number":1,"obligor":{{"org":"{b}"}},"obligee":{{"org":"{A}"}},"due":"2026-05-01","description":"竣工","amount":{amount}}}],"document_sha256":null{extra}}}"#
        )
    }

    #[test]
    fn ndjson_rows_parse_and_bad_rows_are_named() {
        let text = [
            ndjson_line("E-1", "C-1", "100", ""),
            String::new(),
            ndjson_line("E-2", "C-2", "-1", ""),
            "not json".into(),
            ndjson_line("E-4", "C-4", "7", r#","source":"department""#),
            ndjson_line(
                "E-5",
                "C-5",
                "7",
                r#","source":{"import":{"external_ref":"E-5"}}"#,
            ),
            ndjson_line("E-6", "C-1", "7", ""),
            r#"{"id":"C-7"}"#.into(),
        ]
        .join("\n");
        let mut rows = parse_ndjson(&text);
        validate(&mut rows, &[]);
        let numbers: Vec<u64> = rows.iter().map(|r| r.row).collect();
        assert_eq!(
            numbers,
            [1, 3, 4, 5, 6, 7, 8],
            "blank line 2 counted, not a row"
        );
        assert!(rows[0].contract.is_ok());
        let err = |i: usize| rows[i].contract.clone().unwrap_err();
        assert!(
            err(1).contains("amount -1: must not be negative"),
            "{}",
            err(1)
        );
        assert!(err(2).starts_with("not JSON"), "{}", err(2));
        assert!(err(3).contains("leave it out"), "{}", err(3));
        assert!(rows[4].contract.is_ok(), "a matching import source is fine");
        assert_eq!(err(5), "contract id C-1 repeats row 1");
        assert_eq!(err(6), "external_ref is missing");
    }

    #[test]
    fn the_request_body_holds_signed_valid_rows_and_results_map_back() {
        let text = [
            ndjson_line("E-1", "C-1", "100", ""),
            ndjson_line("E-2", "C-2", "-1", ""),
            ndjson_line("E-3", "C-3", "5", ""),
        ]
        .join("\n");
        let mut rows = parse_ndjson(&text);
        validate(&mut rows, &[]);
        let feed = Signer::from_seed(KeyName::new("feed").unwrap(), [9; 32]);
        let (body, sent) = request_body(&rows, &feed, "lvyue.test/log").unwrap();
        assert_eq!(sent, [1, 3]);
        let lines: Vec<&str> = std::str::from_utf8(&body).unwrap().lines().collect();
        assert_eq!(lines.len(), 2);
        for (line, id) in lines.iter().zip(["C-1", "C-3"]) {
            let signed: lvyue_ledger::record::Signed = serde_json::from_str(line).unwrap();
            assert_eq!(signed.payload.nonce, IMPORT_NONCE);
            let Event::ContractFiled { contract } = &signed.payload.event else {
                panic!("not a filing: {line}");
            };
            assert_eq!(contract.id.as_str(), id);
            // The signature verifies for the origin it was made for.
            let msg = signed.payload.signed_message("lvyue.test/log").unwrap();
            feed.verifier_key()
                .verify_strict(&msg, &signed.signature)
                .unwrap();
        }
        // Signing is deterministic: the same import gives the same body.
        assert_eq!(
            request_body(&rows, &feed, "lvyue.test/log").unwrap().0,
            body
        );

        let server: ServerAnswer = serde_json::from_str(
            r#"{"results":[{"row":1,"status":"accepted","index":12},
                           {"row":2,"status":"rejected","error":"conflict","detail":"contract C-3 is already filed"}]}"#,
        )
        .unwrap();
        let results = merge(&rows, &sent, server.results);
        let summary: Vec<(u64, &str, Option<u64>)> = results
            .iter()
            .map(|r| (r.row, r.status.as_str(), r.index))
            .collect();
        assert_eq!(
            summary,
            [
                (1, "accepted", Some(12)),
                (2, "rejected", None),
                (3, "rejected", None)
            ]
        );
        assert_eq!(results[1].error.as_deref(), Some("invalid_row"));
        assert_eq!(results[2].error.as_deref(), Some("conflict"));
        assert_eq!(
            human(&results[0]),
            "row 1 C-1 (E-1): accepted at index 12\n"
        );
        assert_eq!(
            human(&results[2]),
            "row 3 C-3 (E-3): rejected: conflict contract C-3 is already filed\n"
        );
    }
}
