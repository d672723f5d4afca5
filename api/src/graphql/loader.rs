//! DataLoaders, created per request: their caches live as long as one request,
//! since a cache shared across requests would serve one viewer's rows to another.
//! Every relation resolves through one of these, so a page of N rows costs one
//! statement per relation, not N.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{
    app_user, asset_income, benefit_link, complaint, enterprise, fund_entry, fund_source,
    helper_pairing, helper_unit, household, household_cause, household_income, loan, measure,
    member, monitoring_case, monitoring_risk, objection, policy, poverty_line, project,
    project_asset, project_beneficiary, project_stage_change, project_village, proposal, region,
    status_change, unit_pairing, village_staff, visit, visit_help,
};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::relay::{self, NestedPage};
use crate::access::{self, Scoped, Viewer};
use crate::domain::funds::{self, Totals};
use crate::domain::microcredit;
use crate::error::ApiError;
use crate::telemetry::metrics::{Metrics, spawn_in_request};

/// An entity with an `i64` primary key `id`.
pub trait Keyed: Scoped {
    fn id_column() -> Self::Column;
    fn id_of(model: &Self::Model) -> i64;
}

/// An entity listed under a parent row, in a stable order.
pub trait Child: Scoped {
    fn parent_column() -> Self::Column;
    fn parent_of(model: &Self::Model) -> i64;
    fn order_column() -> Self::Column;
    /// Rows that belong to the listing at all (e.g. only active members).
    fn listed() -> Condition {
        Condition::all()
    }
}

macro_rules! keyed {
    ($($module:ident),+) => {
        $(impl Keyed for $module::Entity {
            fn id_column() -> Self::Column { $module::Column::Id }
            fn id_of(model: &Self::Model) -> i64 { model.id }
        })+
    };
}
keyed!(
    region,
    household,
    member,
    enterprise,
    project,
    app_user,
    proposal,
    objection,
    monitoring_case,
    measure,
    visit,
    helper_unit,
    village_staff,
    fund_source,
    fund_entry,
    benefit_link,
    policy,
    complaint,
    helper_pairing,
    unit_pairing,
    loan
);

impl Child for member::Entity {
    fn parent_column() -> Self::Column {
        member::Column::HouseholdId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.household_id
    }
    fn order_column() -> Self::Column {
        member::Column::Id
    }
    fn listed() -> Condition {
        Condition::all().add(member::Column::IsActive.eq(true))
    }
}

impl Child for helper_pairing::Entity {
    fn parent_column() -> Self::Column {
        helper_pairing::Column::HouseholdId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.household_id
    }
    fn order_column() -> Self::Column {
        helper_pairing::Column::Id
    }
}

impl Child for household_cause::Entity {
    fn parent_column() -> Self::Column {
        household_cause::Column::HouseholdId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.household_id
    }
    fn order_column() -> Self::Column {
        household_cause::Column::Cause
    }
}

impl Child for household_income::Entity {
    fn parent_column() -> Self::Column {
        household_income::Column::HouseholdId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.household_id
    }
    fn order_column() -> Self::Column {
        household_income::Column::Year
    }
}

impl Child for proposal::Entity {
    fn parent_column() -> Self::Column {
        proposal::Column::HouseholdId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.household_id
    }
    fn order_column() -> Self::Column {
        proposal::Column::Id
    }
}

impl Child for status_change::Entity {
    fn parent_column() -> Self::Column {
        status_change::Column::HouseholdId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.household_id
    }
    fn order_column() -> Self::Column {
        status_change::Column::Id
    }
}

impl Child for monitoring_case::Entity {
    fn parent_column() -> Self::Column {
        monitoring_case::Column::HouseholdId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.household_id
    }
    fn order_column() -> Self::Column {
        monitoring_case::Column::Id
    }
}

impl Child for objection::Entity {
    fn parent_column() -> Self::Column {
        objection::Column::ProposalId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.proposal_id
    }
    fn order_column() -> Self::Column {
        objection::Column::Id
    }
}

impl Child for monitoring_risk::Entity {
    fn parent_column() -> Self::Column {
        monitoring_risk::Column::CaseId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.case_id
    }
    fn order_column() -> Self::Column {
        monitoring_risk::Column::Risk
    }
}

