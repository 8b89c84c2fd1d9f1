//! Request bodies and form fields as clients send them: decoding and validation refuse bad
//! input with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microcat::http::review::TransitionRequest;
use microcat::http::works::{CreateWorkRequest, UpdateWorkRequest};
use microcat::web::forms;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = serde_json::from_slice::<CreateWorkRequest>(data) {
        let _ = request.into_fields();
    }
    if let Ok(request) = serde_json::from_slice::<UpdateWorkRequest>(data) {
        let _ = request.into_edit();
    }
    let _ = serde_json::from_slice::<TransitionRequest>(data);
    let text = String::from_utf8_lossy(data);
    let _ = forms::split_tags(&text);
    let _ = forms::parse_credits(&text);
    let _ = forms::local_input_to_rfc3339(&text);
    if let Some(ms) = forms::parse_timecode(&text) {
        assert!(ms >= 0);
        let _ = forms::show_timecode(ms);
    }
});
