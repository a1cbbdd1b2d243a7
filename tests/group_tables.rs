//! Character tables for papers: snapshots of Markdown and LaTeX, and the JSON layout.

use eqntk::group::{Cyclic, Dihedral};
use eqntk::rep::{CharacterTable, Irreps, TableFormat};

fn table(g: &impl Irreps) -> CharacterTable {
    CharacterTable::new(g, &g.irreps().unwrap())
}

#[test]
fn snapshots_markdown_and_latex() {
    for n in [5, 6] {
        let t = table(&Cyclic::new(n).unwrap());
        insta::assert_snapshot!(format!("C{n}_markdown"), t.render(TableFormat::Markdown));
        insta::assert_snapshot!(format!("C{n}_latex"), t.render(TableFormat::Latex));
    }
    for n in [3, 4, 5, 6] {
        let t = table(&Dihedral::new(n).unwrap());
        insta::assert_snapshot!(format!("D{n}_markdown"), t.render(TableFormat::Markdown));
        insta::assert_snapshot!(format!("D{n}_latex"), t.render(TableFormat::Latex));
    }
}

#[test]
fn printed_values_are_the_exact_ones() {
    // D5: 2cos(2π/5) and 2cos(4π/5) are printed exactly; C5 uses ω = e^{2πi/5}.
    let md = table(&Dihedral::new(5).unwrap()).to_markdown();
    assert!(
        md.contains("| E1 | 2 | 2 | 2cos(2π/5) | 2cos(4π/5) | 0 |"),
        "{md}"
    );
    let tex = table(&Dihedral::new(5).unwrap()).to_latex();
    assert!(tex.contains("$2\\cos\\frac{2\\pi}{5}$"));
    assert!(tex.contains("\\toprule") && tex.contains("\\midrule") && tex.contains("\\bottomrule"));
    let md = table(&Cyclic::new(5).unwrap()).to_markdown();
    assert!(
        md.contains("| chi_2 | 1 | 1 | ω^2 | ω^4 | ω | ω^3 |"),
        "{md}"
    );
    assert!(md.contains("ω = e^(2πi/5)"));
    // D8: 2cos(π/4) = √2.
    let md = table(&Dihedral::new(8).unwrap()).to_markdown();
    assert!(md.contains("2cos(π/4)"));
}

#[test]
fn json_layout() {
    let v = table(&Cyclic::new(4).unwrap()).to_json();
    assert_eq!(v["group"], "C4");
    assert_eq!(v["order"], 4);
    assert_eq!(v["classes"][1]["name"], "r");
    assert_eq!(v["classes"][1]["size"], 1);
    assert_eq!(v["irreps"][1]["name"], "chi_1");
    // chi_1(r) = i, as [re, im]; chi_2 is real-valued and prints plain numbers.
    assert_eq!(v["irreps"][1]["characters"][1], serde_json::json!([0, 1]));
    assert_eq!(
        v["irreps"][2]["characters"],
        serde_json::json!([1, -1, 1, -1])
    );
    let v = table(&Dihedral::new(6).unwrap()).to_json();
    let names: Vec<&str> = v["irreps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A1", "A2", "B1", "B2", "E1", "E2"]);
    let sizes: Vec<u64> = v["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["size"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [1, 2, 2, 1, 3, 3]);
    assert_eq!(
        v["irreps"][4]["characters"],
        serde_json::json!([2, 1, -1, -2, 0, 0])
    );
}
