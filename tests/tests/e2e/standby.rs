//! The streaming standby the read-replica tests run against
//! ([`tests::standby::Standby`]): it follows the primary, lags on demand,
//! and goes away and comes back as a real one does.
//!
//! PostgreSQL only by nature: a streaming standby is PostgreSQL's own
//! replication; skipped when `TEST_POSTGRES_URL` is unset.

use std::time::{Duration, Instant};

use entity::app_user;
use entity::enums::Role;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};
use tests::standby::Standby;
use tests::{Backend, TestApp, create_user};

/// How many users named `username` the database of `db` holds.
async fn users_named(db: &DatabaseConnection, username: &str) -> u64 {
    app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username))
        .count(db)
        .await
        .expect("count users")
}

async fn text(db: &DatabaseConnection, sql: &str) -> String {
    db.query_one_raw(sea_orm::Statement::from_string(
        sea_orm::DbBackend::Postgres,
        sql,
    ))
    .await
    .expect(sql)
    .expect("a row")
    .try_get_by_index(0)
    .expect(sql)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_follows_lags_on_demand_and_comes_back_after_a_stop() {
    let Some(backend) = Backend::postgres() else {
        eprintln!("TEST_POSTGRES_URL is not set: PostgreSQL-only test skipped");
        return;
    };
    let Backend::Postgres(primary_url) = &backend else {
        unreachable!("Backend::postgres is PostgreSQL")
    };
    let app = TestApp::spawn(&backend).await;
    let Some(standby) = Standby::start().await else {
        return;
    };
    let db_name = text(&app.db, "SELECT current_database()::text").await;
    let standby_url = standby.database_url(&db_name);

    // A commit on the primary after the base backup arrives by streaming.
    create_user(&app.db, "streamed", Role::CountyAdmin, None, None).await;
    standby.wait_caught_up(primary_url).await;
    let replica = api::db::connect(&standby_url)
        .await
        .expect("connect to the standby");
    assert_eq!(users_named(&replica, "streamed").await, 1);
    assert_eq!(
        text(&replica, "SELECT pg_is_in_recovery()::text").await,
        "true"
    );
    let refused = replica.execute_unprepared("DELETE FROM app_user").await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("read-only")),
        "a write on the standby: {refused:?}"
    );

    // Paused, the standby receives a commit and does not show it: it lags.
    standby.pause_replay().await;
    let replayed_before = text(&replica, "SELECT pg_last_xact_replay_timestamp()::text").await;
    let age_before = standby.replay_age().await.expect("a replayed commit");
    create_user(&app.db, "held back", Role::CountyAdmin, None, None).await;
    standby.wait_received(primary_url).await;
    assert_eq!(users_named(&replica, "held back").await, 0);
    assert!(standby.lag_bytes(primary_url).await > 0);
    assert_eq!(
        text(&replica, "SELECT pg_last_xact_replay_timestamp()::text").await,
        replayed_before,
        "nothing is replayed while paused"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let age_paused = standby.replay_age().await.expect("a replayed commit");
    assert!(
        age_paused > age_before,
        "{age_paused:?} after {age_before:?}"
    );

    standby.resume_replay().await;
    standby.wait_caught_up(primary_url).await;
    assert_eq!(users_named(&replica, "held back").await, 1);
    let replayed_after = format!(
        "SELECT (pg_last_xact_replay_timestamp() > '{replayed_before}'::timestamptz)::text"
    );
    assert_eq!(text(&replica, &replayed_after).await, "true");

    // Stopped, it ends the query it was running and lets nobody in.
    let running = tokio::spawn({
        let replica = replica.clone();
        async move {
            let began = Instant::now();
            let outcome = replica.execute_unprepared("SELECT pg_sleep(30)").await;
            (outcome, began.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    standby.stop().await;
    let (outcome, lasted) = running.await.expect("the query's task");
    assert!(outcome.is_err(), "a query through the stop: {outcome:?}");
    assert!(
        lasted < Duration::from_secs(10),
        "the query lasted {lasted:?}"
    );
    assert!(
        api::db::connect(&standby_url).await.is_err(),
        "a stopped standby lets a client in"
    );

    // Started again, it catches up on what it missed and serves again.
    create_user(&app.db, "while stopped", Role::CountyAdmin, None, None).await;
    standby.start_again().await;
    standby.wait_caught_up(primary_url).await;
    let replica = api::db::connect(&standby_url)
        .await
        .expect("connect to the standby started again");
    assert_eq!(users_named(&replica, "while stopped").await, 1);
}
