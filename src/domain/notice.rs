//! What the in-app inbox tells people: the kinds of notice, the Chinese sentence each one reads
//! as, and the `@用户名` mentions in a comment. Pure; the notify service decides who gets what.

use super::work::Status;

/// What a notice is about; each person may turn any kind off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// 待我审核: a work entered the reviewer's queue.
    ReviewWaiting,
    /// 被退回: the person's work was sent back (or not taken), with the reviewer's comment.
    SentBack,
    /// 已通过: the person's work was approved (or adopted).
    Approved,
    /// 已发布: the person's work went out.
    Published,
    /// A new comment on the person's work.
    Comment,
    /// A reply to the person's comment.
    Reply,
    /// `@用户名` in a comment.
    Mention,
    /// The person was assigned to a work.
    Assigned,
    /// A work the person made or is assigned to is past its due date (once a day).
    Overdue,
}

impl Event {
    pub const ALL: [Event; 9] = [
        Event::ReviewWaiting,
        Event::SentBack,
        Event::Approved,
        Event::Published,
        Event::Comment,
        Event::Reply,
        Event::Mention,
        Event::Assigned,
        Event::Overdue,
    ];

    /// The API and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::ReviewWaiting => "review_waiting",
            Event::SentBack => "sent_back",
            Event::Approved => "approved",
            Event::Published => "published",
            Event::Comment => "comment",
            Event::Reply => "reply",
            Event::Mention => "mention",
            Event::Assigned => "assigned",
            Event::Overdue => "overdue",
        }
    }

    /// Parses the API spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.as_str() == raw.trim())
    }

    /// The name the settings show.
    pub fn label_zh(self) -> &'static str {
        match self {
            Event::ReviewWaiting => "待我审核",
            Event::SentBack => "被退回",
            Event::Approved => "已通过",
            Event::Published => "已发布",
            Event::Comment => "作品的新评论",
            Event::Reply => "回复我的评论",
            Event::Mention => "@提到我",
            Event::Assigned => "指派给我",
            Event::Overdue => "逾期提醒",
        }
    }

    /// The same in English.
    pub fn label_en(self) -> &'static str {
        match self {
            Event::ReviewWaiting => "Waiting for my review",
            Event::SentBack => "Sent back",
            Event::Approved => "Approved",
            Event::Published => "Published",
            Event::Comment => "New comments on my works",
            Event::Reply => "Replies to my comments",
            Event::Mention => "Mentions of me",
            Event::Assigned => "Assigned to me",
            Event::Overdue => "Overdue reminders",
        }
    }
}

/// Longest excerpt of a comment a notice quotes.
const EXCERPT_CHARS: usize = 60;

fn excerpt(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= EXCERPT_CHARS {
        return flat;
    }
    let mut cut: String = flat.chars().take(EXCERPT_CHARS).collect();
    cut.push('…');
    cut
}

/// A title in book-title marks; marks inside it become the inner pair (《〈守护〉微电影》), as
/// Chinese typesetting nests them.
fn quoted(title: &str) -> String {
    format!("《{}》", title.replace('《', "〈").replace('》', "〉"))
}

/// The sentence of a step's notice: `《反诈宣传》被退回修改：片头太长`.
pub fn step_text(title: &str, event: Event, status: Status, comment: Option<&str>) -> String {
    let t = quoted(title);
    let said = comment.map(str::trim).filter(|text| !text.is_empty()).map(|text| format!("：{}", excerpt(text)));
    let said = said.unwrap_or_default();
    match event {
        Event::ReviewWaiting => format!("{t}等待你审核"),
        Event::SentBack if status == Status::Rejected => format!("{t}未通过审核{said}"),
        Event::SentBack if status == Status::Declined => format!("{t}未被采纳{said}"),
        Event::SentBack => format!("{t}被退回修改{said}"),
        Event::Approved if status == Status::Adopted => format!("{t}已被采纳"),
        Event::Approved => format!("{t}已通过审核{said}"),
        Event::Published => format!("{t}已发布"),
        Event::Assigned => format!("你被指派参与{t}"),
        Event::Comment | Event::Reply | Event::Mention | Event::Overdue => t,
    }
}

/// The sentence of a comment's notice: `张三评论了《反诈宣传》：片头再剪短`.
pub fn comment_text(author: &str, title: &str, event: Event, body: &str) -> String {
    let t = quoted(title);
    let quoted = excerpt(body);
    match event {
        Event::Reply => format!("{author}回复了你在{t}的评论：{quoted}"),
        Event::Mention => format!("{author}在{t}的评论中提到了你：{quoted}"),
        _ => format!("{author}评论了{t}：{quoted}"),
    }
}

/// The sentence of an overdue notice.
pub fn overdue_text(title: &str, due: &str) -> String {
    let t = quoted(title);
    format!("{t}已逾期（截止 {due}）")
}

/// The usernames a comment mentions (`@zhangsan`), each once, in order. A username is 2–32
/// letters, digits, `_`, `.` or `-`, as accounts allow; an `@` inside a word (an e-mail
/// address) is not a mention.
pub fn mentions(body: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut previous: Option<char> = None;
    for (index, c) in body.char_indices() {
        let starts = c == '@' && !previous.is_some_and(|before| before.is_ascii_alphanumeric());
        previous = Some(c);
        if !starts {
            continue;
        }
        let name: String = body[index + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            .collect();
        let name = name.trim_end_matches(['.', '-']).to_owned();
        if (2..=32).contains(&name.len()) && !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_usernames_after_an_at_sign_not_email_addresses() {
        assert_eq!(mentions("@zhangsan 请看第二版，@li_si 也看看。@zhangsan"), vec!["zhangsan", "li_si"]);
        assert_eq!(mentions("联系 admin@example.com"), Vec::<String>::new());
        assert_eq!(mentions("@a 太短 @wang.wu."), vec!["wang.wu"]);
        assert_eq!(mentions("好的@reviewer1"), vec!["reviewer1"], "after Chinese text it is a mention");
    }

    #[test]
    fn sentences_read_as_the_team_writes() {
        let sent_back = step_text("反诈宣传", Event::SentBack, Status::ChangesRequested, Some("片头 太长"));
        assert_eq!(sent_back, "《反诈宣传》被退回修改：片头 太长");
        assert_eq!(step_text("户籍", Event::Approved, Status::Adopted, None), "《户籍》已被采纳");
        let long = "很".repeat(100);
        let quoted = comment_text("张三", "守护", Event::Comment, &long);
        assert!(quoted.ends_with('…') && quoted.chars().count() < 80, "{quoted}");
        assert_eq!(Event::parse("review_waiting"), Some(Event::ReviewWaiting));
        let nested = step_text("《守护》微电影", Event::Published, Status::Published, None);
        assert_eq!(nested, "《〈守护〉微电影》已发布", "inner marks nest");
    }
}
