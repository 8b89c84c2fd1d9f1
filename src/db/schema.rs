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
        assignees -> Text,
        due_date -> Nullable<Text>,
        review_round -> Integer,
        status_changed_at -> Nullable<Timestamp>,
        source_key -> Nullable<Text>,
        findings_block -> Integer,
        findings_review -> Integer,
        checked_at -> Nullable<Timestamp>,
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

diesel::table! {
    media (id) {
        id -> Text,
        work_id -> Text,
        sha256 -> Text,
        size -> BigInt,
        format -> Text,
        content_type -> Text,
        original_filename -> Nullable<Text>,
        role -> Text,
        version -> Integer,
        status -> Text,
        error_code -> Nullable<Text>,
        error_message -> Nullable<Text>,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        duration_ms -> Nullable<BigInt>,
        rotation -> Nullable<Integer>,
        video_codec -> Nullable<Text>,
        audio_codec -> Nullable<Text>,
        frame_rate -> Nullable<Double>,
        bitrate -> Nullable<BigInt>,
        taken_at -> Nullable<Text>,
        camera -> Nullable<Text>,
        derivatives -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        pixel_format -> Nullable<Text>,
        preview_status -> Text,
        preview_progress -> Integer,
        preview_error -> Nullable<Text>,
        transcript -> Nullable<Text>,
        gps -> Nullable<Bool>,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        media_id -> Text,
        kind -> Text,
        status -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        run_after -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        locked_by -> Nullable<Text>,
    }
}

diesel::table! {
    search_outbox (seq) {
        seq -> BigInt,
        work_id -> Text,
        created_at -> Timestamp,
        txid -> BigInt,
    }
}

diesel::table! {
    nodes (id) {
        id -> Text,
        address -> Text,
        version -> Text,
        started_at -> Timestamp,
        heartbeat_at -> Timestamp,
        index_txid -> BigInt,
        index_seq -> BigInt,
        index_lag -> BigInt,
    }
}

diesel::table! {
    search_log_pruned (id) {
        id -> Integer,
        txid -> BigInt,
        seq -> BigInt,
    }
}

diesel::table! {
    transitions (id) {
        id -> Text,
        work_id -> Text,
        action -> Text,
        from_status -> Text,
        to_status -> Text,
        actor_id -> Text,
        comment -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    signoffs (work_id, review_round, reviewer_id) {
        work_id -> Text,
        review_round -> Integer,
        reviewer_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comments (id) {
        id -> Text,
        work_id -> Text,
        author_id -> Text,
        body -> Text,
        media_id -> Nullable<Text>,
        timecode_ms -> Nullable<BigInt>,
        reply_to -> Nullable<Text>,
        created_at -> Timestamp,
        frame -> Nullable<BigInt>,
        resolved_by -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
        drawing -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        client_addr -> Nullable<Text>,
        action -> Text,
        target_type -> Text,
        target_id -> Nullable<Text>,
        details -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::joinable!(media -> works (work_id));
diesel::table! {
    publications (id) {
        id -> Text,
        work_id -> Text,
        platform -> Text,
        account -> Nullable<Text>,
        url -> Nullable<Text>,
        published_at -> Timestamp,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    publication_metrics (id) {
        id -> Text,
        publication_id -> Text,
        as_of -> Timestamp,
        reads -> Nullable<BigInt>,
        likes -> Nullable<BigInt>,
        shares -> Nullable<BigInt>,
        comments -> Nullable<BigInt>,
        reposts -> Nullable<BigInt>,
        source -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        user_id -> Text,
        event -> Text,
        work_id -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        text -> Text,
        read_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        dedupe_key -> Nullable<Text>,
    }
}

diesel::table! {
    notification_mutes (user_id, event) {
        user_id -> Text,
        event -> Text,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        kind -> Text,
        url -> Text,
        events -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event -> Text,
        work_id -> Nullable<Text>,
        title -> Text,
        text -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(jobs -> media (media_id));
diesel::joinable!(publication_metrics -> publications (publication_id));
diesel::table! {
    wordlists (id) {
        id -> Text,
        name -> Text,
        category -> Text,
        level -> Text,
        terms -> Text,
        term_count -> Integer,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    findings (id) {
        id -> Text,
        work_id -> Text,
        field -> Text,
        start_char -> Integer,
        end_char -> Integer,
        category -> Text,
        level -> Text,
        excerpt -> Text,
        status -> Text,
        override_by -> Nullable<Text>,
        override_at -> Nullable<Timestamp>,
        override_reason -> Nullable<Text>,
        acknowledged_by -> Nullable<Text>,
        acknowledged_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(findings -> works (work_id));
diesel::table! {
    store_location (id) {
        id -> Integer,
        location -> Text,
        moved_at -> Timestamp,
    }
}

diesel::table! {
    store_copies (destination, object_path) {
        destination -> Text,
        object_path -> Text,
        sha256 -> Text,
        size -> BigInt,
        copied_at -> Timestamp,
    }
}

diesel::table! {
    uploads (id) {
        id -> Text,
        user_id -> Text,
        work_id -> Text,
        role -> Text,
        filename -> Nullable<Text>,
        length -> BigInt,
        upload_offset -> BigInt,
        pieces -> Text,
        media_id -> Nullable<Text>,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    wordlists,
    findings,
    users,
    user_roles,
    sessions,
    works,
    work_tags,
    media,
    jobs,
    search_outbox,
    publications,
    publication_metrics,
    notifications,
    notification_mutes,
    webhooks,
    webhook_deliveries
);
