//! What happens in the demo city: a few scripted stories that every demo
//! contains (so every rule of docs/RULES.md shows up at least once), and
//! the seeded background of ordinary contracts around them.
//!
//! The stories, with `S` the first simulated day and `E` the day after the
//! last (at least 450 days apart):
//!
//! | firm | story |
//! |---|---|
//! | B1 | imported land grant: default after grace (E−204), reported default (E−168): demand notice, black list; its objection to the notice is refused; still black at the end |
//! | B2 | construction: reported partial default and a default after grace, black-listed S+141; performs late on both; a repair application on day 94 is refused, a second one approved |
//! | B3 | procurement: two defaults after grace, black-listed S+71; the listing ends by itself after 365 days |
//! | B4 | procurement: two reported defaults and a notice; its objection to the first is upheld, the default reversed and the notice withdrawn |
//! | B5 | construction: default after grace; a force-majeure claim with an event after the due date is refused by the rules; one with an event before it is approved and the default reversed |
//! | M1, M2 | a commercial contract whose overdue payment is settled by the agency's mediation and amended by both parties; a delegated filing whose mediation fails, a default, an objection refused; the delegation is revoked |
//! | RF | three contracts on time (red list), then a reported partial default (off the red list) |
//! | R… | three department contracts each, all on time: red list |
//! | (one firm) | an investment milestone deemed performed, a PPP claim disputed, an exemption claimed after the due date and refused |

use super::city::{self, Kind, PartyA, TEMPLATES};
use super::plan::{Act, Filed, Filing, P, Planner, Scenario, Target, Who, date, text};
use lvyue_ledger::event::{Event, Extent, MediationOutcome, Milestone};
use lvyue_ledger::hash::sha256;

/// Template positions used by the stories (checked by `templates_are_where_the_stories_expect`).
const T_EDU: usize = 0;
const T_PROCURE: usize = 1;
const T_INVEST: usize = 2;
const T_PPP: usize = 3;
const T_BUILD: usize = 4;
const T_ASSET: usize = 5;
const T_LAND: usize = 6;
const T_GRANT: usize = 8;
const T_FARMER: usize = 10;
const T_TRADE: usize = 11;
const T_PERSON: usize = 12;

/// Firms the stories need besides the red-list firms.
pub const STORY_FIRMS: usize = 8;

/// Shortest simulated period the stories fit in.
pub const MIN_DAYS: u32 = 450;

/// The roles firms play.
pub struct Cast {
    /// B1..B5, M1 (seller), M2 (buyer, delegates to the agency), RF.
    pub story: Vec<usize>,
    /// Red-list firms (also in `pool`).
    pub red: Vec<usize>,
    /// Firms the background may use.
    pub pool: Vec<usize>,
}

impl Cast {
    pub fn new(firms: &[usize], red: usize) -> Result<Cast, String> {
        if firms.len() < STORY_FIRMS + red + 4 {
            return Err(format!(
                "a demo needs at least {} firms",
                STORY_FIRMS + red + 4
            ));
        }
        Ok(Cast {
            story: firms[..STORY_FIRMS].to_vec(),
            red: firms[STORY_FIRMS..STORY_FIRMS + red].to_vec(),
            pool: firms[STORY_FIRMS..].to_vec(),
        })
    }
}

