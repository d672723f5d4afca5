//! Changes documented as the procedure requires: the decision behind a status
//! change that came from elsewhere (a provincial file), and the evidence of a
//! public notice posted on paper before it was entered here (who posted it,
//! where, and the photo or document that shows it), for households' proposals
//! and for projects.

use entity::{project, proposal, status_change};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite alters one column a statement.
async fn add(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + Clone,
    column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).add_column(column).take())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add(
            manager,
            status_change::Entity,
            string_len_null(status_change::Column::Decision, 200),
        )
        .await?;
        use project::Column as J;
        use proposal::Column as P;
        for column in [
            string_len_null(P::NoticePostedBy, 100),
            string_len_null(P::NoticePostedAt, 200),
            string_len_null(P::NoticeEvidence, 500),
        ] {
            add(manager, proposal::Entity, column).await?;
        }
        for column in [
            string_len_null(J::NoticePostedBy, 100),
            string_len_null(J::NoticePostedAt, 200),
            string_len_null(J::NoticeEvidence, 500),
        ] {
            add(manager, project::Entity, column).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = |table: DynIden, column: DynIden| async move {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).take())
                .await
        };
        drop(
            status_change::Entity.into_iden(),
            status_change::Column::Decision.into_iden(),
        )
        .await?;
        for column in ["notice_posted_by", "notice_posted_at", "notice_evidence"] {
            drop(proposal::Entity.into_iden(), Alias::new(column).into_iden()).await?;
            drop(project::Entity.into_iden(), Alias::new(column).into_iden()).await?;
        }
        Ok(())
    }
}
