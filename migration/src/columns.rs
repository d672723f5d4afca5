//! Column definitions more than one migration uses.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ActiveEnum, Iterable};

/// A checked-string column holding one of `E`'s values.
pub fn enum_col<E: ActiveEnum<Value = String> + Iterable>(
    col: impl IntoIden + Clone + 'static,
) -> ColumnDef {
    string_len(col.clone(), 32)
        .check(Expr::col(col).is_in(E::iter().map(|v| v.to_value())))
        .take()
}

/// Like [`enum_col`], nullable.
pub fn enum_col_null<E: ActiveEnum<Value = String> + Iterable>(
    col: impl IntoIden + Clone + 'static,
) -> ColumnDef {
    string_len_null(col.clone(), 32)
        .check(Expr::col(col).is_in(E::iter().map(|v| v.to_value())))
        .take()
}
