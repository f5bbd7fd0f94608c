//! Just enough HCL (Terraform's native syntax) to read blocks and plain
//! attribute values: `type "label" "label" { name = value }`, nested
//! blocks, strings, lists, references (`aws_lambda_layer_version.x.arn`),
//! comments (`#`, `//`, `/* */`) and heredocs. Expressions are not
//! evaluated: anything that is not a literal or a reference is kept as
//! its text.

/// An attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A quoted string, escapes decoded, `${...}` kept as written.
    Str(String),
    /// A list of values.
    List(Vec<Expr>),
    /// A reference such as `data.archive_file.fn.output_path`.
    Ref(String),
    /// Anything else, as written (a call, a number, an operator, a map).
    Other(String),
}

/// A block: `resource "aws_lambda_function" "api" { ... }`.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// Block type (`resource`, `data`, ...).
    pub kind: String,
    /// Labels.
    pub labels: Vec<String>,
    /// Its body.
    pub body: Body,
    /// 1-based line of the block's first token.
    pub line: u32,
}

/// Attributes and nested blocks.
#[derive(Debug, Clone, Default)]
pub struct Body {
    /// `name = value`, in order.
    pub attrs: Vec<(String, Expr)>,
    /// Nested blocks.
    pub blocks: Vec<Block>,
}

impl Body {
    /// The value of attribute `name`.
    pub fn get(&self, name: &str) -> Option<&Expr> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, e)| e)
    }
}

/// Deepest block nesting read.
const MAX_DEPTH: usize = 64;