impl Planner<'_> {
    fn dept_of(&mut self, t: usize) -> P {
        P::Org(self.pick_dept(&TEMPLATES[t]))
    }

    /// A department-filed (or, for T_LAND, imported) contract of template `t`
    /// with firm `b`, all milestones idle; the story acts on them itself.
    fn story_contract(
        &mut self,
        t: usize,
        b: P,
        day: i32,
        ms: &[(usize, i32)],
    ) -> Result<Filed, String> {
        let tpl = &TEMPLATES[t];
        let a = self.dept_of(t);
        let filing = if tpl.imported {
            Filing::Import
        } else {
            Filing::Department
        };
        let c = self.file(tpl, a, b, day, ms, filing)?;
        Ok(c)
    }

    fn confirm(&mut self, c: &Filed, k: usize, day: i32, performed: i32) -> Result<(), String> {
        let (m, _, obligee) = &c.milestones[k];
        let who = match (obligee, c.filer_su) {
            (P::Org(i), _) => Who::Org(*i),
            (_, Some(su)) => Who::Org(su),
            _ => return Err(format!("{}: nobody can confirm", c.id)),
        };
        let e = Event::PerformanceConfirmed {
            contract: c.id.clone(),
            milestone: m.number,
            performed: date(performed)?,
            evidence: Some(sha256(format!("{} 补充履约凭证", c.id).as_bytes())),
        };
        self.event(day, who, e);
        Ok(())
    }

    fn report(&mut self, c: &Filed, k: usize, day: i32, extent: Extent) -> Result<(), String> {
        let (m, _, obligee) = &c.milestones[k];
        let who = match obligee {
            P::Org(i) => Who::Org(*i),
            P::Person(_) => return Err(format!("{}: nobody can report", c.id)),
        };
        let e = Event::NonPerformanceReported {
            contract: c.id.clone(),
            milestone: m.number,
            extent,
            reason: text(city::REPORT_REASONS[0])?,
        };
        self.event(day, who, e);
        Ok(())
    }

    /// `firm` objects to `target` on `day`; the office decides on `decide`.
    fn objection(&mut self, firm: usize, target: Target, day: i32, decide: i32, upheld: bool) {
        let statement = if upheld {
            "该节点已按约定部分履行，对方报告有误，附交付签收单".to_string()
        } else {
            "逾期系资金周转困难所致，请求撤销".to_string()
        };
        if let Some(objection) = self.push(day, Who::Org(firm), Act::Object { target, statement }) {
            let reason = if upheld {
                "经核查，异议成立，撤销该失信认定"
            } else {
                "经核查，异议理由不成立，维持原认定"
            };
            self.push(
                decide,
                Who::Office,
                Act::DecideObjection {
                    objection,
                    upheld,
                    reason,
                },
            );
        }
    }

    fn default_of(c: &Filed, k: usize) -> Target {
        Target::Default {
            contract: c.id.clone(),
            milestone: c.milestones[k].0.number,
        }
    }

    /// Every story of the module documentation. A script rather than a
    /// function of the usual length: each story's dates only make sense
    /// next to each other.
    pub fn stories(&mut self, cast: &Cast) -> Result<(), String> {
        let (s, e) = (self.start, self.end);
        let f = |i: usize| cast.story[i];
        let subject = |p: &Planner, i: usize| p.city.subject(P::Org(i));

        // B1: stays on the black list.
        let c =
            self.story_contract(T_LAND, P::Org(f(0)), e - 260, &[(0, e - 220), (2, e - 170)])?;
        self.report(&c, 1, e - 168, Extent::Full)?;
        let notice = Target::Notice(subject(self, f(0))?);
        self.objection(f(0), notice, e - 160, e - 150, false);

        // B2: black list, repair refused, then approved.
        let c =
            self.story_contract(T_BUILD, P::Org(f(1)), s + 20, &[(0, s + 100), (2, s + 125)])?;
        self.report(&c, 0, s + 103, Extent::Partial)?;
        self.confirm(&c, 0, s + 170, s + 168)?;
        let repair = |p: &mut Planner, day: i32| -> Result<Option<usize>, String> {
            let e = Event::RepairApplied {
                entity: p.city.subject(P::Org(f(1)))?,
                commitment: sha256("信用承诺书：本单位承诺依法履约、如实报告履约情况".as_bytes()),
            };
            Ok(p.event(day, Who::Org(f(1)), e))
        };
        if let Some(application) = repair(self, s + 235)? {
            self.push(
                s + 242,
                Who::Office,
                Act::DecideRepair {
                    application,
                    approved: false,
                    reason: "申请人仍有未履行完毕的失信事项，暂不予修复",
                },
            );
        }
        self.confirm(&c, 1, s + 250, s + 248)?;
        if let Some(application) = repair(self, s + 256)? {
            self.push(
                s + 265,
                Who::Office,
                Act::DecideRepair {
                    application,
                    approved: true,
                    reason: "失信事项已纠正，公示期满，已作出信用承诺，准予修复",
                },
            );
        }

        // B3: the listing runs its full 365 days.
        self.story_contract(T_PROCURE, P::Org(f(2)), s + 12, &[(0, s + 40), (2, s + 55)])?;

        // B4: notice withdrawn after an upheld objection.
        let c = self.story_contract(
            T_PROCURE,
            P::Org(f(3)),
            e - 360,
            &[(0, e - 330), (2, e - 325)],
        )?;
        self.report(&c, 0, e - 318, Extent::Partial)?;
        self.report(&c, 1, e - 316, Extent::Full)?;
        self.objection(f(3), Planner::default_of(&c, 0), e - 310, e - 300, true);

        // B5: exemption after a default.
        let mut c =
            self.story_contract(T_BUILD, P::Org(f(4)), s + 60, &[(0, s + 120), (2, s + 200)])?;
        self.milestone(&mut c, 1, Scenario::OnTime)?;
        let claim = |event_day: i32| -> Result<Event, String> {
            Ok(Event::ExemptionClaimed {
                contract: c.id.clone(),
                milestone: 1,
                ground: lvyue_ledger::event::ExemptionGround::ForceMajeure,
                event_date: date(event_day)?,
                statement: text(city::FORCE_MAJEURE[0])?,
            })
        };
        self.push(s + 138, Who::Org(f(4)), Act::Refused(claim(s + 125)?));
        if let Some(claim) = self.event(s + 139, Who::Org(f(4)), claim(s + 117)?) {
            self.push(s + 150, Who::Office, Act::DecideExemption {
                claim,
                approved: true,
                reason: "经气象、水利部门证明，洪涝灾害发生于履行期限届满前，属不可抗力，准予免责",
            });
        }

        self.mediation_stories(f(5), f(6))?;

        // RF: red, then a partial default.
        let rf = P::Org(f(7));
        for (i, t) in [T_EDU, T_GRANT, T_EDU].into_iter().enumerate() {
            let day = e - 440 + 20 * i as i32;
            let mut c = self.story_contract(t, rf, day, &[(0, day + 30)])?;
            self.milestone(&mut c, 0, Scenario::OnTime)?;
        }
        let c = self.story_contract(T_EDU, rf, e - 150, &[(0, e - 110)])?;
        self.report(&c, 0, e - 105, Extent::Partial)?;

        // R: three contracts on time each.
        for (j, &r) in cast.red.clone().iter().enumerate() {
            for (i, t) in [T_EDU, T_BUILD, T_GRANT].into_iter().enumerate() {
                let day = e - 400 + 70 * i as i32 + 3 * j as i32;
                let mut c = self.story_contract(t, P::Org(r), day, &[(0, day + 40)])?;
                self.milestone(&mut c, 0, Scenario::OnTime)?;
            }
        }

        // The remaining outcomes and categories, whatever the background holds.
        let firm = cast.pool[cast.pool.len() - 2];
        let showcase = [
            (T_INVEST, 1, Scenario::Deemed),
            (T_PPP, 0, Scenario::Disputed),
            (
                T_ASSET,
                0,
                Scenario::ExemptRefused {
                    after_due: true,
                    then_default: false,
                },
            ),
        ];
        for (i, (t, k, scenario)) in showcase.into_iter().enumerate() {
            let day = s + 30 + 10 * i as i32;
            let mut c = self.story_contract(t, P::Org(firm), day, &[(k, day + 60)])?;
            if self.milestone(&mut c, 0, scenario)? != scenario {
                return Err(format!("{}: scenario {scenario:?} not possible", c.id));
            }
        }

        // Overdue and still pending at the end; natural persons.
        let firm = cast.pool[cast.pool.len() - 1];
        self.story_contract(T_BUILD, P::Org(firm), e - 60, &[(0, e - 6), (2, e + 90)])?;
        let mut c = self.story_contract(T_FARMER, P::Person(0), e - 200, &[(0, e - 150)])?;
        self.milestone(&mut c, 0, Scenario::OnTime)?;
        let buyer = cast.pool[0];
        let mut c = self.file(
            &TEMPLATES[T_PERSON],
            P::Org(buyer),
            P::Person(1),
            e - 190,
            &[(0, e - 160)],
            Filing::SelfFiled(buyer),
        )?;
        self.milestone(&mut c, 0, Scenario::Late)?;
        Ok(())
    }

    /// M1 and M2: mediation by the agency (see the module documentation).
    fn mediation_stories(&mut self, seller: usize, buyer: usize) -> Result<(), String> {
        let (s, e) = (self.start, self.end);
        let agency = self.city.orgs[self.city.agency].uscc;
        let principal = self.city.orgs[buyer].uscc;
        let grant = Event::DelegationGranted {
            principal,
            agency,
            until: None,
        };
        self.event(s + 5, Who::Org(buyer), grant);

        // M1: settled; both parties amend; paid on the new date.
        let tpl = &TEMPLATES[T_TRADE];
        let (a, b) = (P::Org(buyer), P::Org(seller));
        let mut c = self.file(
            tpl,
            a,
            b,
            e - 340,
            &[(0, e - 300), (1, e - 280)],
            Filing::SelfFiled(seller),
        )?;
        self.acknowledge(&c, a, e - 339)?;
        self.milestone(&mut c, 0, Scenario::OnTime)?;
        let moved = Milestone {
            due: date(e - 230)?,
            ..c.milestones[1].0.clone()
        };
        let settled = Event::MediationRecorded {
            contract: c.id.clone(),
            outcome: MediationOutcome::Settled {
                milestones: vec![moved.clone()],
            },
            summary: text(
                "经诉前信用调解，买方承认欠款，双方同意付款期限顺延五十日，卖方放弃逾期违约金",
            )?,
        };
        self.event(e - 276, Who::Org(self.city.agency), settled);
        for (day, who) in [(e - 275, seller), (e - 274, buyer)] {
            let amend = Event::ContractAmended {
                contract: c.id.clone(),
                amendment: 1,
                milestones: vec![moved.clone()],
                reason: text("按调解协议变更付款期限")?,
            };
            self.event(day, Who::Org(who), amend);
        }
        self.confirm(&c, 1, e - 233, e - 234)?;

        // M2: a delegated filing; mediation fails; default; objection refused.
        let c = self.file(
            tpl,
            a,
            b,
            e - 260,
            &[(0, e - 230), (1, e - 205)],
            Filing::Delegated(buyer),
        )?;
        self.acknowledge(&c, b, e - 258)?;
        let mut c = c;
        self.milestone(&mut c, 0, Scenario::OnTime)?;
        let failed = Event::MediationRecorded {
            contract: c.id.clone(),
            outcome: MediationOutcome::Failed,
            summary: text("经诉前信用调解，双方未能就付款方案达成一致，调解终结")?,
        };
        self.event(e - 198, Who::Org(self.city.agency), failed);
        self.objection(buyer, Planner::default_of(&c, 1), e - 185, e - 175, false);
        let revoke = Event::DelegationRevoked { principal, agency };
        self.event(e - 60, Who::Org(buyer), revoke);
        Ok(())
    }

    /// `n` ordinary contracts among the firms of `cast.pool`, filed over the
    /// period; `delegations` are (principal, day granted).
    pub fn background(
        &mut self,
        cast: &Cast,
        n: usize,
        delegations: &[(usize, i32)],
    ) -> Result<(), String> {
        for i in 0..n {
            // The first ones go through every template, so every category appears.
            let t = if i < TEMPLATES.len() {
                i
            } else {
                self.rng
                    .weighted(&[10, 8, 3, 3, 12, 3, 8, 5, 5, 4, 3, 14, 3])
            };
            let tpl = &TEMPLATES[t];
            let day = self.rng.range(self.start + 3, self.end - 25);
            let b = self.party_b(tpl, &cast.pool);
            let a = match tpl.a {
                PartyA::Department(_) => P::Org(self.pick_dept(tpl)),
                PartyA::Firm => {
                    let not = match b {
                        P::Org(o) => Some(o),
                        P::Person(_) => None,
                    };
                    // Firms that use the agency bring it more of their contracts.
                    let clients: Vec<usize> = delegations
                        .iter()
                        .filter(|&&(p, granted)| granted < day && Some(p) != not)
                        .map(|&(p, _)| p)
                        .collect();
                    if !clients.is_empty() && self.rng.chance(30) {
                        P::Org(*self.rng.pick(&clients))
                    } else {
                        P::Org(self.pick_firm(&cast.pool, &[], not))
                    }
                }
            };
            let filing = self.filing_for(tpl, a, b, day, delegations)?;
            let ms: Vec<(usize, i32)> = self
                .dues(day, tpl.milestones.len())
                .into_iter()
                .enumerate()
                .collect();
            let mut c = self.file(tpl, a, b, day, &ms, filing)?;
            c.counts = self.acknowledgements(&c, filing)?;
            for k in 0..c.milestones.len() {
                let s = self.scenario(&c, k, cast);
                self.milestone(&mut c, k, s)?;
            }
        }
        Ok(())
    }

    fn filing_for(
        &mut self,
        tpl: &city::Template,
        a: P,
        b: P,
        day: i32,
        delegations: &[(usize, i32)],
    ) -> Result<Filing, String> {
        Ok(match (tpl.a, tpl.imported, a, b) {
            (PartyA::Department(_), true, ..) => Filing::Import,
            (PartyA::Department(_), false, ..) => Filing::Department,
            (PartyA::Firm, _, P::Org(x), P::Person(_)) => Filing::SelfFiled(x),
            (PartyA::Firm, _, P::Org(x), P::Org(y)) => {
                let delegated = delegations
                    .iter()
                    .find(|&&(p, granted)| (p == x || p == y) && granted < day)
                    .map(|&(p, _)| p);
                match delegated {
                    Some(p) if self.rng.chance(60) => Filing::Delegated(p),
                    _ if self.rng.chance(50) => Filing::SelfFiled(x),
                    _ => Filing::SelfFiled(y),
                }
            }
            (PartyA::Firm, _, P::Person(_), _) => {
                return Err("party A of a commercial contract must be a firm".into());
            }
        })
    }

    /// Schedules acknowledgements; says whether the contract then counts (RULES.md §5).
    fn acknowledgements(&mut self, c: &Filed, filing: Filing) -> Result<bool, String> {
        let day = c.day + self.rng.range(1, 5);
        let (a, b) = (c.parties[0], c.parties[1]);
        match filing {
            Filing::Department | Filing::Import => {
                if self.rng.chance(30) {
                    self.acknowledge(c, b, day)?;
                }
                if matches!(filing, Filing::Import) && self.rng.chance(20) {
                    self.acknowledge(c, a, day + 1)?;
                }
                Ok(true)
            }
            Filing::SelfFiled(f) | Filing::Delegated(f) => {
                let other = if a == P::Org(f) { b } else { a };
                if matches!(other, P::Org(_)) && self.rng.chance(85) {
                    self.acknowledge(c, other, day)?;
                    Ok(true)
                } else {
                    Ok(false)
                }
            }
        }
    }

    /// A scenario for milestone `k`, by who owes it.
    fn scenario(&mut self, c: &Filed, k: usize, cast: &Cast) -> Scenario {
        let obligor = c.milestones[k].1;
        let kind = match obligor {
            P::Org(o) => Some(self.city.orgs[o].kind),
            P::Person(_) => None,
        };
        match kind {
            None => [Scenario::OnTime, Scenario::Late][self.rng.weighted(&[80, 20])],
            Some(Kind::Firm(_)) if matches!(obligor, P::Org(o) if cast.red.contains(&o)) => {
                [Scenario::OnTime, Scenario::Deemed, Scenario::Amended]
                    [self.rng.weighted(&[70, 20, 10])]
            }
            Some(Kind::Firm(_)) => self.ordinary_scenario(),
            Some(_) => [Scenario::OnTime, Scenario::Late, Scenario::Deemed]
                [self.rng.weighted(&[78, 12, 10])],
        }
    }

    fn ordinary_scenario(&mut self) -> Scenario {
        let objection = |p: &mut Planner, percent| {
            if p.rng.chance(percent) {
                Some(p.rng.chance(50))
            } else {
                None
            }
        };
        match self.rng.weighted(&[46, 10, 12, 4, 5, 3, 3, 3, 3]) {
            0 => Scenario::OnTime,
            1 => Scenario::Late,
            2 => Scenario::Deemed,
            3 => Scenario::Disputed,
            4 => Scenario::Amended,
            5 => Scenario::ExemptApproved,
            6 => Scenario::ExemptRefused {
                after_due: self.rng.chance(50),
                then_default: self.rng.chance(40),
            },
            7 => Scenario::Report {
                extent: if self.rng.chance(50) {
                    Extent::Full
                } else {
                    Extent::Partial
                },
                objection: objection(self, 40),
            },
            _ => Scenario::Grace {
                objection: objection(self, 30),
            },
        }
    }
}

