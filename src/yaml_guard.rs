//! A cheap pre-scan of YAML text, run before any YAML parser sees it: the
//! nesting depth and the number of nodes the document would have once its
//! aliases are expanded, both measured in one pass over the bytes with no
//! allocation per node.
//!
//! The YAML parser (libyaml, under `serde_yaml`) takes time quadratic in
//! the depth of nested flow collections (`[[[[...]]]]`: 100,000 levels of
//! 200 KB took 24 s), and `serde_yaml` expands every alias in full (a
//! 20,000-key map reused 2,000 times is 40 million entries from a 296 KB
//! file). Both are refused here, in time linear in the size of the text.
//!
//! The scan is a tokenizer, not a parser: it counts scalars and collections
//! as nodes, follows flow brackets, block indentation, quoted and block
//! scalars and comments, and measures each anchored node (its nodes plus
//! the expansion of the aliases inside it). Where YAML is ambiguous to a
//! tokenizer it errs on the side of counting more, never less.

use std::collections::HashMap;

use thiserror::Error;

/// Deepest nesting accepted (block and flow collections together).
pub const MAX_DEPTH: usize = 128;

/// Nodes that aliases may add to a document at least; a document of more
/// nodes may grow by as many nodes as it holds.
pub const MAX_ALIAS_NODES: u64 = 1_000_000;

/// Why a YAML document is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum YamlLimit {
    /// Collections nested deeper than [`MAX_DEPTH`].
    #[error("YAML nested deeper than {MAX_DEPTH} levels (line {line}); refused before parsing")]
    Depth {
        /// 1-based line where the limit was passed.
        line: usize,
    },
    /// Aliases would add more nodes than the budget allows.
    #[error(
        "YAML aliases would expand the document from {nodes} to {expanded} nodes, over the budget of {limit} added nodes; refused before parsing"
    )]
    Aliases {
        /// Nodes written in the document.
        nodes: u64,
        /// Nodes after expanding every alias.
        expanded: u64,
        /// Nodes aliases may add.
        limit: u64,
    },
}

/// What the scan measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YamlShape {
    /// Nodes written in the document.
    pub nodes: u64,
    /// Nodes once every alias is expanded.
    pub expanded: u64,
    /// Deepest nesting met.
    pub depth: usize,
}

/// Where an anchored node ends.
#[derive(Debug, Clone, Copy)]
enum Close {
    /// When the flow depth falls back to this value.
    Flow(usize),
    /// At the next line indented this much or less.
    Block(usize),
}

struct Open<'a> {
    name: &'a str,
    nodes_at: u64,
    extra_at: u64,
    close: Close,
}

#[derive(Default)]
struct Scan<'a> {
    nodes: u64,
    extra: u64,
    depth: usize,
    flow: usize,
    block: Vec<usize>,
    anchors: HashMap<&'a str, u64>,
    open: Vec<Open<'a>>,
}

impl<'a> Scan<'a> {
    fn cost_since(&self, o: &Open<'_>) -> u64 {
        (self.nodes - o.nodes_at).saturating_add(self.extra.saturating_sub(o.extra_at))
    }

    fn close_while(&mut self, done: impl Fn(Close) -> bool) {
        while let Some(o) = self.open.last() {
            if !done(o.close) {
                break;
            }
            let cost = self.cost_since(o).max(1);
            let name = o.name;
            self.open.pop();
            self.anchors.insert(name, cost);
        }
    }

    fn alias(&mut self, name: &str) {
        let cost = match self.anchors.get(name) {
            Some(c) => *c,
            // An alias to a node still open (a recursive document): what
            // the node holds so far.
            None => self
                .open
                .iter()
                .rev()
                .find(|o| o.name == name)
                .map_or(1, |o| self.cost_since(o).max(1)),
        };
        self.extra = self.extra.saturating_add(cost);
    }

    fn deeper(&mut self, line: usize) -> Result<(), YamlLimit> {
        let d = self.block.len() + self.flow;
        self.depth = self.depth.max(d);
        if d > MAX_DEPTH {
            return Err(YamlLimit::Depth { line });
        }
        Ok(())
    }

    /// Block context: a line (or a compact `- ` item) starting at `col`.
    fn block_at(&mut self, col: usize, line: usize) -> Result<(), YamlLimit> {
        while self.block.last().is_some_and(|&top| top >= col) {
            self.block.pop();
        }
        self.block.push(col);
        self.deeper(line)
    }
}

