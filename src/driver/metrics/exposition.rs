//! Reading the text exposition format back: the samples of one scrape, by
//! metric name and labels. `electorate cluster` scrapes its nodes with
//! this; comment lines (`# HELP`, `# TYPE`, `# UNIT`, `# EOF`) carry
//! nothing it needs.

use std::collections::BTreeMap;

/// One sample: a metric name with its labels (sorted by name).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SampleKey {
    pub name: String,
    pub labels: Vec<(String, String)>,
}

impl SampleKey {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(label, _)| label == name)
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}: {text:?}")]
pub struct ParseError {
    pub line: usize,
    pub reason: &'static str,
    pub text: String,
}

/// Every sample of a scrape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Samples {
    pub values: BTreeMap<SampleKey, f64>,
}

impl Samples {
    pub fn parse(text: &str) -> Result<Samples, ParseError> {
        let mut values = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let error = |reason| ParseError {
                line: index + 1,
                reason,
                text: line.to_owned(),
            };
            let (key, value) = parse_sample(line).map_err(error)?;
            values.insert(key, value);
        }
        Ok(Samples { values })
    }

    /// The sample `name` without labels.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values
            .get(&SampleKey {
                name: name.to_owned(),
                labels: Vec::new(),
            })
            .copied()
    }

    /// Every sample named `name`, whatever its labels.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (&'a SampleKey, f64)> + 'a {
        self.values
            .iter()
            .filter(move |(key, _)| key.name == name)
            .map(|(key, &value)| (key, value))
    }
}

fn parse_sample(line: &str) -> Result<(SampleKey, f64), &'static str> {
    let (name, labels, rest) = match line.find('{') {
        Some(open) => {
            let close = line.rfind('}').ok_or("unclosed label set")?;
            if close < open {
                return Err("unclosed label set");
            }
            (
                &line[..open],
                parse_labels(&line[open + 1..close])?,
                &line[close + 1..],
            )
        }
        None => {
            let end = line.find(' ').ok_or("no value")?;
            (&line[..end], Vec::new(), &line[end..])
        }
    };
    if name.is_empty() {
        return Err("no metric name");
    }
    // A timestamp may follow the value; the value is the first field.
    let value = rest.split_whitespace().next().ok_or("no value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        number => number.parse().map_err(|_| "value is not a number")?,
    };
    Ok((
        SampleKey {
            name: name.to_owned(),
            labels,
        },
        value,
    ))
}

/// `a="x",b="y"` into sorted pairs. Values are quoted; `\"`, `\\` and `\n`
/// are the escapes the format allows.
fn parse_labels(text: &str) -> Result<Vec<(String, String)>, &'static str> {
    let mut labels = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let equals = rest.find('=').ok_or("label without a value")?;
        let name = rest[..equals].trim().to_owned();
        let mut chars = rest[equals + 1..].char_indices();
        if chars.next().map(|(_, c)| c) != Some('"') {
            return Err("label value not quoted");
        }
        let mut value = String::new();
        let mut end = None;
        while let Some((at, c)) = chars.next() {
            match c {
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => value.push('\n'),
                    Some(escaped) => value.push(escaped),
                    None => return Err("dangling escape"),
                },
                '"' => {
                    end = Some(at);
                    break;
                }
                other => value.push(other),
            }
        }
        let end = end.ok_or("unterminated label value")?;
        labels.push((name, value));
        rest = rest[equals + 1 + end + 1..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    labels.sort();
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_with_and_without_labels_are_read() {
        let text = "# HELP electorate_term The term.\n# TYPE electorate_term gauge\n\
                    electorate_term 7\n\
                    electorate_heartbeats_sent_total{peer=\"2\"} 12\n\
                    electorate_write_latency_seconds_bucket{le=\"+Inf\",x=\"a\\\"b\"} 3\n# EOF\n";
        let samples = Samples::parse(text).unwrap();
        assert_eq!(samples.get("electorate_term"), Some(7.0));
        let (key, value) = samples
            .all("electorate_heartbeats_sent_total")
            .next()
            .unwrap();
        assert_eq!((key.label("peer"), value), (Some("2"), 12.0));
        let (key, _) = samples
            .all("electorate_write_latency_seconds_bucket")
            .next()
            .unwrap();
        assert_eq!(key.label("le"), Some("+Inf"));
        assert_eq!(key.label("x"), Some("a\"b"));
    }

    #[test]
    fn a_malformed_line_is_an_error_naming_the_line() {
        let error = Samples::parse("electorate_term seven\n").unwrap_err();
        assert_eq!(error.line, 1);
        assert!(Samples::parse("x{a=1} 2").is_err());
    }
}
