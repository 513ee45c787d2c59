//! The read API: contracts, entity credit archives, lists and notices,
//! warnings, notification feeds, supervision reports, city statistics and
//! the signed exports. Every answer is served from the index rows of
//! [`crate::index`]; none scans the log.
//!
//! Answers name the durable head they were read at (`as_of`). The sequencer
//! applies a batch (entries and index rows together) before the flusher
//! thread makes it durable and publishes its head, so the store may already
//! hold the rows of a batch or two past `as_of`: contracts filed (also as
//! warnings), archive and history items and notifications past `as_of` are
//! left out; a contract's milestone status and the city counters may
//! already show such a batch for the few milliseconds of its flush. Signed exports never do:
//! they are computed on the sequencer thread after a flush, between two
//! batches.

use crate::index::{self, ArchiveLine, CityStats, ContractView, Notification, day_key, key};
use crate::reads::point_read;
use crate::server::{ApiError, AppState, blocking, view};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lvyue_ledger::Hash;
use lvyue_ledger::book::Disclosure;
use lvyue_ledger::book::{self, RowsError, RowsRead};
use lvyue_ledger::engine::time;
use lvyue_ledger::export::{self, CreditReport, CreditSummary, ProvenRecord, SignedExport};
use lvyue_ledger::record::{Body, Derived, Entry, ListKind};
use lvyue_ledger::store::View;
use lvyue_ledger::tlog;
use lvyue_ledger::types::{ContractId, Date, Subject};
use lvyue_ledger::uscc::Uscc;
use serde::{Deserialize, Serialize};

/// Most items one page may hold.
pub const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 100;
/// Default length of each list of an entity archive.
pub const ENTITY_DEFAULT_LIMIT: usize = 20;

/// The committed store as book rows.
pub struct ViewRows<'a>(pub &'a View);

impl RowsRead for ViewRows<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, RowsError> {
        self.0
            .index_row(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| RowsError(e.to_string()))
    }
    fn scan(&self, prefix: &[u8]) -> Result<book::RowList, RowsError> {
        Ok(self
            .0
            .index_prefix(prefix)
            .map_err(|e| RowsError(e.to_string()))?
            .into_iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect())
    }
}

/// Query parameters, or a JSON `bad_query` naming what is wrong.
fn query_params<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| bad("bad_query", e.body_text()))
}

fn bad(error: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, error, detail)
}

fn not_found(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", detail)
}

/// Parses an entity in a path: a USCC, or `p:` and the 64-hex commitment of a natural person.
pub fn parse_subject(s: &str) -> Result<Subject, ApiError> {
    if let Some(hex) = s.strip_prefix("p:") {
        let commitment = Hash::from_hex(hex).map_err(|e| {
            bad(
                "invalid_subject",
                format!("{s:?}: a person is p: and a 64-hex commitment ({e})"),
            )
        })?;
        // The masked name is not part of the key; any valid one will do.
        let masked_name =
            lvyue_ledger::types::MaskedName::new("匿某").map_err(|e| bad("invalid_subject", e))?;
        return Ok(Subject::Person {
            masked_name,
            commitment,
        });
    }
    Uscc::parse(s)
        .map(Subject::Org)
        .map_err(|e| bad("invalid_uscc", format!("{s:?}: {e}")))
}

/// A person as the log names them (masked name included), found through
/// the record that last named them; organisations are returned as they are.
pub fn resolve_subject(view: &View, who: Subject) -> Result<Subject, String> {
    let Subject::Person { commitment, .. } = &who else {
        return Ok(who);
    };
    let Some(row) = view
        .index_row(&key(&[b"bN", &book::subject_key(&who)]))
        .map_err(|e| e.to_string())?
    else {
        return Ok(who);
    };
    let named: book::NameRow = book::decode_row(&row).map_err(|e| e.to_string())?;
    let Some(bytes) = view.entry(named.index).map_err(|e| e.to_string())? else {
        return Ok(who);
    };
    let entry = Entry::decode(&bytes).map_err(|e| e.to_string())?;
    let found = match &entry.body {
        Body::Submitted(s) => match &s.payload.event {
            lvyue_ledger::event::Event::ContractFiled { contract } => contract
                .parties
                .iter()
                .map(|p| &p.subject)
                .find(|s| matches!(s, Subject::Person { commitment: c, .. } if c == commitment))
                .cloned(),
            lvyue_ledger::event::Event::KeyRegistered { key } => Some(key.holder.clone()),
            _ => None,
        },
        Body::Derived(_) => None,
    };
    Ok(found.unwrap_or(who))
}

