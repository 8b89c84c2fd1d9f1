//! Account administration over the API and the CLI.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use microcat::domain::user::Role;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, assert_case_error};

#[actix_web::test]
async fn admin_creates_lists_and_changes_accounts() {
    let app = TestApp::spawn().await;
    let body =
        json!({"username": "Zhang.Wei", "password": PASSWORD, "display_name": "张伟", "roles": ["reviewer", "staff"]});
    let created = app.post("/api/v1/users", &app.admin, &body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let user = created.json();
    assert_eq!(user["username"], "zhang.wei");
    assert_eq!(user["display_name"], "张伟");
    assert_eq!(user["roles"], json!(["reviewer", "staff"]));
    assert_eq!(user["disabled"], false);
    let id = user["id"].as_str().unwrap();

    let listed = app.get("/api/v1/users", &app.admin).await.json();
    assert_eq!(listed["total"], 2);
    let names: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|item| item["username"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["admin", "zhang.wei"]);

    let changed = app
        .patch(
            &format!("/api/v1/users/{id}"),
            &app.admin,
            &json!({"roles": ["contributor"], "display_name": "张伟警官"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_eq!(changed.json()["roles"], json!(["contributor"]));
    let session = app.login("zhang.wei", PASSWORD).await;
    assert_eq!(app.get("/api/v1/me", &session).await.json()["user"]["display_name"], "张伟警官");
}

#[actix_web::test]
async fn password_change_revokes_sessions() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let reply = app
        .patch(&format!("/api/v1/users/{}", author.user_id), &app.admin, &json!({"password": "a-new-password"}))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(app.get("/api/v1/me", &author).await.status, 401);
    assert_eq!(app.try_login("author", PASSWORD).await.status, 401);
    app.login("author", "a-new-password").await;
}

#[actix_web::test]
async fn only_admins_manage_accounts() {
    let app = TestApp::spawn().await;
    let reviewer = app.user_with_roles("judge", &[Role::Reviewer]).await;
    let body = json!({"username": "intruder", "password": PASSWORD, "roles": ["admin"]});
    assert_eq!(app.post("/api/v1/users", &reviewer, &body).await.error_code(), "forbidden");
    assert_eq!(app.get("/api/v1/users", &reviewer).await.status, 403);
    let own = app.get(&format!("/api/v1/users/{}", reviewer.user_id), &reviewer).await;
    assert_eq!(own.status, 200, "anyone may read their own account");
    let admin_account = app.get(&format!("/api/v1/users/{}", app.admin.user_id), &reviewer).await;
    assert_eq!(admin_account.status, 403);
    let promote =
        app.patch(&format!("/api/v1/users/{}", reviewer.user_id), &reviewer, &json!({"roles": ["admin"]})).await;
    assert_eq!(promote.status, 403);
}

#[actix_web::test]
async fn account_input_is_validated() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"username": "ab", "password": PASSWORD, "roles": ["staff"]}), 422, "invalid-field", "username"),
        (json!({"username": "short", "password": "1234", "roles": ["staff"]}), 422, "invalid-field", "password"),
        (json!({"username": "norole", "password": PASSWORD, "roles": []}), 422, "field-required", "roles"),
        (json!({"username": "badrole", "password": PASSWORD, "roles": ["root"]}), 422, "invalid-field", "roles[0]"),
        (json!({"username": "admin", "password": PASSWORD, "roles": ["staff"]}), 409, "username-taken", "username"),
    ];
    for (body, status, code, field) in cases {
        let reply = app.post("/api/v1/users", &app.admin, &body).await;
        assert_case_error(&body, &reply, status, code, Some(field));
    }
    let unknown = app
        .patch(
            &format!("/api/v1/users/{}", microcat::domain::ids::UserId::generate()),
            &app.admin,
            &json!({"disabled": false}),
        )
        .await;
    assert_eq!(unknown.error_code(), "user-not-found");
}