impl Child for loan::Entity {
    fn parent_column() -> Self::Column {
        loan::Column::HouseholdId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.household_id
    }
    fn order_column() -> Self::Column {
        loan::Column::DisbursedOn
    }
}

impl Child for measure::Entity {
    fn parent_column() -> Self::Column {
        measure::Column::HouseholdId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.household_id
    }
    fn order_column() -> Self::Column {
        measure::Column::Deadline
    }
}

impl Child for visit::Entity {
    fn parent_column() -> Self::Column {
        visit::Column::HouseholdId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.household_id
    }
    fn order_column() -> Self::Column {
        visit::Column::VisitedOn
    }
}

impl Child for visit_help::Entity {
    fn parent_column() -> Self::Column {
        visit_help::Column::VisitId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.visit_id
    }
    fn order_column() -> Self::Column {
        visit_help::Column::Kind
    }
}

/// A village's staff: those serving now.
impl Child for village_staff::Entity {
    fn parent_column() -> Self::Column {
        village_staff::Column::VillageId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.village_id
    }
    fn order_column() -> Self::Column {
        village_staff::Column::Id
    }
    fn listed() -> Condition {
        Condition::all().add(village_staff::Column::EndedOn.is_null())
    }
}

/// A project's history, oldest step first.
impl Child for project_stage_change::Entity {
    fn parent_column() -> Self::Column {
        project_stage_change::Column::ProjectId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.project_id
    }
    fn order_column() -> Self::Column {
        project_stage_change::Column::Id
    }
}

/// A household's benefit links, earliest first.
impl Child for benefit_link::Entity {
    fn parent_column() -> Self::Column {
        benefit_link::Column::HouseholdId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.household_id
    }
    fn order_column() -> Self::Column {
        benefit_link::Column::StartedOn
    }
}

/// A project's assets, as far as the viewer sees them, in registration order.
impl Child for project_asset::Entity {
    fn parent_column() -> Self::Column {
        project_asset::Column::ProjectId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.project_id
    }
    fn order_column() -> Self::Column {
        project_asset::Column::Id
    }
}

/// An asset's incomes, in recording order.
impl Child for asset_income::Entity {
    fn parent_column() -> Self::Column {
        asset_income::Column::AssetId
    }
    fn parent_of(model: &Self::Model) -> i64 {
        model.asset_id
    }
    fn order_column() -> Self::Column {
        asset_income::Column::Id
    }
}

/// Rows of `E` by primary key, within the viewer's scope.
pub struct ById<E> {
    db: DatabaseConnection,
    viewer: Viewer,
    entity: PhantomData<fn() -> E>,
}

impl<E> ById<E> {
    fn new(db: &DatabaseConnection, viewer: &Viewer) -> Self {
        Self {
            db: db.clone(),
            viewer: viewer.clone(),
            entity: PhantomData,
        }
    }
}

impl<E> Loader<i64> for ById<E>
where
    E: Keyed,
    E::Model: FromQueryResult + Clone + Send + Sync,
{
    type Value = E::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, E::Model>, ApiError> {
        let rows = access::select::<E>(&self.viewer)
            .filter(E::id_column().is_in(keys.iter().copied()))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|row| (E::id_of(&row), row)).collect())
    }
}

/// Rows of `E` grouped by parent ID, within the viewer's scope.
pub struct ByParent<E> {
    db: DatabaseConnection,
    viewer: Viewer,
    entity: PhantomData<fn() -> E>,
}

impl<E> ByParent<E> {
    fn new(db: &DatabaseConnection, viewer: &Viewer) -> Self {
        Self {
            db: db.clone(),
            viewer: viewer.clone(),
            entity: PhantomData,
        }
    }
}

impl<E> Loader<i64> for ByParent<E>
where
    E: Child,
    E::Model: FromQueryResult + Clone + Send + Sync,
{
    type Value = Vec<E::Model>;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Vec<E::Model>>, ApiError> {
        let rows = access::select::<E>(&self.viewer)
            .filter(E::parent_column().is_in(keys.iter().copied()))
            .filter(E::listed())
            .order_by_asc(E::order_column())
            .all(&self.db)
            .await?;
        // Every parent gets its list, empty ones too, so that a list read
        // ahead is never asked of the database again.
        let mut groups: HashMap<i64, Vec<E::Model>> =
            keys.iter().map(|&key| (key, Vec::new())).collect();
        for row in rows {
            groups.entry(E::parent_of(&row)).or_default().push(row);
        }
        Ok(groups)
    }
}