fn parse_contract_id(s: &str) -> Result<ContractId, ApiError> {
    ContractId::new(s).map_err(|e| bad("invalid_contract_id", format!("{s:?}: {e}")))
}

fn parse_date(name: &str, s: &str) -> Result<Date, ApiError> {
    Date::parse(s).map_err(|e| bad("invalid_date", format!("{name}={s:?}: {e}")))
}

fn limit_of(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(0) => Err(bad("bad_query", "limit must be at least 1")),
        Some(n) if n > MAX_LIMIT => Err(bad(
            "bad_query",
            format!("limit {n} is over the maximum {MAX_LIMIT}"),
        )),
        Some(n) => Ok(n),
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

fn be_u64(b: &[u8]) -> u64 {
    b.try_into().map(u64::from_be_bytes).unwrap_or(u64::MAX)
}

/// The rule-set time zone offset and today's date at the head.
fn today(view: &View) -> Result<(i32, Date), ApiError> {
    let offset = match view.index_row(b"bR").map_err(internal)? {
        Some(b) => {
            book::decode_row::<book::BookRules>(&b)
                .map_err(internal)?
                .utc_offset_minutes
        }
        None => lvyue_ledger::rules::RuleSet::default().utc_offset_minutes,
    };
    let day = time::day_of(view.head().time_ms, offset);
    Ok((offset, Date::from_days(day).map_err(internal)?))
}

fn read_entry(view: &View, i: u64) -> Result<(Vec<u8>, Entry), ApiError> {
    let bytes = view
        .entry(i)
        .map_err(internal)?
        .ok_or_else(|| internal(format!("indexed entry {i} is missing")))?;
    let e = Entry::decode(&bytes).map_err(internal)?;
    Ok((bytes.to_vec(), e))
}

pub use crate::index::HistoryItem;

#[derive(Deserialize)]
pub struct PageQuery {
    /// Items after this index (exclusive).
    after: Option<u64>,
    limit: Option<usize>,
}

/// `GET /v1/contracts/{id}` answer.
#[derive(Serialize, Deserialize)]
pub struct ContractAnswer {
    pub as_of: u64,
    pub contract: ContractView,
    pub history: Vec<HistoryItem>,
    /// Pass as `after` for the next page of history, when there is one.
    pub next: Option<u64>,
}

/// A page of a contract's history (oldest first): the items after index
/// `after`, at most `limit`, and the cursor of the next page.
fn history_page(
    all: &[HistoryItem],
    after: Option<u64>,
    limit: usize,
) -> (Vec<HistoryItem>, Option<u64>) {
    let from = after.map_or(0, |a| all.partition_point(|h| h.index <= a));
    let mut items: Vec<HistoryItem> = all[from..].iter().take(limit + 1).cloned().collect();
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|i| i.index)
    } else {
        None
    };
    (items, next)
}

pub(crate) async fn contract(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<ContractAnswer>, ApiError> {
    let q = query_params(q)?;
    let id = parse_contract_id(&id)?;
    let limit = limit_of(q.limit)?;
    let view = view(&s)?;
    // A point read: on this async worker while the store is warm
    // (crate::reads).
    point_read(&s.reads, move || {
        contract_at(&view, &id, q.after, limit).map(Json)
    })
    .await
}

/// The contract answer as of `view`'s head: a page of at most `limit`
/// history items after index `after`. Index rows of a batch being flushed
/// may already be in the store: a contract filed, or a history item
/// recorded, at or past the head is not shown (module doc).
pub fn contract_at(
    view: &View,
    id: &ContractId,
    after: Option<u64>,
    limit: usize,
) -> Result<ContractAnswer, ApiError> {
    let head = view.head().size;
    let mut contract = index::read_contract(view, id)
        .map_err(internal)?
        .filter(|c| c.filed_index < head)
        .ok_or_else(|| not_found(format!("no contract {id} in the log")))?;
    let mut all = std::mem::take(&mut contract.history);
    all.retain(|h| h.index < head);
    let (history, next) = history_page(&all, after, limit);
    Ok(ContractAnswer {
        as_of: head,
        contract,
        history,
        next,
    })
}

/// A listing as shown in an archive.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ListStatus {
    pub since: Date,
    pub index: u64,
    pub reason: String,
    pub cause: u64,
}

/// A contract naming the entity, with its part in it: the stored archive
/// line and the index of the filing.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct EntityContract {
    #[serde(flatten)]
    pub line: ArchiveLine,
    pub filed_index: u64,
}

/// A score change with its rule and cause.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ScoreItem {
    pub index: u64,
    pub time_ms: i64,
    pub delta: i64,
    pub total: i64,
    pub rule: String,
    pub cause: u64,
}

