//! What the pages say for each stable error code, in both languages, and for each refused
//! field. The API keeps its English `message` for developers; a page never shows it. A test
//! walks every code of `error::codes` and fails when a language lacks one.

use super::i18n::Lang;
use crate::domain::fields::{FieldError, LimitUnit};
use crate::error::codes;

/// The sentence a page shows for an error code.
pub fn message(lang: Lang, code: &str) -> &'static str {
    known(lang, code).unwrap_or(match lang {
        Lang::Zh => "请求未能完成，请稍后重试",
        Lang::En => "The request could not be completed; please try again",
    })
}

/// The catalogue entry, if the code has one.
pub fn known(lang: Lang, code: &str) -> Option<&'static str> {
    match lang {
        Lang::Zh => zh(code),
        Lang::En => en(code),
    }
}

fn zh(code: &str) -> Option<&'static str> {
    Some(match code {
        codes::MALFORMED_JSON => "请求内容无法读取",
        codes::MALFORMED_FORM => "表单内容无法读取，请刷新页面后重试",
        codes::INVALID_QUERY_PARAMETER => "网址中的参数有误",
        codes::INVALID_PATH_PARAMETER => "网址有误，请检查链接",
        codes::INVALID_QUERY => "检索词无法识别，请换个说法",
        codes::INVALID_HEADER => "请求头有误",
        codes::UNAUTHENTICATED => "请先登录",
        codes::INVALID_CREDENTIALS => "用户名或密码不正确",
        codes::ACCOUNT_DISABLED => "该账号已停用，请联系管理员",
        codes::FORBIDDEN => "你没有权限进行此操作",
        codes::CSRF_REJECTED => "页面已过期，请刷新后重试",
        codes::SELF_REVIEW => "不能审核自己创作、署名或负责的作品",
        codes::WORK_NOT_FOUND => "找不到该作品，可能已被删除或你无权查看",
        codes::MEDIA_NOT_FOUND => "找不到该素材",
        codes::USER_NOT_FOUND => "找不到该用户",
        codes::COMMENT_NOT_FOUND => "找不到该评论",
        codes::PUBLICATION_NOT_FOUND => "找不到该发布记录",
        codes::IMPORT_NOT_FOUND => "找不到该导入任务（服务重启后需重新上传）",
        codes::WEBHOOK_NOT_FOUND => "找不到该群机器人",
        codes::FINDING_NOT_FOUND => "找不到该合规提示",
        codes::WORDLIST_NOT_FOUND => "找不到该词表",
        codes::ROUTE_NOT_FOUND => "页面不存在",
        codes::DERIVATIVE_NOT_FOUND => "该文件的预览尚未生成",
        codes::METHOD_NOT_ALLOWED => "不支持此操作",
        codes::RANGE_NOT_SATISFIABLE => "请求的文件片段超出了文件长度",
        codes::UPLOAD_NOT_FOUND => "找不到该上传（可能已过期，请重新上传）",
        codes::UPLOAD_OFFSET_MISMATCH => "上传进度不一致，正在从已保存的位置继续",
        codes::UPLOAD_COMPLETE => "该文件已全部上传",
        codes::TUS_VERSION_UNSUPPORTED => "上传工具的版本不受支持，请刷新页面",
        codes::VERSION_CONFLICT => "作品已被他人修改，请刷新后重试",
        codes::WORK_NOT_EDITABLE => "作品当前状态不可修改",
        codes::WORK_NOT_DELETED => "该作品没有被删除",
        codes::IMPORT_STATE => "导入任务已开始或尚未完成",
        codes::USERNAME_TAKEN => "该用户名已被使用",
        codes::ILLEGAL_TRANSITION => "作品当前状态不能进行这一步（可能已由他人处理，请刷新）",
        codes::ALREADY_SIGNED_OFF => "你已签过本轮审核，需另一位审核员终审",
        codes::COMPLIANCE_BLOCKED => "作品还有未处理的“阻断”级合规问题：请先修改或脱敏，或由审核员说明理由后放行",
        codes::COMPLIANCE_UNACKNOWLEDGED => "作品有“需复核”的合规提示：请逐条核看后勾选“我已核看”再提交",
        codes::FINDING_NOT_OPEN => "该提示已修复或已放行，无需再处理",
        codes::FINDING_NOT_MASKABLE => "只有标题、摘要和正文中的个人信息可以一键脱敏，其他位置请到原处修改",
        codes::PAYLOAD_TOO_LARGE => "提交的内容太大",
        codes::UPLOAD_TOO_LARGE => "文件超过大小上限",
        codes::UNSUPPORTED_CONTENT_TYPE => "不支持的提交格式",
        codes::UNSUPPORTED_MEDIA_TYPE => {
            "不支持的文件类型（可上传 JPEG、PNG、HEIC 图片，MP4、MOV 等视频，音频及 SRT/WebVTT 字幕）"
        }
        codes::FIELD_REQUIRED => "有必填项未填写",
        codes::FIELD_TOO_LONG => "填写的内容过长",
        codes::INVALID_FIELD => "填写的内容有误",
        codes::UNKNOWN_FIELD => "提交了不认识的字段",
        codes::COMMENT_REQUIRED => "这一步需要填写意见说明理由",
        codes::TIMECODE_OUT_OF_RANGE => "时间码超出了影片时长",
        codes::EMPTY_FILE => "文件是空的",
        codes::UNSAFE_ARCHIVE => "压缩包不安全或超出限制，已拒绝",
        codes::TOO_MANY_FILES => "一次只能上传一个文件",
        codes::FILE_MISSING => "没有选择文件",
        codes::INSUFFICIENT_STORAGE => "服务器存储空间不足，请联系管理员",
        codes::TOO_MANY_ATTEMPTS => "尝试次数过多，请稍后再试",
        codes::INTERNAL_ERROR => "服务器出错了，请稍后重试",
        codes::DECODE_FAILED => "文件已损坏或无法解码",
        codes::IO_ERROR => "读写文件出错，请重新处理",
        codes::IMAGE_TOO_LARGE => "图片像素过多",
        codes::ENCODE_FAILED => "生成缩略图失败",
        codes::TOO_MANY_STREAMS => "视频包含的轨道过多",
        codes::VIDEO_TOO_LONG => "视频时长超过上限",
        codes::AUDIO_TOO_LONG => "音频时长超过上限",
        codes::VIDEO_FRAME_TOO_LARGE => "视频画面尺寸过大",
        codes::NO_MEDIA_STREAMS => "文件中没有音视频内容",
        codes::NO_VIDEO_STREAM => "文件中没有视频画面",
        codes::UNSUPPORTED_CODEC => "不支持该视频或音频编码",
        codes::DECODER_UNAVAILABLE => "服务器缺少该格式的解码器",
        codes::WORKER_UNAVAILABLE => "处理程序不可用，请联系管理员",
        codes::WORKER_TIMEOUT => "处理超时，可重新处理",
        codes::WORKER_CRASHED => "处理程序意外退出，可重新处理",
        codes::ORIGINAL_MISSING => "原始文件丢失",
        _ => return None,
    })
}