/// Parses a file's top-level body. A construct that cannot be read stops
/// the parse with a message naming its line.
pub fn parse(text: &str) -> Result<Body, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    p.body(0, false)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    line: u32,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        if c == b'\n' {
            self.line += 1;
        }
        Some(c)
    }

    /// Skips spaces, comments and (when `newlines`) line ends.
    fn skip(&mut self, newlines: bool) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' => {
                    self.bump();
                }
                b'\n' if newlines => {
                    self.bump();
                }
                b'#' => self.skip_line(),
                b'/' if self.s.get(self.pos + 1) == Some(&b'/') => self.skip_line(),
                b'/' if self.s.get(self.pos + 1) == Some(&b'*') => {
                    self.pos += 2;
                    while self.peek().is_some()
                        && !(self.peek() == Some(b'*') && self.s.get(self.pos + 1) == Some(&b'/'))
                    {
                        self.bump();
                    }
                    self.pos = (self.pos + 2).min(self.s.len());
                }
                _ => break,
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'\n' {
                break;
            }
            self.bump();
        }
    }

    fn ident(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' {
                self.bump();
            } else {
                break;
            }
        }
        String::from_utf8_lossy(&self.s[start..self.pos]).into_owned()
    }

    fn err(&self, what: &str) -> String {
        format!("line {}: {what}", self.line)
    }

    fn body(&mut self, depth: usize, nested: bool) -> Result<Body, String> {
        if depth > MAX_DEPTH {
            return Err(self.err("blocks nested too deep"));
        }
        let mut body = Body::default();
        loop {
            self.skip(true);
            match self.peek() {
                None if nested => return Err(self.err("unclosed block")),
                None => return Ok(body),
                Some(b'}') if nested => {
                    self.bump();
                    return Ok(body);
                }
                _ => {}
            }
            let line = self.line;
            let name = self.ident();
            if name.is_empty() {
                return Err(self.err("expected an attribute or a block"));
            }
            self.skip(false);
            if self.peek() == Some(b'=') && self.s.get(self.pos + 1) != Some(&b'=') {
                self.bump();
                self.skip(false);
                let raw = self.expr_text()?;
                body.attrs.push((name, interpret(raw.trim())));
                continue;
            }
            let mut labels = Vec::new();
            loop {
                self.skip(false);
                match self.peek() {
                    Some(b'"') => {
                        let raw = self.string_text()?;
                        labels.push(unquote(&raw));
                    }
                    Some(b'{') => {
                        self.bump();
                        break;
                    }
                    Some(c) if c.is_ascii_alphabetic() => labels.push(self.ident()),
                    _ => return Err(self.err("expected a block label or `{`")),
                }
            }
            let inner = self.body(depth + 1, true)?;
            body.blocks.push(Block {
                kind: name,
                labels,
                body: inner,
                line,
            });
        }
    }

    /// A quoted string's text, quotes included.
    fn string_text(&mut self) -> Result<String, String> {
        let start = self.pos;
        let line = self.line;
        let unterminated = || format!("line {line}: unterminated string");
        self.bump();
        let mut interp = 0usize;
        loop {
            match self.bump() {
                None | Some(b'\n') if interp == 0 => return Err(unterminated()),
                None => return Err(unterminated()),
                Some(b'\\') => {
                    self.bump();
                }
                Some(b'$') if self.peek() == Some(b'{') => {
                    self.bump();
                    interp += 1;
                }
                Some(b'}') if interp > 0 => interp -= 1,
                Some(b'"') if interp == 0 => break,
                _ => {}
            }
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    /// The text of an expression up to the end of its line, with brackets
    /// and strings spanning lines.
    fn expr_text(&mut self) -> Result<String, String> {
        let start = self.pos;
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    self.string_text()?;
                    continue;
                }
                b'<' if self.s.get(self.pos + 1) == Some(&b'<') => {
                    self.heredoc()?;
                    continue;
                }
                b'#' => break,
                b'/' if matches!(self.s.get(self.pos + 1), Some(b'/' | b'*')) => break,
                b'[' | b'{' | b'(' => depth += 1,
                b']' | b'}' | b')' if depth == 0 => break,
                b']' | b'}' | b')' => depth -= 1,
                b'\n' if depth == 0 => break,
                _ => {}
            }
            self.bump();
        }
        if depth > 0 {
            return Err(self.err("unclosed bracket in a value"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    fn heredoc(&mut self) -> Result<(), String> {
        self.pos += 2;
        if self.peek() == Some(b'-') {
            self.bump();
        }
        let marker = self.ident();
        if marker.is_empty() {
            return Err(self.err("heredoc without a marker"));
        }
        loop {
            self.skip_line();
            if self.bump().is_none() {
                return Err(self.err("unterminated heredoc"));
            }
            let start = self.pos;
            while matches!(self.peek(), Some(b' ' | b'\t')) {
                self.bump();
            }
            let word = self.ident();
            if word == marker && matches!(self.peek(), None | Some(b'\n' | b'\r')) {
                return Ok(());
            }
            self.pos = start.max(self.pos);
        }
    }
}

/// A quoted string without its quotes, with `\"`, `\\`, `\n`, `\t`
/// decoded.
fn unquote(raw: &str) -> String {
    let inner = raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(raw);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn is_reference(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// Splits a list's inside at top-level commas.
fn split_items(inner: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut in_str, mut escaped, mut start) = (0i32, false, false, 0);
    for (i, c) in inner.char_indices() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' | '(' => depth += 1,
            ']' | '}' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = inner[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

/// Reads an expression's text as a literal, a list or a reference.
pub fn interpret(raw: &str) -> Expr {
    let raw = raw.trim();
    if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
        let body = &raw[1..raw.len() - 1];
        // One string, not `"a" == "b"` or `"a" ? ...`.
        if !body.contains('"') || body.contains("\\\"") || body.contains("${") {
            return Expr::Str(unquote(raw));
        }
    }
    if let Some(inner) = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return Expr::List(split_items(inner).into_iter().map(interpret).collect());
    }
    if is_reference(raw) {
        return Expr::Ref(raw.to_string());
    }
    Expr::Other(raw.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn blocks_attributes_and_values() {
        let text = r#"
# a comment
data "archive_file" "api" {
  type        = "zip"
  source_dir  = "${path.module}/src"   // trailing
  output_path = "${path.module}/build/api.zip"
}

resource "aws_lambda_function" "api" {
  filename      = data.archive_file.api.output_path
  runtime       = "python3.12"
  architectures = ["arm64"]
  layers = [
    aws_lambda_layer_version.deps.arn,
    "arn:aws:lambda:us-east-1:1:layer:x:1",
  ]
  environment {
    variables = { A = "b" }
  }
  description = <<-EOT
    not } a block
  EOT
  memory_size = var.memory * 2
}
"#;
        let body = parse(text).unwrap();
        assert_eq!(body.blocks.len(), 2);
        let f = &body.blocks[1];
        assert_eq!(f.labels, vec!["aws_lambda_function", "api"]);
        assert_eq!(f.line, 9);
        assert_eq!(
            f.body.get("filename"),
            Some(&Expr::Ref("data.archive_file.api.output_path".into()))
        );
        assert_eq!(f.body.get("runtime"), Some(&Expr::Str("python3.12".into())));
        assert_eq!(
            f.body.get("architectures"),
            Some(&Expr::List(vec![Expr::Str("arm64".into())]))
        );
        let Some(Expr::List(layers)) = f.body.get("layers") else {
            panic!()
        };
        assert_eq!(layers.len(), 2);
        assert_eq!(
            layers[0],
            Expr::Ref("aws_lambda_layer_version.deps.arn".into())
        );
        assert!(matches!(f.body.get("memory_size"), Some(Expr::Other(_))));
        assert_eq!(f.body.blocks[0].kind, "environment");
        let d = &body.blocks[0];
        assert_eq!(
            d.body.get("source_dir"),
            Some(&Expr::Str("${path.module}/src".into()))
        );
    }

    #[test]
    fn broken_input_is_an_error_with_a_line() {
        for bad in [
            "resource \"a\" \"b\" {\n x = \"unterminated\n}",
            "a {",
            "x = [1,\n",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.starts_with("line "), "{bad}: {e}");
        }
        let deep = "a {".repeat(100) + &"}".repeat(100);
        assert!(parse(&deep).unwrap_err().contains("too deep"));
    }
}