/// `GET /v1/entities/{subject}` answer: the credit archive (信用档案).
#[derive(Serialize, Deserialize)]
pub struct EntityAnswer {
    pub as_of: u64,
    pub entity: Subject,
    pub name: String,
    pub score: i64,
    pub red_list: Option<ListStatus>,
    pub black_list: Option<ListStatus>,
    /// Contracts naming it as a party (most recent first, up to `limit`).
    pub contracts: Vec<EntityContract>,
    /// Contracts it filed (most recent first, up to `limit`).
    pub filed: Vec<EntityContract>,
    /// Score changes (most recent first, up to `limit`).
    pub score_history: Vec<ScoreItem>,
    /// Records about it (most recent first, up to `limit`).
    pub history: Vec<HistoryItem>,
}

#[derive(Deserialize)]
pub struct LimitQuery {
    limit: Option<usize>,
}

/// The newest `limit` archive lines of one row family of an entity (`xp`,
/// `xf` or `xu`: index.rs), none past the head.
fn archive_lines(
    view: &View,
    family: &[u8],
    sk: &[u8],
    limit: usize,
) -> Result<Vec<EntityContract>, ApiError> {
    let prefix = key(&[family, sk]);
    let to = below_head(view, &prefix);
    let mut out = Vec::new();
    for (k, v) in view
        .index_range_rev(&prefix, &to, limit)
        .map_err(internal)?
    {
        let filed_index = be_u64(&k[prefix.len()..]);
        let line: ArchiveLine = serde_json::from_slice(&v).map_err(internal)?;
        out.push(EntityContract { line, filed_index });
    }
    Ok(out)
}

/// The end (exclusive) of the rows `prefix ‖ index` with an index below the
/// view's head: rows of a batch still being flushed are past it.
fn below_head(view: &View, prefix: &[u8]) -> Vec<u8> {
    key(&[prefix, &view.head().size.to_be_bytes()])
}

/// The newest `limit` lines of two families, newest first.
fn newest_lines(a: &[EntityContract], b: &[EntityContract], limit: usize) -> Vec<EntityContract> {
    let mut out: Vec<EntityContract> = a.iter().chain(b).cloned().collect();
    out.sort_by_key(|c| std::cmp::Reverse(c.filed_index));
    out.truncate(limit);
    out
}

fn list_status(view: &View, who: &Subject, list: ListKind) -> Result<Option<ListStatus>, ApiError> {
    let row = book::listing_row(&ViewRows(view), who, list).map_err(internal)?;
    // The day the listing took effect, as in the disclosure (book.rs).
    Ok(row.map(|r| ListStatus {
        since: Date::from_days(r.day).unwrap_or_else(|_| {
            Date::from_days(0).unwrap_or_else(|_| unreachable!("day 0 is a valid date"))
        }),
        index: r.index,
        reason: r.reason,
        cause: r.cause,
    }))
}

