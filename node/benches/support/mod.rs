//! Helpers shared by the node's bench binaries (`ledger`, `load`, `query`):
//! errors as strings, the workload RNG, number formatting and `/proc`
//! readers. Each bench uses a subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::path::Path;

pub mod http;

pub type Res<T> = Result<T, String>;

/// Maps an error to `"what: error"`.
pub fn err<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: {e}")
}

/// xorshift64* — the workload generator: fast, seeded, reproducible.
pub struct Rng(u64);

impl Rng {
    /// Seeded through splitmix64, never zero.
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }
    /// Seeded by one multiplication (the `query` bench's workload, kept
    /// as it was measured).
    pub fn from_product(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// `1234567.4` → `"1,234,567"`.
pub fn fmt_int(x: f64) -> String {
    let s = format!("{x:.0}");
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && c != '-' && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Field `name` of `/proc/<pid>/status` (or this process's), kB.
pub fn status_kb(pid: Option<u32>, name: &str) -> Option<u64> {
    let path = pid.map_or("/proc/self/status".into(), |p| format!("/proc/{p}/status"));
    let s = std::fs::read_to_string(path).ok()?;
    let line = s.lines().find(|l| l.starts_with(name))?;
    line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Bytes of the files under `p`.
pub fn dir_size(p: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(p)? {
        let e = e?;
        let m = e.metadata()?;
        total += if m.is_dir() {
            dir_size(&e.path())?
        } else {
            m.len()
        };
    }
    Ok(total)
}

/// The milestones of a generated filing of `amount`: one (70 %) or two,
/// due 30–120 days apart from 2028 on (no deadline fires during a run),
/// the buyer paying last; descriptions drawn from `descriptions`.
pub fn milestones(
    rng: &mut Rng,
    amount: i64,
    buyer: &lvyue_ledger::types::Subject,
    seller: &lvyue_ledger::types::Subject,
    descriptions: &[&str],
) -> Res<Vec<lvyue_ledger::event::Milestone>> {
    use lvyue_ledger::types::{Date, Fen, Text};
    let count = if rng.below(10) < 7 { 1 } else { 2 };
    let mut due = Date::parse("2028-01-01")?.days();
    let mut left = amount;
    (0..count)
        .map(|m| {
            let part = if m + 1 == count { left } else { amount / 2 };
            left -= part;
            due += 30 + rng.below(90) as i32;
            let (obligor, obligee) = if m + 1 == count {
                (buyer.clone(), seller.clone())
            } else {
                (seller.clone(), buyer.clone())
            };
            Ok(lvyue_ledger::event::Milestone {
                number: m as u32 + 1,
                obligor,
                obligee,
                due: Date::from_days(due)?,
                description: Text::new(rng.pick(descriptions))?,
                amount: Fen::new(part)?,
            })
        })
        .collect()
}

/// A signing key of a bench workload and the organisation holding it.
pub struct BenchKey {
    pub signer: lvyue_ledger::keys::Signer,
    pub uscc: lvyue_ledger::uscc::Uscc,
    pub name: String,
    pub role: lvyue_ledger::types::Role,
}

/// The name of a key's holder: a firm (place, brand, trade) for a market
/// entity, a department (place, department) for a source unit. Draws from
/// `rng` in that order, as the benches did when they were measured.
pub fn holder_name(rng: &mut Rng, role: lvyue_ledger::types::Role, words: &Words) -> String {
    if role == lvyue_ledger::types::Role::MarketEntity {
        format!(
            "{}{}{}有限公司",
            rng.pick(words.places),
            rng.pick(words.brands),
            rng.pick(words.trades)
        )
    } else {
        format!("{}{}", rng.pick(words.places), rng.pick(words.departments))
    }
}

/// The word lists a bench draws its organisation names from.
pub struct Words {
    pub places: &'static [&'static str],
    pub brands: &'static [&'static str],
    pub trades: &'static [&'static str],
    pub departments: &'static [&'static str],
}

/// The office's registration of `k`.
pub fn registration(k: &BenchKey) -> Res<lvyue_ledger::event::KeyRegistration> {
    use lvyue_ledger::types::{Name, SignerName, Subject};
    Ok(lvyue_ledger::event::KeyRegistration {
        name: SignerName::new(k.signer.name().as_str())?,
        public_key: k.signer.verifier_key().key().to_bytes(),
        holder: Subject::Org(k.uscc),
        holder_name: Name::new(k.name.as_str())?,
        role: k.role,
        valid_from_ms: None,
        valid_until_ms: None,
    })
}

/// The two parties of a bench filing: the buyer as 甲方, the seller as 乙方.
pub fn two_parties(
    buyer: lvyue_ledger::types::Subject,
    buyer_name: String,
    seller: lvyue_ledger::types::Subject,
    seller_name: String,
) -> Res<Vec<lvyue_ledger::event::Party>> {
    use lvyue_ledger::event::Party;
    use lvyue_ledger::types::Name;
    Ok(vec![
        Party {
            subject: buyer,
            name: Name::new(buyer_name)?,
            role: Name::new("甲方")?,
        },
        Party {
            subject: seller,
            name: Name::new(seller_name)?,
            role: Name::new("乙方")?,
        },
    ])
}
