//! Every stable error code, once. Clients match on these strings, the pages translate them
//! and media records store them, so they never change; each one is listed in the README's
//! code table (a test checks both that and that no other source file spells a code out).

/// Defines each code as a constant and [`ALL`] as their list.
macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal;)*) => {
        $($(#[$doc])* pub const $name: &str = $code;)*
        /// Every code, in the order defined.
        pub const ALL: &[&str] = &[$($code),*];
    };
}

codes! {
    // Requests the server could not read (400).
    /// The body was not JSON, or not UTF-8.
    MALFORMED_JSON = "malformed-json";
    /// A page's form or an upload's multipart body could not be read.
    MALFORMED_FORM = "malformed-form";
    /// A query-string parameter could not be used.
    INVALID_QUERY_PARAMETER = "invalid-query-parameter";
    /// A path segment could not be used.
    INVALID_PATH_PARAMETER = "invalid-path-parameter";
    /// A search query that cannot be run, even after cleaning.
    INVALID_QUERY = "invalid-query";
    /// A header could not be used.
    INVALID_HEADER = "invalid-header";
    // Who the caller is (401, 403).
    /// No valid session or token.
    UNAUTHENTICATED = "unauthenticated";
    /// Wrong username or password.
    INVALID_CREDENTIALS = "invalid-credentials";
    /// The account is disabled.
    ACCOUNT_DISABLED = "account-disabled";
    /// The caller lacks a role or ownership.
    FORBIDDEN = "forbidden";
    /// A cookie-authenticated unsafe request without CSRF proof.
    CSRF_REJECTED = "csrf-rejected";
    /// A reviewer deciding on their own work.
    SELF_REVIEW = "self-review";
    // Things that are not there, or not for this caller (404, 405).
    /// No such work, or not one the caller may see.
    WORK_NOT_FOUND = "work-not-found";
    /// No such media, or not one the caller may see.
    MEDIA_NOT_FOUND = "media-not-found";
    /// No such account.
    USER_NOT_FOUND = "user-not-found";
    /// No such comment, or not on a work the caller may see.
    COMMENT_NOT_FOUND = "comment-not-found";
    /// No such publication record, or not of a work the caller may see.
    PUBLICATION_NOT_FOUND = "publication-not-found";
    /// No such import job (they last as long as the server process).
    IMPORT_NOT_FOUND = "import-not-found";
    /// No such webhook.
    WEBHOOK_NOT_FOUND = "webhook-not-found";
    /// No such compliance finding on that work.
    FINDING_NOT_FOUND = "finding-not-found";
    /// No such word list.
    WORDLIST_NOT_FOUND = "wordlist-not-found";
    /// No such route.
    ROUTE_NOT_FOUND = "route-not-found";
    /// No such derivative of a medium.
    DERIVATIVE_NOT_FOUND = "derivative-not-found";
    /// The route exists, but not with this method.
    METHOD_NOT_ALLOWED = "method-not-allowed";
    /// A Range that starts past the end of the file (416, with `Content-Range: bytes */size`).
    RANGE_NOT_SATISFIABLE = "range-not-satisfiable";
    /// No such resumable upload (or not the caller's, or expired).
    UPLOAD_NOT_FOUND = "upload-not-found";
    /// A tus PATCH whose `Upload-Offset` is not where the upload stands (409).
    UPLOAD_OFFSET_MISMATCH = "upload-offset-mismatch";
    /// A tus PATCH to an upload that has all its bytes (409).
    UPLOAD_COMPLETE = "upload-complete";
    /// A tus request without `Tus-Resumable: 1.0.0` (412).
    TUS_VERSION_UNSUPPORTED = "tus-version-unsupported";
    // Conflicts with the stored state (409).
    /// The client's version is not the stored one.
    VERSION_CONFLICT = "version-conflict";
    /// The work's state does not allow edits.
    WORK_NOT_EDITABLE = "work-not-editable";
    /// Restoring a work that is not deleted.
    WORK_NOT_DELETED = "work-not-deleted";
    /// Starting an import twice, or asking for the report of one still running.
    IMPORT_STATE = "import-state";
    /// The username belongs to another account.
    USERNAME_TAKEN = "username-taken";
    /// The lifecycle does not allow this step from the current state.
    ILLEGAL_TRANSITION = "illegal-transition";
    /// The reviewer already signed this review round off.
    ALREADY_SIGNED_OFF = "already-signed-off";
    /// Approval or publication with open `block` compliance findings (listed in `findings`).
    COMPLIANCE_BLOCKED = "compliance-blocked";
    /// Approval or publication with open `review` findings the reviewer did not acknowledge.
    COMPLIANCE_UNACKNOWLEDGED = "compliance-unacknowledged";
    /// Overriding or masking a finding that is fixed or already overridden.
    FINDING_NOT_OPEN = "finding-not-open";
    /// "Mask it" on a finding that is not personal data in the title, summary or body.
    FINDING_NOT_MASKABLE = "finding-not-maskable";
    // Bodies and uploads (413, 415, 422, 507).
    /// The request body is larger than the endpoint takes.
    PAYLOAD_TOO_LARGE = "payload-too-large";
    /// An upload over its class's size limit.
    UPLOAD_TOO_LARGE = "upload-too-large";
    /// The body is not of a content type this endpoint takes.
    UNSUPPORTED_CONTENT_TYPE = "unsupported-content-type";
    /// An upload whose bytes are not an accepted format.
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type";
    /// A field was missing or blank.
    FIELD_REQUIRED = "field-required";
    /// A field exceeded its limit.
    FIELD_TOO_LONG = "field-too-long";
    /// A field had the right type but an unacceptable value.
    INVALID_FIELD = "invalid-field";
    /// A body named a field the endpoint does not take.
    UNKNOWN_FIELD = "unknown-field";
    /// A decision that needs a comment came without one.
    COMMENT_REQUIRED = "comment-required";
    /// A comment's timecode lies outside the cut it is pinned to.
    TIMECODE_OUT_OF_RANGE = "timecode-out-of-range";
    /// An uploaded file with no bytes.
    EMPTY_FILE = "empty-file";
    /// An uploaded zip that would write outside its folder, holds links, or unpacks past
    /// a limit (entries, bytes, compression ratio).
    UNSAFE_ARCHIVE = "unsafe-archive";
    /// An upload form with more than one file.
    TOO_MANY_FILES = "too-many-files";
    /// An upload form without a file.
    FILE_MISSING = "file-missing";
    /// The disk is full; nothing stored was touched.
    INSUFFICIENT_STORAGE = "insufficient-storage";
    // Throttling and the server's own failures (429, 500).
    /// Too many failed logins.
    TOO_MANY_ATTEMPTS = "too-many-attempts";
    /// A bug or an unavailable dependency; the detail is only logged.
    INTERNAL_ERROR = "internal-error";
    // Why processing a medium failed (stored on the media record).
    /// The file is damaged or not what it claims to be.
    DECODE_FAILED = "decode-failed";
    /// Reading or writing media failed.
    IO_ERROR = "io-error";
    /// A picture over the pixel or decoding-memory limit.
    IMAGE_TOO_LARGE = "image-too-large";
    /// A derivative could not be encoded.
    ENCODE_FAILED = "encode-failed";
    /// A container with more streams than a phone or camera writes.
    TOO_MANY_STREAMS = "too-many-streams";
    /// A film longer than the duration limit.
    VIDEO_TOO_LONG = "video-too-long";
    /// A sound file longer than the duration limit.
    AUDIO_TOO_LONG = "audio-too-long";
    /// Video frames over the pixel limit.
    VIDEO_FRAME_TOO_LARGE = "video-frame-too-large";
    /// A file with neither video nor audio.
    NO_MEDIA_STREAMS = "no-media-streams";
    /// A poster or storyboard asked of a file without video.
    NO_VIDEO_STREAM = "no-video-stream";
    /// No decoder for the stream's codec.
    UNSUPPORTED_CODEC = "unsupported-codec";
    /// The decoder library is not installed.
    DECODER_UNAVAILABLE = "decoder-unavailable";
    /// No worker that can process this medium could be started.
    WORKER_UNAVAILABLE = "worker-unavailable";
    /// The worker child ran past its time limit.
    WORKER_TIMEOUT = "worker-timeout";
    /// The worker child died.
    WORKER_CRASHED = "worker-crashed";
    /// The stored original is missing or its digest is malformed.
    ORIGINAL_MISSING = "original-missing";
}

#[cfg(test)]
mod tests {
    use super::ALL;

    #[test]
    fn codes_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ALL {
            assert!(seen.insert(code), "{code} is listed twice");
            assert!(code.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{code} is not kebab-case");
        }
    }

    /// Every code is documented, and no other source file writes one out: a new code goes
    /// here first, so the README and the pages' translations cannot silently miss it.
    #[test]
    fn every_code_is_in_the_readme_and_spelled_only_here() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        for code in ALL {
            assert!(readme.contains(&format!("`{code}`")), "README's code table lacks `{code}`");
        }
        for (path, source) in rust_sources(&root.join("src")) {
            if path.ends_with("error/codes.rs") {
                continue;
            }
            // Unit tests may compare against literals; the shipped code may not.
            let shipped = source.split("#[cfg(test)]").next().unwrap_or_default();
            for code in ALL {
                assert!(!shipped.contains(&format!("\"{code}\"")), "{} spells out \"{code}\"", path.display());
            }
        }
    }

    fn rust_sources(dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                found.extend(rust_sources(&path));
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let source = std::fs::read_to_string(&path).unwrap();
                found.push((path, source));
            }
        }
        found
    }
}