fn en(code: &str) -> Option<&'static str> {
    Some(match code {
        codes::MALFORMED_JSON => "The request could not be read",
        codes::MALFORMED_FORM => "The form could not be read; reload the page and try again",
        codes::INVALID_QUERY_PARAMETER => "A parameter in the address is wrong",
        codes::INVALID_PATH_PARAMETER => "The address is wrong; check the link",
        codes::INVALID_QUERY => "The search could not be understood; try other words",
        codes::INVALID_HEADER => "A request header is wrong",
        codes::UNAUTHENTICATED => "Please log in first",
        codes::INVALID_CREDENTIALS => "Wrong username or password",
        codes::ACCOUNT_DISABLED => "This account is disabled; ask an admin",
        codes::FORBIDDEN => "You may not do this",
        codes::CSRF_REJECTED => "The page expired; reload it and try again",
        codes::SELF_REVIEW => "You cannot review a work you created, are credited on or assigned to",
        codes::WORK_NOT_FOUND => "No such work: it may have been deleted, or is not yours to see",
        codes::MEDIA_NOT_FOUND => "No such media",
        codes::USER_NOT_FOUND => "No such user",
        codes::COMMENT_NOT_FOUND => "No such comment",
        codes::PUBLICATION_NOT_FOUND => "No such publication record",
        codes::IMPORT_NOT_FOUND => "No such import (after a server restart, upload again)",
        codes::WEBHOOK_NOT_FOUND => "No such robot",
        codes::FINDING_NOT_FOUND => "No such compliance finding",
        codes::WORDLIST_NOT_FOUND => "No such word list",
        codes::ROUTE_NOT_FOUND => "This page does not exist",
        codes::DERIVATIVE_NOT_FOUND => "This file's preview is not made yet",
        codes::METHOD_NOT_ALLOWED => "This action is not supported here",
        codes::RANGE_NOT_SATISFIABLE => "The requested part lies outside the file",
        codes::UPLOAD_NOT_FOUND => "No such upload (it may have expired; upload again)",
        codes::UPLOAD_OFFSET_MISMATCH => "The upload's progress differs; resuming from what was saved",
        codes::UPLOAD_COMPLETE => "This file is uploaded completely",
        codes::TUS_VERSION_UNSUPPORTED => "This upload tool's version is not supported; reload the page",
        codes::VERSION_CONFLICT => "Someone else changed the work; reload and try again",
        codes::WORK_NOT_EDITABLE => "The work cannot be changed in its current state",
        codes::WORK_NOT_DELETED => "This work is not deleted",
        codes::IMPORT_STATE => "The import has already started, or has not finished yet",
        codes::USERNAME_TAKEN => "That username is taken",
        codes::ILLEGAL_TRANSITION => {
            "This step is not possible from the work's state (someone may have acted already; reload)"
        }
        codes::ALREADY_SIGNED_OFF => "You already signed this round off; another reviewer must approve",
        codes::COMPLIANCE_BLOCKED => {
            "The work has open blocking compliance findings: fix or mask them, or a reviewer overrides them with a reason"
        }
        codes::COMPLIANCE_UNACKNOWLEDGED => {
            "The work has compliance findings to review: read them and tick \"I have read them\" before deciding"
        }
        codes::FINDING_NOT_OPEN => "That finding is already fixed or overridden",
        codes::FINDING_NOT_MASKABLE => {
            "Only personal data in the title, summary or body can be masked; edit it where it is"
        }
        codes::PAYLOAD_TOO_LARGE => "What was sent is too large",
        codes::UPLOAD_TOO_LARGE => "The file is over the size limit",
        codes::UNSUPPORTED_CONTENT_TYPE => "This kind of submission is not supported",
        codes::UNSUPPORTED_MEDIA_TYPE => {
            "This kind of file is not supported (JPEG, PNG, HEIC photos; MP4, MOV and other videos; audio; SRT/WebVTT subtitles)"
        }
        codes::FIELD_REQUIRED => "A required field is empty",
        codes::FIELD_TOO_LONG => "A field is too long",
        codes::INVALID_FIELD => "A field is wrong",
        codes::UNKNOWN_FIELD => "An unknown field was sent",
        codes::COMMENT_REQUIRED => "This step needs a comment explaining it",
        codes::TIMECODE_OUT_OF_RANGE => "The timecode lies outside the film",
        codes::EMPTY_FILE => "The file is empty",
        codes::UNSAFE_ARCHIVE => "The zip is unsafe or over a limit, and was refused",
        codes::TOO_MANY_FILES => "Upload one file at a time",
        codes::FILE_MISSING => "No file was chosen",
        codes::INSUFFICIENT_STORAGE => "The server is out of storage; ask an admin",
        codes::TOO_MANY_ATTEMPTS => "Too many attempts; try again later",
        codes::INTERNAL_ERROR => "The server failed; please try again later",
        codes::DECODE_FAILED => "The file is damaged or cannot be decoded",
        codes::IO_ERROR => "Reading or writing the file failed; process it again",
        codes::IMAGE_TOO_LARGE => "The picture has too many pixels",
        codes::ENCODE_FAILED => "Making the thumbnail failed",
        codes::TOO_MANY_STREAMS => "The video has too many tracks",
        codes::VIDEO_TOO_LONG => "The video is longer than allowed",
        codes::AUDIO_TOO_LONG => "The audio is longer than allowed",
        codes::VIDEO_FRAME_TOO_LARGE => "The video's picture is too large",
        codes::NO_MEDIA_STREAMS => "The file has no audio or video",
        codes::NO_VIDEO_STREAM => "The file has no video picture",
        codes::UNSUPPORTED_CODEC => "This video or audio codec is not supported",
        codes::DECODER_UNAVAILABLE => "The server lacks a decoder for this format",
        codes::WORKER_UNAVAILABLE => "The processing program is unavailable; ask an admin",
        codes::WORKER_TIMEOUT => "Processing took too long; it can be run again",
        codes::WORKER_CRASHED => "The processing program stopped; it can be run again",
        codes::ORIGINAL_MISSING => "The original file is missing",
        _ => return None,
    })
}

