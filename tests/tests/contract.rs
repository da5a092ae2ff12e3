//! The contract checked, not assumed: decodes the WIT of the built component
//! (`target/wasm32-wasip2/release/order_core.wasm`, from `make build`) with
//! `wit-component` and proves that it imports and exports exactly the
//! interfaces of the world `order-management` in `wit/`, with the same
//! functions, signatures and type definitions, and that the only other
//! imports are the WASI interfaces Rust's standard library links in:
//!
//! - `wasi:cli/environment`, `wasi:cli/exit`, `wasi:cli/stdin`,
//!   `wasi:cli/stdout`, `wasi:cli/stderr`, `wasi:cli/terminal-input`,
//!   `wasi:cli/terminal-output`, `wasi:cli/terminal-stdin`,
//!   `wasi:cli/terminal-stdout`, `wasi:cli/terminal-stderr`;
//! - `wasi:clocks/wall-clock` (the time every event is stamped with),
//!   `wasi:clocks/monotonic-clock`;
//! - `wasi:io/error`, `wasi:io/poll`, `wasi:io/streams`.
//!
//! No `wasi:filesystem/*` (so no `wasi:filesystem/preopens`), no
//! `wasi:sockets/*`, no `wasi:http/*`, no `wasi:random/*`: the component
//! needs no files, no network and no randomness (ids it derives are UUID v5).
//! It exports nothing but the package's interfaces (no `wasi:cli/run`).
//! A change to this list is a change of what embedders must provide: update
//! this comment, the list below and docs/embedding.md together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use order_e2e::wit_docs::{definition_wit, load_package, signature};
use order_e2e::workspace_root;
use wit_component::DecodedWasm;
use wit_parser::{InterfaceId, Resolve, TypeId, WorldId, WorldItem, WorldKey};

/// The WASI interfaces the component is allowed to import, without versions.
const WASI_IMPORTS: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stderr",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stderr",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
];

/// WASI packages whose presence would mean the sandbox leaks.
const FORBIDDEN_WASI: &[&str] = &[
    "wasi:filesystem/",
    "wasi:sockets/",
    "wasi:http/",
    "wasi:random/",
];

fn component_path() -> PathBuf {
    workspace_root().join("target/wasm32-wasip2/release/order_core.wasm")
}

/// The built component's world, decoded from its binary.
fn built() -> (Resolve, WorldId) {
    let path = component_path();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the built component at {}: {e}; run `make build` first",
            path.display()
        )
    });
    match wit_component::decode(&bytes) {
        Ok(DecodedWasm::Component(resolve, world)) => (resolve, world),
        Ok(DecodedWasm::WitPackage(..)) => {
            panic!("{} is a WIT package, not a component", path.display())
        }
        Err(e) => panic!("cannot decode {}: {e:#}", path.display()),
    }
}

/// The world `order-management` as written in wit/.
fn declared() -> (Resolve, WorldId) {
    let (resolve, _, world) =
        load_package(&workspace_root().join("wit")).expect("wit/ parses as one package");
    (resolve, world)
}

/// An interface as the contract sees it: its functions with their
/// signatures and its named types with their definitions.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    functions: BTreeMap<String, String>,
    types: BTreeMap<String, String>,
}

fn shape(resolve: &Resolve, id: InterfaceId) -> Shape {
    let iface = &resolve.interfaces[id];
    Shape {
        functions: iface
            .functions
            .values()
            .map(|f| (f.name.clone(), signature(resolve, f)))
            .collect(),
        types: iface
            .types
            .iter()
            .map(|(name, &ty): (&String, &TypeId)| (name.clone(), definition_wit(resolve, ty)))
            .collect(),
    }
}

/// A world's interfaces by fully qualified name
/// (`oms:order-management/orders@0.1.0`); functions imported or exported
/// directly by the world are listed under `function <name>`.
fn interfaces<'a>(
    resolve: &Resolve,
    items: impl Iterator<Item = (&'a WorldKey, &'a WorldItem)>,
) -> BTreeMap<String, Option<Shape>> {
    items
        .map(|(key, item)| match item {
            WorldItem::Interface { id, .. } => (
                resolve
                    .id_of(*id)
                    .unwrap_or_else(|| resolve.name_world_key(key)),
                Some(shape(resolve, *id)),
            ),
            WorldItem::Function(f) => (format!("function {}", f.name), None),
            WorldItem::Type { .. } => (format!("type {}", resolve.name_world_key(key)), None),
        })
        .collect()
}

fn unversioned(name: &str) -> &str {
    name.split_once('@').map_or(name, |(n, _)| n)
}

fn is_wasi(name: &str) -> bool {
    name.starts_with("wasi:")
}