pub(crate) async fn entity(
    State(s): State<AppState>,
    Path(subject): Path<String>,
    q: Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Json<EntityAnswer>, ApiError> {
    let q = query_params(q)?;
    let who = parse_subject(&subject)?;
    // The archive's lists are short by default (docs/BENCHMARKS.md,
    // "Queries on 1,000,000 contracts"); `limit` asks for more.
    let limit = match q.limit {
        None => ENTITY_DEFAULT_LIMIT,
        l => limit_of(l)?,
    };
    let view = view(&s)?;
    // At the default limit a few short ranges: a point read like a
    // contract's; a longer archive (a score change is read from its entry)
    // always goes to the blocking pool.
    if limit <= ENTITY_DEFAULT_LIMIT {
        point_read(&s.reads, move || entity_at(&view, who, limit).map(Json)).await
    } else {
        blocking(move || entity_at(&view, who, limit).map(Json)).await
    }
}

/// The credit archive of `who` as of `view`'s head, `limit` items per list.
/// Nothing recorded at or past the head is shown (module doc).
pub fn entity_at(view: &View, who: Subject, limit: usize) -> Result<EntityAnswer, ApiError> {
    let who = resolve_subject(view, who).map_err(internal)?;
    let sk = book::subject_key(&who);
    let rows = ViewRows(view);
    let (name, score) = book::name_and_score(&rows, &who).map_err(internal)?;
    // Records about the entity (`xe`) and its score changes (`xg`),
    // newest first: `limit` of each, merged.
    let newest = |prefix: &[u8]| {
        let to = key(&[prefix, &[0xff; 9][..]]);
        view.index_range_rev(prefix, &to, limit)
            .map_err(internal)
            .map(|rows| {
                rows.iter()
                    .map(|(k, v)| (be_u64(&k[prefix.len()..]), v.to_vec()))
                    .filter(|(i, _)| *i < view.head().size)
                    .collect::<Vec<_>>()
            })
    };
    let scores = newest(&key(&[b"xg", &sk]))?;
    let mut history: Vec<HistoryItem> = newest(&key(&[b"xe", &sk]))?
        .into_iter()
        .map(|(index, v)| HistoryItem {
            index,
            kind: String::from_utf8_lossy(&v).into_owned(),
        })
        .chain(scores.iter().map(|(index, _)| HistoryItem {
            index: *index,
            kind: "score_changed".into(),
        }))
        .collect();
    history.sort_by_key(|h| std::cmp::Reverse(h.index));
    history.truncate(limit);
    let known = !history.is_empty()
        || view
            .index_row(&key(&[b"bN", &sk]))
            .map_err(internal)?
            .is_some();
    if !known {
        return Err(not_found(format!("no record names {who}")));
    }
    let mut score_history = Vec::new();
    for (i, _) in scores {
        let (_, e) = read_entry(view, i)?;
        if let Body::Derived(Derived::ScoreChanged {
            delta,
            total,
            rule,
            cause,
            ..
        }) = e.body
        {
            score_history.push(ScoreItem {
                index: i,
                time_ms: e.time_ms,
                delta,
                total,
                rule: rule.as_str().to_string(),
                cause,
            });
        }
    }
    // Contracts naming it that others filed, that it filed as a party,
    // and that it filed without being a party.
    let as_party = archive_lines(view, b"xp", &sk, limit)?;
    let self_filed = archive_lines(view, b"xf", &sk, limit)?;
    let filed_only = archive_lines(view, b"xu", &sk, limit)?;
    Ok(EntityAnswer {
        as_of: view.head().size,
        red_list: list_status(view, &who, ListKind::Red)?,
        black_list: list_status(view, &who, ListKind::Black)?,
        contracts: newest_lines(&as_party, &self_filed, limit),
        filed: newest_lines(&self_filed, &filed_only, limit),
        entity: who,
        name,
        score,
        score_history,
        history,
    })
}

/// `GET /v1/lists/{red|black}` and `/v1/notices` answers.
#[derive(Serialize, Deserialize)]
pub struct ListsAnswer {
    pub as_of: u64,
    /// Listings, oldest listing first (by the index of the listing record).
    pub red_list: Vec<book::Listing>,
    pub black_list: Vec<book::Listing>,
    /// Demand notices in force, by index.
    pub demand_notices: Vec<book::NoticeItem>,
    /// Total items of this list (all pages).
    pub total: usize,
    /// Pass as `after` for the next page, when there is one.
    pub next: Option<u64>,
}

fn current_disclosure(view: &View, origin: &str) -> Result<Disclosure, ApiError> {
    book::disclosure(&ViewRows(view), origin, view.head().size, view.head().root).map_err(internal)
}

/// The page of `items` after `after` (by `key`), at most `limit`.
fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> u64,
    after: Option<u64>,
    limit: usize,
) -> (Vec<T>, Option<u64>) {
    let mut rest: Vec<T> = items
        .into_iter()
        .filter(|i| after.is_none_or(|a| key(i) > a))
        .collect();
    let next = (rest.len() > limit).then(|| key(&rest[limit - 1]));
    rest.truncate(limit);
    (rest, next)
}