/// Why a page's request was refused, in the reader's language: the field and its reason, or
/// the code's sentence. Never the API's English message.
pub fn refusal(lang: Lang, error: &crate::error::ApiError) -> String {
    match error {
        crate::error::ApiError::Field(field) => field_error(lang, field),
        other => message(lang, other.code()).to_owned(),
    }
}

/// A field's name as the team reads it; the API name when it has none.
pub fn field_label(lang: Lang, field: &str) -> String {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    let zh = match base {
        "title" => "标题",
        "body" => "正文",
        "summary" => "摘要",
        "tags" => "标签",
        "unit" => "单位",
        "credits" => "署名",
        "channel" => "发布渠道",
        "external_url" | "url" => "发布链接",
        "published_at" => "发布时间",
        "assignees" => "负责人",
        "due_date" => "截止日期",
        "kind" => "类型",
        "status" => "状态",
        "username" => "用户名",
        "password" => "密码",
        "display_name" => "姓名",
        "roles" => "角色",
        "comment" => "意见",
        "timecode_ms" | "timecode" => "时间码",
        "frame" => "帧",
        "media_id" => "影片版本",
        "drawing" => "标注",
        "reply_to" => "回复的评论",
        "platform" => "发布平台",
        "account" => "账号",
        "correction_reason" => "更正原因",
        "file" => "文件",
        "role" => "素材用途",
        "action" => "操作",
        "version" => "版本",
        "events" => "事件",
        "format" => "导出格式",
        "from" | "to" => "日期范围",
        "q" => "检索词",
        "reason" => "放行理由",
        "name" => "名称",
        "category" => "类别",
        "level" => "级别",
        "terms" => "词条",
        "text" => "文字",
        _ => return field.to_owned(),
    };
    match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => base.replace('_', " "),
    }
}

