//! Which time node of a measure was last announced as overdue: live alerts
//! (subscriptions) read the announcement from the audit trail, and the column
//! lets the replicas' sweeps agree that it was made once.

use entity::measure;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(measure::Entity)
                    .add_column(date_null(measure::Column::OverdueAlertedFor))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(measure::Entity)
                    .drop_column(measure::Column::OverdueAlertedFor)
                    .take(),
            )
            .await
    }
}
