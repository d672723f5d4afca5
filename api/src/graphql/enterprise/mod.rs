//! Enterprises, cooperatives, family farms and large households (经营主体):
//! the type and its queries here; registration and editing in [`edit`], benefit
//! links with poor households in [`link`], yearly figures and the ranking in [`figures`].

pub mod edit;
pub mod figures;
pub mod link;

use async_graphql::{Context, ID, InputObject, MergedObject, Object};
use entity::enterprise;
use entity::enums::{EnterpriseKind, Industry};
use sea_orm::{ColumnTrait, Condition, QueryFilter};

use self::figures::EnterpriseBenefit;
use self::link::BenefitLink;
use super::context::{loaders, page, paginate_nested, viewer};
use super::project::{Project, ProjectFilter, ProjectsOf};
use super::region::{Village, find_region, village_in};
use super::relay::{
    Conn, KeyType, NodeKind, PageArgs, ParentColumn, SortKey, decode_id_of, global_id, page_cost,
    paginate,
};
use crate::access;
use crate::domain::text::search_prefix;
use crate::error::{ApiError, ApiResult};

const BY_ID: SortKey<enterprise::Entity> = SortKey {
    name: "id",
    column: enterprise::Column::Id,
    key_type: KeyType::Int,
    descending: false,
    value_of: |m| m.id.to_string(),
};

/// Which enterprises to list (经营主体筛选条件).
#[derive(InputObject, Default)]
pub struct EnterpriseFilter {
    /// Only those registered in this county, township or village (所属区域).
    region_id: Option<ID>,
    /// Only these kinds (主体类型).
    kind: Option<Vec<EnterpriseKind>>,
    /// Only these industries (所属产业).
    industry: Option<Vec<Industry>>,
    /// A name prefix, or a whole unified social credit code (名称或统一社会信用代码).
    search: Option<String>,
}

/// Enterprises named by a client's filter: all of them, or those of one village.
pub async fn list(
    ctx: &Context<'_>,
    village: Option<i64>,
    filter: Option<EnterpriseFilter>,
    args: PageArgs,
) -> ApiResult<Conn<Enterprise>> {
    use enterprise::Column as E;
    let filter = filter.unwrap_or_default();
    let mut condition = Condition::all();
    if let Some(id) = &filter.region_id {
        let kinds = [NodeKind::County, NodeKind::Township, NodeKind::Village];
        let region = find_region(ctx, id, "filter.regionId", &kinds).await?;
        condition = condition.add(village_in(E::VillageId, &region));
    }
    if let Some(kind) = filter.kind {
        condition = condition.add(E::Kind.is_in(kind));
    }
    if let Some(industry) = filter.industry {
        condition = condition.add(E::Industry.is_in(industry));
    }
    if let Some(search) = &filter.search {
        let prefix = search_prefix(search, "filter.search")?;
        condition = condition.add(
            Condition::any()
                .add(E::CreditCode.eq(prefix.to_uppercase()))
                .add(
                    Condition::all()
                        .add(E::Name.gte(prefix))
                        .add(E::Name.lt(format!("{prefix}\u{10FFFF}"))),
                ),
        );
    }
    let select = access::select::<enterprise::Entity>(viewer(ctx)?).filter(condition);
    match village {
        Some(village) => {
            let parent = ParentColumn {
                table: "enterprise",
                column: "village_id",
            };
            paginate_nested(ctx, select, parent, village, BY_ID, args, Enterprise).await
        }
        None => paginate(ctx, select, &BY_ID, page(ctx, args)?, Enterprise).await,
    }
}

pub struct Enterprise(pub enterprise::Model);

/// Its relations go through the DataLoaders.
impl crate::graphql::prefetch::Prefetch for Enterprise {
    type Row = entity::enterprise::Model;
}