/// Compares two interface maps, naming every difference.
fn differences(
    what: &str,
    declared: &BTreeMap<String, Option<Shape>>,
    built: &BTreeMap<String, Option<Shape>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for name in declared.keys().filter(|n| !built.contains_key(*n)) {
        out.push(format!(
            "{what} {name}: declared in wit/, missing from the component"
        ));
    }
    for name in built.keys().filter(|n| !declared.contains_key(*n)) {
        out.push(format!(
            "{what} {name}: in the component, not declared in wit/"
        ));
    }
    for (name, want) in declared {
        let (Some(Some(want)), Some(Some(got))) = (Some(want), built.get(name)) else {
            continue;
        };
        for (kind, w, g) in [
            ("function", &want.functions, &got.functions),
            ("type", &want.types, &got.types),
        ] {
            let keys: BTreeSet<&String> = w.keys().chain(g.keys()).collect();
            for key in keys {
                match (w.get(key), g.get(key)) {
                    (Some(a), Some(b)) if a == b => {}
                    (a, b) => out.push(format!(
                        "{what} {name}, {kind} {key}:\n    wit/:      {}\n    component: {}",
                        a.map_or("(absent)", String::as_str),
                        b.map_or("(absent)", String::as_str),
                    )),
                }
            }
        }
    }
    out
}

/// Which of a world's two lists a check reads.
#[derive(Clone, Copy)]
enum Side {
    Exports,
    Imports,
}

impl Side {
    /// The singular word of the messages: `export`, `import`.
    fn name(self) -> &'static str {
        match self {
            Side::Exports => "export",
            Side::Imports => "import",
        }
    }

    /// This side of `world` by [`interfaces`].
    fn interfaces(self, resolve: &Resolve, world: WorldId) -> BTreeMap<String, Option<Shape>> {
        let world = &resolve.worlds[world];
        let items = match self {
            Side::Exports => &world.exports,
            Side::Imports => &world.imports,
        };
        interfaces(resolve, items.iter())
    }
}

/// Asserts that the built component's `side` is exactly the world's in wit/
/// (its WASI imports aside), after checking that the declared side names an
/// interface starting with `declared_prefix`.
fn assert_side_is_the_world(side: Side, declared_prefix: &str) {
    let (want_resolve, want_world) = declared();
    let (got_resolve, got_world) = built();
    let want = side.interfaces(&want_resolve, want_world);
    let got: BTreeMap<_, _> = side
        .interfaces(&got_resolve, got_world)
        .into_iter()
        .filter(|(name, _)| matches!(side, Side::Exports) || !is_wasi(name))
        .collect();
    let what = side.name();
    assert!(
        want.keys().any(|n| n.starts_with(declared_prefix)),
        "declared {what}s: {:?}",
        want.keys()
    );
    let diff = differences(what, &want, &got);
    assert!(
        diff.is_empty(),
        "the component's {what}s differ from the world in wit/ (rebuild with `make build` \
         if wit/ changed):\n{}",
        diff.join("\n")
    );
}

#[test]
fn exports_are_exactly_the_world() {
    assert_side_is_the_world(Side::Exports, "oms:order-management/orders@");
}

#[test]
fn package_imports_are_exactly_the_world() {
    // The imports of world.wit plus the types-only interfaces they `use`.
    assert_side_is_the_world(Side::Imports, "oms:order-management/event-store@");
}

#[test]
fn wasi_imports_are_only_what_std_needs() {
    let (resolve, world) = built();
    let imported: Vec<String> = Side::Imports
        .interfaces(&resolve, world)
        .into_keys()
        .filter(|name| is_wasi(name))
        .collect();

    let forbidden: Vec<&String> = imported
        .iter()
        .filter(|name| FORBIDDEN_WASI.iter().any(|p| name.starts_with(p)))
        .collect();
    assert!(
        forbidden.is_empty(),
        "the component imports WASI capabilities it must not need: {forbidden:?}"
    );

    let got: BTreeSet<&str> = imported.iter().map(|n| unversioned(n)).collect();
    let want: BTreeSet<&str> = WASI_IMPORTS.iter().copied().collect();
    assert_eq!(
        got,
        want,
        "the component's WASI imports changed (new: {:?}, gone: {:?}); if intended, update \
         WASI_IMPORTS, this file's doc comment and docs/embedding.md",
        got.difference(&want).collect::<Vec<_>>(),
        want.difference(&got).collect::<Vec<_>>(),
    );
    assert!(
        imported.iter().all(|n| n.contains("@0.2.")),
        "every WASI import is WASI 0.2 (p2): {imported:?}"
    );
}

#[test]
fn wasi_version_is_the_one_the_embedding_guide_names() {
    let (resolve, world) = built();
    let versions: BTreeSet<String> = Side::Imports
        .interfaces(&resolve, world)
        .into_keys()
        .filter(|name| is_wasi(name))
        .filter_map(|name| name.split_once('@').map(|(_, v)| v.to_string()))
        .collect();
    assert_eq!(
        versions.len(),
        1,
        "every WASI import has one version: {versions:?}"
    );
    let version = versions.into_iter().next().expect("one version");
    let guide = std::fs::read_to_string(workspace_root().join("docs/embedding.md"))
        .expect("docs/embedding.md is readable");
    for name in ["wasi:clocks/wall-clock", "wasi:clocks/monotonic-clock"] {
        let versioned = format!("{name}@{version}");
        assert!(
            guide.contains(&versioned),
            "docs/embedding.md must name `{versioned}`, the version the component imports ({version})"
        );
    }
}

#[test]
fn exports_nothing_but_the_package() {
    let (resolve, world) = built();
    let foreign: Vec<String> = Side::Exports
        .interfaces(&resolve, world)
        .into_keys()
        .filter(|name| !name.starts_with("oms:order-management/"))
        .collect();
    assert!(
        foreign.is_empty(),
        "the component exports more than the package: {foreign:?}"
    );
}