/// Principals that delegate to the agency, and the day each does.
pub fn delegations(p: &mut Planner, cast: &Cast) -> Vec<(usize, i32)> {
    let n = (cast.pool.len() / 20).max(2);
    let agency = p.city.orgs[p.city.agency].uscc;
    let mut out = Vec::new();
    for i in 0..n {
        let principal = cast.pool[cast.red.len() + i];
        let day = p.start + p.rng.range(1, 30);
        let until = if p.rng.chance(50) {
            None
        } else {
            date(p.end + 365).ok()
        };
        let e = Event::DelegationGranted {
            principal: p.city.orgs[principal].uscc,
            agency,
            until,
        };
        p.event(day, Who::Org(principal), e);
        out.push((principal, day));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvyue_ledger::types::Category;

    #[test]
    fn templates_are_where_the_stories_expect() {
        let want = [
            (T_EDU, Category::GovernmentProcurement),
            (T_PROCURE, Category::GovernmentProcurement),
            (T_INVEST, Category::InvestmentPromotion),
            (T_PPP, Category::PublicPrivatePartnership),
            (T_BUILD, Category::Construction),
            (T_ASSET, Category::StateAssetTransaction),
            (T_LAND, Category::PublicResourceTrading),
            (T_GRANT, Category::PolicySupport),
            (T_FARMER, Category::PolicySupport),
            (T_TRADE, Category::Commercial),
            (T_PERSON, Category::Commercial),
        ];
        for (t, cat) in want {
            assert_eq!(TEMPLATES[t].category, cat, "template {t}");
        }
        assert!(TEMPLATES[T_LAND].imported);
        assert!(matches!(TEMPLATES[T_FARMER].b, city::PartyB::Person));
        assert!(matches!(TEMPLATES[T_PERSON].b, city::PartyB::Person));
        // B owes milestones 0 and 2 of the templates the stories default on.
        for t in [T_PROCURE, T_BUILD, T_LAND] {
            assert_eq!(TEMPLATES[t].milestones[0].0, city::Owes::B);
            assert_eq!(TEMPLATES[t].milestones[2].0, city::Owes::B);
        }
        let categories: std::collections::BTreeSet<_> =
            TEMPLATES.iter().map(|t| t.category).collect();
        assert_eq!(categories.len(), 8);
    }
}