#[actix_web::test]
async fn admins_cannot_lock_themselves_out() {
    let app = TestApp::spawn().await;
    let path = format!("/api/v1/users/{}", app.admin.user_id);
    assert_eq!(app.patch(&path, &app.admin, &json!({"disabled": true})).await.status, 422);
    assert_eq!(app.patch(&path, &app.admin, &json!({"roles": ["staff"]})).await.status, 422);
    assert_eq!(app.get("/api/v1/me", &app.admin).await.status, 200);
}

#[actix_web::test]
async fn cli_adds_a_user_who_can_then_log_in() {
    let app = TestApp::spawn().await;
    let args = ["user", "add", "--username", "cli.user", "--role", "contributor,staff", "--display-name", "命令行用户"];
    let output = microcat_cli(&app, &args, Some("cli-password-1"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let session = app.login("cli.user", "cli-password-1").await;
    let me = app.get("/api/v1/me", &session).await.json();
    assert_eq!(me["user"]["roles"], json!(["contributor", "staff"]));
    assert_eq!(me["user"]["display_name"], "命令行用户");

    let listed = microcat_cli(&app, &["user", "list"], None);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("cli.user\t命令行用户\tcontributor,staff\tactive"));
}

#[actix_web::test]
async fn cli_refuses_a_duplicate_username_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let output =
        microcat_cli(&app, &["user", "add", "--username", "admin", "--role", "staff"], Some("whatever-password"));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("already taken"));
}

#[actix_web::test]
async fn cli_resets_a_password_and_reports_migrations() {
    let app = TestApp::spawn().await;
    app.user_with_roles("author", &[Role::Contributor]).await;
    let output = microcat_cli(&app, &["user", "passwd", "--username", "author"], Some("reset-password-1"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(app.try_login("author", PASSWORD).await.status, 401);
    app.login("author", "reset-password-1").await;
    let migrate = microcat_cli(&app, &["migrate"], None);
    assert!(migrate.status.success());
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("up to date (0 migrations applied now)"));
}

/// Runs the `microcat` binary on the test's database; `password` goes to `--password-stdin`.
fn microcat_cli(app: &TestApp, args: &[&str], password: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_microcat"));
    command.args(args).args(["--database-url", &app.settings.database_url]);
    if password.is_some() {
        command.arg("--password-stdin");
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("microcat binary runs");
    let mut stdin = child.stdin.take().expect("piped stdin");
    if let Some(password) = password {
        writeln!(stdin, "{password}").expect("write the password");
    }
    drop(stdin);
    child.wait_with_output().expect("microcat finishes")
}

#[actix_web::test]
async fn account_changes_are_refused_to_non_admins_by_the_service_itself() {
    use microcat::domain::user::{NewUser, NewUserInput, UserUpdate, UserUpdateInput};
    use microcat::service::accounts;
    use microcat::service::auth::Credential;
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor, Role::Reviewer, Role::Staff]).await;
    let cache = microcat::service::session_cache::SessionCache::default();
    let caller =
        microcat::service::sessions::authenticate(&app.db, &cache, &author.token, Credential::Bearer).await.unwrap();
    let input = NewUserInput {
        username: "intruder".into(),
        password: "intruder-password-1".into(),
        display_name: None,
        roles: vec!["admin".into()],
    };
    let created = accounts::create_user(&app.db, Some(&caller), NewUser::parse(input).unwrap()).await;
    assert!(matches!(created, Err(accounts::AccountError::AdminRequired)), "{created:?}");
    let promote = UserUpdateInput { roles: Some(vec!["admin".into()]), ..UserUpdateInput::default() };
    let promote = UserUpdate::parse(promote).unwrap();
    let updated = accounts::update_user(&app.db, &cache, &caller, &author.user_id, promote).await;
    assert!(matches!(updated, Err(accounts::AccountError::AdminRequired)), "{updated:?}");
    assert_eq!(app.try_login("intruder", "intruder-password-1").await.status, 401);
    assert_eq!(
        app.get("/api/v1/me", &author).await.json()["user"]["roles"],
        json!(["contributor", "reviewer", "staff"])
    );
}
