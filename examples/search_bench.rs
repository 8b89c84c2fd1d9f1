//! Search benchmark (run by `make bench`): generates N Chinese documents of ~600 characters
//! in a fresh SQLite database, measures jieba segmentation alone on the same text, rebuilds
//! the index through the server's own code path (`microcat reindex`'s), and measures
//! in-process query latency for 1–3 word queries with facets. Prints one JSON object.
//!
//! Usage: `search_bench DIR [DOCS]`; DIR gets `data/microcat.db` and `index/` for a server.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jieba_rs::Jieba;
use std::time::Instant;

use microcat::db::types::Json;
use microcat::db::{DatabaseUrl, Db};
use microcat::domain::user::Visibility;
use microcat::domain::work::{Kind, Status};
use microcat::jobs::indexer;
use microcat::search::query;
use microcat::search::searcher::{self, Filters, SearchRequest};
use microcat::search::{SearchIndex, analysis};

const UNITS: &[&str] = &[
    "特警大队",
    "交警大队",
    "刑侦大队",
    "治安大队",
    "网安大队",
    "城关派出所",
    "城东派出所",
    "政治处",
    "指挥中心",
    "出入境管理大队",
];
const KINDS: &[&str] = &["micro_film", "weibo_post", "wechat_article", "reform_proposal"];
const STATES: &[&str] = &["draft", "submitted", "approved", "published", "archived"];
const TOPICS: &[&str] = &[
    "两学一做",
    "三会一课",
    "反诈宣传",
    "电信诈骗",
    "交通安全",
    "春运",
    "酒驾醉驾",
    "扫黑除恶",
    "禁毒",
    "枫桥经验",
    "微警务",
    "户籍办理",
    "居住证",
    "护学岗",
    "防溺水",
    "网络谣言",
    "个人信息保护",
    "智慧安防",
    "见义勇为",
    "警营开放日",
    "消防安全",
    "流动人口",
    "出入境",
    "驾驶证",
    "快处快赔",
    "铁骑",
    "巡逻防控",
    "社区警务",
    "党建引领",
    "平安建设",
];
const VERBS: &[&str] = &["开展", "推进", "部署", "组织", "深化", "落实", "宣传", "整治", "举办", "启动"];
const PLACES: &[&str] = &["社区", "学校", "客运站", "夜市", "商场", "工业园区", "农村", "火车站广场", "景区", "医院"];
const NAMES: &[&str] = &["张国栋", "李春燕", "王晓明", "刘建华", "陈丽", "赵磊", "孙浩", "周明", "蔡晓彤", "欧阳文杰"];
const FILLER: &[&str] = &[
    "民警耐心向群众讲解相关知识，现场发放宣传资料。",
    "活动得到了辖区群众的一致好评，进一步提升了群众安全感和满意度。",
    "下一步，我们将持续巩固工作成效，推动各项措施落地见效。",
    "各单位要高度重视，结合实际制定方案，确保工作取得实效。",
    "通过典型案例以案说法，提醒大家提高警惕，守护好自己的钱袋子。",
];

/// A small deterministic generator (xorshift64*), so every run indexes the same text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn document(rng: &mut Rng) -> (String, String) {
    let topic = rng.pick(TOPICS);
    let title = format!("{}{}{}", rng.pick(UNITS), rng.pick(VERBS), topic);
    let mut body = String::new();
    while body.chars().count() < 600 {
        let sentence = format!(
            "{}在{}{}{}工作，{}带队。{}",
            rng.pick(UNITS),
            rng.pick(PLACES),
            rng.pick(VERBS),
            rng.pick(TOPICS),
            rng.pick(NAMES),
            rng.pick(FILLER)
        );
        body.push_str(&sentence);
    }
    (title, body)
}

fn percentile(sorted: &[f64], percent: usize) -> f64 {
    sorted[((percent * sorted.len()).div_ceil(100)).max(1) - 1]
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "target/bench/search".into()));
    let count: usize = args.next().map_or(Ok(100_000), |value| value.parse())?;
    let jieba = analysis::segmenter(None);
    let index_dir = dir.join("index");
    // SEARCH_BENCH_REUSE=1 keeps an earlier build of the same size and measures queries only:
    // building a million documents takes minutes, a query change is measured in seconds.
    let reuse = std::env::var("SEARCH_BENCH_REUSE").is_ok_and(|value| value == "1");
    let built = dir.join("build.json");
    let previous: Option<serde_json::Value> =
        std::fs::read(&built).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut report = match previous.filter(|report| reuse && report["documents"] == count) {
        Some(report) => report,
        None => build(&dir, count, &jieba, &mut rng)?,
    };
    std::fs::write(&built, report.to_string())?;
    let (index, _) = SearchIndex::open(&index_dir, jieba.clone())?;
    let mut rng = Rng(0x5EED_0FC0_FFEE);
    let mut latencies = Vec::new();
    let queries = query_set(&mut rng, 2_000);
    let cpu_before = cpu_seconds();
    for text in &queries {
        let request = SearchRequest {
            query: query::parse(text)?,
            filters: Filters::default(),
            visibility: Visibility::All,
            newest_first: false,
            offset: 0,
            limit: 20,
        };
        let started = Instant::now();
        searcher::search(&index, &request)?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    // CPU per query (both threads of a search): what bounds throughput when every core is busy.
    report["query_cpu_ms"] = ((cpu_seconds() - cpu_before) * 1000.0 / queries.len() as f64).into();
    latencies.sort_by(f64::total_cmp);
    std::fs::write(dir.join("queries.txt"), queries.join("\n"))?;
    report["query_p50_ms"] = percentile(&latencies, 50).into();
    report["query_p99_ms"] = percentile(&latencies, 99).into();
    println!("{report}");
    Ok(())
}

