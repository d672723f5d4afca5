//! Policy publicity: the county office drafts, publishes and withdraws
//! policies; each user sees the published policies addressed to them and
//! leaves one read receipt per policy; read rates by township and village
//! show where publicity has not reached; the public sees published policies.

use entity::enums::{RegionLevel, Role};
use entity::{app_user, policy_read, region};
use futures::future::join_all;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, create_user, error_field, error_message, global_id, on_both_backends, raw_id,
    regions, token_of,
};

on_both_backends!(
    a_policy_goes_from_draft_to_published_to_withdrawn,
    only_the_county_office_changes_policies,
    policies_reach_the_roles_and_regions_they_address,
    a_policy_is_read_once_per_user,
    read_rates_add_up_by_township_and_village,
    the_public_sees_published_policies_only,
);

const CREATE: &str = "mutation($input: CreatePolicyInput!) { createPolicy(input: $input) {
    id title body category issuingBody effectiveOn audienceRoles audienceRegions { id }
    status publishedAt version } }";
const UPDATE: &str = "mutation($input: UpdatePolicyInput!) { updatePolicy(input: $input) {
    id title audienceRoles audienceRegions { id } status version } }";
const PUBLISH: &str =
    "mutation($id: ID!, $version: Int!) { publishPolicy(id: $id, version: $version) {
    id status publishedAt publishedBy version } }";
const WITHDRAW: &str = "mutation($id: ID!, $version: Int!, $reason: String!) {
    withdrawPolicy(id: $id, version: $version, reason: $reason) {
    id status withdrawnAt withdrawnBy withdrawalReason version } }";
const READ: &str = "mutation($id: ID!) { markPolicyRead(id: $id) { readAt policy { id readAt } } }";
const MINE: &str = "query($unread: Boolean) { myPolicies(unreadOnly: $unread, first: 50) {
    nodes { title readAt } } }";
const READERSHIP: &str = "query($id: ID!, $region: ID) { node(id: $id) { ... on Policy {
    readership { overall { addressed read rate }
    byRegion(regionId: $region) { region { id } addressed read rate } } } } }";

fn new_policy(title: &str, roles: &[&str], regions: &[String]) -> Value {
    json!({ "input": {
        "title": title,
        "body": "对建档立卡贫困户给予产业发展补助。",
        "category": "INDUSTRY",
        "issuingBody": "县扶贫开发领导小组",
        "effectiveOn": "2020-03-01",
        "audienceRoles": roles,
        "audienceRegionIds": regions,
    } })
}

/// Creates and publishes a policy as the county office; returns its global ID.
async fn published(app: &TestApp, title: &str, roles: &[&str], regions: &[String]) -> String {
    let created =
        app.query(CREATE, new_policy(title, roles, regions)).await["createPolicy"].clone();
    let id = created["id"].as_str().expect("id").to_owned();
    app.query(PUBLISH, json!({ "id": id, "version": 1 })).await;
    id
}

/// A new user of `role` scoped to the region with `code`, and a token for them.
async fn user_in(app: &TestApp, name: &str, role: Role, code: Option<&str>) -> (i64, String) {
    let user = create_user(&app.db, name, role, code.map(str::to_owned), None).await;
    (user.id, token_of(&user))
}

async fn townships_and_villages(app: &TestApp) -> (Vec<region::Model>, Vec<region::Model>) {
    (
        regions(&app.db, RegionLevel::Township).await,
        regions(&app.db, RegionLevel::Village).await,
    )
}

fn villages_of<'a>(
    villages: &'a [region::Model],
    township: &region::Model,
) -> Vec<&'a region::Model> {
    villages
        .iter()
        .filter(|v| v.parent_id == Some(township.id))
        .collect()
}

fn titles(data: &Value) -> Vec<String> {
    data["myPolicies"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|p| p["title"].as_str().expect("title").to_owned())
        .collect()
}

