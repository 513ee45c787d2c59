//! The demo's plan: every submission the city makes over the simulated
//! period, each with its node time and signer, built from the seed alone.
//!
//! A contract is filed from a template ([`super::city::TEMPLATES`]) and each
//! of its milestones gets a [`Scenario`]: the steps its parties and the
//! credit office take around its due date. The scenarios are timed so the
//! rules engine admits every step whatever the others do (docs/RULES.md §4):
//! a confirmation comes before the default, an objection within 15 days,
//! a dispute within the 10-day window, and so on. Steps that would fall
//! after the end of the period are left out, which leaves milestones
//! pending or overdue at the end, as in a live city.
//!
//! Some steps need a log index that only the node knows (the claim an
//! exemption decision answers, the default an objection targets): they are
//! [`Act`]s that the executor resolves when it reaches them.

use super::city::{self, Kind, Org, Owes, PartyA, PartyB, Person, Sector, Template};
use super::rng::Rng;
use lvyue_ledger::engine::time::start_of;
use lvyue_ledger::event::{Contract, Event, ExemptionGround, Extent, Milestone, Party, Source};
use lvyue_ledger::hash::sha256;
use lvyue_ledger::types::{ContractId, Date, Fen, MaskedName, Name, Subject, Text};

/// CST, the rule book's calendar (minutes east of UTC).
pub const CST: i32 = 480;

/// Who signs a step.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Who {
    Office,
    Node,
    Org(usize),
}

/// A party of a contract: an organisation (index into the city's orgs) or a person.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum P {
    Org(usize),
    Person(usize),
}

/// A record an objection targets, found in the log when the step runs.
#[derive(Clone, Debug)]
pub enum Target {
    Default {
        contract: ContractId,
        milestone: u32,
    },
    Notice(Subject),
}

/// What a step submits.
#[derive(Clone, Debug)]
pub enum Act {
    Event(Event),
    /// `ExemptionDecided` on the claim submitted by step `claim`.
    DecideExemption {
        claim: usize,
        approved: bool,
        reason: &'static str,
    },
    /// `ObjectionFiled` against `target`.
    Object {
        target: Target,
        statement: String,
    },
    /// `ObjectionDecided` on the objection submitted by step `objection`.
    DecideObjection {
        objection: usize,
        upheld: bool,
        reason: &'static str,
    },
    /// `RepairDecided` on the application submitted by step `application`.
    DecideRepair {
        application: usize,
        approved: bool,
        reason: &'static str,
    },
    /// An event the rules must refuse: submitted to show the refusal.
    Refused(Event),
}

/// One planned submission.
#[derive(Clone, Debug)]
pub struct Step {
    pub t: i64,
    pub seq: usize,
    pub who: Who,
    pub act: Act,
}

/// How a milestone goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scenario {
    /// Confirmed on or before the due date.
    OnTime,
    /// Confirmed within the grace period, performed after the due date.
    Late,
    /// Claimed by the obligor, not disputed: deemed performed.
    Deemed,
    /// Claimed, disputed by the obligee, then confirmed late.
    Disputed,
    /// Moved by an amendment all parties agree to, then confirmed on time.
    Amended,
    /// Exemption claimed before the due date and approved.
    ExemptApproved,
    /// Exemption claimed (before or after the due date) and refused; then
    /// confirmed late, or left to default once the paused clock runs out.
    ExemptRefused { after_due: bool, then_default: bool },
    /// Non-performance reported; optionally an objection, upheld or not.
    Report {
        extent: Extent,
        objection: Option<bool>,
    },
    /// Nobody acts: default after the grace period; optionally an objection.
    Grace { objection: Option<bool> },
    /// Nobody acts at all (overdue or pending at the end of the period).
    Idle,
}

/// How a contract is filed.
#[derive(Clone, Copy, Debug)]
pub enum Filing {
    /// By party A, a department (source unit).
    Department,
    /// By the data feed.
    Import,
    /// By this party (a market entity).
    SelfFiled(usize),
    /// By the agency for this principal (a party that delegated to it).
    Delegated(usize),
}

