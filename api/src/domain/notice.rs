//! Public notices (公示): of a household's identification or exit, and of a
//! project before approval. One rule for both: a notice is up at least five
//! days, its first and last included, and nothing is decided before its last
//! day has passed. A notice entered after its first day was posted on paper
//! first (the village board); it is accepted only with the evidence of that
//! posting, and marked as such, so that a notice nobody saw cannot be typed in
//! with a past date and decided at once.

use chrono::{Days, NaiveDate};

use super::text::free_text;
use crate::error::{ApiError, ApiResult};

/// The shortest notice, in days, its first and last day included.
pub const MIN_DAYS: u64 = 5;
/// How far back a paper notice's first day may be entered.
pub const MAX_BACKDATE_DAYS: u64 = 30;

const MAX_POSTED_BY_CHARS: usize = 100;
const MAX_POSTED_AT_CHARS: usize = 200;
const MAX_EVIDENCE_CHARS: usize = 500;

/// The evidence of a notice posted on paper before it was entered here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperNotice {
    /// Who posted it (张贴人).
    pub posted_by: String,
    /// Where it was posted (张贴地点).
    pub posted_at: String,
    /// The photo or document that shows it posted (佐证).
    pub evidence: String,
}

impl PaperNotice {
    /// Checks the three texts; `field` names the argument they came in.
    pub fn parse(posted_by: &str, posted_at: &str, evidence: &str, field: &str) -> ApiResult<Self> {
        Ok(Self {
            posted_by: free_text(&format!("{field}.postedBy"), posted_by, MAX_POSTED_BY_CHARS)?,
            posted_at: free_text(&format!("{field}.postedAt"), posted_at, MAX_POSTED_AT_CHARS)?,
            evidence: free_text(&format!("{field}.evidence"), evidence, MAX_EVIDENCE_CHARS)?,
        })
    }

    /// The stored columns, all three or none.
    pub fn from_columns(
        posted_by: Option<&str>,
        posted_at: Option<&str>,
        evidence: Option<&str>,
    ) -> Option<Self> {
        Some(Self {
            posted_by: posted_by?.to_owned(),
            posted_at: posted_at?.to_owned(),
            evidence: evidence?.to_owned(),
        })
    }
}

/// A notice's days, as given: today if no first day, and for one that
/// started before today the paper notice it was first posted as.
pub struct NoticeDays {
    pub starts_on: Option<NaiveDate>,
    pub ends_on: NaiveDate,
    pub paper: Option<PaperNotice>,
}

/// The argument names a notice came in, for errors.
pub struct Fields<'a> {
    pub starts_on: &'a str,
    pub ends_on: &'a str,
    pub paper: &'a str,
}

/// A notice that may be published today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Given for a notice that started before today.
    pub paper: Option<PaperNotice>,
}

impl Notice {
    /// Checks a notice entered `today`.
    pub fn parse(
        starts_on: NaiveDate,
        ends_on: NaiveDate,
        paper: Option<PaperNotice>,
        today: NaiveDate,
        fields: Fields<'_>,
    ) -> ApiResult<Self> {
        if starts_on > today {
            return Err(ApiError::bad_input(
                fields.starts_on,
                format!("the notice cannot start in the future (today is {today})"),
            ));
        }
        if today - Days::new(MAX_BACKDATE_DAYS) > starts_on {
            return Err(ApiError::bad_input(
                fields.starts_on,
                format!("the notice may have started at most {MAX_BACKDATE_DAYS} days ago"),
            ));
        }
        if ends_on < starts_on + Days::new(MIN_DAYS - 1) {
            return Err(ApiError::bad_input(
                fields.ends_on,
                format!(
                    "a notice is up at least {MIN_DAYS} days, its first and last included: \
                     it ends on {} at the earliest",
                    starts_on + Days::new(MIN_DAYS - 1)
                ),
            ));
        }
        if starts_on < today && paper.is_none() {
            return Err(ApiError::bad_input(
                fields.paper,
                format!(
                    "a notice that started before today ({starts_on}) was posted on paper first: \
                     give who posted it, where, and the photo or document that shows it"
                ),
            ));
        }
        Ok(Self {
            starts_on,
            ends_on,
            paper,
        })
    }
}

/// Whether a notice was entered after its first day: it was posted on paper first.
pub fn backdated(starts_on: NaiveDate, entered_on: NaiveDate) -> bool {
    starts_on < entered_on
}

/// Refuses a decision while the notice is up: `today` must be after its last day.
pub fn check_ended(ends_on: NaiveDate, today: NaiveDate, field: &str, what: &str) -> ApiResult<()> {
    if today <= ends_on {
        return Err(ApiError::bad_input(
            field,
            format!("the public notice runs until {ends_on}; {what} after it has ended"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).expect("a day")
    }

    fn fields() -> Fields<'static> {
        Fields {
            starts_on: "startsOn",
            ends_on: "endsOn",
            paper: "paperNotice",
        }
    }

    fn paper() -> Option<PaperNotice> {
        PaperNotice::parse("村委会", "村务公开栏", "公示照片.jpg", "paperNotice").ok()
    }

    #[test]
    fn five_days_first_and_last_included() {
        let today = day(10);
        assert!(Notice::parse(day(10), day(14), None, today, fields()).is_ok());
        let short = Notice::parse(day(10), day(13), None, today, fields());
        assert!(short.is_err());
    }

    #[test]
    fn a_notice_entered_late_needs_the_paper_evidence() {
        let today = day(20);
        assert!(Notice::parse(day(10), day(16), None, today, fields()).is_err());
        let paper = Notice::parse(day(10), day(16), paper(), today, fields()).expect("accepted");
        assert!(backdated(paper.starts_on, today));
        assert!(!backdated(day(20), today));
        assert!(PaperNotice::parse(" ", "村务公开栏", "照片", "paperNotice").is_err());
    }
}
