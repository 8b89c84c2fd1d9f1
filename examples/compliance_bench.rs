//! Compliance check benchmark (run by `make bench`): a 1 MiB Chinese body with personal data
//! sprinkled in, a 50 000-term list; the time to build the automaton, then the throughput of
//! the whole check (every detector plus the list, as `microcat check` runs it) side by side
//! with a plain `aho-corasick` scan of the same list alone over the same bytes, interleaved.
//! Prints one JSON object.

use std::time::Instant;

use aho_corasick::AhoCorasick;
use microcat::domain::compliance::words::{Term, fold_term};
use microcat::domain::compliance::{Checker, Level, WordMatcher};

const SENTENCES: &[&str] = &[
    "城关派出所民警在社区开展反诈宣传，提醒群众谨防电信诈骗。",
    "交警大队在火车站广场整治酒驾醉驾，守护春运平安。",
    "“枫桥经验”在基层落地生根，矛盾纠纷就地化解。",
    "网安大队提示：个人信息保护人人有责，不要轻信陌生来电。",
    "特警铁骑巡逻在夜市，群众安全感不断提升。",
    "出入境管理大队推出预约办理，节假日照常服务。",
    "护学岗上的民警风雨无阻，守护孩子们上下学。",
    "防溺水宣传走进农村学校，家长孩子共同签订承诺书。",
];
const PERSONAL: &[&str] =
    &["（身份证号320102199003071239）", "联系电话138-1234-5678", "车牌苏A·12345", "邮箱 tip@example.com"];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn body(bytes: usize) -> String {
    let mut rng = Rng(7);
    let mut text = String::with_capacity(bytes + 256);
    while text.len() < bytes {
        text.push_str(SENTENCES[rng.next() as usize % SENTENCES.len()]);
        if rng.next().is_multiple_of(16) {
            text.push_str(PERSONAL[rng.next() as usize % PERSONAL.len()]);
        }
    }
    text
}

/// The 3 755 common ideographs of GB 2312 level 1 (what real word lists are written in).
fn common_ideographs() -> Vec<char> {
    let mut bytes = Vec::new();
    for high in 0xB0u8..=0xD7 {
        for low in 0xA1u8..=0xFE {
            bytes.extend([high, low]);
        }
    }
    let (text, _, _) = encoding_rs::GB18030.decode(&bytes);
    text.chars().filter(|c| microcat::domain::fold::is_cjk(*c)).collect()
}

/// `count` terms of 2–4 common ideographs, plus a few the body really contains.
fn terms(count: usize) -> Vec<String> {
    let alphabet = common_ideographs();
    let mut rng = Rng(11);
    let mut terms: Vec<String> = ["电信诈骗", "陌生来电", "酒驾醉驾"].iter().map(|term| (*term).to_owned()).collect();
    let mut seen: std::collections::HashSet<String> = terms.iter().cloned().collect();
    while terms.len() < count {
        let length = 2 + rng.next() as usize % 3;
        let term: String = (0..length).map(|_| alphabet[rng.next() as usize % alphabet.len()]).collect();
        if seen.insert(term.clone()) {
            terms.push(term);
        }
    }
    terms
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let text = body(1 << 20);
    let list = terms(50_000);
    // The folding table is made once per process, before any list is built.
    let started = Instant::now();
    fold_term("預熱");
    let fold_table_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    let term_rows =
        list.iter().map(|raw| Term { text: fold_term(raw), category: "词表".into(), level: Level::Block });
    let checker = Checker::new(WordMatcher::build(term_rows));
    let build_ms = started.elapsed().as_secs_f64() * 1000.0;
    let peer = AhoCorasick::new(&list).expect("the peer builds");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let (mut our_findings, mut peer_matches) = (0, 0);
    for _ in 0..15 {
        let started = Instant::now();
        our_findings = checker.scan(&text).len();
        ours.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        peer_matches = peer.find_iter(&text).count();
        theirs.push(started.elapsed().as_secs_f64());
    }
    let megabytes = text.len() as f64 / 1e6;
    let (ours, theirs) = (megabytes / median(ours), megabytes / median(theirs));
    println!(
        "{}",
        serde_json::json!({
            "terms": checker.term_count(),
            "body_bytes": text.len(),
            "build_ms": build_ms,
            "fold_table_ms": fold_table_ms,
            "ours_mb_s": ours,
            "peer_mb_s": theirs,
            "ratio": ours / theirs,
            "our_findings": our_findings,
            "peer_matches": peer_matches,
        })
    );
}
