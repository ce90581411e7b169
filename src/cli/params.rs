//! `fraclab params [NAME] [--json]`.

use crate::group::{GroupParams, PARAMS_NAMES, all, by_name};

/// One parameter set as `{"name","p","q","g","p_bits","q_bits"}`, keys in reference §6 order.
fn json(p: &GroupParams) -> String {
    let v = serde_json::json!({
        "name": p.name,
        "p": format!("{:x}", p.p),
        "q": format!("{:x}", p.q),
        // g is a group element: padded to the byte length of P (reference §3).
        "g": p.element_hex(&p.generator()),
        "p_bits": p.p.bits(),
        "q_bits": p.q.bits(),
    });
    // Key order as reference §6 lists it.
    let keys = ["name", "p", "q", "g", "p_bits", "q_bits"];
    let fields: Vec<String> = keys.iter().map(|k| format!("\"{k}\":{}", v[k])).collect();
    format!("{{{}}}", fields.join(","))
}

/// `fraclab params [NAME] [--json]`: lists or prints the group parameter sets;
/// returns the exit status.
pub(super) fn params(name: Option<&str>, as_json: bool) -> u8 {
    let chosen: Vec<&GroupParams> = match name {
        None => all().iter().collect(),
        Some(n) => match by_name(n) {
            Some(p) => vec![p],
            None if crate::group::lookup(n).is_some() => {
                let bits = n.trim_start_matches("xor-");
                println!(
                    "{n}: {bits}-bit strings under XOR, the patent's ⊕; no P, q or g. Choose it with [group] operator = \"xor\", bits = {bits} (or params = \"{n}\")."
                );
                return 0;
            }
            None => {
                eprintln!(
                    "error: unknown parameter set \"{n}\"; allowed: {}, or xor-L for L in 8..=4096",
                    PARAMS_NAMES.join(", ")
                );
                return super::EXIT_BAD_INPUT;
            }
        },
    };
    for p in chosen {
        if as_json {
            println!("{}", json(p));
        } else if name.is_some() {
            println!(
                "name    {}\nsource  {}\np_bits  {}\nq_bits  {}",
                p.name,
                p.source,
                p.p.bits(),
                p.q.bits()
            );
            println!("p       {:x}\nq       {:x}\ng       {:x}", p.p, p.q, p.g);
        } else {
            let toy = if p.is_toy() { "  (toy: teaching only)" } else { "" };
            println!("{:<18} P {:>4} bits  q {:>4} bits  {}{toy}", p.name, p.p.bits(), p.q.bits(), p.source);
        }
    }
    0
}