/// One page of a nested list for each parent, a batch per distinct page shape.
pub struct PagesByParent<E> {
    db: DatabaseConnection,
    entity: PhantomData<fn() -> E>,
}

impl<E> PagesByParent<E> {
    fn new(db: &DatabaseConnection) -> Self {
        Self {
            db: db.clone(),
            entity: PhantomData,
        }
    }
}

/// Key of a nested page: the parent's ID and the page's shape.
pub type NestedKey<E> = (i64, Arc<NestedPage<E>>);

/// Groups keys by shape, so that each shape is fetched once for all its parents.
fn by_shape<E: EntityTrait>(keys: &[NestedKey<E>]) -> Vec<(Arc<NestedPage<E>>, Vec<i64>)> {
    let mut shapes: Vec<(Arc<NestedPage<E>>, Vec<i64>)> = Vec::new();
    for (parent, shape) in keys {
        match shapes.iter_mut().find(|(s, _)| s == shape) {
            Some((_, parents)) => parents.push(*parent),
            None => shapes.push((shape.clone(), vec![*parent])),
        }
    }
    shapes
}

impl<E> Loader<NestedKey<E>> for PagesByParent<E>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Clone + Send + Sync,
{
    type Value = Vec<E::Model>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[NestedKey<E>],
    ) -> Result<HashMap<NestedKey<E>, Vec<E::Model>>, ApiError> {
        let mut pages = HashMap::new();
        for (shape, parents) in by_shape(keys) {
            let mut rows = relay::nested_rows(&self.db, &shape, &parents).await?;
            for parent in parents {
                pages.insert(
                    (parent, shape.clone()),
                    rows.remove(&parent).unwrap_or_default(),
                );
            }
        }
        Ok(pages)
    }
}

/// The size of a nested list for each parent.
pub struct CountsByParent<E> {
    db: DatabaseConnection,
    entity: PhantomData<fn() -> E>,
}

impl<E> CountsByParent<E> {
    fn new(db: &DatabaseConnection) -> Self {
        Self {
            db: db.clone(),
            entity: PhantomData,
        }
    }
}

impl<E: EntityTrait> Loader<NestedKey<E>> for CountsByParent<E> {
    type Value = u64;
    type Error = ApiError;

    async fn load(&self, keys: &[NestedKey<E>]) -> Result<HashMap<NestedKey<E>, u64>, ApiError> {
        let mut totals = HashMap::new();
        for (shape, parents) in by_shape(keys) {
            let counts = relay::nested_counts(&self.db, &shape, &parents).await?;
            for parent in parents {
                totals.insert(
                    (parent, shape.clone()),
                    counts.get(&parent).copied().unwrap_or(0),
                );
            }
        }
        Ok(totals)
    }
}

/// An entity listed as a nested connection under parent rows.
pub trait Nested: EntityTrait
where
    Self::Model: FromQueryResult + Clone + Send + Sync,
{
    fn pages(loaders: &Loaders) -> &Cached<PagesByParent<Self>>;
    fn counts(loaders: &Loaders) -> &Cached<CountsByParent<Self>>;
}

macro_rules! nested {
    ($($module:ident => $pages:ident, $counts:ident);+ $(;)?) => {
        $(impl Nested for $module::Entity {
            fn pages(loaders: &Loaders) -> &Cached<PagesByParent<Self>> { &loaders.$pages }
            fn counts(loaders: &Loaders) -> &Cached<CountsByParent<Self>> { &loaders.$counts }
        })+
    };
}
nested!(
    region => region_pages, region_counts;
    household => household_pages, household_counts;
    enterprise => enterprise_pages, enterprise_counts;
    project => project_pages, project_counts;
    benefit_link => benefit_link_pages, benefit_link_counts;
);

/// The villages each project covers.
pub struct VillagesByProject {
    db: DatabaseConnection,
    viewer: Viewer,
}

