//! The step mutations of a project's lifecycle (项目全流程), from the project
//! library to the announcement of its acceptance. The table of steps and the
//! rules of each are in `domain::project`.

use crate::graphql::date::Day;
use async_graphql::{Context, ID, Object};

use super::super::relay::{NodeKind, decode_id_of};
use super::Project;
use crate::domain::project::{self, ProjectVersion};
use crate::error::ApiResult;
use crate::graphql::context::{actor, db, viewer};
use crate::graphql::notice::PaperNoticeInput;

/// The project a step is asked of, as the caller read it.
fn project_version(id: &ID, version: i32) -> ApiResult<ProjectVersion> {
    let (_, id) = decode_id_of(id, "id", &[NodeKind::Project])?;
    Ok(ProjectVersion { id, version })
}

#[derive(Default)]
pub struct ProjectLifecycleMutation;

#[Object]
impl ProjectLifecycleMutation {
    /// Publishes the public notice before approval of a project in the library
    /// (批复前公示); a later notice replaces an earlier one. The notice is up at
    /// least five days, its first and last included; one that started before
    /// today was posted on paper first and needs that paper's evidence.
    async fn publish_project_notice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project (项目).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
        #[graphql(desc = "First day of the notice, not in the future (公示开始日期).")]
        starts_on: Day,
        #[graphql(
            desc = "Last day of the notice, at least four days after the first (公示截止日期)."
        )]
        ends_on: Day,
        #[graphql(
            desc = "For a notice that started before today: the paper notice it was first posted as (纸质公示佐证)."
        )]
        paper_notice: Option<PaperNoticeInput>,
    ) -> ApiResult<Project> {
        let paper = PaperNoticeInput::parse(paper_notice.as_ref(), "paperNotice")?;
        let (actor, viewer) = (actor(ctx)?, viewer(ctx)?);
        let project = project_version(&id, version)?;
        let after = project::publish_notice(
            db(ctx)?,
            &actor,
            viewer,
            project,
            starts_on.0,
            ends_on.0,
            paper,
        )
        .await?;
        Ok(Project(after))
    }

    /// Approves a project in the library (项目批复), once its public notice has ended.
    async fn approve_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project (项目).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
        #[graphql(desc = "The day of approval; today if not given (批复日期).")] on: Option<Day>,
        #[graphql(desc = "The approval document or a note (批复文号或说明).")] note: Option<String>,
    ) -> ApiResult<Project> {
        let (actor, viewer) = (actor(ctx)?, viewer(ctx)?);
        let project = project_version(&id, version)?;
        let after =
            project::approve(db(ctx)?, &actor, viewer, project, on.map(Into::into), note).await?;
        Ok(Project(after))
    }

    /// Starts work on an approved project (项目开工).
    async fn start_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project (项目).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
        #[graphql(desc = "The day work started; today if not given (实际开工日期).")] on: Option<
            Day,
        >,
    ) -> ApiResult<Project> {
        let (actor, viewer) = (actor(ctx)?, viewer(ctx)?);
        let project = project_version(&id, version)?;
        let after = project::start(db(ctx)?, &actor, viewer, project, on.map(Into::into)).await?;
        Ok(Project(after))
    }

    /// Reports the progress of a project under way, as of today (报告实施进度);
    /// progress never goes back.
    async fn report_project_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project (项目).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
        #[graphql(desc = "Progress in percent, 0 to 100, not below the last report (实施进度).")]
        percent: i32,
        #[graphql(desc = "What was done (进展说明).")] note: Option<String>,
    ) -> ApiResult<Project> {
        let (actor, viewer) = (actor(ctx)?, viewer(ctx)?);
        let project = project_version(&id, version)?;
        let after =
            project::report_progress(db(ctx)?, &actor, viewer, project, percent, note).await?;
        Ok(Project(after))
    }

    /// Completes work on a project under way (项目完工): progress becomes 100%.
    async fn complete_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project (项目).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
        #[graphql(desc = "The day work was completed; today if not given (实际完工日期).")]
        on: Option<Day>,
    ) -> ApiResult<Project> {
        let (actor, viewer) = (actor(ctx)?, viewer(ctx)?);
        let project = project_version(&id, version)?;
        let after =
            project::complete(db(ctx)?, &actor, viewer, project, on.map(Into::into)).await?;
        Ok(Project(after))
    }

    /// Accepts a completed project after inspection (项目验收); its result is
    /// then due for announcement within 20 working days.
    async fn accept_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project (项目).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
        #[graphql(desc = "The day of acceptance; today if not given (验收日期).")] on: Option<Day>,
        #[graphql(desc = "The inspection's findings (验收意见).")] note: Option<String>,
    ) -> ApiResult<Project> {
        let (actor, viewer) = (actor(ctx)?, viewer(ctx)?);
        let project = project_version(&id, version)?;
        let after =
            project::accept(db(ctx)?, &actor, viewer, project, on.map(Into::into), note).await?;
        Ok(Project(after))
    }

    /// Records the announcement of an accepted project's result (验收结果公告), once.
    async fn announce_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project (项目).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
        #[graphql(
            desc = "The day it was announced, not before acceptance; today if not given (公告日期)."
        )]
        on: Option<Day>,
    ) -> ApiResult<Project> {
        let (actor, viewer) = (actor(ctx)?, viewer(ctx)?);
        let project = project_version(&id, version)?;
        let after =
            project::announce(db(ctx)?, &actor, viewer, project, on.map(Into::into)).await?;
        Ok(Project(after))
    }
}
