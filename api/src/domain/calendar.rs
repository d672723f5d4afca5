//! The county's calendar: notices end, deadlines fall and records are dated on
//! its days (China Standard Time, UTC+8), whatever the server's clock zone.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// The county's offset from UTC.
const COUNTY_OFFSET_SECONDS: i32 = 8 * 3600;

fn county_zone() -> FixedOffset {
    FixedOffset::east_opt(COUNTY_OFFSET_SECONDS).expect("UTC+8 is a valid offset")
}

/// Today in the county.
pub fn today() -> NaiveDate {
    day_of(Utc::now())
}

/// The county's day at an instant.
pub fn day_of(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&county_zone()).date_naive()
}

/// The instant the county's day `day` ends (its next midnight, in UTC).
pub fn end_of(day: NaiveDate) -> DateTime<Utc> {
    let next = day.succ_opt().unwrap_or(day);
    next.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_local_timezone(county_zone())
        .single()
        .expect("a fixed offset has one midnight")
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a day")
    }

    #[test]
    fn the_county_day_turns_at_its_own_midnight() {
        // 16:30 UTC is half past midnight the next day in the county.
        let late = Utc
            .with_ymd_and_hms(2026, 3, 1, 16, 30, 0)
            .single()
            .expect("a time");
        assert_eq!(day_of(late), day(2026, 3, 2));
        let midnight = Utc
            .with_ymd_and_hms(2026, 3, 2, 16, 0, 0)
            .single()
            .expect("a time");
        assert_eq!(end_of(day(2026, 3, 2)), midnight);
        assert_eq!(day_of(midnight), day(2026, 3, 3));
    }
}