/// The whole city and its plan.
pub struct City {
    pub orgs: Vec<Org>,
    pub persons: Vec<Person>,
    pub depts: Vec<usize>,
    pub feed: usize,
    pub agency: usize,
    pub firms: Vec<usize>,
}

impl City {
    pub fn subject(&self, p: P) -> Result<Subject, String> {
        Ok(match p {
            P::Org(i) => Subject::Org(self.orgs[i].uscc),
            P::Person(i) => Subject::Person {
                masked_name: MaskedName::new(self.persons[i].masked.as_str())?,
                commitment: self.persons[i].commitment,
            },
        })
    }

    fn name(&self, p: P) -> &str {
        match p {
            P::Org(i) => &self.orgs[i].name,
            P::Person(i) => &self.persons[i].masked,
        }
    }

    /// A department by short code, if the demo has it.
    pub fn dept(&self, code: &str) -> Option<usize> {
        self.depts
            .iter()
            .copied()
            .find(|&i| self.orgs[i].code == code)
    }
}

/// A filed contract, as the scenarios need it.
pub struct Filed {
    pub id: ContractId,
    pub day: i32,
    pub signed: i32,
    /// The filing department, if a source unit filed it.
    pub filer_su: Option<usize>,
    pub parties: Vec<P>,
    pub milestones: Vec<(Milestone, P, P)>,
    /// Amendment numbers used so far.
    pub amendments: u32,
    /// Whether it moves its obligors' scores (RULES.md §5): filed by a
    /// department or the feed, or acknowledged by every other party.
    pub counts: bool,
}

/// Builds the plan.
pub struct Planner<'c> {
    pub city: &'c City,
    pub rng: Rng,
    pub steps: Vec<Step>,
    /// First simulated CST day.
    pub start: i32,
    /// The CST day after the last simulated day.
    pub end: i32,
    /// Last node time a step may have.
    pub end_t: i64,
    serial: u32,
}

pub fn text(s: impl Into<String>) -> Result<Text, String> {
    Text::new(s)
}

pub fn date(day: i32) -> Result<Date, String> {
    Date::from_days(day)
}

/// Node time of `minute` minutes after 00:00 CST on `day`.
#[must_use]
pub fn time(day: i32, minute: i32) -> i64 {
    start_of(i64::from(day), CST) + i64::from(minute) * 60_000
}

