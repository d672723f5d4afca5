//! The county's divisions (区划): county, townships, villages, each a code
//! that extends its parent's.

use entity::enums::RegionLevel;
use entity::region;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

use crate::access::{self, Viewer};
use crate::error::{ApiError, ApiResult};

/// A village the caller sees.
pub async fn reachable_village(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<region::Model> {
    access::select::<region::Entity>(viewer)
        .filter(region::Column::Id.eq(id))
        .one(db)
        .await?
        .filter(|r| r.level == RegionLevel::Village)
        .ok_or_else(|| ApiError::not_found("Village"))
}

/// The digits of a region's code its children are told apart by: a county's
/// townships by 9, a township's villages (and a village itself) by 12.
pub fn child_part_len(level: RegionLevel) -> usize {
    match level {
        RegionLevel::County => 9,
        RegionLevel::Township | RegionLevel::Village => 12,
    }
}

/// The level of a region's children, if it has any.
pub fn child_level(level: RegionLevel) -> Option<RegionLevel> {
    match level {
        RegionLevel::County => Some(RegionLevel::Township),
        RegionLevel::Township => Some(RegionLevel::Village),
        RegionLevel::Village => None,
    }
}

/// The API's name of a region's object type at each level.
pub fn type_name(level: RegionLevel) -> &'static str {
    match level {
        RegionLevel::County => "County",
        RegionLevel::Township => "Township",
        RegionLevel::Village => "Village",
    }
}
