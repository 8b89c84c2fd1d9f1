//! `microcat export OUT.zip [filters]`: the chosen works as a self-describing zip for
//! reporting upward (上报) or moving hardware (format: `domain::archive::bundle`). Written to
//! `OUT.zip.part` and renamed when complete, so a cut-short export never looks finished.
//! Originals are stored as they are (already compressed media), the JSON deflated.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::Path;

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use crate::app;
use crate::cli::ExportArgs;
use crate::config::Settings;
use crate::domain::archive::bundle::{self, ExportedWork, Manifest, ManifestFile};
use crate::domain::filter::{self, WorkFilter, WorkFilterInput};
use crate::service::accounts;
use crate::service::export;
use crate::storage::{BlobKey, Object, Storage};

/// The filters as given, checked.
fn filter_of(args: &ExportArgs) -> anyhow::Result<WorkFilter> {
    let input = WorkFilterInput {
        kind: args.kind.clone(),
        status: args.status.clone(),
        unit: args.unit.clone(),
        tag: args.tag.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
    };
    let mut filter = WorkFilter::parse(input).map_err(|error| anyhow::anyhow!("{error}"))?;
    let bound = |field: &str, raw: &Option<String>, end: bool| {
        raw.as_deref().map(|raw| filter::parse_date_bound(field, raw, end)).transpose()
    };
    filter.published_from =
        bound("published-from", &args.published_from, false).map_err(|error| anyhow::anyhow!("{error}"))?;
    filter.published_to =
        bound("published-to", &args.published_to, true).map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(filter)
}

/// Runs the command.
pub async fn run(settings: Settings, args: ExportArgs) -> anyhow::Result<()> {
    if args.out.exists() {
        anyhow::bail!("{} exists already; name a new file", args.out.display());
    }
    let filter = filter_of(&args)?;
    let db = app::open_database(&settings).await?;
    let caller = accounts::console_caller(&db, &args.as_user)
        .map_err(|error| anyhow::anyhow!("--as {}: {error}", args.as_user))?;
    let store = app::open_storage(&settings)?;
    let out = args.out.clone();
    let written = tokio::task::spawn_blocking(move || -> anyhow::Result<(usize, usize)> {
        let works = export::select(&db, &caller, filter)?;
        let part = out.with_extension("zip.part");
        let counts = write_archive(&part, &works, &db, &store)?;
        std::fs::rename(&part, &out)?;
        Ok(counts)
    })
    .await??;
    println!("exported {} works and {} originals to {}", written.0, written.1, args.out.display());
    Ok(())
}

/// The zip being written, with the manifest's entries.
struct Archive {
    zip: zip::ZipWriter<std::fs::File>,
    files: Vec<ManifestFile>,
}

impl Archive {
    fn add_bytes(&mut self, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        self.zip.start_file(path, options)?;
        self.zip.write_all(bytes)?;
        let sha256 = hex::encode(Sha256::digest(bytes));
        self.files.push(ManifestFile { path: path.to_owned(), sha256, size: bytes.len() as u64 });
        Ok(())
    }

    /// An original, copied from the store as it is (its name in the store is its digest).
    fn add_original(&mut self, path: &str, source: &Path, key: &BlobKey) -> anyhow::Result<()> {
        let mut file = std::fs::File::open(source)?;
        let size = file.metadata()?.len();
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(size >= u64::from(u32::MAX));
        self.zip.start_file(path, options)?;
        std::io::copy(&mut file, &mut self.zip)?;
        self.files.push(ManifestFile { path: path.to_owned(), sha256: key.as_str().to_owned(), size });
        Ok(())
    }
}

fn write_archive(
    part: &Path,
    works: &[crate::db::works::WorkRow],
    db: &crate::db::Db,
    store: &Storage,
) -> anyhow::Result<(usize, usize)> {
    let mut archive = Archive { zip: zip::ZipWriter::new(std::fs::File::create(part)?), files: Vec::new() };
    let progress = progress_bar(works.len());
    let (mut originals, mut index) = (HashSet::new(), Vec::new());
    for row in works {
        let work = export::export_work(db, row)?;
        for media in &work.media {
            let key =
                BlobKey::parse(&media.sha256).ok_or_else(|| anyhow::anyhow!("malformed digest {}", media.sha256))?;
            if originals.insert(media.sha256.clone()) {
                let copy = store.local_copy(&Object::Original(key.clone()))?;
                archive.add_original(&media.path, copy.path(), &key)?;
            }
        }
        archive.add_bytes(&format!("works/{}.json", work.id), &serde_json::to_vec_pretty(&work)?)?;
        index.push(index_line(&work));
        progress.inc(1);
    }
    archive.add_bytes("README.txt", readme(&index).as_bytes())?;
    let manifest = Manifest {
        microcat_export_manifest: bundle::VERSION,
        exported_at: bundle::beijing(chrono::Utc::now()),
        works: works.len(),
        files: std::mem::take(&mut archive.files),
    };
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    archive.zip.start_file("manifest.json", options)?;
    archive.zip.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    let file = archive.zip.finish()?;
    file.sync_all()?;
    progress.finish_and_clear();
    Ok((works.len(), originals.len()))
}

fn progress_bar(works: usize) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(works as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} works  {per_sec}  ETA {eta}") {
        bar.set_style(style);
    }
    bar
}

/// `2024-05-01  微信文章  已发布  反诈宣传进社区  works/<id>.json`
fn index_line(work: &ExportedWork) -> String {
    let date = work.published_at.unwrap_or(work.created_at).format("%Y-%m-%d");
    format!("{date}  {}  {}  {}  works/{}.json", work.kind.label_zh(), work.status.label_zh(), work.title, work.id)
}

fn readme(index: &[String]) -> String {
    format!(
        "microcat 作品导出\n\
         ================\n\n\
         本压缩包由 microcat 导出，可用于上报或迁移到另一台服务器。\n\n\
         - works/<编号>.json：每件作品一个文件，含标题、正文、署名、发布记录与各次数据（阅读、点赞、分享、评论、转发）、\n  \
         附件清单、评论和操作记录。所有时间均为北京时间，并注明时区（+08:00）。\n\
         - originals/<SHA-256>.<格式>：作品的原始文件，文件名即其 SHA-256 校验值。\n\
         - manifest.json：每个文件的 SHA-256 与大小，可用于核对完整性。\n\n\
         在另一台 microcat 上导入：microcat import 本文件.zip\n\n\
         作品目录（共 {} 件）\n\
         ----------------\n{}\n",
        index.len(),
        index.join("\n")
    )
}
