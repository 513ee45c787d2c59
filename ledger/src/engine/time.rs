//! Calendar arithmetic of the rule book: node times are UTC milliseconds,
//! contract dates are calendar days in the rule set's time zone (CST,
//! UTC+8, by default), and every window counts calendar days there.

use crate::types::Date;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The calendar day (days since 1970-01-01) containing node time `t`.
#[must_use]
pub fn day_of(t: i64, offset_minutes: i32) -> i32 {
    let local = t + i64::from(offset_minutes) * 60_000;
    i32::try_from(local.div_euclid(DAY_MS)).unwrap_or(if local < 0 { i32::MIN } else { i32::MAX })
}

/// Node time of 00:00 local on calendar day `day`.
#[must_use]
pub fn start_of(day: i64, offset_minutes: i32) -> i64 {
    day.saturating_mul(DAY_MS)
        .saturating_sub(i64::from(offset_minutes) * 60_000)
}

/// Node time of 00:00 local, `days` calendar days after `date` (negative: before).
#[must_use]
pub fn start_after(date: Date, days: i64, offset_minutes: i32) -> i64 {
    start_of(i64::from(date.days()) + days, offset_minutes)
}

/// The calendar year (local) of day `day`.
#[must_use]
pub fn year_of(day: i32) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch");
    let d = epoch + chrono::TimeDelta::days(i64::from(day));
    chrono::Datelike::year(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cst_day_boundaries() {
        // 2026-06-30T16:00:00Z is 2026-07-01 00:00 CST.
        let t = 1_782_835_200_000;
        let june30 = Date::parse("2026-06-30").unwrap();
        assert_eq!(start_after(june30, 1, 480), t);
        assert_eq!(day_of(t, 480), june30.days() + 1);
        assert_eq!(day_of(t - 1, 480), june30.days());
        assert_eq!(year_of(june30.days()), 2026);
    }
}