async fn a_policy_goes_from_draft_to_published_to_withdrawn(backend: Backend) {
    let app = TestApp::seeded(&backend, 20).await.0;
    let (townships, _) = townships_and_villages(&app).await;
    let township = global_id("Township", townships[0].id);
    let mut input = new_policy(
        "产业奖补政策",
        &["VILLAGE_CADRE", "TOWNSHIP_OFFICER"],
        std::slice::from_ref(&township),
    );
    input["input"]["idempotencyKey"] = json!("policy-1");
    let created = app.query(CREATE, input.clone()).await["createPolicy"].clone();
    assert_eq!(created["status"], "DRAFT");
    assert_eq!(created["version"], 1);
    assert_eq!(created["publishedAt"], Value::Null);
    assert_eq!(
        created["audienceRoles"],
        json!(["TOWNSHIP_OFFICER", "VILLAGE_CADRE"])
    );
    assert_eq!(created["audienceRegions"], json!([{ "id": township }]));
    let replay = app.query(CREATE, input).await["createPolicy"].clone();
    assert_eq!(
        replay["id"], created["id"],
        "a retried create returns the first policy"
    );
    let id = created["id"].clone();

    // Validation names the field.
    let no_roles = app.graphql(CREATE, new_policy("x", &[], &[])).await;
    assert_eq!(TestApp::error_codes(&no_roles), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&no_roles), "audienceRoles");
    let county = regions(&app.db, RegionLevel::County).await[0].id;
    let whole = app
        .graphql(
            CREATE,
            new_policy("x", &["VILLAGE_CADRE"], &[global_id("County", county)]),
        )
        .await;
    assert_eq!(error_field(&whole), "audienceRegionIds");
    let mut long = new_policy("x", &["VILLAGE_CADRE"], &[]);
    long["input"]["body"] = json!("字".repeat(20_001));
    assert_eq!(error_field(&app.graphql(CREATE, long).await), "body");
    // Helper cadres have no region: a policy for a township would reach none of them.
    let helpers = app
        .graphql(
            CREATE,
            new_policy(
                "x",
                &["HELPER_CADRE", "VILLAGE_CADRE"],
                std::slice::from_ref(&township),
            ),
        )
        .await;
    assert_eq!(error_field(&helpers), "audienceRoles", "{helpers}");
    assert!(
        tests::error_message(&helpers).contains("helper_cadre"),
        "{helpers}"
    );

    // A draft is edited; its audience is replaced.
    let updated = app
        .query(
            UPDATE,
            json!({ "input": { "id": id, "version": 1, "title": "产业发展奖补政策", "audienceRegionIds": [] } }),
        )
        .await["updatePolicy"]
        .clone();
    assert_eq!(updated["title"], "产业发展奖补政策");
    assert_eq!(updated["audienceRegions"], json!([]));
    assert_eq!(updated["version"], 2);
    let unreachable = app
        .graphql(
            UPDATE,
            json!({ "input": { "id": id, "version": 2, "audienceRoles": ["HELPER_CADRE"], "audienceRegionIds": [township] } }),
        )
        .await;
    assert_eq!(error_field(&unreachable), "audienceRoles", "{unreachable}");
    let stale = app
        .graphql(PUBLISH, json!({ "id": id, "version": 1 }))
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);

    let published =
        app.query(PUBLISH, json!({ "id": id, "version": 2 })).await["publishPolicy"].clone();
    assert_eq!(published["status"], "PUBLISHED");
    assert_eq!(published["publishedBy"], "admin");
    assert!(published["publishedAt"].is_string());
    assert_eq!(published["version"], 3);

    // Published: no more edits, no second publication.
    let edit = app
        .graphql(
            UPDATE,
            json!({ "input": { "id": id, "version": 3, "title": "改" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&edit), ["BAD_USER_INPUT"]);
    assert!(error_message(&edit).contains("published"), "{edit}");
    let again = app
        .graphql(PUBLISH, json!({ "id": id, "version": 3 }))
        .await;
    assert_eq!(TestApp::error_codes(&again), ["BAD_USER_INPUT"]);
    assert!(error_message(&again).contains("published"), "{again}");

    let blank = app
        .graphql(WITHDRAW, json!({ "id": id, "version": 3, "reason": " " }))
        .await;
    assert_eq!(error_field(&blank), "reason");
    let withdrawn = app
        .query(
            WITHDRAW,
            json!({ "id": id, "version": 3, "reason": "已被新政策替代" }),
        )
        .await["withdrawPolicy"]
        .clone();
    assert_eq!(withdrawn["status"], "WITHDRAWN");
    assert_eq!(withdrawn["withdrawnBy"], "admin");
    assert_eq!(withdrawn["withdrawalReason"], "已被新政策替代");
    assert_eq!(withdrawn["version"], 4);
    let twice = app
        .graphql(
            WITHDRAW,
            json!({ "id": id, "version": 4, "reason": "再撤" }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&twice), ["BAD_USER_INPUT"]);
    assert!(error_message(&twice).contains("withdrawn"), "{twice}");
    let republish = app
        .graphql(PUBLISH, json!({ "id": id, "version": 4 }))
        .await;
    assert!(
        error_message(&republish).contains("withdrawn"),
        "{republish}"
    );

    assert_eq!(
        app.audit_actions("Policy", raw_id(&id)).await,
        [
            "policy.withdraw",
            "policy.publish",
            "policy.update",
            "policy.create"
        ]
    );
    let entries = app
        .query(
            "query($id: Int) { auditEntries(first: 10, filter: { entityType: \"Policy\", entityId: $id }) {
                nodes { action before after } } }",
            json!({ "id": raw_id(&id) }),
        )
        .await["auditEntries"]["nodes"]
        .clone();
    let publish = &entries[1];
    assert_eq!(publish["before"]["status"], "DRAFT");
    assert_eq!(publish["after"]["status"], "PUBLISHED");
    assert_eq!(publish["after"]["id"], id);
}

