//! `report`: turns the result lines of a suite into the Markdown table of
//! `docs/performance.md`: per scenario and headline measure, the median of the runs, their
//! spread (min – max), and each `--target` judged on the median and counted run by run.

use std::collections::BTreeMap;

use anyhow::{Context, anyhow};
use serde_json::Value;

/// A threshold as written on the command line: `latency_ms.p99<10`, `misses==0`.
#[derive(Debug, PartialEq)]
pub struct Target {
    pub metric: String,
    pub op: &'static str,
    pub value: f64,
}

impl Target {
    pub fn parse(text: &str) -> anyhow::Result<Target> {
        let at =
            text.find(['<', '>', '=']).ok_or_else(|| anyhow!("a target needs <, <=, >, >= or ==: {text}"))?;
        let (metric, rest) = text.split_at(at);
        let op = ["<=", ">=", "==", "<", ">"]
            .into_iter()
            .find(|op| rest.starts_with(op))
            .ok_or_else(|| anyhow!("unknown comparison in {text}"))?;
        let value = rest[op.len()..]
            .trim()
            .replace(['_', ','], "")
            .parse()
            .with_context(|| format!("the threshold of {text} is not a number"))?;
        Ok(Target { metric: metric.trim().to_owned(), op, value })
    }

    pub fn holds(&self, x: f64) -> bool {
        match self.op {
            "<" => x < self.value,
            "<=" => x <= self.value,
            ">" => x > self.value,
            ">=" => x >= self.value,
            _ => x == self.value,
        }
    }
}

/// A dotted path into a result line: `latency_ms.p99`.
fn lookup(line: &Value, path: &str) -> Option<f64> {
    path.split('.').try_fold(line, |v, key| v.get(key)).and_then(Value::as_f64)
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 }
}

/// Few digits, as a person reads them: 12,345 / 123.4 / 1.234 / 0.123.
pub fn show(x: f64) -> String {
    if x.abs() >= 1000.0 {
        let n = x.round() as i64;
        let digits = n.abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if n < 0 { format!("-{out}") } else { out }
    } else {
        let decimals = if x.abs() >= 100.0 {
            0
        } else if x.abs() >= 10.0 {
            1
        } else {
            3
        };
        let text = format!("{x:.decimals$}");
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
    }
}

/// The runs of each label in `lines`, and the labels in the order they first appear.
fn by_label(lines: &[Value]) -> (Vec<String>, BTreeMap<String, Vec<&Value>>) {
    let mut order: Vec<String> = Vec::new();
    let mut groups: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for line in lines {
        let label = line["label"].as_str().or(line["scenario"].as_str()).unwrap_or("?").to_owned();
        if !groups.contains_key(&label) {
            order.push(label.clone());
        }
        groups.entry(label).or_default().push(line);
    }
    (order, groups)
}

