//! `derivations.dot`: how each view derived each secret it learned, as a
//! Graphviz graph drawn from the summary's `learn` findings alone (so
//! `fraclab plot DIR` redraws it byte for byte).
//!
//! One cluster per view, in the order the views first learn something.
//! The analysis writes out the witness of each view's first derivation of
//! each owner's secrets; those are drawn, and the cluster's label counts
//! the view's later derivations. In a cluster, each derived secret is a double ellipse labelled with its
//! expression, and each value of the view it was computed from is a box
//! labelled with where the view got it: its own, received from a member,
//! tapped, or leaked. Leaked values are filled orange *and* say "leaked",
//! so the mark survives a grey-scale projector. An edge runs from a value
//! to each secret whose witness uses it, labelled with the coefficient.
//! A value used by several derivations of one view is one node.
//!
//! Render it with `dot -Tsvg derivations.dot -o derivations.svg`.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::schema::summary::{Finding, LearnFinding};
use crate::schema::{Summary, View};

/// The file name in a run folder.
pub const DERIVATIONS_FILE: &str = "derivations.dot";

/// The graph of `summary`'s learn findings, or `None` when the run learned
/// nothing (no analysis, or nothing derivable).
pub fn dot(summary: &Summary) -> Option<String> {
    let learns: Vec<&LearnFinding> = summary
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Learn(l) => Some(l),
            _ => None,
        })
        .collect();
    if learns.is_empty() {
        return None;
    }
    // Views in the order they first learn; each view's learns in order.
    let mut views: Vec<(&View, Vec<&LearnFinding>)> = Vec::new();
    for l in learns {
        match views.iter_mut().find(|(v, _)| **v == l.view) {
            Some((_, ls)) => ls.push(l),
            None => views.push((&l.view, vec![l])),
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// How each view of run \"{}\" (seed {}) derived what it learned; from summary.json.",
        comment(&summary.scenario),
        summary.seed
    );
    let _ = writeln!(out, "// Render: dot -Tsvg derivations.dot -o derivations.svg");
    out.push_str("digraph derivations {\n");
    out.push_str("  rankdir=LR;\n");
    out.push_str("  graph [fontname=\"Helvetica\", fontsize=13];\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=12];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=11];\n");
    for (k, (view, ls)) in views.iter().enumerate() {
        cluster(&mut out, k, view, ls);
    }
    out.push_str("}\n");
    Some(out)
}

/// One view's cluster: its learns that carry a witness (the analysis
/// explains each view's first derivation of each owner's secrets); the
/// others are counted in the label.
fn cluster(out: &mut String, k: usize, view: &View, learns: &[&LearnFinding]) {
    let later = learns.iter().filter(|l| l.witness.is_none()).count();
    let learns: Vec<&LearnFinding> = learns.iter().copied().filter(|l| l.witness.is_some()).collect();
    let _ = writeln!(out, "  subgraph cluster_{k} {{");
    let mut label = view_name(view);
    if later > 0 {
        let s = if later == 1 { "" } else { "s" };
        let _ =
            write!(label, "\n(and {later} later derivation{s} of the same owners' secrets, in summary.json)");
    }
    let _ = writeln!(out, "    label=\"{}\";", quoted(&label));
    out.push_str("    style=rounded; color=\"#636363\";\n");
    // Observation label → node id, in first use.
    let mut values: BTreeMap<&str, usize> = BTreeMap::new();
    let mut edges = String::new();
    for (d, l) in learns.iter().enumerate() {
        let expression = l.expression.as_deref().unwrap_or(&l.secret);
        let _ = writeln!(
            out,
            "    \"v{k}_d{d}\" [label=\"{}\", shape=ellipse, peripheries=2, style=filled, fillcolor=\"#deebf7\", \
             tooltip=\"{} = {} (t = {} µs, seq {})\"];",
            quoted(expression),
            quoted(&l.secret),
            quoted(&l.value),
            l.t_us,
            l.seq
        );
        for w in l.witness.iter().flatten() {
            let next = values.len();
            let id = *values.entry(w.value.as_str()).or_insert_with(|| {
                value_node(out, k, next, &w.value);
                next
            });
            let _ = writeln!(
                edges,
                "    \"v{k}_o{id}\" -> \"v{k}_d{d}\" [label=\"×{}\"];",
                quoted(&coeff(&w.coeff))
            );
        }
    }
    out.push_str(&edges);
    out.push_str("  }\n");
}

/// A value node: the variable on the first line, where it came from on the
/// second; leaked values filled and bold.
fn value_node(out: &mut String, k: usize, id: usize, label: &str) {
    let (var, how) = label.split_once(' ').unwrap_or((label, ""));
    let leaked = how.starts_with("leaked");
    let style = if leaked {
        "shape=box, style=\"filled,bold\", fillcolor=\"#fdae6b\", color=\"#a63603\""
    } else {
        "shape=box, style=rounded"
    };
    let _ = writeln!(out, "    \"v{k}_o{id}\" [label=\"{}\\n{}\", {style}];", quoted(var), quoted(how));
}

/// How the summary's views read: "member 2", "coalition {1, 3}".
fn view_name(view: &View) -> String {
    match view {
        View::Member(m) => format!("member {m}"),
        View::Coalition(ms) => {
            let ids: Vec<String> = ms.iter().map(u32::to_string).collect();
            format!("coalition {{{}}}", ids.join(", "))
        }
        View::Outsider => "the outsider".into(),
        View::Replacement { member, nth } => format!("replacement {nth} of member {member}"),
    }
}

/// A coefficient with a real minus sign.
fn coeff(c: &str) -> String {
    c.replace('-', "−")
}

/// `s` inside a DOT double-quoted string: quotes and backslashes escaped,
/// line breaks as `\n`, other control characters dropped.
fn quoted(s: &str) -> String {
    let mut q = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            c if c.is_control() => {}
            c => q.push(c),
        }
    }
    q
}

/// `s` on one comment line.
fn comment(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn quoting_keeps_the_string_inside_its_quotes() {
        assert_eq!(quoted("a\"b\\c\nd\u{7}"), "a\\\"b\\\\c\\nd");
        assert_eq!(quoted("α[1,2] leaked by member 1"), "α[1,2] leaked by member 1");
    }
}