async fn only_the_county_office_changes_policies(backend: Backend) {
    let app = TestApp::seeded(&backend, 20).await.0;
    let draft = app
        .query(CREATE, new_policy("就业补贴政策", &["VILLAGE_CADRE"], &[]))
        .await["createPolicy"]["id"]
        .clone();
    for role in [
        Role::TownshipOfficer,
        Role::VillageCadre,
        Role::HelperCadre,
        Role::Enterprise,
        Role::Auditor,
        Role::ProvincialSystem,
    ] {
        let token = app.token_for(role).await;
        let token = Some(token.as_str());
        for (query, variables) in [
            (CREATE, new_policy("x", &["VILLAGE_CADRE"], &[])),
            (
                UPDATE,
                json!({ "input": { "id": draft, "version": 1, "title": "x" } }),
            ),
            (PUBLISH, json!({ "id": draft, "version": 1 })),
            (
                WITHDRAW,
                json!({ "id": draft, "version": 1, "reason": "x" }),
            ),
        ] {
            let refused = app.graphql_as(token, query, variables).await;
            assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"], "{role:?}");
        }
    }
    for (query, variables) in [
        (CREATE, new_policy("x", &["VILLAGE_CADRE"], &[])),
        (PUBLISH, json!({ "id": draft, "version": 1 })),
        (READ, json!({ "id": draft })),
        (MINE, json!({})),
    ] {
        let anonymous = app.graphql_as(None, query, variables).await;
        assert_eq!(TestApp::error_codes(&anonymous), ["UNAUTHENTICATED"]);
    }
    let status = app
        .query(
            "query($id: ID!) { node(id: $id) { ... on Policy { status version } } }",
            json!({ "id": draft }),
        )
        .await;
    assert_eq!(status["node"], json!({ "status": "DRAFT", "version": 1 }));
}

