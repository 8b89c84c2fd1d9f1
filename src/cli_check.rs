//! `microcat check FILE [--list FILE]…`: the compliance findings of a text, one line each
//! (`行:列  阻断  身份证号  3201**********1239`), then a summary with the time the scan took.
//! Exits 1 when anything of level `block` was found, so scripts can stop on it.

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use crate::app;
use crate::cli::CheckArgs;
use crate::config::Settings;
use crate::domain::compliance::words::parse_terms;
use crate::domain::compliance::{Checker, Found, Level, WordMatcher};
use crate::service::compliance::build_checker;

pub async fn run(settings: Settings, args: CheckArgs) -> anyhow::Result<()> {
    let text = read_text(&args.file)?;
    let checker = if args.lists.is_empty() { installed_checker(&settings).await? } else { files_checker(&args.lists)? };
    // The folding table is made once per process: not part of the scan's time.
    crate::domain::fold::fold_chars("");
    let started = Instant::now();
    let found = checker.scan(&text);
    let elapsed = started.elapsed();
    let positions = LineColumns::new(&text);
    for finding in &found {
        println!("{}", line_of(finding, &positions));
    }
    let blocking = found.iter().filter(|finding| finding.level == Level::Block).count();
    let megabytes = text.len() as f64 / 1e6;
    println!(
        "共 {} 处：阻断 {blocking}，需复核 {}（{} 个词条，{:.1} ms，{:.0} MB/s）",
        found.len(),
        found.len() - blocking,
        checker.term_count(),
        elapsed.as_secs_f64() * 1000.0,
        megabytes / elapsed.as_secs_f64().max(1e-9)
    );
    if blocking > 0 {
        std::process::exit(1);
    }
    Ok(())
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin().read_to_end(&mut bytes)?;
    } else {
        bytes = std::fs::read(path).map_err(|error| anyhow::anyhow!("reading {}: {error}", path.display()))?;
    }
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", path.display()))
}

async fn installed_checker(settings: &Settings) -> anyhow::Result<Checker> {
    let db = app::open_database(settings).await?;
    let lists = db.read(crate::db::compliance::all_lists).await?;
    Ok(build_checker(&lists))
}

fn files_checker(paths: &[std::path::PathBuf]) -> anyhow::Result<Checker> {
    let mut terms = Vec::new();
    for path in paths {
        let text = read_text(path)?;
        let parsed = parse_terms(text.trim_start_matches('\u{FEFF}'), "词表", Level::Block)
            .map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
        terms.extend(parsed);
    }
    Ok(Checker::new(WordMatcher::build(terms)))
}

/// Line and column (1-based, in characters) of character offsets.
struct LineColumns {
    /// Character offset at which each line starts.
    starts: Vec<usize>,
}

impl LineColumns {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.chars().enumerate().filter(|(_, c)| *c == '\n').map(|(index, _)| index + 1));
        Self { starts }
    }

    fn at(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|start| *start <= offset);
        (line, offset - self.starts[line - 1] + 1)
    }
}

fn line_of(finding: &Found<'_>, positions: &LineColumns) -> String {
    let (line, column) = positions.at(finding.start);
    format!("{line}:{column}\t{}\t{}\t{}", finding.level.label_zh(), finding.category.label_zh(), finding.excerpt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_line_and_column_in_characters() {
        let positions = LineColumns::new("第一行\n第二行电话\n");
        assert_eq!(positions.at(0), (1, 1));
        assert_eq!(positions.at(4), (2, 1));
        assert_eq!(positions.at(7), (2, 4));
    }
}