impl Loader<i64> for VillagesByProject {
    type Value = Vec<region::Model>;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Vec<region::Model>>, ApiError> {
        let links = access::select::<project_village::Entity>(&self.viewer)
            .filter(project_village::Column::ProjectId.is_in(keys.iter().copied()))
            .all(&self.db)
            .await?;
        let villages: HashMap<i64, region::Model> = access::select::<region::Entity>(&self.viewer)
            .filter(region::Column::Id.is_in(links.iter().map(|l| l.village_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect();
        let mut groups: HashMap<i64, Vec<region::Model>> = HashMap::new();
        for link in links {
            if let Some(village) = villages.get(&link.village_id) {
                groups
                    .entry(link.project_id)
                    .or_default()
                    .push(village.clone());
            }
        }
        for group in groups.values_mut() {
            group.sort_by(|a, b| a.code.cmp(&b.code));
        }
        Ok(groups)
    }
}

/// How many households each project benefits: a number anyone may know, so
/// counted over every beneficiary row, not only those the viewer reaches.
pub struct BeneficiaryCounts {
    db: DatabaseConnection,
}

impl Loader<i64> for BeneficiaryCounts {
    type Value = i64;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, i64>, ApiError> {
        use project_beneficiary::Column as B;
        let counts: Vec<(i64, i64)> = project_beneficiary::Entity::find()
            .select_only()
            .column(B::ProjectId)
            .column_as(B::HouseholdId.count(), "beneficiaries")
            .filter(B::ProjectId.is_in(keys.iter().copied()))
            .group_by(B::ProjectId)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(counts.into_iter().collect())
    }
}

/// Which side of a unit pairing a [`CurrentUnitPairings`] loader is keyed by.
#[derive(Debug, Clone, Copy)]
pub enum PairedBy {
    Unit,
    Village,
}

/// The current pairings of helper units with villages, by unit or by village.
pub struct CurrentUnitPairings {
    db: DatabaseConnection,
    viewer: Viewer,
    by: PairedBy,
}

impl Loader<i64> for CurrentUnitPairings {
    type Value = Vec<unit_pairing::Model>;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Vec<unit_pairing::Model>>, ApiError> {
        let column = match self.by {
            PairedBy::Unit => unit_pairing::Column::UnitId,
            PairedBy::Village => unit_pairing::Column::VillageId,
        };
        let rows = access::select::<unit_pairing::Entity>(&self.viewer)
            .filter(column.is_in(keys.iter().copied()))
            .filter(unit_pairing::Column::EndedOn.is_null())
            .order_by_asc(unit_pairing::Column::Id)
            .all(&self.db)
            .await?;
        let mut groups: HashMap<i64, Vec<unit_pairing::Model>> = HashMap::new();
        for row in rows {
            let key = match self.by {
                PairedBy::Unit => row.unit_id,
                PairedBy::Village => row.village_id,
            };
            groups.entry(key).or_default().push(row);
        }
        Ok(groups)
    }
}

/// What each loan's repayments add up to, in fen (0 for none).
pub struct RepaidByLoan {
    db: DatabaseConnection,
}

impl Loader<i64> for RepaidByLoan {
    type Value = i64;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, i64>, ApiError> {
        let mut repaid = microcredit::repaid_by_loan(&self.db, keys.iter().copied()).await?;
        for key in keys {
            repaid.entry(*key).or_insert(0);
        }
        Ok(repaid)
    }
}

/// The poverty line of each year.
pub struct PovertyLineByYear {
    db: DatabaseConnection,
    viewer: Viewer,
}

impl Loader<i32> for PovertyLineByYear {
    type Value = poverty_line::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, poverty_line::Model>, ApiError> {
        let rows = access::select::<poverty_line::Entity>(&self.viewer)
            .filter(poverty_line::Column::Year.is_in(keys.iter().copied()))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|row| (row.year, row)).collect())
    }
}

/// The entry reversing each ledger entry, where there is one.
pub struct ReversalOf {
    db: DatabaseConnection,
    viewer: Viewer,
}

impl Loader<i64> for ReversalOf {
    type Value = fund_entry::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, fund_entry::Model>, ApiError> {
        let rows = access::select::<fund_entry::Entity>(&self.viewer)
            .filter(fund_entry::Column::ReversesId.is_in(keys.iter().copied()))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| row.reverses_id.map(|id| (id, row)))
            .collect())
    }
}