/// Generates the documents, measures jieba alone on them and builds the index; returns the
/// build's numbers.
fn build(dir: &Path, count: usize, jieba: &Arc<Jieba>, rng: &mut Rng) -> anyhow::Result<serde_json::Value> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("data"))?;
    let db = Db::connect(&DatabaseUrl::Sqlite(dir.join("data/microcat.db")), 4)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime
        .block_on(microcat::service::accounts::ensure_admin(&db, Some("bench-password-1")))
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let admin: String = {
        use diesel::prelude::*;
        let mut conn = db.connection()?;
        microcat::db::schema::users::table.select(microcat::db::schema::users::id).first(&mut *conn)?
    };
    let documents: Vec<(String, String)> = (0..count).map(|_| document(rng)).collect();
    insert_works(&db, &admin, &documents, rng)?;
    let text_bytes: usize = documents.iter().map(|(title, body)| title.len() + body.len()).sum();
    let segmentation_secs = segmentation_seconds(jieba, &documents);
    let index_dir = dir.join("index");
    let (build, cpu_before) = (Instant::now(), cpu_seconds());
    let indexed = indexer::rebuild(&db, &index_dir, jieba)?;
    let (build_secs, build_cpu_secs) = (build.elapsed().as_secs_f64(), cpu_seconds() - cpu_before);
    Ok(serde_json::json!({
        "documents": indexed,
        "text_mb": text_bytes as f64 / 1e6,
        "segmentation_mb_per_s": text_bytes as f64 / 1e6 / segmentation_secs,
        "index_docs_per_s": indexed as f64 / build_secs,
        "index_mb_per_s": text_bytes as f64 / 1e6 / build_secs,
        "index_seconds": build_secs,
        // CPU time per document, steadier than the rate when the machine is shared.
        "index_cpu_us_per_doc": build_cpu_secs * 1e6 / indexed as f64,
        "index_bytes": folder_size(&index_dir),
    }))
}

/// Seconds jieba alone takes to segment the documents, on both cores like the indexer.
fn segmentation_seconds(jieba: &Arc<Jieba>, documents: &[(String, String)]) -> f64 {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for half in documents.chunks(documents.len().div_ceil(2)) {
            let jieba = jieba.clone();
            scope.spawn(move || {
                let mut tokens = 0usize;
                for (title, body) in half {
                    tokens += jieba.cut_for_search(title, true).len() + jieba.cut_for_search(body, true).len();
                }
                tokens
            });
        }
    });
    started.elapsed().as_secs_f64()
}

/// 1–3 word queries drawn from the corpus vocabulary.
fn query_set(rng: &mut Rng, count: usize) -> Vec<String> {
    (0..count)
        .map(|_| {
            let words = 1 + (rng.next() % 3) as usize;
            let pool = [TOPICS, PLACES, NAMES, VERBS];
            (0..words).map(|index| rng.pick(pool[index % pool.len()])).collect::<Vec<_>>().join(" ")
        })
        .collect()
}

fn insert_works(db: &Db, admin: &str, documents: &[(String, String)], rng: &mut Rng) -> anyhow::Result<()> {
    let base = chrono::Utc::now().naive_utc() - chrono::TimeDelta::days(3 * 365);
    for (chunk_index, chunk) in documents.chunks(5_000).enumerate() {
        let rows: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(offset, (title, body))| {
                let created = base + chrono::TimeDelta::minutes(((chunk_index * 5_000 + offset) * 15) as i64);
                let status = rng.pick(STATES);
                microcat::db::works::WorkRow {
                    id: microcat::domain::ids::WorkId::generate(),
                    kind: Kind::parse(rng.pick(KINDS)).expect("a known kind"),
                    title: title.clone(),
                    body: body.clone(),
                    summary: None,
                    tags: Json::new(vec![rng.pick(TOPICS).to_owned()]),
                    unit: Some(rng.pick(UNITS).to_owned()),
                    credits: Json::default(),
                    channel: None,
                    external_url: None,
                    published_at: (status == "published").then_some(created),
                    status: Status::parse(status).expect("a known status"),
                    created_by: microcat::domain::ids::UserId::from_db(admin.to_owned()),
                    created_at: created,
                    updated_at: created,
                    version: 1,
                    deleted_at: None,
                    assignees: Json::default(),
                    due_date: None,
                    review_round: 0,
                    status_changed_at: Some(created),
                    source_key: None,
                    findings_block: 0,
                    findings_review: 0,
                    // Checked already, like an archive at rest: otherwise the server's compliance
                    // sweep would spend the HTTP rounds checking a million works (and each save
                    // would empty the read cache).
                    checked_at: Some(created),
                }
            })
            .collect();
        db.write_blocking(|conn| -> diesel::QueryResult<()> {
            for row in &rows {
                microcat::db::works::insert(conn, row, &row.tags)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// User and system CPU time of this process so far, in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn folder_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path).map_or(0, |entries| {
        entries
            .flatten()
            .map(|entry| {
                if entry.path().is_dir() {
                    folder_size(&entry.path())
                } else {
                    entry.metadata().map_or(0, |meta| meta.len())
                }
            })
            .sum()
    })
}