async fn policies_reach_the_roles_and_regions_they_address(backend: Backend) {
    let app = TestApp::seeded(&backend, 20).await.0;
    let (townships, villages) = townships_and_villages(&app).await;
    let (a, b) = (&townships[0], &townships[1]);
    let village_a = villages_of(&villages, a)[0];
    let village_b = villages_of(&villages, b)[0];
    let cadres = ["TOWNSHIP_OFFICER", "VILLAGE_CADRE"];
    published(&app, "全县政策", &cadres, &[]).await;
    published(&app, "甲乡政策", &cadres, &[global_id("Township", a.id)]).await;
    published(&app, "乙乡政策", &cadres, &[global_id("Township", b.id)]).await;
    published(
        &app,
        "甲村政策",
        &cadres,
        &[global_id("Village", village_a.id)],
    )
    .await;
    published(&app, "帮扶干部政策", &["HELPER_CADRE"], &[]).await;
    let to_b = published(
        &app,
        "乙村政策",
        &cadres,
        &[global_id("Village", village_b.id)],
    )
    .await;
    app.query(CREATE, new_policy("草稿", &cadres, &[])).await;

    let (_, officer_a) = user_in(&app, "officer-a", Role::TownshipOfficer, Some(&a.code)).await;
    let (_, cadre_a) = user_in(&app, "cadre-a", Role::VillageCadre, Some(&village_a.code)).await;
    let (_, helper) = user_in(&app, "helper", Role::HelperCadre, None).await;
    let (_, auditor) = user_in(&app, "auditor", Role::Auditor, None).await;
    let mine = |token: String| {
        let app = &app;
        async move { titles(&app.query_as(Some(&token), MINE, json!({})).await) }
    };
    // Newest first: a township officer is reached by its township, the county
    // and the villages of its township; a village cadre by its village, its
    // township and the county.
    assert_eq!(
        mine(officer_a.clone()).await,
        ["甲村政策", "甲乡政策", "全县政策"]
    );
    assert_eq!(
        mine(cadre_a.clone()).await,
        ["甲村政策", "甲乡政策", "全县政策"]
    );
    assert_eq!(mine(helper).await, ["帮扶干部政策"]);
    assert!(
        mine(auditor).await.is_empty(),
        "no policy addresses auditors"
    );

    let elsewhere = app
        .graphql_as(Some(&officer_a), READ, json!({ "id": to_b }))
        .await;
    assert_eq!(TestApp::error_codes(&elsewhere), ["NOT_FOUND"]);
}

async fn a_policy_is_read_once_per_user(backend: Backend) {
    let app = TestApp::seeded(&backend, 20).await.0;
    let first = published(&app, "教育资助政策", &["VILLAGE_CADRE"], &[]).await;
    let second = published(&app, "健康扶贫政策", &["VILLAGE_CADRE"], &[]).await;
    let draft = app
        .query(CREATE, new_policy("草稿", &["VILLAGE_CADRE"], &[]))
        .await["createPolicy"]["id"]
        .clone();
    let (cadre_id, cadre) = app.user_for(Role::VillageCadre).await;
    let cadre = Some(cadre.as_str());

    let unread = app.query_as(cadre, MINE, json!({ "unread": true })).await;
    assert_eq!(titles(&unread), ["健康扶贫政策", "教育资助政策"]);
    let receipt = app.query_as(cadre, READ, json!({ "id": first })).await["markPolicyRead"].clone();
    assert!(receipt["readAt"].is_string());
    assert_eq!(receipt["policy"]["readAt"], receipt["readAt"]);
    let again = app.query_as(cadre, READ, json!({ "id": first })).await["markPolicyRead"].clone();
    assert_eq!(
        again["readAt"], receipt["readAt"],
        "a second read keeps the first time"
    );
    let unread = app.query_as(cadre, MINE, json!({ "unread": true })).await;
    assert_eq!(titles(&unread), ["健康扶贫政策"]);
    let all = app.query_as(cadre, MINE, json!({})).await["myPolicies"]["nodes"].clone();
    assert_eq!(all[0]["readAt"], Value::Null);
    assert_eq!(all[1]["readAt"], receipt["readAt"]);

    // Concurrent reads leave one receipt and agree on its time.
    let reads = join_all((0..8).map(|_| app.query_as(cadre, READ, json!({ "id": second })))).await;
    let times: Vec<&Value> = reads
        .iter()
        .map(|r| &r["markPolicyRead"]["readAt"])
        .collect();
    assert!(times.iter().all(|t| *t == times[0]), "{times:?}");
    let rows = policy_read::Entity::find()
        .filter(policy_read::Column::UserId.eq(cadre_id.id))
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(rows, 2);

    let unpublished = app.graphql_as(cadre, READ, json!({ "id": draft })).await;
    assert_eq!(TestApp::error_codes(&unpublished), ["NOT_FOUND"]);
    let helper = app.token_for(Role::HelperCadre).await;
    let not_addressed = app
        .graphql_as(Some(&helper), READ, json!({ "id": first }))
        .await;
    assert_eq!(TestApp::error_codes(&not_addressed), ["NOT_FOUND"]);
    // Receipts are facts, not changes: nothing in the audit trail.
    assert_eq!(
        app.audit_actions("Policy", raw_id(&json!(first))).await,
        ["policy.publish", "policy.create"]
    );
}