/// Net ledger totals of each fund source. The ledger is public: sums run over
/// every entry, whoever asks.
pub struct TotalsOfSource {
    db: DatabaseConnection,
}

impl Loader<i64> for TotalsOfSource {
    type Value = Totals;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Totals>, ApiError> {
        let filter = Condition::all().add(fund_entry::Column::SourceId.is_in(keys.iter().copied()));
        funds::totals_by(&self.db, fund_entry::Column::SourceId, filter).await
    }
}

/// Net ledger totals of each project, by fund source in source order.
pub struct TotalsOfProject {
    db: DatabaseConnection,
}

impl Loader<i64> for TotalsOfProject {
    type Value = Vec<(i64, Totals)>;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Vec<(i64, Totals)>>, ApiError> {
        let filter =
            Condition::all().add(fund_entry::Column::ProjectId.is_in(keys.iter().copied()));
        let pairs = funds::totals_by_project_and_source(&self.db, filter).await?;
        let mut groups: HashMap<i64, Vec<(i64, Totals)>> = HashMap::new();
        for ((project, source), totals) in pairs {
            groups.entry(project).or_default().push((source, totals));
        }
        for group in groups.values_mut() {
            group.sort_by_key(|(source, _)| *source);
        }
        Ok(groups)
    }
}

pub type Cached<L> = DataLoader<Measured<L>, HashMapCache>;

/// A loader whose batches are counted in the metrics, by the loader's type.
pub struct Measured<L> {
    loader: L,
    metrics: Metrics,
}

impl<K, L> Loader<K> for Measured<L>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    type Value = L::Value;
    type Error = L::Error;

    async fn load(&self, keys: &[K]) -> Result<HashMap<K, L::Value>, L::Error> {
        self.metrics
            .loader_batch(loader_name(std::any::type_name::<L>()), keys.len());
        self.loader.load(keys).await
    }
}

fn measured<K, L>(metrics: &Metrics, loader: L, delay: Duration) -> Cached<L>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    let loader = Measured {
        loader,
        metrics: metrics.clone(),
    };
    DataLoader::with_cache(loader, spawn_in_request, HashMapCache::default()).delay(delay)
}

/// `ById<household>` for `api::graphql::loader::ById<entity::household::Entity>`.
fn loader_name(type_name: &str) -> String {
    let mut name = String::new();
    let mut path = String::new();
    for c in type_name.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
            continue;
        }
        let mut segments = path.rsplit("::");
        let last = segments.next().unwrap_or_default();
        name.push_str(match last {
            "Entity" => segments.next().unwrap_or(last),
            _ => last,
        });
        path.clear();
        if c != ' ' {
            name.push(c);
        }
    }
    name
}