/// An enterprise, cooperative, family farm or large household (经营主体).
#[Object]
impl Enterprise {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Enterprise, self.0.id)
    }
    /// Registered name (名称).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Unified social credit code (统一社会信用代码).
    async fn credit_code(&self) -> &str {
        &self.0.credit_code
    }
    /// Kind of entity (主体类型).
    async fn kind(&self) -> EnterpriseKind {
        self.0.kind
    }
    /// Industry (所属产业).
    async fn industry(&self) -> Industry {
        self.0.industry
    }
    /// The village it is registered in (所在村), if in the county.
    async fn village(&self, ctx: &Context<'_>) -> ApiResult<Option<Village>> {
        let Some(village) = self.0.village_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.regions.load_one(village).await?.map(Village))
    }
    /// Contact person (联系人): not for the public.
    async fn contact_person(&self) -> Option<&str> {
        self.0.contact_person.as_deref()
    }
    /// Contact telephone (联系电话): for the county, townships, enterprises,
    /// auditors and the province.
    async fn contact_phone(&self) -> Option<&str> {
        self.0.contact_phone.as_deref()
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Its benefit links with poor households that the reader sees: an
    /// enterprise user its own, others those of the households they reach
    /// (利益联结); in recording order.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn benefit_links(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only links open today (true) or not (false) (是否有效).")] active: Option<
            bool,
        >,
        #[graphql(
            desc = "Items from the start of the list, or after `after`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); 20 when neither `first` nor `last` is given (每页条数)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Cursor of an edge of this list: the page starts after it (游标).")]
        after: Option<String>,
        #[graphql(
            desc = "Items from the end of the list, or before `before`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); not with `first` (每页条数)."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor of an edge of this list: the page ends before it, paging backwards; with `last`, not with `after` (游标)."
        )]
        before: Option<String>,
    ) -> ApiResult<Conn<BenefitLink>> {
        let args = PageArgs::new(first, after, last, before);
        link::links_of_enterprise(ctx, self.0.id, active, args).await
    }
    /// What it brought poor households in a year: public figures over all its
    /// links and donations (年度带贫成效).
    #[graphql(
        complexity = "crate::graphql::cost::priced(crate::graphql::cost::ENTERPRISE_FIGURES, child_complexity)"
    )]
    async fn benefit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year, 2014 or later (年度).")] year: i32,
    ) -> ApiResult<EnterpriseBenefit> {
        figures::benefit_of(ctx, self.0.id, year).await
    }
    /// Projects it implements (实施的项目).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which projects; all if not given (筛选条件).")] filter: Option<
            ProjectFilter,
        >,
        #[graphql(
            desc = "Items from the start of the list, or after `after`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); 20 when neither `first` nor `last` is given (每页条数)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Cursor of an edge of this list: the page starts after it (游标).")]
        after: Option<String>,
        #[graphql(
            desc = "Items from the end of the list, or before `before`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); not with `first` (每页条数)."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor of an edge of this list: the page ends before it, paging backwards; with `last`, not with `after` (游标)."
        )]
        before: Option<String>,
    ) -> ApiResult<Conn<Project>> {
        super::project::list(
            ctx,
            Some(ProjectsOf::Enterprise(self.0.id)),
            filter,
            PageArgs::new(first, after, last, before),
        )
        .await
    }
}

/// Queries of enterprises: lists, one by ID, and the ranking.
#[derive(MergedObject, Default)]
pub struct EnterpriseQuery(ListQuery, figures::RankingQuery);

/// Changes to enterprises and their benefit links.
#[derive(MergedObject, Default)]
pub struct EnterpriseMutation(edit::EditMutation, link::LinkMutation);

#[derive(Default)]
pub struct ListQuery;

#[Object]
impl ListQuery {
    /// Enterprises and cooperatives (经营主体), in registration order.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn enterprises(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which enterprises; all if not given (筛选条件).")] filter: Option<
            EnterpriseFilter,
        >,
        #[graphql(
            desc = "Items from the start of the list, or after `after`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); 20 when neither `first` nor `last` is given (每页条数)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Cursor of an edge of this list: the page starts after it (游标).")]
        after: Option<String>,
        #[graphql(
            desc = "Items from the end of the list, or before `before`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); not with `first` (每页条数)."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor of an edge of this list: the page ends before it, paging backwards; with `last`, not with `after` (游标)."
        )]
        before: Option<String>,
    ) -> ApiResult<Conn<Enterprise>> {
        list(ctx, None, filter, PageArgs::new(first, after, last, before)).await
    }

    /// One enterprise by ID.
    async fn enterprise(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the enterprise (企业).")] id: ID,
    ) -> ApiResult<Enterprise> {
        let (_, raw) = decode_id_of(&id, "id", &[NodeKind::Enterprise])?;
        loaders(ctx)?
            .enterprises
            .load_one(raw)
            .await?
            .map(Enterprise)
            .ok_or_else(|| ApiError::not_found("Enterprise"))
    }
}