async fn read_rates_add_up_by_township_and_village(backend: Backend) {
    let app = TestApp::seeded(&backend, 20).await.0;
    let (townships, villages) = townships_and_villages(&app).await;
    let (a, b) = (&townships[0], &townships[1]);
    let in_a = villages_of(&villages, a);
    let (a1, a2) = (in_a[0], in_a[1]);
    let b1 = villages_of(&villages, b)[0];
    let policy = published(
        &app,
        "甲乡产业政策",
        &["TOWNSHIP_OFFICER", "VILLAGE_CADRE"],
        &[global_id("Township", a.id)],
    )
    .await;
    let county_wide = published(
        &app,
        "全县低保政策",
        &["VILLAGE_CADRE", "COUNTY_ADMIN"],
        &[],
    )
    .await;

    let (_, officer_a) = user_in(&app, "officer-a", Role::TownshipOfficer, Some(&a.code)).await;
    let (_, cadre_a1) = user_in(&app, "cadre-a1", Role::VillageCadre, Some(&a1.code)).await;
    user_in(&app, "cadre-a2", Role::VillageCadre, Some(&a2.code)).await;
    let (gone_id, gone) = user_in(&app, "cadre-a2-left", Role::VillageCadre, Some(&a2.code)).await;
    user_in(&app, "officer-b", Role::TownshipOfficer, Some(&b.code)).await;
    let (_, cadre_b1) = user_in(&app, "cadre-b1", Role::VillageCadre, Some(&b1.code)).await;
    user_in(&app, "helper", Role::HelperCadre, None).await;
    for token in [&officer_a, &cadre_a1, &gone] {
        app.query_as(Some(token), READ, json!({ "id": policy }))
            .await;
    }
    let refused = app
        .graphql_as(Some(&cadre_b1), READ, json!({ "id": policy }))
        .await;
    assert_eq!(TestApp::error_codes(&refused), ["NOT_FOUND"]);
    // A cadre who has left: no longer addressed, their receipt no longer counts.
    let mut left: app_user::ActiveModel = app_user::Entity::find_by_id(gone_id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("user")
        .into();
    left.is_active = Set(false);
    left.update(&app.db).await.expect("disable");

    // By hand: addressed are officer A and the cadres of A1 and A2 (3); read
    // have officer A and the cadre of A1 (2). Township B is not addressed.
    let auditor = app.token_for(Role::Auditor).await;
    let seen = app
        .query_as(Some(&auditor), READERSHIP, json!({ "id": policy }))
        .await["node"]["readership"]
        .clone();
    let rate = |addressed: i64, read: i64| {
        if addressed == 0 {
            Value::Null
        } else {
            json!(read as f64 / addressed as f64)
        }
    };
    assert_eq!(
        seen["overall"],
        json!({ "addressed": 3, "read": 2, "rate": rate(3, 2) })
    );
    let mut expected: Vec<Value> = townships
        .iter()
        .map(|t| json!({ "region": { "id": global_id("Township", t.id) }, "addressed": 0, "read": 0, "rate": null }))
        .collect();
    expected[0] = json!({ "region": { "id": global_id("Township", a.id) }, "addressed": 3, "read": 2, "rate": rate(3, 2) });
    assert_eq!(seen["byRegion"], json!(expected));

    // Under township A, by village: the township officer counts only in A's total.
    let by_village = app
        .query_as(
            Some(&auditor),
            READERSHIP,
            json!({ "id": policy, "region": global_id("Township", a.id) }),
        )
        .await["node"]["readership"]["byRegion"]
        .clone();
    let expected: Vec<Value> = in_a
        .iter()
        .map(|v| {
            let (addressed, read) = if v.id == a1.id {
                (1, 1)
            } else if v.id == a2.id {
                (1, 0)
            } else {
                (0, 0)
            };
            json!({ "region": { "id": global_id("Village", v.id) }, "addressed": addressed, "read": read, "rate": rate(addressed, read) })
        })
        .collect();
    assert_eq!(by_village, json!(expected));

    // A whole-county policy: the county office and every active village cadre.
    app.query(READ, json!({ "id": county_wide })).await;
    app.query_as(Some(&cadre_b1), READ, json!({ "id": county_wide }))
        .await;
    let whole =
        app.query(READERSHIP, json!({ "id": county_wide })).await["node"]["readership"].clone();
    assert_eq!(
        whole["overall"],
        json!({ "addressed": 4, "read": 2, "rate": rate(4, 2) })
    );
    let township_b = whole["byRegion"]
        .as_array()
        .expect("regions")
        .iter()
        .find(|r| r["region"]["id"] == global_id("Township", b.id))
        .expect("township B")
        .clone();
    assert_eq!(township_b["addressed"], 1);
    assert_eq!(township_b["read"], 1);

    // Read rates are for the county office and auditors.
    let officer = app
        .graphql_as(Some(&officer_a), READERSHIP, json!({ "id": policy }))
        .await;
    assert_eq!(TestApp::error_codes(&officer), ["FORBIDDEN"]);
}

async fn the_public_sees_published_policies_only(backend: Backend) {
    let app = TestApp::seeded(&backend, 20).await.0;
    let live = published(&app, "小额信贷政策", &["VILLAGE_CADRE"], &[]).await;
    let gone = published(&app, "旧搬迁政策", &["VILLAGE_CADRE"], &[]).await;
    app.query(
        WITHDRAW,
        json!({ "id": gone, "version": 2, "reason": "到期" }),
    )
    .await;
    let draft = app
        .query(CREATE, new_policy("草稿", &["VILLAGE_CADRE"], &[]))
        .await["createPolicy"]["id"]
        .clone();
    const LIST: &str =
        "query($f: PolicyFilter) { policies(filter: $f) { totalCount nodes { id title status } } }";
    let public = app.query_as(None, LIST, json!({})).await["policies"].clone();
    assert_eq!(public["totalCount"], 1);
    assert_eq!(
        public["nodes"],
        json!([{ "id": live, "title": "小额信贷政策", "status": "PUBLISHED" }])
    );
    let drafts = app
        .query_as(None, LIST, json!({ "f": { "status": "DRAFT" } }))
        .await["policies"]["nodes"]
        .clone();
    assert_eq!(drafts, json!([]));
    let by_category = app
        .query_as(None, LIST, json!({ "f": { "category": "FINANCE" } }))
        .await["policies"]["nodes"]
        .clone();
    assert_eq!(by_category, json!([]), "the test policies are all industry");
    let cadre = app.token_for(Role::VillageCadre).await;
    let cadre_list =
        app.query_as(Some(&cadre), LIST, json!({})).await["policies"]["totalCount"].clone();
    assert_eq!(cadre_list, 1);
    let hidden = app
        .graphql_as(
            None,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": draft }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&hidden), ["NOT_FOUND"]);

    // The county office and auditors see every status.
    let auditor = app.token_for(Role::Auditor).await;
    let all = app.query_as(Some(&auditor), LIST, json!({})).await["policies"]["nodes"].clone();
    let statuses: Vec<&Value> = all
        .as_array()
        .expect("nodes")
        .iter()
        .map(|p| &p["status"])
        .collect();
    assert_eq!(statuses, ["DRAFT", "WITHDRAWN", "PUBLISHED"]);

    // Who published and read rates are not public.
    let who = app
        .graphql_as(None, "{ policies { nodes { publishedBy } } }", json!({}))
        .await;
    assert_eq!(TestApp::error_codes(&who), ["UNAUTHENTICATED"]);
}
