//! Table definitions shared by both backends (the migrations keep the two in step).

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        disabled -> Bool,
        failed_logins -> Integer,
        last_failed_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_roles (user_id, role) {
        user_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    works (id) {
        id -> Text,
        kind -> Text,
        title -> Text,
        body -> Text,
        summary -> Nullable<Text>,
        tags -> Text,
        unit -> Nullable<Text>,
        credits -> Text,
        channel -> Nullable<Text>,
        external_url -> Nullable<Text>,
        published_at -> Nullable<Timestamp>,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    work_tags (work_id, tag) {
        work_id -> Text,
        tag -> Text,
    }
}

diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(work_tags -> works (work_id));

diesel::allow_tables_to_appear_in_same_query!(users, user_roles, sessions, works, work_tags);
