//! Both public notices of "two public notices and one announcement"
//! (两公示一公告), and what comes before them: how a proposal came (a
//! household's application or the village's discovery), the village's
//! democratic appraisal (民主评议: day, attendance, votes, minutes), and the
//! second notice, in the township, after its check, with the evidence of a
//! paper posting like the first's. Proposals made before have none of these.

use entity::proposal;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 11] = [
    "origin",
    "appraised_on",
    "appraisal_attendance",
    "appraisal_votes_for",
    "appraisal_votes_against",
    "appraisal_minutes",
    "township_notice_starts_on",
    "township_notice_ends_on",
    "township_notice_posted_by",
    "township_notice_posted_at",
    "township_notice_evidence",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use proposal::Column as P;
        // SQLite alters one column a statement.
        for column in [
            string_len_null(P::Origin, 32),
            date_null(P::AppraisedOn),
            integer_null(P::AppraisalAttendance),
            integer_null(P::AppraisalVotesFor),
            integer_null(P::AppraisalVotesAgainst),
            string_len_null(P::AppraisalMinutes, 500),
            date_null(P::TownshipNoticeStartsOn),
            date_null(P::TownshipNoticeEndsOn),
            string_len_null(P::TownshipNoticePostedBy, 100),
            string_len_null(P::TownshipNoticePostedAt, 200),
            string_len_null(P::TownshipNoticeEvidence, 500),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(proposal::Entity)
                        .add_column(column)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(proposal::Entity)
                        .drop_column(Alias::new(column))
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
