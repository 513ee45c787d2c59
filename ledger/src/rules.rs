//! Rule book parameters (DESIGN.md, "Rule book v1").
//!
//! Every number the rules use is a field of [`RuleSet`], published in the log
//! by `Genesis` or `RuleSetPublished` and effective from its log time. The
//! engine that applies them comes with the rules issue; this module only
//! defines the parameters and the defaults written by `init`.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// A versioned set of rule-book parameters. All values are integers.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// Version number, increasing with each publication.
    pub version: u32,
    /// Offset of contract-date calendar days from UTC, in minutes (CST: 480).
    pub utc_offset_minutes: i32,
    /// Days before a due date on which reminders are issued.
    pub reminder_days: Vec<u32>,
    /// Days after the due date before an unconfirmed milestone is a default.
    pub grace_days: u32,
    /// Days the obligee has to dispute a performance claim.
    pub dispute_days: u32,
    /// Days an entity has to object to a default or notice.
    pub objection_days: u32,
    /// Score every entity starts with.
    pub initial_score: i64,
    /// Score change for a milestone performed on time.
    pub on_time_delta: i64,
    /// Most on-time points per entity per calendar year.
    pub on_time_yearly_cap: i64,
    /// Score change when a whole contract is performed on time.
    pub contract_on_time_delta: i64,
    /// Score change for late performance.
    pub late_delta: i64,
    /// Score change for a partial default.
    pub partial_default_delta: i64,
    /// Score change for a full default.
    pub full_default_delta: i64,
    /// Score change for a demand notice.
    pub demand_notice_delta: i64,
    /// Defaults within `black_window_days` that trigger a demand notice and the black list.
    pub black_defaults: u32,
    pub black_window_days: u32,
    /// Minimum days on the black list before repair may be applied for.
    pub black_min_days: u32,
    /// Maximum days on the black list.
    pub black_max_days: u32,
    /// Red list: minimum score.
    pub red_min_score: i64,
    /// Red list: contracts fully performed within `red_window_days`.
    pub red_min_contracts: u32,
    pub red_window_days: u32,
    /// Known legacy organisation codes the credit office admits although
    /// their GB 32100-2015 check character is wrong (an explicit allow-list,
    /// published in the log so every verifier applies the same one).
    pub legacy_uscc: Vec<crate::uscc::Uscc>,
}

impl Default for RuleSet {
    /// Rule book v1 as written in DESIGN.md.
    fn default() -> Self {
        RuleSet {
            version: 1,
            utc_offset_minutes: 480,
            reminder_days: vec![30, 7, 1],
            grace_days: 15,
            dispute_days: 10,
            objection_days: 15,
            initial_score: 1000,
            on_time_delta: 1,
            on_time_yearly_cap: 20,
            contract_on_time_delta: 5,
            late_delta: -2,
            partial_default_delta: -10,
            full_default_delta: -20,
            demand_notice_delta: -50,
            black_defaults: 2,
            black_window_days: 365,
            black_min_days: 90,
            black_max_days: 365,
            red_min_score: 1010,
            red_min_contracts: 3,
            red_window_days: 730,
            legacy_uscc: Vec::new(),
        }
    }
}