pub(crate) async fn list(
    State(s): State<AppState>,
    Path(which): Path<String>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<ListsAnswer>, ApiError> {
    let q = query_params(q)?;
    let red = match which.as_str() {
        "red" => true,
        "black" => false,
        other => {
            return Err(not_found(format!(
                "no list {other:?}: the lists are red and black"
            )));
        }
    };
    let limit = limit_of(q.limit)?;
    let view = view(&s)?;
    let origin = s.node.origin.as_str().to_string();
    blocking(move || {
        let d = current_disclosure(&view, &origin)?;
        let items = if red { d.red_list } else { d.black_list };
        let total = items.len();
        let (items, next) = page(items, |l| l.since_index, q.after, limit);
        let (red_list, black_list) = if red {
            (items, Vec::new())
        } else {
            (Vec::new(), items)
        };
        Ok(Json(ListsAnswer {
            as_of: d.size,
            red_list,
            black_list,
            demand_notices: Vec::new(),
            total,
            next,
        }))
    })
    .await
}

pub(crate) async fn notices(
    State(s): State<AppState>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<ListsAnswer>, ApiError> {
    let q = query_params(q)?;
    let limit = limit_of(q.limit)?;
    let view = view(&s)?;
    let origin = s.node.origin.as_str().to_string();
    blocking(move || {
        let d = current_disclosure(&view, &origin)?;
        let total = d.demand_notices.len();
        let (demand_notices, next) = page(d.demand_notices, |n| n.index, q.after, limit);
        Ok(Json(ListsAnswer {
            as_of: d.size,
            red_list: Vec::new(),
            black_list: Vec::new(),
            demand_notices,
            total,
            next,
        }))
    })
    .await
}

#[derive(Deserialize)]
pub struct WarningsQuery {
    /// An organisation (USCC): its milestones as obligor, obligee or filer
    /// (a source unit sees the contracts it filed). City-wide without it.
    org: Option<String>,
    /// Due-soon horizon in days (default 30).
    days: Option<u32>,
    limit: Option<usize>,
}

/// An open milestone in the warnings feed.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct WarningItem {
    pub contract: ContractId,
    pub contract_name: String,
    pub milestone: u32,
    pub due: Date,
    /// Days until due (negative: days overdue).
    pub days_left: i32,
    pub status: String,
    pub obligor: Subject,
    pub obligee: Subject,
    pub filer: Subject,
}

/// `GET /v1/warnings` answer.
#[derive(Serialize, Deserialize)]
pub struct WarningsAnswer {
    pub as_of: u64,
    pub today: Date,
    /// Open milestones past their due date, oldest first.
    pub overdue: Vec<WarningItem>,
    /// Open milestones due from today to today + days, soonest first.
    pub due_soon: Vec<WarningItem>,
}

fn warning_items(
    view: &View,
    prefix: &[u8],
    from: Date,
    to: Date,
    today: Date,
    limit: usize,
) -> Result<Vec<WarningItem>, ApiError> {
    let lo = key(&[prefix, &day_key(from)]);
    let hi = key(&[prefix, &day_key(to)]);
    let mut out = Vec::new();
    for (k, _) in view.index_range(&lo, &hi, limit).map_err(internal)? {
        let rest = &k[prefix.len() + 4..];
        let (len, rest) = rest.split_at(2);
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let (id, n) = rest.split_at(len.min(rest.len()));
        let id = ContractId::new(String::from_utf8_lossy(id).into_owned()).map_err(internal)?;
        let number = n.try_into().map(u32::from_be_bytes).unwrap_or(0);
        let Some(c) = index::read_contract(view, &id)
            .map_err(internal)?
            .filter(|c| c.filed_index < view.head().size)
        else {
            continue;
        };
        let Some(m) = c.milestones.iter().find(|m| m.number == number) else {
            continue;
        };
        out.push(WarningItem {
            contract: id,
            contract_name: c.name.clone(),
            milestone: number,
            due: m.due,
            days_left: m.due.days() - today.days(),
            status: m.status.clone(),
            obligor: m.obligor.clone(),
            obligee: m.obligee.clone(),
            filer: c.filer.clone(),
        });
    }
    Ok(out)
}

pub(crate) async fn warnings(
    State(s): State<AppState>,
    q: Result<Query<WarningsQuery>, QueryRejection>,
) -> Result<Json<WarningsAnswer>, ApiError> {
    let q = query_params(q)?;
    let limit = limit_of(q.limit)?;
    let prefix = match &q.org {
        Some(o) => key(&[b"xo", &book::subject_key(&parse_subject(o)?)]),
        None => b"xd".to_vec(),
    };
    let days = q.days.unwrap_or(30).min(3660);
    let view = view(&s)?;
    blocking(move || {
        let (_, today) = today(&view)?;
        let min = Date::from_days(-25_567).map_err(internal)?; // 1900-01-01, the first valid date
        let last = Date::from_days(84_005).map_err(internal)?; // 2199-12-31
        let horizon =
            Date::from_days(today.days() + i32::try_from(days).unwrap_or(0) + 1).unwrap_or(last);
        Ok(Json(WarningsAnswer {
            as_of: view.head().size,
            today,
            overdue: warning_items(&view, &prefix, min, today, today, limit)?,
            due_soon: warning_items(&view, &prefix, today, horizon, today, limit)?,
        }))
    })
    .await
}

/// `GET /v1/feed/{uscc}` answer: notifications to one organisation.
#[derive(Serialize, Deserialize)]
pub struct FeedAnswer {
    pub as_of: u64,
    pub items: Vec<Notification>,
    pub next: Option<u64>,
}

/// Reads a page of an organisation's notification feed.
pub fn feed_page(
    view: &View,
    who: &Subject,
    after: Option<u64>,
    limit: usize,
) -> Result<(Vec<Notification>, Option<u64>), String> {
    let prefix = key(&[b"xw", &book::subject_key(who)]);
    let from = match after {
        Some(a) => key(&[&prefix, &a.saturating_add(1).to_be_bytes()]),
        None => prefix.clone(),
    };
    let to = below_head(view, &prefix);
    if from >= to {
        return Ok((Vec::new(), None));
    }
    let rows = view
        .index_range(&from, &to, limit + 1)
        .map_err(|e| e.to_string())?;
    let mut items = Vec::new();
    for (_, v) in rows {
        items.push(serde_json::from_slice::<Notification>(&v).map_err(|e| e.to_string())?);
    }
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|n| n.index)
    } else {
        None
    };
    Ok((items, next))
}

