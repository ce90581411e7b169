//! Goal expressions for `fraclab explore --goal EXPR`: a small boolean language over the fields of a
//! run's summary, parsed and type-checked up front with located errors, then evaluated per record.

use std::fmt;

/// The type of a field a goal can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// True or false; may stand alone as a condition.
    Bool,
    /// A signed 64-bit integer.
    Int,
    /// Text.
    Str,
    /// A list of integers, compared as a set.
    IntList,
}

/// A field's value in one run's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// The value of a [`Kind::Bool`] field.
    Bool(bool),
    /// The value of a [`Kind::Int`] field.
    Int(i64),
    /// The value of a [`Kind::Str`] field.
    Str(String),
    /// The value of a [`Kind::IntList`] field.
    IntList(Vec<i64>),
}

/// A parsed, type-checked goal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Goal {
    root: Node,
}

/// Why a goal text is refused: the 1-based character column of the fault, what is wrong, what is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoalError {
    /// The 1-based column, counted in characters, of the offending token.
    pub column: usize,
    /// One line: what is wrong, then `; allowed: ` and what would be accepted there.
    pub message: String,
}

impl fmt::Display for GoalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "--goal:1:{}: {}", self.column, self.message)
    }
}

impl std::error::Error for GoalError {}

/// Deepest nesting of `not` and `(` a goal may use.
const MAX_DEPTH: usize = 64;
const KEYWORDS: [&str; 6] = ["and", "or", "not", "contains", "true", "false"];
/// Comparison operators, two-character ones first so the lexer takes the longest match.
const OPS: [&str; 6] = ["==", "!=", "<=", ">=", "<", ">"];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Or(Vec<Node>),
    And(Vec<Node>),
    Not(Box<Node>),
    Flag(&'static str),
    /// Field, whether it is wrapped in `len(…)`, operator, literal (lists sorted and deduplicated).
    Cmp(&'static str, bool, &'static str, Value),
    Contains(&'static str, Vec<i64>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Int(i64),
    Str(String),
    Op(&'static str),
    Punct(char),
    End,
    /// A lexing fault; it ends the token stream and is reported when the parser reaches it.
    Bad(GoalError),
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    col: usize,
    text: String,
}

fn err(column: usize, message: impl Into<String>) -> GoalError {
    GoalError { column, message: message.into() }
}

/// `s` with control characters (newlines too) escaped, so that messages stay on one line.
fn printable(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

fn kind_of(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Str(_) => Kind::Str,
        Value::IntList(_) => Kind::IntList,
    }
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v.dedup();
    v
}

/// Byte length of the prefix of `s`, from byte `skip`, whose chars satisfy `p`.
fn span(s: &str, skip: usize, p: fn(char) -> bool) -> usize {
    s[skip..].find(|c| !p(c)).map_or(s.len(), |n| n + skip)
}

/// Reads one token from the start of `rest` (which begins with `c`, at column `col`): token, byte length.
fn token(rest: &str, c: char, col: usize) -> (Tok, usize) {
    if c.is_ascii_alphabetic() || c == '_' {
        let n = span(rest, 0, |c| c.is_ascii_alphanumeric() || c == '_');
        return (Tok::Word(rest[..n].to_string()), n);
    }
    if c.is_ascii_digit() || (c == '-' && rest[1..].starts_with(|c: char| c.is_ascii_digit())) {
        let n = span(rest, 1, |c| c.is_ascii_digit());
        return match rest[..n].parse() {
            Ok(v) => (Tok::Int(v), n),
            Err(_) => {
                let msg = format!(
                    "integer `{}` is out of range; allowed: {} to {}",
                    &rest[..n],
                    i64::MIN,
                    i64::MAX
                );
                (Tok::Bad(err(col, msg)), n)
            }
        };
    }
    if c == '"' {
        let mut s = String::new();
        let mut chars = rest.char_indices().skip(1).peekable();
        while let Some((i, ch)) = chars.next() {
            match (ch, chars.next_if(|_| ch == '\\')) {
                ('"', _) => return (Tok::Str(s), i + 1),
                ('\\', Some((_, e @ ('"' | '\\')))) => s.push(e),
                ('\\', Some((_, e))) => {
                    let msg =
                        format!("unknown escape `\\{}`; allowed: \\\" and \\\\", printable(&e.to_string()));
                    return (Tok::Bad(err(col + rest[..i].chars().count(), msg)), i);
                }
                ('\\', None) => break,
                _ => s.push(ch),
            }
        }
        return (Tok::Bad(err(col, "unterminated string; allowed: text closed by `\"")), rest.len());
    }
    if let Some(op) = OPS.into_iter().find(|op| rest.starts_with(op)) {
        return (Tok::Op(op), op.len());
    }
    if "()[],".contains(c) {
        return (Tok::Punct(c), 1);
    }
    let msg = match c {
        '=' | '!' => format!("unexpected `{c}`; allowed: == != < <= > >="),
        '-' => "unexpected `-`; allowed: a minus sign right before digits".to_string(),
        _ => format!(
            "unexpected character `{}`; allowed: names, integers, \"strings\", ( ) [ ] , == != < <= > >=",
            printable(&c.to_string())
        ),
    };
    (Tok::Bad(err(col, msg)), c.len_utf8())
}

/// Splits `text` into tokens, ending with `End`, or with `Bad` at the first lexing fault.
fn lex(text: &str) -> Vec<Token> {
    let (mut out, mut rest, mut col) = (Vec::new(), text, 1);
    loop {
        let trimmed = rest.trim_start();
        col += rest[..rest.len() - trimmed.len()].chars().count();
        rest = trimmed;
        let Some(c) = rest.chars().next() else { break };
        let (tok, len) = token(rest, c, col);
        let bad = matches!(tok, Tok::Bad(_));
        out.push(Token { tok, col, text: rest[..len].to_string() });
        if bad {
            return out;
        }
        col += rest[..len].chars().count();
        rest = &rest[len..];
    }
    out.push(Token { tok: Tok::End, col, text: String::new() });
    out
}

/// Levenshtein distance over chars.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// What an operand of `kind`, shown as `shown`, can be used with.
fn hint(shown: &str, kind: Kind) -> String {
    match kind {
        Kind::Bool => {
            format!("`{shown}` is true or false; use it alone or compare it with == or != to true or false")
        }
        Kind::Int => format!("`{shown}` is an integer; compare it with ==, !=, <, <=, > or >= to an integer"),
        Kind::Str => format!("`{shown}` is text; compare it with == or != to a \"string\""),
        Kind::IntList => format!(
            "`{shown}` is a list of integers; use contains N, contains [N, ...], == or != [N, ...], or len({shown})"
        ),
    }
}

/// Joins `parts` into one `Or` (or `And`) node, splicing in children of the same operator.
fn join(parts: Vec<Node>, or: bool) -> Node {
    let mut out = Vec::new();
    for part in parts {
        match part {
            Node::Or(v) if or => out.extend(v),
            Node::And(v) if !or => out.extend(v),
            p => out.push(p),
        }
    }
    match <[Node; 1]>::try_from(out) {
        Ok([one]) => one,
        Err(out) if or => Node::Or(out),
        Err(out) => Node::And(out),
    }
}

struct Parser<'f> {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    fields: &'f [(&'static str, Kind)],
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // `lex` always ends the stream with `End` or `Bad`, and the parser never moves past either.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    /// Whether the next token is the keyword, name or punctuation `text`.
    fn at(&self, text: &str) -> bool {
        self.peek().text == text
    }

    fn unexpected(&self, allowed: &str) -> GoalError {
        let t = self.peek();
        match &t.tok {
            Tok::Bad(e) => e.clone(),
            Tok::End => err(t.col, format!("unexpected end of the goal; allowed: {allowed}")),
            _ => err(t.col, format!("unexpected `{}`; allowed: {allowed}", printable(&t.text))),
        }
    }

    /// Steps over `text`, or says what was found instead.
    fn expect(&mut self, text: &str, allowed: &str) -> Result<(), GoalError> {
        if !self.at(text) {
            return Err(self.unexpected(allowed));
        }
        self.pos += 1;
        Ok(())
    }

    /// `and ("or" and)*` when `or`, else `unary ("and" unary)*`.
    fn chain(&mut self, or: bool) -> Result<Node, GoalError> {
        let mut parts = Vec::new();
        loop {
            parts.push(if or { self.chain(false)? } else { self.unary()? });
            if !self.at(if or { "or" } else { "and" }) {
                return Ok(join(parts, or));
            }
            self.pos += 1;
        }
    }

    fn unary(&mut self) -> Result<Node, GoalError> {
        let not = self.at("not");
        if !not && !self.at("(") {
            return self.comparison();
        }
        if self.depth >= MAX_DEPTH {
            let msg = format!("the goal nests too deeply; allowed: at most {MAX_DEPTH} nested `not` or `(`");
            return Err(err(self.peek().col, msg));
        }
        self.depth += 1;
        self.pos += 1;
        let node = if not { Node::Not(Box::new(self.unary()?)) } else { self.chain(true)? };
        if !not {
            self.expect(")", "and, or, or )")?;
        }
        self.depth -= 1;
        Ok(node)
    }

    /// Reads a field name (not a keyword) and looks it up: name, kind, column.
    fn field(&mut self, allowed: &str) -> Result<(&'static str, Kind, usize), GoalError> {
        let t = self.peek();
        let (Tok::Word(w), col) = (&t.tok, t.col) else { return Err(self.unexpected(allowed)) };
        if KEYWORDS.contains(&w.as_str()) {
            return Err(self.unexpected(allowed));
        }
        if let Some(&(name, kind)) = self.fields.iter().find(|(n, _)| n == w) {
            self.pos += 1;
            return Ok((name, kind, col));
        }
        let best =
            self.fields.iter().map(|(n, _)| (distance(w, n), *n)).filter(|p| p.0 <= 3).min_by_key(|p| p.0);
        let suggest = best.map(|(_, n)| format!("did you mean `{n}`? ")).unwrap_or_default();
        let all: Vec<String> = self.fields.iter().map(|(n, _)| format!("`{n}`")).collect();
        Err(err(col, format!("unknown field `{w}`; {suggest}allowed: {}", all.join(", "))))
    }

    fn comparison(&mut self) -> Result<Node, GoalError> {
        let col = self.peek().col;
        let len = self.at("len")
            && self.toks.get(self.pos + 1).is_some_and(|t| t.text == "(")
            && !self.fields.iter().any(|f| f.0 == "len");
        let (name, kind, shown) = if len {
            self.pos += 2;
            let (name, kind, fcol) = self.field("a list field name")?;
            if kind != Kind::IntList {
                return Err(err(fcol, format!("len() needs a list field; {}", hint(name, kind))));
            }
            self.expect(")", ")")?;
            (name, Kind::Int, format!("len({name})"))
        } else {
            let (name, kind, _) = self.field("a field name, len(FIELD), not, or (")?;
            (name, kind, name.to_string())
        };
        let next = self.peek().clone();
        match next.tok {
            Tok::Bad(e) => Err(e),
            Tok::Op(op) if kind == Kind::Int || op == "==" || op == "!=" => {
                self.pos += 1;
                let lit_col = self.peek().col;
                let lit = self.literal(kind)?;
                if kind_of(&lit) != kind {
                    return Err(err(lit_col, hint(&shown, kind)));
                }
                Ok(Node::Cmp(name, len, op, lit))
            }
            Tok::Word(w) if w == "contains" && kind == Kind::IntList => {
                self.pos += 1;
                let t = self.peek().clone();
                let items = match t.tok {
                    Tok::Int(n) => {
                        self.pos += 1;
                        vec![n]
                    }
                    Tok::Punct('[') => self.list()?,
                    _ => return Err(self.unexpected("an integer or a list such as [1, 2]")),
                };
                if items.is_empty() {
                    return Err(err(
                        t.col,
                        "contains needs an integer; allowed: contains N, contains [N, ...]",
                    ));
                }
                Ok(Node::Contains(name, items))
            }
            Tok::Op(_) => Err(err(next.col, hint(&shown, kind))),
            Tok::Word(w) if w == "contains" => Err(err(next.col, hint(&shown, kind))),
            _ if kind == Kind::Bool => Ok(Node::Flag(name)),
            _ => Err(err(col, hint(&shown, kind))),
        }
    }

    fn literal(&mut self, kind: Kind) -> Result<Value, GoalError> {
        let lit = match self.peek().tok.clone() {
            Tok::Int(n) => Value::Int(n),
            Tok::Str(s) => Value::Str(s),
            Tok::Word(w) if w == "true" || w == "false" => Value::Bool(w == "true"),
            Tok::Punct('[') => return Ok(Value::IntList(sorted(self.list()?))),
            _ => {
                return Err(self.unexpected(match kind {
                    Kind::Bool => "true or false",
                    Kind::Int => "an integer",
                    Kind::Str => "a \"string\"",
                    Kind::IntList => "a list such as [1, 2]",
                }));
            }
        };
        self.pos += 1;
        Ok(lit)
    }

    /// Reads `[` (INT ("," INT)*)? `]`.
    fn list(&mut self) -> Result<Vec<i64>, GoalError> {
        self.pos += 1;
        let mut items = Vec::new();
        while !self.at("]") {
            if !items.is_empty() {
                self.expect(",", ", or ]")?;
            }
            let Tok::Int(n) = self.peek().tok else { return Err(self.unexpected("an integer")) };
            items.push(n);
            self.pos += 1;
        }
        self.pos += 1;
        Ok(items)
    }
}

fn eval_node(node: &Node, get: &dyn Fn(&str) -> Option<Value>) -> bool {
    match node {
        Node::Or(v) => v.iter().any(|n| eval_node(n, get)),
        Node::And(v) => v.iter().all(|n| eval_node(n, get)),
        Node::Not(n) => !eval_node(n, get),
        Node::Flag(name) => get(name) == Some(Value::Bool(true)),
        Node::Contains(name, items) => {
            matches!(get(name), Some(Value::IntList(have)) if items.iter().all(|i| have.contains(i)))
        }
        Node::Cmp(name, len, op, lit) => {
            let got = match (get(name), len) {
                (Some(Value::IntList(v)), true) => {
                    Value::Int(i64::try_from(sorted(v).len()).unwrap_or(i64::MAX))
                }
                (Some(Value::IntList(v)), false) => Value::IntList(sorted(v)),
                (Some(v), false) => v,
                _ => return false,
            };
            let ord = match (&got, lit) {
                (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
                (Value::Int(a), Value::Int(b)) => a.cmp(b),
                (Value::Str(a), Value::Str(b)) => a.cmp(b),
                (Value::IntList(a), Value::IntList(b)) => a.cmp(b),
                _ => return false,
            };
            match *op {
                "==" => ord.is_eq(),
                "!=" => ord.is_ne(),
                "<" => ord.is_lt(),
                "<=" => ord.is_le(),
                ">" => ord.is_gt(),
                _ => ord.is_ge(),
            }
        }
    }
}

fn collect_fields(node: &Node, out: &mut Vec<&'static str>) {
    match node {
        Node::Or(v) | Node::And(v) => v.iter().for_each(|n| collect_fields(n, out)),
        Node::Not(n) => collect_fields(n, out),
        Node::Flag(name) | Node::Contains(name, _) | Node::Cmp(name, ..) => out.push(name),
    }
}

impl Goal {
    /// Parses and type-checks `text` against the fields a record has.
    pub fn parse(text: &str, fields: &[(&'static str, Kind)]) -> Result<Goal, GoalError> {
        if text.trim().is_empty() {
            return Err(err(1, "the goal is empty; allowed: an expression such as compromised contains 3"));
        }
        let mut p = Parser { toks: lex(text), pos: 0, depth: 0, fields };
        let root = p.chain(true)?;
        if p.peek().tok != Tok::End {
            return Err(p.unexpected("and, or, or the end"));
        }
        Ok(Goal { root })
    }

    /// Evaluates the goal; `get` returns each named field's value (the names are the ones given to parse).
    /// A field `get` cannot supply (None), or supplies with the wrong kind, makes its comparison false
    /// (e.g. `compromised` when the analysis was off); a `not` around that comparison is then true.
    pub fn eval(&self, get: &dyn Fn(&str) -> Option<Value>) -> bool {
        eval_node(&self.root, get)
    }

    /// The field names the goal mentions, sorted, deduplicated.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        collect_fields(&self.root, &mut out);
        out.sort_unstable();
        out.dedup();
        out
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, items: &[i64]) -> fmt::Result {
    let shown: Vec<String> = items.iter().map(i64::to_string).collect();
    write!(f, "[{}]", shown.join(", "))
}

/// Writes the value as a goal literal: `true`, `-3`, `"a \"b\""`, `[1, 2]`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Str(s) => write!(f, "\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
            Value::IntList(v) => write_list(f, v),
        }
    }
}

/// Writes `node`, parenthesised when its binding (or 1, and 2, others 3) is weaker than `min`.
fn write_node(f: &mut fmt::Formatter<'_>, node: &Node, min: u8) -> fmt::Result {
    let binding = match node {
        Node::Or(_) => 1,
        Node::And(_) => 2,
        _ => 3,
    };
    if binding < min {
        f.write_str("(")?;
        write_node(f, node, 0)?;
        return f.write_str(")");
    }
    match node {
        Node::Or(v) | Node::And(v) => {
            for (i, n) in v.iter().enumerate() {
                f.write_str(if i == 0 {
                    ""
                } else if binding == 1 {
                    " or "
                } else {
                    " and "
                })?;
                write_node(f, n, binding + 1)?;
            }
            Ok(())
        }
        Node::Not(n) => {
            f.write_str("not ")?;
            write_node(f, n, 3)
        }
        Node::Flag(name) => f.write_str(name),
        Node::Cmp(name, false, op, lit) => write!(f, "{name} {op} {lit}"),
        Node::Cmp(name, true, op, lit) => write!(f, "len({name}) {op} {lit}"),
        Node::Contains(name, items) => match items.as_slice() {
            [one] => write!(f, "{name} contains {one}"),
            _ => write!(f, "{name} contains ").and_then(|()| write_list(f, items)),
        },
    }
}

/// The canonical text: re-parsing it gives an equal [`Goal`]; parenthesised only where needed.
impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_node(f, &self.root, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const FIELDS: &[(&str, Kind)] = &[
        ("members", Kind::Int), ("epochs", Kind::Int), ("adversaries", Kind::Int), ("faults", Kind::Int),
        ("keys_agreed", Kind::Bool), ("invariants_held", Kind::Bool), ("outsider_learns_key", Kind::Bool),
        ("channel", Kind::Str), ("init", Kind::Str), ("compromised", Kind::IntList), ("victims", Kind::IntList),
        ("recovered", Kind::IntList), ("detected", Kind::IntList),
    ];

    fn parse(text: &str) -> Goal {
        Goal::parse(text, FIELDS).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn fail(text: &str) -> (usize, String) {
        let e = Goal::parse(text, FIELDS).expect_err(text);
        (e.column, e.message)
    }

    /// A record: 4 members, no adversaries, keys agreed, sealed channel, 3 and 5 compromised, no victims.
    fn record(name: &str) -> Option<Value> {
        Some(match name {
            "members" => Value::Int(4),
            "adversaries" | "epochs" | "faults" => Value::Int(0),
            "keys_agreed" | "invariants_held" => Value::Bool(true),
            "outsider_learns_key" => Value::Bool(false),
            "channel" => Value::Str("sealed".into()),
            "init" => Value::Str("a\"b\\c".into()),
            "compromised" => Value::IntList(vec![5, 3, 3]),
            "victims" => Value::IntList(vec![]),
            _ => return None,
        })
    }

    fn holds(text: &str) -> bool {
        parse(text).eval(&record)
    }

    #[test]
    fn examples_evaluate() {
        assert!(holds("compromised contains 3") && !holds("compromised contains 4"));
        assert!(holds("compromised contains [5, 3]") && !holds("compromised contains [3,4]"));
        assert!(!holds("outsider_learns_key and channel == \"sealed\""));
        assert!(holds("not outsider_learns_key and channel == \"sealed\""));
        assert!(!holds("keys_agreed == false and adversaries == 0"));
        assert!(holds("keys_agreed == true and adversaries == 0"));
        assert!(!holds("not keys_agreed or (members <= 4 and victims != [])"));
        assert!(holds("not keys_agreed or (members <= 4 and compromised != [])"));
        assert!(!holds("len(victims) > 0") && holds("len(compromised) == 2"));
        assert!(holds("compromised == [3, 5, 5]") && holds("compromised != [3]"));
        assert!(holds("members>=-4 and members<5 and members!=3 and not members>4"));
        assert!(holds("init == \"a\\\"b\\\\c\"") && holds("channel != \"open\""));
    }

    #[test]
    fn precedence() {
        let (a, b, c) = ("keys_agreed", "invariants_held", "outsider_learns_key");
        assert_eq!(parse(&format!("{a} or {b} and {c}")), parse(&format!("{a} or ({b} and {c})")));
        assert_ne!(parse(&format!("{a} or {b} and {c}")), parse(&format!("({a} or {b}) and {c}")));
        assert_eq!(parse(&format!("not {a} and {b}")), parse(&format!("(not {a}) and {b}")));
        assert_ne!(parse(&format!("not {a} and {b}")), parse(&format!("not ({a} and {b})")));
        // outsider_learns_key is false: `a or b and c` holds, `(a or b) and c` does not.
        assert!(holds(&format!("{a} or {b} and {c}")) && !holds(&format!("({a} or {b}) and {c}")));
    }

    #[test]
    fn missing_values_make_comparisons_false() {
        let none = |_: &str| None;
        for text in
            ["compromised contains 3", "members >= 0", "keys_agreed", "channel != \"x\"", "len(victims) < 1"]
        {
            assert!(!parse(text).eval(&none) && parse(&format!("not {text}")).eval(&none), "{text}");
        }
        assert!(!holds("detected contains 1") && !holds("recovered == []"));
        assert!(
            !parse("members == 4").eval(&|_| Some(Value::Str("4".into()))),
            "a wrong kind counts as missing"
        );
    }

    /// Each line: the column of the fault, ` | `, a goal refused there.
    const BAD: &str = r#"1 | compromized contains 3
17 | keys_agreed and zzzzzzzzzz
9 | channel < "x"
12 | channel == 3
13 | members == 3)
12 | members == 9223372036854775808
1 | members
13 | keys_agreed > true
9 | members contains 3
12 | victims == 3
15 | victims == [1,]
13 | victims == ["a"]
18 | victims contains []
5 | len(members) > 1
17 | len(victims) == [1]
13 | len(victims contains 1
13 | (keys_agreed
16 | keys_agreed and
5 | not and
17 | channel == "日本" @
12 | channel == "日本
14 | channel == "a\n"
9 | members = 3
9 | members - 3
1 | true"#;

    #[test]
    fn errors_name_the_column() {
        for line in BAD.lines() {
            let (col, text) = line.split_once(" | ").expect("table line");
            assert_eq!(fail(text).0.to_string(), col, "{text}");
        }
        let all: Vec<String> = FIELDS.iter().map(|(n, _)| format!("`{n}`")).collect();
        let unknown =
            format!("unknown field `compromized`; did you mean `compromised`? allowed: {}", all.join(", "));
        assert_eq!(fail("compromized contains 3").1, unknown);
        assert_eq!(fail("zzzzzzzzzz").1, format!("unknown field `zzzzzzzzzz`; allowed: {}", all.join(", ")));
        assert_eq!(fail("channel < \"x\"").1, "`channel` is text; compare it with == or != to a \"string\"");
        assert_eq!(fail("members == 3)").1, "unexpected `)`; allowed: and, or, or the end");
        assert_eq!(fail("(keys_agreed").1, "unexpected end of the goal; allowed: and, or, or )");
        assert_eq!(fail("victims == [1 2]"), (15, "unexpected `2`; allowed: , or ]".into()));
        let empty =
            (1, "the goal is empty; allowed: an expression such as compromised contains 3".to_string());
        assert_eq!((fail(""), fail("  \t ")), (empty.clone(), empty));
        assert!(
            fail("members == -9223372036854775809").1.starts_with("integer `-9223372036854775809` is out of")
        );
        assert!(holds("members > -9223372036854775808") && holds("members < 9223372036854775807"));
        let nest = |n: usize| format!("{}keys_agreed{}", "(".repeat(n), ")".repeat(n));
        assert!(Goal::parse(&nest(64), FIELDS).is_ok() && fail(&nest(65)).0 == 65);
        assert_eq!(fail(&"not ".repeat(100_000)).0, 257);
        assert_eq!(fail(&"(".repeat(1_000_000)).0, 65);
        for text in ["keys_agreed \"a\nb\"", "channel == \"\\\n\"", "\u{7}"] {
            assert!(!fail(text).1.contains('\n') && fail(text).1.contains("\\"), "{text:?}");
        }
        let e = Goal::parse("members == x", FIELDS).expect_err("x");
        assert_eq!(e.to_string(), "--goal:1:12: unexpected `x`; allowed: an integer");
    }

    /// Each line: a goal, then ` => ` and its canonical text unless it is canonical already.
    const CANON: &str = r#"(keys_agreed) => keys_agreed
not (keys_agreed and (invariants_held or outsider_learns_key))
(keys_agreed or invariants_held) or (outsider_learns_key) => keys_agreed or invariants_held or outsider_learns_key
(keys_agreed and invariants_held) and not (members>3) => keys_agreed and invariants_held and not members > 3
not not keys_agreed or epochs == 0 and faults != 1
victims==[3,1,3] or victims contains [2] or victims contains [2,1] => victims == [1, 3] or victims contains 2 or victims contains [2, 1]
init == "a\"b\\c" and channel != "日本" and channel == ""
len( victims ) <= -007 or members == -9223372036854775808 => len(victims) <= -7 or members == -9223372036854775808"#;

    #[test]
    fn display_round_trips() {
        for line in CANON.lines() {
            let (text, canon) = line.split_once(" => ").unwrap_or((line, line));
            let goal = parse(text);
            assert_eq!(goal.to_string(), canon);
            assert_eq!(parse(canon), goal);
        }
        let goal =
            parse("victims contains 1 or len(victims) > 0 and (members < 3 or keys_agreed) and members > 1");
        assert_eq!(goal.fields(), ["keys_agreed", "members", "victims"]);
    }

    /// Xorshift64: a tiny deterministic random source.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    #[rustfmt::skip]
    const BITS: &[&str] = &[
        "a", "_", "0", "7", "-", " ", "(", ")", "[", "]", ",", "\"", "\\", "=", "!", "<", ">", "é", "日", "😀",
        "and ", "or ", "not ", " contains ", "true", "false", "len(", "members", "compromised", "channel",
        "keys_agreed", "victims", " == ", " != ", " <= ", " > ", "\"s\\\"\"", "99999999999999999999", "\t", "\u{2003}",
    ];
    #[rustfmt::skip]
    const ATOMS: &[&str] = &[
        "keys_agreed", "members > 3", "channel == \"x\\\\\"", "victims != []", "compromised contains [3, 1]",
        "len(victims) >= 2", "init != \"\"", "faults < -1", "detected contains 4", "keys_agreed == false",
    ];

    /// Appends a random, usually well-formed goal.
    fn random_goal(rng: &mut Rng, depth: usize, out: &mut String) {
        match rng.below(if depth > 4 { 1 } else { 5 }) {
            0 => out.push_str(ATOMS[rng.below(ATOMS.len())]),
            1 => {
                out.push_str("not ");
                random_goal(rng, depth + 1, out);
            }
            2 => {
                out.push('(');
                random_goal(rng, depth + 1, out);
                out.push(')');
            }
            n => {
                random_goal(rng, depth + 1, out);
                out.push_str(if n == 3 { " and " } else { " or " });
                random_goal(rng, depth + 1, out);
            }
        }
    }

    #[test]
    fn random_input_never_panics_and_round_trips() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut parsed = 0;
        for round in 0..30_000 {
            let mut text = String::new();
            if round % 2 == 0 {
                (0..rng.below(24)).for_each(|_| text.push_str(BITS[rng.below(BITS.len())]));
            } else {
                random_goal(&mut rng, 0, &mut text);
                for _ in 0..rng.below(3) {
                    let at =
                        text.char_indices().map(|p| p.0).nth(rng.below(text.len() + 1)).unwrap_or(text.len());
                    text.insert_str(at, BITS[rng.below(BITS.len())]);
                }
            }
            if let Ok(goal) = Goal::parse(&text, FIELDS) {
                parsed += 1;
                assert_eq!(Goal::parse(&goal.to_string(), FIELDS).as_ref(), Ok(&goal), "{text:?} -> {goal}");
                goal.eval(&record);
                assert!(goal.fields().windows(2).all(|w| w[0] < w[1]));
            }
        }
        assert!(parsed > 4_000, "only {parsed} random goals parsed");
    }
}