impl<'c> Planner<'c> {
    pub fn new(city: &'c City, rng: Rng, start: i32, days: u32) -> Planner<'c> {
        let end = start + days as i32;
        Planner {
            city,
            rng,
            steps: Vec::new(),
            start,
            end,
            end_t: time(end, 0) - 60_000,
            serial: 0,
        }
    }

    /// Adds a step at node time `t`; a step after the end is left out (`None`).
    pub fn push_at(&mut self, t: i64, who: Who, act: Act) -> Option<usize> {
        if t > self.end_t {
            return None;
        }
        let seq = self.steps.len();
        self.steps.push(Step { t, seq, who, act });
        Some(seq)
    }

    /// Adds a step at a random office-hours time of CST `day`.
    pub fn push(&mut self, day: i32, who: Who, act: Act) -> Option<usize> {
        let minute = self.rng.range(9 * 60, 17 * 60 + 30);
        self.push_at(time(day, minute), who, act)
    }

    pub fn event(&mut self, day: i32, who: Who, e: Event) -> Option<usize> {
        self.push(day, who, Act::Event(e))
    }

    /// Files a contract from `tpl` between `a` and `b`: `ms` picks the
    /// template's milestones (by position) and gives each its due day.
    pub fn file(
        &mut self,
        tpl: &Template,
        a: P,
        b: P,
        day: i32,
        ms: &[(usize, i32)],
        filing: Filing,
    ) -> Result<Filed, String> {
        let city = self.city;
        self.serial += 1;
        let year = date(day)?.to_string()[..4].to_string();
        let prefix = match (tpl.category, filing) {
            (_, Filing::Import) => "GGZY",
            (lvyue_ledger::types::Category::GovernmentProcurement, _) => "ZFCG",
            (lvyue_ledger::types::Category::InvestmentPromotion, _) => "ZSYZ",
            (lvyue_ledger::types::Category::PublicPrivatePartnership, _) => "PPP",
            (lvyue_ledger::types::Category::Construction, _) => "GCJS",
            (lvyue_ledger::types::Category::StateAssetTransaction, _) => "GYCQ",
            (lvyue_ledger::types::Category::PublicResourceTrading, _) => "GGZY",
            (lvyue_ledger::types::Category::PolicySupport, _) => "ZCDX",
            (lvyue_ledger::types::Category::Commercial, _) => "HT",
        };
        let id = ContractId::new(format!("BJ-{prefix}-{year}-{:04}", self.serial))?;
        let (place, _) = *self.rng.pick(city::PLACES);
        let name = self
            .rng
            .pick(tpl.names)
            .replace("{place}", place)
            .replace("{year}", &year);
        let lo = tpl.yuan.0 / 100;
        let hi = tpl.yuan.1 / 100;
        let yuan = i64::from(self.rng.range(lo as i32, hi as i32)) * 100;
        let amount = yuan * 100;
        let signed = day - self.rng.range(1, 10);
        let mut milestones = Vec::new();
        for (n, &(k, due)) in ms.iter().enumerate() {
            let (owes, desc, share) = tpl.milestones[k];
            let (obligor, obligee) = if owes == Owes::A { (a, b) } else { (b, a) };
            let m = Milestone {
                number: n as u32 + 1,
                obligor: city.subject(obligor)?,
                obligee: city.subject(obligee)?,
                due: date(due)?,
                description: text(desc)?,
                amount: Fen::new(amount * share / 100)?,
            };
            milestones.push((m, obligor, obligee));
        }
        let party = |p: P, role: &str| -> Result<Party, String> {
            Ok(Party {
                subject: city.subject(p)?,
                name: Name::new(city.name(p))?,
                role: Name::new(role)?,
            })
        };
        let (source, who, filer_su) = match filing {
            Filing::Department => {
                let P::Org(d) = a else {
                    return Err(format!("{id}: a department filing needs a department"));
                };
                (Source::Department, Who::Org(d), Some(d))
            }
            Filing::Import => {
                let external_ref = format!("SXGGZY-BJ-{year}-{:05}", 10_000 + self.serial * 7);
                (
                    Source::Import {
                        external_ref: Name::new(external_ref)?,
                    },
                    Who::Org(city.feed),
                    None,
                )
            }
            Filing::SelfFiled(f) => (Source::SelfFiled, Who::Org(f), None),
            Filing::Delegated(f) => (
                Source::Delegated {
                    principal: city.orgs[f].uscc,
                },
                Who::Org(city.agency),
                None,
            ),
        };
        let document_sha256 = if self.rng.chance(70) {
            Some(sha256(format!("{id} {name}").as_bytes()))
        } else {
            None
        };
        let contract = Contract {
            id: id.clone(),
            category: tpl.category,
            name: Name::new(name)?,
            parties: vec![party(a, tpl.roles.0)?, party(b, tpl.roles.1)?],
            summary: text(tpl.summary)?,
            amount: Fen::new(amount)?,
            signed: date(signed)?,
            milestones: milestones.iter().map(|(m, ..)| m.clone()).collect(),
            document_sha256,
            source,
        };
        self.event(day, who, Event::ContractFiled { contract });
        Ok(Filed {
            id,
            day,
            signed,
            filer_su,
            parties: vec![a, b],
            milestones,
            amendments: 0,
            counts: matches!(filing, Filing::Department | Filing::Import),
        })
    }

    /// `party` acknowledges the filing on `day`.
    pub fn acknowledge(&mut self, c: &Filed, party: P, day: i32) -> Result<(), String> {
        if let P::Org(i) = party {
            let e = Event::FilingAcknowledged {
                contract: c.id.clone(),
                party: self.city.subject(party)?,
            };
            self.event(day, Who::Org(i), e);
        }
        Ok(())
    }

    /// Who may confirm, report or dispute milestone `m`: the obligee, or
    /// the filing department when it is not the obligor.
    fn confirmer(c: &Filed, obligor: P, obligee: P) -> Option<Who> {
        match (obligee, c.filer_su) {
            (P::Org(i), _) => Some(Who::Org(i)),
            (P::Person(_), Some(su)) if obligor != P::Org(su) => Some(Who::Org(su)),
            _ => None,
        }
    }

    /// The scenario actually possible: one that needs a key the parties
    /// lack falls back to one that does not.
    fn feasible(c: &Filed, k: usize, s: Scenario) -> Scenario {
        let (_, obligor, obligee) = c.milestones[k];
        let confirm = Planner::confirmer(c, obligor, obligee).is_some();
        let obligor_key = matches!(obligor, P::Org(_));
        let all_keys = c.parties.iter().all(|p| matches!(p, P::Org(_)));
        let ok = match s {
            Scenario::OnTime | Scenario::Late | Scenario::Report { .. } => confirm,
            Scenario::Deemed | Scenario::ExemptApproved | Scenario::ExemptRefused { .. } => {
                obligor_key
            }
            Scenario::Disputed => confirm && obligor_key,
            Scenario::Amended => all_keys && c.amendments == 0,
            Scenario::Grace { objection } => objection.is_none() || obligor_key,
            Scenario::Idle => true,
        };
        match (ok, confirm) {
            (true, _) => s,
            (false, true) => Scenario::OnTime,
            (false, false) if obligor_key => Scenario::Deemed,
            (false, false) => Scenario::Idle,
        }
    }

    /// Schedules milestone `k` of `c` under scenario `s`; returns the
    /// scenario used (see [`Planner::feasible`]).
    ///
    /// Longer than most functions: one arm per scenario, each the timing
    /// of that scenario read top to bottom against the windows of
    /// docs/RULES.md §2 (due day `d`, default at 00:00 of `d + 16`).
    pub fn milestone(&mut self, c: &mut Filed, k: usize, s: Scenario) -> Result<Scenario, String> {
        let s = match Planner::feasible(c, k, s) {
            // Without a counted default there is nothing to object to.
            Scenario::Report { extent, .. } if !c.counts => Scenario::Report {
                extent,
                objection: None,
            },
            Scenario::Grace { .. } if !c.counts => Scenario::Grace { objection: None },
            s => s,
        };
        let (m, obligor, obligee) = c.milestones[k].clone();
        let d = m.due.days();
        let first = c.day + 1;
        let who_obligor = match obligor {
            P::Org(i) => Who::Org(i),
            P::Person(_) => Who::Office, // never used: `feasible` rules it out
        };
        let confirmer = Planner::confirmer(c, obligor, obligee).unwrap_or(Who::Office);
        let id = c.id.clone();
        let n = m.number;
        let confirm = |performed: i32| -> Result<Event, String> {
            Ok(Event::PerformanceConfirmed {
                contract: id.clone(),
                milestone: n,
                performed: date(performed)?,
                evidence: Some(sha256(format!("{id}#{n} 验收单 {performed}").as_bytes())),
            })
        };
        match s {
            Scenario::OnTime => {
                let day = (d - self.rng.range(0, 10)).max(first);
                let performed = (day - self.rng.range(0, 2)).max(c.signed);
                self.event(day, confirmer, confirm(performed)?);
            }
            Scenario::Late => {
                let day = d + self.rng.range(2, 14);
                let performed = d + self.rng.range(1, day - d);
                self.event(day, confirmer, confirm(performed)?);
            }
            Scenario::Deemed => {
                let day = (d - self.rng.range(0, 8)).max(first);
                let e = Event::PerformanceClaimed {
                    contract: id.clone(),
                    milestone: n,
                    performed: date(day)?,
                    evidence: Some(sha256(format!("{id}#{n} 履约凭证").as_bytes())),
                };
                self.event(day, who_obligor, e);
            }
            Scenario::Disputed => {
                let claim = (d - self.rng.range(2, 6)).max(first);
                let e = Event::PerformanceClaimed {
                    contract: id.clone(),
                    milestone: n,
                    performed: date(claim)?,
                    evidence: None,
                };
                self.event(claim, who_obligor, e);
                let dispute = claim + self.rng.range(1, 8);
                let e = Event::ClaimDisputed {
                    contract: id.clone(),
                    milestone: n,
                    reason: text("经现场核查，申报的履约内容与合同约定不符，尚未实际履行完毕")?,
                };
                self.event(dispute, confirmer, e);
                let day = dispute.max(d) + self.rng.range(1, 4);
                self.event(day, confirmer, confirm(d + 1)?);
            }
            Scenario::Amended => self.amend(c, k, obligor, obligee)?,
            Scenario::ExemptApproved => {
                let day = (d - self.rng.range(1, 10)).max(first);
                let ground = *self.rng.pick(&[
                    ExemptionGround::ForceMajeure,
                    ExemptionGround::Accident,
                    ExemptionGround::ChangedCircumstances,
                ]);
                let event_day = (day - self.rng.range(0, 5)).max(c.signed);
                let claim = self.exemption(c, k, ground, event_day, day, who_obligor)?;
                if let Some(claim) = claim {
                    let at = day + self.rng.range(3, 12);
                    self.push(
                        at,
                        Who::Office,
                        Act::DecideExemption {
                            claim,
                            approved: true,
                            reason: "经核查，申请事由属实，符合免责情形，不认定为失信",
                        },
                    );
                }
            }
            Scenario::ExemptRefused {
                after_due,
                then_default,
            } => {
                let day = if after_due {
                    d + self.rng.range(1, 8)
                } else {
                    (d - self.rng.range(1, 5)).max(first)
                };
                let ground = if self.rng.chance(50) {
                    ExemptionGround::Accident
                } else {
                    ExemptionGround::ChangedCircumstances
                };
                let event_day = day - self.rng.range(0, 2);
                let claim = self.exemption(c, k, ground, event_day, day, who_obligor)?;
                let refuse = day + self.rng.range(3, 10);
                let reason = if after_due {
                    "事件发生于履行期限届满之后，迟延履行期间发生的事件不免除责任（参照民法典第五百九十条第二款）"
                } else {
                    "申请材料不足以证明该事件与未能履行之间存在因果关系，不予免责"
                };
                if let Some(claim) = claim {
                    let approved = false;
                    self.push(
                        refuse,
                        Who::Office,
                        Act::DecideExemption {
                            claim,
                            approved,
                            reason,
                        },
                    );
                }
                if !then_default {
                    let day = refuse + self.rng.range(1, 3);
                    self.event(day, confirmer, confirm(day)?);
                }
            }
            Scenario::Report { extent, objection } => {
                let day = d + self.rng.range(1, 12);
                let e = Event::NonPerformanceReported {
                    contract: id.clone(),
                    milestone: n,
                    extent,
                    reason: text(*self.rng.pick(city::REPORT_REASONS))?,
                };
                self.event(day, confirmer, e);
                if let Some(upheld) = objection {
                    self.object(c, k, day, upheld, who_obligor);
                }
            }
            Scenario::Grace { objection } => {
                if let Some(upheld) = objection {
                    self.object(c, k, d + 16, upheld, who_obligor);
                }
            }
            Scenario::Idle => {}
        }
        Ok(s)
    }

    fn exemption(
        &mut self,
        c: &Filed,
        k: usize,
        ground: ExemptionGround,
        event_day: i32,
        day: i32,
        who: Who,
    ) -> Result<Option<usize>, String> {
        let statement = match ground {
            ExemptionGround::ForceMajeure => *self.rng.pick(city::FORCE_MAJEURE),
            ExemptionGround::Accident => *self.rng.pick(city::ACCIDENT),
            ExemptionGround::ChangedCircumstances => *self.rng.pick(city::CHANGED),
        };
        let e = Event::ExemptionClaimed {
            contract: c.id.clone(),
            milestone: c.milestones[k].0.number,
            ground,
            event_date: date(event_day)?,
            statement: text(statement)?,
        };
        Ok(self.event(day, who, e))
    }

    /// The obligor objects to the default on milestone `k` (determined on
    /// `default_day`) within the window, and the office decides.
    fn object(&mut self, c: &Filed, k: usize, default_day: i32, upheld: bool, who: Who) {
        let day = default_day + self.rng.range(1, 12);
        let statement = if upheld {
            "已按约定履行，对方未及时确认，附签收单及付款凭证".to_string()
        } else {
            "逾期系对方原因所致，请求撤销失信认定".to_string()
        };
        let target = Target::Default {
            contract: c.id.clone(),
            milestone: c.milestones[k].0.number,
        };
        if let Some(objection) = self.push(day, who, Act::Object { target, statement }) {
            let reason = if upheld {
                "经核查，异议成立，撤销该失信认定"
            } else {
                "经核查，异议理由不成立，维持原认定"
            };
            let at = day + self.rng.range(3, 20);
            self.push(
                at,
                Who::Office,
                Act::DecideObjection {
                    objection,
                    upheld,
                    reason,
                },
            );
        }
    }

    /// Every party agrees to move milestone `k`, then it is confirmed on time.
    fn amend(&mut self, c: &mut Filed, k: usize, obligor: P, obligee: P) -> Result<(), String> {
        let (m, ..) = c.milestones[k].clone();
        let d = m.due.days();
        let day = (d - self.rng.range(3, 12)).max(c.day + 1);
        let new_due = d + self.rng.range(20, 75);
        c.amendments += 1;
        let moved = Milestone {
            due: date(new_due)?,
            ..m.clone()
        };
        let reason = format!(
            "经各方协商一致，因{}，“{}”期限由{}调整至{}",
            self.rng.pick(city::AMENDMENT_REASONS),
            m.description,
            m.due,
            moved.due
        );
        for (i, p) in c.parties.clone().into_iter().enumerate() {
            if let P::Org(o) = p {
                let e = Event::ContractAmended {
                    contract: c.id.clone(),
                    amendment: c.amendments,
                    milestones: vec![moved.clone()],
                    reason: text(reason.clone())?,
                };
                self.event(day + i as i32, Who::Org(o), e);
            }
        }
        let confirmer = Planner::confirmer(c, obligor, obligee).unwrap_or(Who::Office);
        let day = (new_due - self.rng.range(0, 6)).max(day + 3);
        let e = Event::PerformanceConfirmed {
            contract: c.id.clone(),
            milestone: m.number,
            performed: date(day.min(new_due))?,
            evidence: None,
        };
        self.event(day, confirmer, e);
        Ok(())
    }

    /// The template's department for party A, or any department.
    pub fn pick_dept(&mut self, tpl: &Template) -> usize {
        let city = self.city;
        let codes: &[&str] = match tpl.a {
            PartyA::Department(codes) => codes,
            PartyA::Firm => &[],
        };
        let have: Vec<usize> = codes.iter().filter_map(|c| city.dept(c)).collect();
        if have.is_empty() {
            *self.rng.pick(&city.depts)
        } else {
            *self.rng.pick(&have)
        }
    }

    /// A firm from `pool` in one of `sectors` if there is one, else any in `pool`.
    pub fn pick_firm(&mut self, pool: &[usize], sectors: &[Sector], not: Option<usize>) -> usize {
        let city = self.city;
        let ok: Vec<usize> = pool
            .iter()
            .copied()
            .filter(|&f| Some(f) != not)
            .filter(|&f| matches!(city.orgs[f].kind, Kind::Firm(s) if sectors.contains(&s)))
            .collect();
        if ok.is_empty() {
            let any: Vec<usize> = pool.iter().copied().filter(|&f| Some(f) != not).collect();
            *self.rng.pick(&any)
        } else {
            *self.rng.pick(&ok)
        }
    }

    /// Due days for `n` milestones of a contract filed on `day`.
    pub fn dues(&mut self, day: i32, n: usize) -> Vec<i32> {
        let mut due = day + self.rng.range(20, 120);
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(due);
            due += self.rng.range(20, 150);
        }
        out
    }

    /// Party B of a template.
    pub fn party_b(&mut self, tpl: &Template, pool: &[usize]) -> P {
        match tpl.b {
            PartyB::Firm(sectors) => P::Org(self.pick_firm(pool, sectors, None)),
            PartyB::Person => P::Person(self.rng.below(self.city.persons.len())),
        }
    }
}
