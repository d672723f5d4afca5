//! The evidence of a public notice posted on paper before it was entered here,
//! as proposals and projects take and show it.

use crate::graphql::date::Day;
use async_graphql::{InputObject, SimpleObject};
use serde::Serialize;

use crate::domain::notice;
use crate::error::ApiResult;

/// A notice posted on paper (the village board) before it was entered (纸质公示佐证).
#[derive(InputObject, Serialize)]
pub struct PaperNoticeInput {
    /// Who posted it (张贴人).
    posted_by: String,
    /// Where it was posted, e.g. the village's notice board (张贴地点).
    posted_at: String,
    /// The photo or document that shows it posted (公示照片或文件).
    evidence: String,
}

impl PaperNoticeInput {
    pub fn parse(input: Option<&Self>, field: &str) -> ApiResult<Option<notice::PaperNotice>> {
        input
            .map(|p| notice::PaperNotice::parse(&p.posted_by, &p.posted_at, &p.evidence, field))
            .transpose()
    }
}

/// A public notice's days (公示期).
#[derive(InputObject, Serialize)]
pub struct NoticeInput {
    /// First day; today if not given, at most 30 days back (公示开始日期).
    starts_on: Option<Day>,
    /// Last day: a notice is up at least 5 days, its first and last included (公示截止日期).
    ends_on: Day,
    /// For a notice that started before today: the paper notice it was first
    /// posted as, with its evidence (纸质公示佐证).
    paper_notice: Option<PaperNoticeInput>,
}

impl NoticeInput {
    /// The notice's days as the domain takes them; `field` names the argument.
    pub fn parse(self, field: &str) -> ApiResult<notice::NoticeDays> {
        Ok(notice::NoticeDays {
            paper: PaperNoticeInput::parse(
                self.paper_notice.as_ref(),
                &format!("{field}.paperNotice"),
            )?,
            starts_on: self.starts_on.map(Into::into),
            ends_on: self.ends_on.0,
        })
    }
}

/// A notice posted on paper before it was entered here, and its evidence (纸质公示).
#[derive(SimpleObject)]
pub struct PaperNotice {
    /// Who posted it (张贴人).
    posted_by: String,
    /// Where it was posted (张贴地点).
    posted_at: String,
    /// The photo or document that shows it posted (公示照片或文件).
    evidence: String,
}

impl From<notice::PaperNotice> for PaperNotice {
    fn from(p: notice::PaperNotice) -> Self {
        Self {
            posted_by: p.posted_by,
            posted_at: p.posted_at,
            evidence: p.evidence,
        }
    }
}