/// Measures `text`, refusing it when it nests deeper than [`MAX_DEPTH`] or
/// when its aliases would add more than `max(MAX_ALIAS_NODES, nodes)`
/// nodes.
pub fn check(text: &str) -> Result<YamlShape, YamlLimit> {
    let mut s = Scan::default();
    let mut quote: Option<u8> = None;
    let mut block_scalar: Option<usize> = None;
    for (idx, raw) in text.split('\n').enumerate() {
        let lineno = idx + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let b = line.as_bytes();
        let indent = b.iter().take_while(|&&c| c == b' ').count();
        let blank = b[indent..].iter().all(|c| c.is_ascii_whitespace());
        if let Some(parent) = block_scalar {
            if blank || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        let mut i = 0;
        if quote.is_none() && s.flow == 0 {
            if blank || b[indent] == b'#' {
                continue;
            }
            if indent == 0 && (line.starts_with("---") || line.starts_with("...")) {
                // A new document: what was open ends, anchors do not carry.
                s.close_while(|_| true);
                s.anchors.clear();
                s.block.clear();
                i = 3;
            } else if indent == 0 && line.starts_with('%') {
                continue;
            } else {
                s.close_while(|c| matches!(c, Close::Block(at) if indent <= at));
                s.block_at(indent, lineno)?;
                i = indent;
            }
        }
        let mut token_start = true;
        while i < b.len() {
            if let Some(q) = quote {
                // Inside a quoted scalar (it may span lines).
                match b[i] {
                    b'\\' if q == b'"' => i += 2,
                    c if c == q => {
                        if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                        } else {
                            quote = None;
                            i += 1;
                            token_start = false;
                        }
                    }
                    _ => i += 1,
                }
                continue;
            }
            let c = b[i];
            let next = b.get(i + 1).copied();
            let next_ends = next.is_none_or(|n| n == b' ' || n == b'\t');
            match c {
                b' ' | b'\t' => {
                    token_start = true;
                    i += 1;
                }
                b'#' if token_start => break,
                b'[' | b'{' => {
                    s.nodes += 1;
                    s.flow += 1;
                    s.deeper(lineno)?;
                    token_start = true;
                    i += 1;
                }
                b']' | b'}' => {
                    s.flow = s.flow.saturating_sub(1);
                    let flow = s.flow;
                    s.close_while(|c| matches!(c, Close::Flow(at) if flow <= at));
                    token_start = false;
                    i += 1;
                }
                b',' => {
                    token_start = true;
                    i += 1;
                }
                b'"' | b'\'' if token_start => {
                    s.nodes += 1;
                    quote = Some(c);
                    i += 1;
                }
                b'-' | b'?' if token_start && next_ends => {
                    if s.flow == 0 && c == b'-' {
                        s.block_at(i, lineno)?;
                        s.nodes += 1;
                    }
                    i += 1;
                }
                b':' if next_ends || (s.flow > 0 && matches!(next, Some(b',' | b']' | b'}'))) => {
                    token_start = true;
                    i += 1;
                }
                b'|' | b'>' if token_start && s.flow == 0 => {
                    s.nodes += 1;
                    block_scalar = Some(indent);
                    break;
                }
                b'&' | b'*' | b'!' if token_start => {
                    let start = i + 1;
                    let mut end = start;
                    while end < b.len()
                        && !matches!(b[end], b' ' | b'\t' | b',' | b'[' | b']' | b'{' | b'}')
                    {
                        end += 1;
                    }
                    let name = &line[start..end];
                    i = end;
                    if c == b'*' {
                        s.alias(name);
                        token_start = false;
                    } else if c == b'&' {
                        let rest = line[end..].trim_start();
                        let close = if rest.starts_with(['[', '{']) {
                            Some(Close::Flow(s.flow))
                        } else if (rest.is_empty() || rest.starts_with('#')) && s.flow == 0 {
                            Some(Close::Block(indent))
                        } else {
                            None
                        };
                        match close {
                            Some(close) => s.open.push(Open {
                                name,
                                nodes_at: s.nodes,
                                extra_at: s.extra,
                                close,
                            }),
                            None => {
                                s.anchors.insert(name, 1);
                            }
                        }
                    }
                }
                _ => {
                    // A plain scalar: up to `: `, ` #`, or in flow context a
                    // flow indicator.
                    s.nodes += 1;
                    i += 1;
                    while i < b.len() {
                        let d = b[i];
                        let after = b.get(i + 1).copied();
                        if d == b':'
                            && (after.is_none_or(|n| n == b' ' || n == b'\t')
                                || (s.flow > 0 && matches!(after, Some(b',' | b']' | b'}'))))
                        {
                            break;
                        }
                        if d == b'#' && matches!(b[i - 1], b' ' | b'\t') {
                            break;
                        }
                        if s.flow > 0 && matches!(d, b',' | b'[' | b']' | b'{' | b'}') {
                            break;
                        }
                        i += 1;
                    }
                    token_start = false;
                }
            }
        }
    }
    s.close_while(|_| true);
    let limit = MAX_ALIAS_NODES.max(s.nodes);
    let expanded = s.nodes.saturating_add(s.extra);
    if s.extra > limit {
        return Err(YamlLimit::Aliases {
            nodes: s.nodes,
            expanded,
            limit,
        });
    }
    Ok(YamlShape {
        nodes: s.nodes,
        expanded,
        depth: s.depth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_documents_pass_with_their_shape() {
        let doc = "lockfileVersion: '6.0'\n\nimporters:\n  .:\n    dependencies:\n      a:\n        specifier: ^1.0.0\n        version: 1.0.0\n\npackages:\n\n  /a@1.0.0:\n    resolution: {integrity: sha512-x}\n    dependencies:\n      b: 2.0.0 # a comment: with [brackets\n    description: |\n      [[[[ not yaml ]]]]\n      {{{{\n    dev: false\n";
        let shape = check(doc).unwrap();
        assert!(shape.depth >= 4 && shape.depth < 10, "{shape:?}");
        assert_eq!(shape.nodes, shape.expanded);
        assert!(shape.nodes > 10, "{shape:?}");
    }

    #[test]
    fn deep_flow_nesting_is_refused_in_linear_time() {
        for n in [129, 100_000, 1_000_000] {
            let doc = format!("packages: {}{}\n", "[".repeat(n), "]".repeat(n));
            assert!(
                matches!(check(&doc), Err(YamlLimit::Depth { line: 1 })),
                "{n}"
            );
            let doc = format!("{}1{}\n", "{a: ".repeat(n), "}".repeat(n));
            assert!(matches!(check(&doc), Err(YamlLimit::Depth { .. })), "{n}");
        }
        let ok = format!("a: {}{}\n", "[".repeat(100), "]".repeat(100));
        assert!(check(&ok).is_ok());
        // Brackets inside quotes, comments and block scalars do not nest.
        let quoted = format!(
            "a: \"{}\"\nb: '{}'\n# {}\n",
            "[".repeat(500),
            "{".repeat(500),
            "[".repeat(500)
        );
        assert!(check(&quoted).is_ok());
    }

    #[test]
    fn deep_block_nesting_is_refused() {
        let mut doc = String::new();
        for d in 0..200 {
            doc.push_str(&" ".repeat(d));
            doc.push_str("k:\n");
        }
        assert!(matches!(check(&doc), Err(YamlLimit::Depth { line: 129 })));
        let compact = format!("{}a\n", "- ".repeat(300));
        assert!(matches!(check(&compact), Err(YamlLimit::Depth { line: 1 })));
    }

    #[test]
    fn alias_expansion_is_measured_before_parsing() {
        // One anchored 20,000-key map reused 2,000 times.
        let mut doc = String::from("packages:\n  /base@1.0.0:\n    dependencies: &deps\n");
        for i in 0..20_000 {
            doc.push_str(&format!("      k{i}: 1\n"));
        }
        for j in 0..2_000 {
            doc.push_str(&format!("  /p{j}@1.0.0:\n    dependencies: *deps\n"));
        }
        match check(&doc) {
            Err(YamlLimit::Aliases { expanded, .. }) => assert!(expanded > 40_000_000),
            other => panic!("{other:?}"),
        }
        // Billion laughs, flow style: saturates instead of overflowing.
        let mut laughs = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        let mut prev = 'a';
        for c in 'b'..='z' {
            laughs.push_str(&format!("{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = c;
        }
        assert!(matches!(check(&laughs), Err(YamlLimit::Aliases { .. })));
        // A few aliases are fine.
        let few = "base: &b {x: 1, y: 2}\none: *b\ntwo: *b\nseq: &s\n  - a\n  - b\nagain: *s\n";
        let shape = check(few).unwrap();
        assert!(
            shape.expanded > shape.nodes && shape.expanded < shape.nodes + 20,
            "{shape:?}"
        );
    }
}