pub(crate) async fn feed(
    State(s): State<AppState>,
    Path(subject): Path<String>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<FeedAnswer>, ApiError> {
    let q = query_params(q)?;
    let who = parse_subject(&subject)?;
    let limit = limit_of(q.limit)?;
    let view = view(&s)?;
    blocking(move || {
        let (items, next) = feed_page(&view, &who, q.after, limit).map_err(internal)?;
        Ok(Json(FeedAnswer {
            as_of: view.head().size,
            items,
            next,
        }))
    })
    .await
}

#[derive(Deserialize)]
pub struct ReportQuery {
    /// A source unit (USCC); all source units, ranked, without it.
    unit: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// json (default) or csv.
    format: Option<String>,
}

/// One source unit's performance in a period (通报).
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct UnitReport {
    pub unit: Option<Subject>,
    pub name: String,
    /// Contracts filed in the period.
    pub contracts_filed: u64,
    /// Milestones due in the period.
    pub milestones_due: u64,
    pub on_time: u64,
    /// Performed late, or claimed and deemed performed after the due date.
    pub late: u64,
    /// Deemed performed (claimed, not disputed in time).
    pub deemed: u64,
    /// Open and past due now.
    pub overdue_now: u64,
    pub defaults: u64,
    pub exemptions: u64,
    /// on_time + deemed over milestones due in the period that are decided
    /// (closed and not exempt) or overdue now; `null` when there are none.
    pub on_time_rate: Option<f64>,
    /// 1 = best on-time rate (ties share a rank); only in the ranking.
    pub rank: Option<u32>,
}

/// `GET /v1/reports/supervision` answer.
#[derive(Serialize, Deserialize)]
pub struct SupervisionAnswer {
    pub as_of: u64,
    pub from: Date,
    pub to: Date,
    pub today: Date,
    pub units: Vec<UnitReport>,
}

fn unit_report(
    view: &View,
    unit: &Subject,
    from: Date,
    to: Date,
    offset: i32,
    today: Date,
) -> Result<UnitReport, ApiError> {
    let (name, _) = book::name_and_score(&ViewRows(view), unit).map_err(internal)?;
    let mut r = UnitReport {
        unit: Some(unit.clone()),
        name,
        ..UnitReport::default()
    };
    // The unit's filings: as a party (`xf`) and not (`xu`).
    let sk = book::subject_key(unit);
    let mut rows = view.index_prefix(&key(&[b"xf", &sk])).map_err(internal)?;
    rows.extend(view.index_prefix(&key(&[b"xu", &sk])).map_err(internal)?);
    for (_, v) in rows {
        let id = serde_json::from_slice::<ArchiveLine>(&v)
            .map_err(internal)?
            .id;
        let Some(c) = index::read_contract(view, &id).map_err(internal)? else {
            continue;
        };
        let filed = Date::from_days(time::day_of(c.filed_ms, offset)).map_err(internal)?;
        if filed >= from && filed <= to {
            r.contracts_filed += 1;
        }
        for m in &c.milestones {
            if m.due < from || m.due > to {
                continue;
            }
            r.milestones_due += 1;
            use lvyue_ledger::record::Closure as C;
            match m.closure {
                Some(C::OnTime) => r.on_time += 1,
                Some(C::Late) => r.late += 1,
                Some(C::Deemed) => r.deemed += 1,
                Some(C::Exempt) => r.exemptions += 1,
                Some(C::Defaulted) => r.defaults += 1,
                None if m.due < today => r.overdue_now += 1,
                None => {}
            }
        }
    }
    let decided = r.on_time + r.late + r.deemed + r.defaults + r.overdue_now;
    r.on_time_rate = (decided > 0).then(|| (r.on_time + r.deemed) as f64 / decided as f64);
    Ok(r)
}

fn report_csv(a: &SupervisionAnswer) -> String {
    let mut out = String::from(
        "rank,unit,name,contracts_filed,milestones_due,on_time,late,deemed,overdue_now,defaults,exemptions,on_time_rate\r\n",
    );
    for u in &a.units {
        let unit = match &u.unit {
            Some(Subject::Org(x)) => x.as_str().to_string(),
            Some(s) => s.to_string(),
            None => String::new(),
        };
        let name = book::csv_field(&u.name);
        out.push_str(&format!(
            "{},{unit},{name},{},{},{},{},{},{},{},{},{}\r\n",
            u.rank.map(|r| r.to_string()).unwrap_or_default(),
            u.contracts_filed,
            u.milestones_due,
            u.on_time,
            u.late,
            u.deemed,
            u.overdue_now,
            u.defaults,
            u.exemptions,
            u.on_time_rate
                .map(|r| format!("{r:.4}"))
                .unwrap_or_default(),
        ));
    }
    out
}

fn csv_response(body: String, filename: &str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

pub(crate) async fn supervision(
    State(s): State<AppState>,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query_params(q)?;
    let unit = q.unit.as_deref().map(parse_subject).transpose()?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => return Err(bad("bad_query", format!("format {other:?}: json or csv"))),
    };
    let from = q
        .from
        .as_deref()
        .map(|d| parse_date("from", d))
        .transpose()?;
    let to = q.to.as_deref().map(|d| parse_date("to", d)).transpose()?;
    let view = view(&s)?;
    blocking(move || {
        let (offset, today) = today(&view)?;
        let from = from.unwrap_or(Date::from_days(today.days() - 365).map_err(internal)?);
        let to = to.unwrap_or(today);
        if from > to {
            return Err(bad("bad_query", format!("from {from} is after to {to}")));
        }
        // The ranking of all units, even of one; a single unit asked for is not ranked.
        let ranked = unit.is_none();
        let units: Vec<Subject> = match unit {
            Some(u) => vec![u],
            None => {
                let mut us: Vec<Subject> = view
                    .key_states()
                    .map_err(internal)?
                    .into_iter()
                    .filter(|k| k.registration.role == lvyue_ledger::types::Role::SourceUnit)
                    .map(|k| k.registration.holder)
                    .collect();
                us.sort();
                us.dedup();
                us
            }
        };
        let mut reports = units
            .iter()
            .map(|u| unit_report(&view, u, from, to, offset, today))
            .collect::<Result<Vec<_>, _>>()?;
        if ranked {
            reports.sort_by(|a, b| {
                b.on_time_rate
                    .unwrap_or(-1.0)
                    .total_cmp(&a.on_time_rate.unwrap_or(-1.0))
                    .then_with(|| a.unit.cmp(&b.unit))
            });
            let mut rank = 0;
            let mut last = None;
            for (i, r) in reports.iter_mut().enumerate() {
                if last != Some(r.on_time_rate) {
                    rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
                    last = Some(r.on_time_rate);
                }
                r.rank = Some(rank);
            }
        }
        let answer = SupervisionAnswer {
            as_of: view.head().size,
            from,
            to,
            today,
            units: reports,
        };
        if csv {
            return Ok(csv_response(report_csv(&answer), "supervision.csv"));
        }
        Ok(Json(answer).into_response())
    })
    .await
}

/// `GET /v1/stats` answer.
#[derive(Serialize, Deserialize)]
pub struct StatsAnswer {
    pub as_of: u64,
    pub time_ms: i64,
    pub today: Date,
    #[serde(flatten)]
    pub stats: CityStats,
}

pub(crate) async fn stats(State(s): State<AppState>) -> Result<Json<StatsAnswer>, ApiError> {
    let view = view(&s)?;
    blocking(move || {
        let stats = match view.index_row(b"xs").map_err(internal)? {
            Some(b) => serde_json::from_slice(&b).map_err(internal)?,
            None => CityStats::default(),
        };
        let (_, today) = today(&view)?;
        Ok(Json(StatsAnswer {
            as_of: view.head().size,
            time_ms: view.head().time_ms,
            today,
            stats,
        }))
    })
    .await
}

#[derive(Deserialize)]
pub struct FormatQuery {
    format: Option<String>,
}

/// `GET /v1/disclosure[?format=csv]`: the signed disclosure export at the
/// current head (JSON), or its CSV rendering.
pub(crate) async fn disclosure(
    State(s): State<AppState>,
    q: Result<Query<FormatQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query_params(q)?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => return Err(bad("bad_query", format!("format {other:?}: json or csv"))),
    };
    let origin = s.node.origin.as_str().to_string();
    let signed = s
        .node
        .sequencer
        .read(move |w| -> Result<SignedExport<Disclosure>, String> {
            let view = w.store.view();
            let d = book::disclosure(&ViewRows(view), &origin, view.head().size, view.head().root)
                .map_err(|e| e.to_string())?;
            let cp =
                String::from_utf8(view.head().checkpoint.clone()).map_err(|e| e.to_string())?;
            export::sign(d, cp, &w.signer).map_err(|e| e.to_string())
        })
        .await?
        .map_err(internal)?;
    if csv {
        return Ok(csv_response(signed.content.to_csv(), "disclosure.csv"));
    }
    Ok(Json(signed).into_response())
}