/// The headline measures a result line names.
fn headline(line: &Value) -> Vec<String> {
    line["headline"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// A measure's values over some runs, sorted.
fn sorted_values(runs: &[&Value], metric: &str) -> Vec<f64> {
    let mut values: Vec<f64> = runs.iter().filter_map(|r| lookup(r, metric)).collect();
    values.sort_by(f64::total_cmp);
    values
}

/// `median (min – max)`, or `n/a` without values.
fn median_and_spread(sorted: &[f64]) -> String {
    match sorted {
        [] => "n/a".to_owned(),
        [only] => show(*only),
        _ => format!("{} ({} – {})", show(median(sorted)), show(sorted[0]), show(sorted[sorted.len() - 1])),
    }
}

/// The table of a side-by-side run, where each row was measured against two servers under the
/// labels `ROW (a)` and `ROW (b)`: each headline measure's median and spread on both sides, the
/// ratio of the medians (a / b, to two decimals), and the spread of the ratios run by run (the i-th run of one
/// against the i-th of the other: the suite alternates them, so each pair shared the machine's
/// state of that moment).
pub fn ratios(lines: &[Value], a: &str, b: &str) -> String {
    let (order, groups) = by_label(lines);
    let (suffix_a, suffix_b) = (format!(" ({a})"), format!(" ({b})"));
    let mut out = format!(
        "| row | measure | {a}: median (min – max) | {b}: median (min – max) | {a} / {b} | run by run |\n\
         |---|---|---:|---:|---:|---:|\n"
    );
    for label in &order {
        let Some(row) = label.strip_suffix(&suffix_a) else { continue };
        let Some(theirs) = groups.get(&format!("{row}{suffix_b}")) else { continue };
        let ours = &groups[label];
        for (i, metric) in headline(ours[0]).iter().enumerate() {
            let (va, vb) = (sorted_values(ours, metric), sorted_values(theirs, metric));
            let ratio = if va.is_empty() || vb.is_empty() || median(&vb) == 0.0 {
                "n/a".to_owned()
            } else {
                format!("{:.2}×", median(&va) / median(&vb))
            };
            let mut pairs: Vec<f64> = ours
                .iter()
                .zip(theirs.iter())
                .filter_map(|(x, y)| Some(lookup(x, metric)? / lookup(y, metric).filter(|v| *v != 0.0)?))
                .collect();
            pairs.sort_by(f64::total_cmp);
            let run_by_run = match pairs.as_slice() {
                [] => "n/a".to_owned(),
                [first, .., last] => format!("{first:.2}× – {last:.2}×"),
                [only] => format!("{only:.2}×"),
            };
            let row = if i == 0 { row } else { "" };
            out.push_str(&format!(
                "| {row} | `{metric}` | {} | {} | {ratio} | {run_by_run} |\n",
                median_and_spread(&va),
                median_and_spread(&vb)
            ));
        }
    }
    out
}

/// The Markdown table for every label in `lines`, in the order they first appear.
pub fn table(lines: &[Value]) -> anyhow::Result<String> {
    let (order, groups) = by_label(lines);
    let mut out = String::from(
        "| scenario | measure | median | spread (min – max) | runs | target | met |\n\
         |---|---|---:|---:|---:|---|---|\n",
    );
    for label in order {
        let runs = &groups[&label];
        let first = runs[0];
        let targets: Vec<Target> = first["targets"]
            .as_array()
            .map(|a| a.iter().filter_map(|t| t.as_str()).map(Target::parse).collect())
            .transpose_vec()?;
        let mut metrics = headline(first);
        for t in &targets {
            if !metrics.contains(&t.metric) {
                metrics.push(t.metric.clone());
            }
        }
        for (i, metric) in metrics.iter().enumerate() {
            let values = sorted_values(runs, metric);
            let scenario = if i == 0 { label.as_str() } else { "" };
            let (mid, spread) = if values.is_empty() {
                ("n/a".to_owned(), "n/a".to_owned())
            } else {
                (show(median(&values)), format!("{} – {}", show(values[0]), show(values[values.len() - 1])))
            };
            let (target, met) = match targets.iter().find(|t| &t.metric == metric) {
                Some(t) if !values.is_empty() => {
                    let passed = values.iter().filter(|v| t.holds(**v)).count();
                    let verdict = if t.holds(median(&values)) { "**yes**" } else { "**no**" };
                    (
                        format!("{} {}", t.op, show(t.value)),
                        format!("{verdict} ({passed}/{} runs)", values.len()),
                    )
                }
                Some(t) => (format!("{} {}", t.op, show(t.value)), "no data".into()),
                None => (String::new(), String::new()),
            };
            out.push_str(&format!(
                "| {scenario} | `{metric}` | {mid} | {spread} | {} | {target} | {met} |\n",
                values.len()
            ));
        }
    }
    Ok(out)
}

/// `Option<Vec<Result<T>>>` → `Result<Vec<T>>`, with no targets as an empty list.
trait TransposeVec<T> {
    fn transpose_vec(self) -> anyhow::Result<Vec<T>>;
}

impl<T> TransposeVec<T> for Option<Vec<anyhow::Result<T>>> {
    fn transpose_vec(self) -> anyhow::Result<Vec<T>> {
        self.unwrap_or_default().into_iter().collect()
    }
}

/// Reads result lines (one JSON object a line; other lines are ignored).
pub fn read_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(Value::is_object)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn targets_parse_every_comparison() {
        let t = Target::parse("latency_ms.p99<10").unwrap();
        assert_eq!((t.metric.as_str(), t.op, t.value), ("latency_ms.p99", "<", 10.0));
        assert_eq!(Target::parse("misses==0").unwrap().op, "==");
        assert_eq!(Target::parse("x>=10_000").unwrap().value, 10_000.0);
        assert!(Target::parse("nonsense").is_err());
    }

    #[test]
    fn the_table_shows_the_median_and_spread_and_judges_the_median() {
        let line = |p99: f64| {
            json!({ "label": "fan", "latency_ms": { "p99": p99 },
                    "headline": ["latency_ms.p99"], "targets": ["latency_ms.p99<10"] })
        };
        let table = table(&[line(4.0), line(12.0), line(6.0)]).unwrap();
        assert!(
            table.contains("| fan | `latency_ms.p99` | 6 | 4 – 12 | 3 | < 10 | **yes** (2/3 runs) |"),
            "{table}"
        );
    }

    #[test]
    fn the_ratio_table_pairs_each_row_with_its_counterpart_run_by_run() {
        let line = |label: &str, rate: f64| json!({ "label": label, "acked_writes_per_s": rate, "headline": ["acked_writes_per_s"] });
        let lines = [
            line("writes (warroom)", 3000.0),
            line("writes (Node peer)", 1000.0),
            line("writes (warroom)", 4000.0),
            line("writes (Node peer)", 1000.0),
            line("writes (warroom)", 5000.0),
            line("writes (Node peer)", 2000.0),
            line("unpaired (warroom)", 1.0),
        ];
        let table = ratios(&lines, "warroom", "Node peer");
        assert!(
            table.contains(
                "| writes | `acked_writes_per_s` | 4,000 (3,000 – 5,000) | 1,000 (1,000 – 2,000) | 4.00× | 2.50× – 4.00× |"
            ),
            "{table}"
        );
        assert!(!table.contains("unpaired"), "{table}");
    }

    #[test]
    fn numbers_read_like_a_person_writes_them() {
        assert_eq!(show(123456.4), "123,456");
        assert_eq!(show(1.5), "1.5");
        assert_eq!(show(0.1234), "0.123");
        assert_eq!(show(42.26), "42.3");
    }
}