/// All loaders of one request.
pub struct Loaders {
    pub regions: Cached<ById<region::Entity>>,
    pub households: Cached<ById<household::Entity>>,
    pub members: Cached<ById<member::Entity>>,
    pub enterprises: Cached<ById<enterprise::Entity>>,
    pub projects: Cached<ById<project::Entity>>,
    pub users: Cached<ById<app_user::Entity>>,
    pub proposals: Cached<ById<proposal::Entity>>,
    pub objections: Cached<ById<objection::Entity>>,
    pub monitoring_cases: Cached<ById<monitoring_case::Entity>>,
    pub household_proposals: Cached<ByParent<proposal::Entity>>,
    pub household_status_changes: Cached<ByParent<status_change::Entity>>,
    pub household_monitoring_cases: Cached<ByParent<monitoring_case::Entity>>,
    pub proposal_objections: Cached<ByParent<objection::Entity>>,
    pub case_risks: Cached<ByParent<monitoring_risk::Entity>>,
    pub measures: Cached<ById<measure::Entity>>,
    pub visits: Cached<ById<visit::Entity>>,
    pub helper_units: Cached<ById<helper_unit::Entity>>,
    pub village_staff: Cached<ById<village_staff::Entity>>,
    pub household_measures: Cached<ByParent<measure::Entity>>,
    pub loans: Cached<ById<loan::Entity>>,
    pub household_loans: Cached<ByParent<loan::Entity>>,
    /// Keyed by loans the reader reached through `loans` or `household_loans`.
    pub loan_repaid: Cached<RepaidByLoan>,
    pub household_visits: Cached<ByParent<visit::Entity>>,
    pub visit_helps: Cached<ByParent<visit_help::Entity>>,
    pub village_serving_staff: Cached<ByParent<village_staff::Entity>>,
    pub unit_pairings_by_unit: Cached<CurrentUnitPairings>,
    pub unit_pairings_by_village: Cached<CurrentUnitPairings>,
    pub household_members: Cached<ByParent<member::Entity>>,
    pub household_causes: Cached<ByParent<household_cause::Entity>>,
    pub household_pairings: Cached<ByParent<helper_pairing::Entity>>,
    pub household_incomes: Cached<ByParent<household_income::Entity>>,
    pub project_villages: Cached<VillagesByProject>,
    pub project_history: Cached<ByParent<project_stage_change::Entity>>,
    pub project_beneficiary_counts: Cached<BeneficiaryCounts>,
    pub project_assets: Cached<ByParent<project_asset::Entity>>,
    pub asset_incomes: Cached<ByParent<asset_income::Entity>>,
    pub poverty_lines: Cached<PovertyLineByYear>,
    pub region_pages: Cached<PagesByParent<region::Entity>>,
    pub region_counts: Cached<CountsByParent<region::Entity>>,
    pub household_pages: Cached<PagesByParent<household::Entity>>,
    pub household_counts: Cached<CountsByParent<household::Entity>>,
    pub enterprise_pages: Cached<PagesByParent<enterprise::Entity>>,
    pub enterprise_counts: Cached<CountsByParent<enterprise::Entity>>,
    pub project_pages: Cached<PagesByParent<project::Entity>>,
    pub project_counts: Cached<CountsByParent<project::Entity>>,
    pub fund_sources: Cached<ById<fund_source::Entity>>,
    pub fund_entries: Cached<ById<fund_entry::Entity>>,
    pub fund_reversals: Cached<ReversalOf>,
    pub source_totals: Cached<TotalsOfSource>,
    pub project_fund_totals: Cached<TotalsOfProject>,
    pub benefit_links: Cached<ById<benefit_link::Entity>>,
    pub household_benefit_links: Cached<ByParent<benefit_link::Entity>>,
    pub benefit_link_pages: Cached<PagesByParent<benefit_link::Entity>>,
    pub benefit_link_counts: Cached<CountsByParent<benefit_link::Entity>>,
    pub enterprise_benefits: Cached<crate::graphql::enterprise::figures::BenefitByYear>,
    pub policies: Cached<ById<policy::Entity>>,
    pub policy_audiences: Cached<crate::graphql::publicity::AudienceByPolicy>,
    pub policy_reads: Cached<crate::graphql::publicity::ReadAtByPolicy>,
    pub complaints: Cached<ById<complaint::Entity>>,
    pub helper_pairings: Cached<ById<helper_pairing::Entity>>,
    pub unit_pairings: Cached<ById<unit_pairing::Entity>>,
}