/// Builds the signed credit report of `who` at the writer's head.
pub fn credit_report(
    w: &crate::sequencer::Writer,
    who: &Subject,
) -> Result<Option<SignedExport<CreditReport>>, String> {
    let view = w.store.view();
    let head = view.head();
    let sk = book::subject_key(who);
    let rows = ViewRows(view);
    let name_row = view
        .index_row(&key(&[b"bN", &sk]))
        .map_err(|e| e.to_string())?
        .map(|b| book::decode_row::<book::NameRow>(&b))
        .transpose()
        .map_err(|e| e.to_string())?;
    let mut indexes = vec![0u64];
    if let Some(n) = &name_row {
        indexes.push(n.index);
    }
    for (k, _) in view
        .index_prefix(&key(&[b"xg", &sk]))
        .map_err(|e| e.to_string())?
    {
        indexes.push(be_u64(&k[2 + sk.len()..]));
    }
    for (k, v) in view
        .index_prefix(&key(&[b"xe", &sk]))
        .map_err(|e| e.to_string())?
    {
        if matches!(
            v.as_ref(),
            b"score_changed"
                | b"list_changed"
                | b"default_determined"
                | b"default_reversed"
                | b"demand_notice_published"
        ) {
            indexes.push(be_u64(&k[2 + sk.len()..]));
        }
    }
    if name_row.is_none() && indexes.len() == 1 {
        return Ok(None);
    }
    // Rule sets published later change the parameters the summary needs.
    for (k, v) in view.index_prefix(b"xr").map_err(|e| e.to_string())? {
        let _ = v;
        indexes.push(be_u64(&k[2..]));
    }
    indexes.sort_unstable();
    indexes.dedup();
    let reader = view.reader();
    let mut records = Vec::with_capacity(indexes.len());
    for i in indexes {
        let bytes = view
            .entry(i)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("entry {i} missing"))?;
        let proof = tlog::prove_record(head.size, i, &reader).map_err(|e| e.to_string())?;
        records.push(ProvenRecord {
            index: i,
            entry: bytes.to_vec(),
            proof,
        });
    }
    let (name, score) = book::name_and_score(&rows, who).map_err(|e| e.to_string())?;
    let mut report = CreditReport {
        origin: w.origin.as_str().to_string(),
        size: head.size,
        root: head.root,
        entity: who.clone(),
        summary: CreditSummary {
            name,
            score,
            red_since: None,
            black_since: None,
            active_defaults: Vec::new(),
            demand_notices: Vec::new(),
            score_changes: 0,
        },
        records,
    };
    // The summary is what the records say; the node states it and the
    // lender's verifier recomputes it. A disagreement here is a node bug.
    let recomputed = report.recompute().map_err(|e| e.to_string())?;
    if recomputed.score != report.summary.score {
        return Err(format!(
            "credit report of {who}: records give score {}, the book {}",
            recomputed.score, report.summary.score
        ));
    }
    report.summary = recomputed;
    let cp = String::from_utf8(head.checkpoint.clone()).map_err(|e| e.to_string())?;
    export::sign(report, cp, &w.signer)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// `GET /v1/entities/{subject}/report`: the signed entity credit report.
pub(crate) async fn report(
    State(s): State<AppState>,
    Path(subject): Path<String>,
) -> Result<Json<SignedExport<CreditReport>>, ApiError> {
    let who = parse_subject(&subject)?;
    let shown = subject.clone();
    let r = s
        .node
        .sequencer
        .read(move |w| {
            let who = resolve_subject(w.store.view(), who)?;
            credit_report(w, &who)
        })
        .await?
        .map_err(internal)?
        .ok_or_else(|| not_found(format!("no record names {shown}")))?;
    Ok(Json(r))
}
