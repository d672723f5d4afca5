//! Logins throttled by account and source: the source of each login attempt,
//! indexed for counting an account's failures by source; the per-account
//! failure counter and lock give way to the time an administrator last lifted
//! the locks; and an index to list one kind of audit entry (login alerts).

use crate::columns::index;
use entity::{app_user, login_attempt};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The indexes this migration makes: (name, table, columns). The login
/// record is read by name and reason (a null failure is a success), then by time.
const INDEXES: [(&str, &str, &[&str]); 3] = [
    // A pair's failures, its last success: whether the source is known.
    (
        "login_attempt_pair",
        "login_attempt",
        &["username", "source", "failure", "at"],
    ),
    // An account's failures from every source, its known sources.
    (
        "login_attempt_account",
        "login_attempt",
        &["username", "failure", "at"],
    ),
    // Login alerts among the audit trail, newest first.
    ("audit_entry_action", "audit_entry", &["action", "id"]),
];

/// SQLite alters one column a statement.
fn alter(table: impl IntoIden) -> TableAlterStatement {
    Table::alter().table(table).take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                alter(login_attempt::Entity)
                    .add_column(string_len_null(login_attempt::Column::Source, 45))
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                alter(app_user::Entity)
                    .add_column(timestamp_with_time_zone_null(
                        app_user::Column::LocksLiftedAt,
                    ))
                    .take(),
            )
            .await?;
        for column in ["failed_logins", "locked_until"] {
            manager
                .alter_table(
                    alter(app_user::Entity)
                        .drop_column(Alias::new(column))
                        .take(),
                )
                .await?;
        }
        for (name, table, columns) in INDEXES {
            index(manager, name, Alias::new(table), columns).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        manager
            .alter_table(
                alter(app_user::Entity)
                    .add_column(integer(Alias::new("failed_logins")).default(0))
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                alter(app_user::Entity)
                    .add_column(timestamp_with_time_zone_null(Alias::new("locked_until")))
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                alter(app_user::Entity)
                    .drop_column(app_user::Column::LocksLiftedAt)
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                alter(login_attempt::Entity)
                    .drop_column(login_attempt::Column::Source)
                    .take(),
            )
            .await?;
        Ok(())
    }
}
