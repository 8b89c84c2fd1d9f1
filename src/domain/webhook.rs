//! Messages to the team's group chats in the robots' documented formats — 企业微信 (WeCom)
//! group robots and 钉钉 (DingTalk) custom robots both take `{"msgtype": "markdown", …}` — how a
//! robot's answer is read (both answer HTTP 200 with `errcode` ≠ 0 when they refuse a
//! message), and the retry schedule. Pure: the webhook service sends.

use std::time::Duration;

use serde_json::{Value, json};

/// Which robot a webhook posts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RobotKind {
    /// 企业微信群机器人: `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`.
    Wecom,
    /// 钉钉自定义机器人: `https://oapi.dingtalk.com/robot/send?access_token=…`.
    Dingtalk,
}

impl RobotKind {
    /// The API and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RobotKind::Wecom => "wecom",
            RobotKind::Dingtalk => "dingtalk",
        }
    }

    /// Parses the API spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        [RobotKind::Wecom, RobotKind::Dingtalk].into_iter().find(|kind| kind.as_str() == raw.trim())
    }
}

/// Markdown's special characters in a title or text are shown as themselves.
fn plain(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '*' | '_' | '`' | '[' | ']' | '#' | '>' => vec!['\\', c],
            '\n' | '\r' => vec![' '],
            _ => vec![c],
        })
        .collect()
}

/// The message body a robot takes: a markdown heading (the kind of event), the notice, and a
/// link back to the work when there is one.
pub fn message(kind: RobotKind, heading: &str, text: &str, link: Option<&str>) -> Value {
    let link_line = link.map(|url| format!("\n\n[查看作品]({url})")).unwrap_or_default();
    let body = format!("#### {}\n{}{link_line}", plain(heading), plain(text));
    match kind {
        RobotKind::Wecom => json!({"msgtype": "markdown", "markdown": {"content": body}}),
        RobotKind::Dingtalk => json!({"msgtype": "markdown", "markdown": {"title": heading, "text": body}}),
    }
}

/// Whether a robot took the message: a 2xx answer whose JSON, if it has an `errcode`, says 0.
pub fn outcome(status: u16, body: &str) -> Result<(), String> {
    if !(200..300).contains(&status) {
        return Err(format!("HTTP {status}: {}", body.chars().take(200).collect::<String>()));
    }
    let Ok(answer) = serde_json::from_str::<Value>(body) else { return Ok(()) };
    match answer.get("errcode").and_then(Value::as_i64) {
        None | Some(0) => Ok(()),
        Some(code) => {
            let why = answer.get("errmsg").and_then(Value::as_str).unwrap_or("refused");
            Err(format!("errcode {code}: {why}"))
        }
    }
}

/// The longest wait between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(3600);

/// How long to wait after the `attempts`-th failure: `base`, doubling, at most an hour.
pub fn retry_delay(base: Duration, attempts: u32) -> Duration {
    base.saturating_mul(1u32 << attempts.saturating_sub(1).min(16)).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_robots_get_markdown_with_a_link_back() {
        let wecom = message(RobotKind::Wecom, "待审核", "《守护》等待你审核", Some("http://cms/works/1"));
        assert_eq!(wecom["msgtype"], "markdown");
        let content = wecom["markdown"]["content"].as_str().unwrap();
        assert!(
            content.starts_with("#### 待审核\n") && content.ends_with("[查看作品](http://cms/works/1)"),
            "{content}"
        );
        let dingtalk = message(RobotKind::Dingtalk, "已发布", "《守护》已发布", None);
        assert_eq!(dingtalk["markdown"]["title"], "已发布");
        assert!(!dingtalk["markdown"]["text"].as_str().unwrap().contains("查看作品"));
        let hostile = message(RobotKind::Wecom, "x", "[点我](http://evil) **粗**", None);
        assert!(hostile["markdown"]["content"].as_str().unwrap().contains("\\[点我\\]"), "no links smuggled in");
    }

    #[test]
    fn a_refusal_in_a_200_answer_is_a_failure() {
        assert!(outcome(200, r#"{"errcode":0,"errmsg":"ok"}"#).is_ok());
        assert!(outcome(204, "").is_ok());
        assert_eq!(
            outcome(200, r#"{"errcode":310000,"errmsg":"keywords not in content"}"#).unwrap_err(),
            "errcode 310000: keywords not in content"
        );
        assert!(outcome(502, "bad gateway").unwrap_err().starts_with("HTTP 502"));
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        let base = Duration::from_secs(5);
        assert_eq!(retry_delay(base, 1), Duration::from_secs(5));
        assert_eq!(retry_delay(base, 3), Duration::from_secs(20));
        assert_eq!(retry_delay(base, 30), MAX_DELAY);
    }
}