/// A word list's refused line, in Chinese: which line, and what is wrong with it (the
/// service's message is `terms line N: …`, see `domain::compliance::words::TermError`).
fn terms_error_zh(message: &str) -> String {
    let line = message.split_once("line ").and_then(|(_, rest)| rest.split(':').next()).unwrap_or("");
    let why = if message.contains("level") {
        "级别只能是 block（阻断）或 review（需复核）"
    } else if message.contains("reserved") {
        "类别名称被内置检测占用"
    } else if message.contains("at most") {
        return "一个词表最多 200000 个词条".to_owned();
    } else {
        "每个词条须有 2–32 个字母、数字或汉字"
    };
    format!("词条第 {line} 行有误：{why}")
}

/// A refused field as the page shows it, in the reader's language: which field, and why
/// (with the limit where one was passed).
pub fn field_error(lang: Lang, error: &FieldError) -> String {
    if lang == Lang::En {
        return error.message.clone();
    }
    let label = field_label(lang, &error.field);
    match error.code {
        codes::FIELD_REQUIRED => format!("请填写{label}"),
        codes::FIELD_TOO_LONG => match error.limit {
            Some(limit) => format!("{label}最多 {} {}", limit.max, unit_zh(limit.unit)),
            None => format!("{label}过长"),
        },
        codes::TIMECODE_OUT_OF_RANGE => format!("{label}超出了影片时长"),
        codes::UNKNOWN_FIELD => format!("{label}不是可以填写的内容"),
        _ => match error.field.as_str() {
            "published_at" => "发布时间格式有误，或晚于现在（只能登记已发布的时间）".to_owned(),
            "external_url" | "url" => "链接须以 http:// 或 https:// 开头".to_owned(),
            "password" => "密码至少 8 位".to_owned(),
            "terms" => terms_error_zh(&error.message),
            "category" => "这个类别名称被内置检测（身份证号、手机号等）占用，请换一个".to_owned(),
            "level" => "级别只能是“阻断”或“需复核”".to_owned(),
            "username" => "用户名只能用字母、数字和 _ . -".to_owned(),
            _ => format!("{label}填写有误"),
        },
    }
}

fn unit_zh(unit: LimitUnit) -> &'static str {
    match unit {
        LimitUnit::Chars => "个字",
        LimitUnit::Bytes => "字节",
        LimitUnit::Items(_) => "项",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_word_list_line_is_named_in_chinese() {
        let refused = |line| FieldError::invalid("terms", line);
        let level = refused("line 3: the level must be block or review, not \"x\"".to_owned());
        assert_eq!(field_error(Lang::Zh, &level), "词条第 3 行有误：级别只能是 block（阻断）或 review（需复核）");
        let short = refused("line 12: a term must have 2 to 32 letters, digits or ideographs".to_owned());
        assert_eq!(field_error(Lang::Zh, &short), "词条第 12 行有误：每个词条须有 2–32 个字母、数字或汉字");
    }

    #[test]
    fn every_code_speaks_both_languages() {
        for code in codes::ALL {
            assert!(known(Lang::Zh, code).is_some(), "no Chinese for {code}");
            assert!(known(Lang::En, code).is_some(), "no English for {code}");
        }
    }

    #[test]
    fn refused_fields_read_in_chinese_with_their_limit() {
        let long = crate::domain::fields::Title::parse(&"长".repeat(300)).unwrap_err();
        assert_eq!(field_error(Lang::Zh, &long), "标题最多 200 个字");
        assert!(field_error(Lang::En, &long).contains("200 characters"), "the API's sentence in English");
        assert_eq!(field_error(Lang::Zh, &FieldError::required("published_at")), "请填写发布时间");
        let strange = FieldError::invalid("credits[2].role", "must not be blank");
        assert_eq!(field_error(Lang::Zh, &strange), "署名填写有误");
    }
}