impl Loaders {
    /// Loaders that gather keys for `delay` before each query.
    pub fn new(
        db: &DatabaseConnection,
        viewer: &Viewer,
        delay: Duration,
        metrics: &Metrics,
    ) -> Self {
        Self {
            regions: measured(metrics, ById::new(db, viewer), delay),
            households: measured(metrics, ById::new(db, viewer), delay),
            members: measured(metrics, ById::new(db, viewer), delay),
            enterprises: measured(metrics, ById::new(db, viewer), delay),
            projects: measured(metrics, ById::new(db, viewer), delay),
            users: measured(metrics, ById::new(db, viewer), delay),
            proposals: measured(metrics, ById::new(db, viewer), delay),
            objections: measured(metrics, ById::new(db, viewer), delay),
            monitoring_cases: measured(metrics, ById::new(db, viewer), delay),
            household_proposals: measured(metrics, ByParent::new(db, viewer), delay),
            household_status_changes: measured(metrics, ByParent::new(db, viewer), delay),
            household_monitoring_cases: measured(metrics, ByParent::new(db, viewer), delay),
            proposal_objections: measured(metrics, ByParent::new(db, viewer), delay),
            case_risks: measured(metrics, ByParent::new(db, viewer), delay),
            measures: measured(metrics, ById::new(db, viewer), delay),
            visits: measured(metrics, ById::new(db, viewer), delay),
            helper_units: measured(metrics, ById::new(db, viewer), delay),
            village_staff: measured(metrics, ById::new(db, viewer), delay),
            household_measures: measured(metrics, ByParent::new(db, viewer), delay),
            loans: measured(metrics, ById::new(db, viewer), delay),
            household_loans: measured(metrics, ByParent::new(db, viewer), delay),
            loan_repaid: measured(metrics, RepaidByLoan { db: db.clone() }, delay),
            household_visits: measured(metrics, ByParent::new(db, viewer), delay),
            visit_helps: measured(metrics, ByParent::new(db, viewer), delay),
            village_serving_staff: measured(metrics, ByParent::new(db, viewer), delay),
            unit_pairings_by_unit: measured(
                metrics,
                CurrentUnitPairings {
                    db: db.clone(),
                    viewer: viewer.clone(),
                    by: PairedBy::Unit,
                },
                delay,
            ),
            unit_pairings_by_village: measured(
                metrics,
                CurrentUnitPairings {
                    db: db.clone(),
                    viewer: viewer.clone(),
                    by: PairedBy::Village,
                },
                delay,
            ),
            household_members: measured(metrics, ByParent::new(db, viewer), delay),
            household_causes: measured(metrics, ByParent::new(db, viewer), delay),
            household_pairings: measured(metrics, ByParent::new(db, viewer), delay),
            household_incomes: measured(metrics, ByParent::new(db, viewer), delay),
            project_villages: measured(
                metrics,
                VillagesByProject {
                    db: db.clone(),
                    viewer: viewer.clone(),
                },
                delay,
            ),
            project_history: measured(metrics, ByParent::new(db, viewer), delay),
            project_beneficiary_counts: measured(
                metrics,
                BeneficiaryCounts { db: db.clone() },
                delay,
            ),
            project_assets: measured(metrics, ByParent::new(db, viewer), delay),
            asset_incomes: measured(metrics, ByParent::new(db, viewer), delay),
            region_pages: measured(metrics, PagesByParent::new(db), delay),
            region_counts: measured(metrics, CountsByParent::new(db), delay),
            household_pages: measured(metrics, PagesByParent::new(db), delay),
            household_counts: measured(metrics, CountsByParent::new(db), delay),
            enterprise_pages: measured(metrics, PagesByParent::new(db), delay),
            enterprise_counts: measured(metrics, CountsByParent::new(db), delay),
            project_pages: measured(metrics, PagesByParent::new(db), delay),
            project_counts: measured(metrics, CountsByParent::new(db), delay),
            fund_sources: measured(metrics, ById::new(db, viewer), delay),
            fund_entries: measured(metrics, ById::new(db, viewer), delay),
            fund_reversals: measured(
                metrics,
                ReversalOf {
                    db: db.clone(),
                    viewer: viewer.clone(),
                },
                delay,
            ),
            source_totals: measured(metrics, TotalsOfSource { db: db.clone() }, delay),
            project_fund_totals: measured(metrics, TotalsOfProject { db: db.clone() }, delay),
            benefit_links: measured(metrics, ById::new(db, viewer), delay),
            household_benefit_links: measured(metrics, ByParent::new(db, viewer), delay),
            benefit_link_pages: measured(metrics, PagesByParent::new(db), delay),
            benefit_link_counts: measured(metrics, CountsByParent::new(db), delay),
            enterprise_benefits: measured(
                metrics,
                crate::graphql::enterprise::figures::BenefitByYear::new(db),
                delay,
            ),
            policies: measured(metrics, ById::new(db, viewer), delay),
            policy_audiences: measured(
                metrics,
                crate::graphql::publicity::AudienceByPolicy::new(db, viewer),
                delay,
            ),
            policy_reads: measured(
                metrics,
                crate::graphql::publicity::ReadAtByPolicy::new(db, viewer),
                delay,
            ),
            poverty_lines: measured(
                metrics,
                PovertyLineByYear {
                    db: db.clone(),
                    viewer: viewer.clone(),
                },
                delay,
            ),
            complaints: measured(metrics, ById::new(db, viewer), delay),
            helper_pairings: measured(metrics, ById::new(db, viewer), delay),
            unit_pairings: measured(metrics, ById::new(db, viewer), delay),
        }
    }
}
