//! Reading the WIT contract with `wit-parser`: the Markdown reference in
//! `docs/wit-reference.md` (every interface, type, field, case and function
//! with its `///` comment), and the WIT spelling of types and signatures that
//! the contract test compares between `wit/` and the built component.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use wit_parser::{
    Docs, Function, Handle, InterfaceId, PackageId, Resolve, Type, TypeDefKind, TypeId, TypeOwner,
    WorldId, WorldItem, WorldKey,
};

/// The command that regenerates the reference, quoted in its header and in
/// the staleness test's message.
pub const REGENERATE: &str = "cargo run -q -p order-e2e --bin wit-docs > docs/wit-reference.md";

/// The package in `dir` (a `wit/` directory) and its one world.
pub fn load_package(dir: &Path) -> Result<(Resolve, PackageId, WorldId)> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(dir)
        .with_context(|| format!("parsing the WIT package in {}", dir.display()))?;
    let worlds: Vec<WorldId> = resolve.packages[package].worlds.values().copied().collect();
    let [world] = worlds[..] else {
        bail!(
            "expected exactly one world in {}, found {}",
            dir.display(),
            worlds.len()
        );
    };
    Ok((resolve, package, world))
}

/// The Markdown reference of the package in `dir`.
pub fn render_dir(dir: &Path) -> Result<String> {
    let (resolve, package, world) = load_package(dir)?;
    Ok(render(&resolve, package, world))
}

/// The Markdown reference of `package`: the world first, then its
/// interfaces (the types-only ones, the imports, the exports, each in the
/// world's order), then any others by name.
/// The text ends with one newline.
pub fn render(resolve: &Resolve, package: PackageId, world: WorldId) -> String {
    let pkg = &resolve.packages[package];
    let w = &resolve.worlds[world];
    let imports = world_interfaces(resolve, package, w.imports.iter());
    let exports = world_interfaces(resolve, package, w.exports.iter());
    // Interfaces without functions are imported only for their types.
    let (imports, shared): (Vec<_>, Vec<_>) = imports
        .into_iter()
        .partition(|(id, _)| !resolve.interfaces[*id].functions.is_empty());
    let mut others: Vec<InterfaceId> = pkg
        .interfaces
        .values()
        .copied()
        .filter(|id| {
            !imports
                .iter()
                .chain(&shared)
                .chain(&exports)
                .any(|(i, _)| i == id)
        })
        .collect();
    others.sort_by_key(|id| iface_name(resolve, *id));

    let mut out = String::new();
    let _ = writeln!(out, "# WIT reference: `{}`\n", pkg.name);
    let _ = writeln!(
        out,
        "<!-- Generated from wit/ by `{REGENERATE}`. Do not edit: change the `///` comments in wit/ and regenerate. -->\n"
    );
    push_docs(&mut out, &pkg.docs);
    let _ = writeln!(
        out,
        "The contract of the order-management component: the world `{}` and its \
         interfaces, with every type, field, case and function. Money amounts are \
         `u64` minor units; `timestamp` is milliseconds since the Unix epoch; string \
         bounds are inclusive and counted in characters.\n",
        w.name
    );

    out.push_str("## Contents\n\n");
    let _ = writeln!(out, "- [World `{0}`](#world-{0})", w.name);
    for (label, list) in [
        ("Imported by the component", &imports),
        ("Exported by the component", &exports),
        ("Shared types", &shared),
    ] {
        let links: Vec<String> = list
            .iter()
            .map(|(id, _)| iface_link(resolve, *id))
            .collect();
        let _ = writeln!(out, "- {label}: {}", links.join(", "));
    }
    if !others.is_empty() {
        let links: Vec<String> = others.iter().map(|id| iface_link(resolve, *id)).collect();
        let _ = writeln!(out, "- Not in the world: {}", links.join(", "));
    }
    out.push('\n');

    let _ = writeln!(out, "<a id=\"world-{0}\"></a>\n\n## World `{0}`\n", w.name);
    push_docs(&mut out, &w.docs);
    for (title, intro, list) in [
        ("Imports (implemented by the host)", "", &imports),
        ("Exports (called by the host)", "", &exports),
        (
            "Shared types",
            "Interfaces that declare only types. The component imports them \
             because its other interfaces use their types; they have no \
             functions to implement.\n\n",
            &shared,
        ),
    ] {
        let _ = writeln!(out, "### {title}\n");
        out.push_str(intro);
        out.push_str("| interface | description |\n|---|---|\n");
        for (id, docs) in list.iter() {
            let text = one_line(docs).unwrap_or_else(|| {
                first_sentence(&resolve.interfaces[*id].docs).unwrap_or_default()
            });
            let _ = writeln!(out, "| {} | {} |", iface_link(resolve, *id), text);
        }
        out.push('\n');
    }

    for id in shared
        .iter()
        .chain(&imports)
        .chain(&exports)
        .map(|(id, _)| *id)
        .chain(others)
    {
        render_interface(&mut out, resolve, id);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// The package's interfaces named by a world's imports or exports, with the
/// docs of the `import`/`export` statement.
fn world_interfaces<'a>(
    resolve: &Resolve,
    package: PackageId,
    items: impl Iterator<Item = (&'a WorldKey, &'a WorldItem)>,
) -> Vec<(InterfaceId, Docs)> {
    items
        .filter_map(|(_, item)| match item {
            WorldItem::Interface { id, docs, .. }
                if resolve.interfaces[*id].package == Some(package) =>
            {
                Some((*id, docs.clone()))
            }
            _ => None,
        })
        .collect()
}

fn iface_name(resolve: &Resolve, id: InterfaceId) -> String {
    resolve.interfaces[id]
        .name
        .clone()
        .unwrap_or_else(|| "(anonymous)".to_string())
}

fn iface_link(resolve: &Resolve, id: InterfaceId) -> String {
    let name = iface_name(resolve, id);
    format!("[`{name}`](#{name})")
}

fn type_anchor(resolve: &Resolve, id: TypeId) -> Option<String> {
    let def = &resolve.types[id];
    let name = def.name.as_ref()?;
    match def.owner {
        TypeOwner::Interface(owner) => Some(format!("{}.{name}", iface_name(resolve, owner))),
        TypeOwner::World(world) => Some(format!("{}.{name}", resolve.worlds[world].name)),
        TypeOwner::None => None,
    }
}

fn render_interface(out: &mut String, resolve: &Resolve, id: InterfaceId) {
    let iface = &resolve.interfaces[id];
    let name = iface_name(resolve, id);
    let _ = writeln!(out, "<a id=\"{name}\"></a>\n\n## Interface `{name}`\n");
    if let Some(qualified) = resolve.id_of(id) {
        let _ = writeln!(out, "`{qualified}`\n");
    }
    push_docs(out, &iface.docs);

    // Types brought in with `use`, grouped by the interface that defines them.
    let mut used: Vec<(InterfaceId, Vec<String>)> = Vec::new();
    let mut own = Vec::new();
    for (type_name, &ty) in &iface.types {
        match foreign_origin(resolve, ty, id) {
            Some(origin) => {
                let link = type_anchor(resolve, origin)
                    .map(|a| format!("[`{type_name}`](#{a})"))
                    .unwrap_or_else(|| format!("`{type_name}`"));
                let owner = match resolve.types[origin].owner {
                    TypeOwner::Interface(o) => o,
                    _ => id,
                };
                match used.iter_mut().find(|(o, _)| *o == owner) {
                    Some((_, links)) => links.push(link),
                    None => used.push((owner, vec![link])),
                }
            }
            None => own.push(ty),
        }
    }
    for (owner, links) in &used {
        let _ = writeln!(
            out,
            "Uses from {}: {}.\n",
            iface_link(resolve, *owner),
            links.join(", ")
        );
    }

    let (definitions, aliases): (Vec<TypeId>, Vec<TypeId>) = own
        .into_iter()
        .filter(|&t| resolve.types[t].name.is_some())
        .partition(|&t| is_aggregate(&resolve.types[t].kind));
    if !aliases.is_empty() {
        out.push_str("### Type aliases\n\n");
        render_aliases(out, resolve, &aliases);
    }
    if !definitions.is_empty() {
        out.push_str("### Types\n\n");
        for ty in definitions {
            render_type(out, resolve, ty);
        }
    }
    if !iface.functions.is_empty() {
        out.push_str("### Functions\n\n");
        for f in iface.functions.values() {
            let _ = writeln!(
                out,
                "#### `{}`\n\n```wit\n{}: {}\n```\n",
                f.name,
                f.name,
                signature(resolve, f)
            );
            push_docs(out, &f.docs);
        }
    }
}

/// The type a `use` alias in `iface` stands for, when it is defined elsewhere.
fn foreign_origin(resolve: &Resolve, ty: TypeId, iface: InterfaceId) -> Option<TypeId> {
    let def = &resolve.types[ty];
    match def.kind {
        TypeDefKind::Type(Type::Id(target)) => {
            let target_def = &resolve.types[target];
            let same_name = target_def.name == def.name;
            let elsewhere = target_def.owner != TypeOwner::Interface(iface);
            (same_name && elsewhere).then_some(target)
        }
        _ => None,
    }
}

fn is_aggregate(kind: &TypeDefKind) -> bool {
    matches!(
        kind,
        TypeDefKind::Record(_)
            | TypeDefKind::Variant(_)
            | TypeDefKind::Enum(_)
            | TypeDefKind::Flags(_)
            | TypeDefKind::Resource
    )
}

/// Named aliases and anonymous types (`type x = ...`) as one table.
fn render_aliases(out: &mut String, resolve: &Resolve, ids: &[TypeId]) {
    out.push_str("| type | definition | description |\n|---|---|---|\n");
    for &id in ids {
        let def = &resolve.types[id];
        let name = def.name.as_deref().unwrap_or_default();
        let anchor = type_anchor(resolve, id).unwrap_or_else(|| name.to_string());
        let mut pieces = Vec::new();
        match &def.kind {
            TypeDefKind::Type(t) => spell_type(resolve, *t, &mut pieces),
            kind => spell_kind(resolve, kind, &mut pieces),
        }
        let _ = writeln!(
            out,
            "| <a id=\"{anchor}\"></a>`{name}` | {} | {} |",
            markdown(pieces),
            one_line(&def.docs).unwrap_or_default()
        );
    }
    out.push('\n');
}

fn render_type(out: &mut String, resolve: &Resolve, id: TypeId) {
    let def = &resolve.types[id];
    let name = def.name.as_deref().unwrap_or_default();
    let anchor = type_anchor(resolve, id).unwrap_or_else(|| name.to_string());
    let kind = match &def.kind {
        TypeDefKind::Record(_) => "record",
        TypeDefKind::Variant(_) => "variant",
        TypeDefKind::Enum(_) => "enum",
        TypeDefKind::Flags(_) => "flags",
        _ => "resource",
    };
    let _ = writeln!(out, "<a id=\"{anchor}\"></a>\n\n#### {kind} `{name}`\n");
    push_docs(out, &def.docs);
    let ty = |t: Type| {
        let mut pieces = Vec::new();
        spell_type(resolve, t, &mut pieces);
        markdown(pieces)
    };
    match &def.kind {
        TypeDefKind::Record(r) => member_table(
            out,
            &["field", "type"],
            r.fields.iter().map(|f| (&*f.name, Some(ty(f.ty)), &f.docs)),
        ),
        TypeDefKind::Variant(v) => member_table(
            out,
            &["case", "payload"],
            v.cases.iter().map(|c| {
                let payload = c.ty.map(ty).unwrap_or_else(|| "none".to_string());
                (&*c.name, Some(payload), &c.docs)
            }),
        ),
        TypeDefKind::Enum(e) => member_table(
            out,
            &["case"],
            e.cases.iter().map(|c| (&*c.name, None, &c.docs)),
        ),
        TypeDefKind::Flags(f) => member_table(
            out,
            &["flag"],
            f.flags.iter().map(|flag| (&*flag.name, None, &flag.docs)),
        ),
        _ => {}
    }
    out.push('\n');
}

/// The table of a type's members: `columns` name the member and, where
/// each row has it, its type; the last column is the member's docs on one
/// line.
fn member_table<'a>(
    out: &mut String,
    columns: &[&str],
    rows: impl Iterator<Item = (&'a str, Option<String>, &'a Docs)>,
) {
    let _ = writeln!(out, "| {} | description |", columns.join(" | "));
    let _ = writeln!(out, "|{}---|", "---|".repeat(columns.len()));
    for (name, ty, docs) in rows {
        let ty = ty.map(|t| format!(" {t} |")).unwrap_or_default();
        let docs = one_line(docs).unwrap_or_default();
        let _ = writeln!(out, "| `{name}` |{ty} {docs} |");
    }
}

/// A spelled-out type: punctuation and primitives, and names of defined
/// types with the anchor of their definition.
enum Piece {
    Text(String),
    Name(String, Option<String>),
}

/// Pieces as Markdown: code spans, each named type linked to its definition.
fn markdown(pieces: Vec<Piece>) -> String {
    let mut out = String::new();
    let mut code = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => code.push_str(&t),
            Piece::Name(name, anchor) => {
                if !code.is_empty() {
                    let _ = write!(out, "`{code}`");
                    code.clear();
                }
                let _ = match anchor {
                    Some(a) => write!(out, "[`{name}`](#{a})"),
                    None => write!(out, "`{name}`"),
                };
            }
        }
    }
    if !code.is_empty() {
        let _ = write!(out, "`{code}`");
    }
    out
}

/// Pieces as WIT text.
fn plain(pieces: Vec<Piece>) -> String {
    pieces
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) | Piece::Name(t, _) => t,
        })
        .collect()
}

fn spell_type(resolve: &Resolve, ty: Type, out: &mut Vec<Piece>) {
    match ty {
        Type::Id(id) => {
            let def = &resolve.types[id];
            match &def.name {
                Some(name) => out.push(Piece::Name(name.clone(), link_target(resolve, id))),
                None => spell_kind(resolve, &def.kind, out),
            }
        }
        primitive => out.push(Piece::Text(primitive_name(primitive).to_string())),
    }
}

/// The definition a name should link to: through `use` aliases to the
/// defining interface.
fn link_target(resolve: &Resolve, mut id: TypeId) -> Option<String> {
    loop {
        let def = &resolve.types[id];
        match def.kind {
            TypeDefKind::Type(Type::Id(target)) if resolve.types[target].name == def.name => {
                id = target;
            }
            _ => return type_anchor(resolve, id),
        }
    }
}

fn spell_kind(resolve: &Resolve, kind: &TypeDefKind, out: &mut Vec<Piece>) {
    let text = |out: &mut Vec<Piece>, s: &str| out.push(Piece::Text(s.to_string()));
    let generic = |out: &mut Vec<Piece>, name: &str, args: &[Option<Type>]| {
        text(out, &format!("{name}<"));
        for (i, arg) in args.iter().enumerate() {
            if i > 0 {
                text(out, ", ");
            }
            match arg {
                Some(t) => spell_type(resolve, *t, out),
                None => text(out, "_"),
            }
        }
        text(out, ">");
    };
    match kind {
        TypeDefKind::Option(t) => generic(out, "option", &[Some(*t)]),
        TypeDefKind::List(t) => generic(out, "list", &[Some(*t)]),
        TypeDefKind::Map(k, v) => generic(out, "map", &[Some(*k), Some(*v)]),
        TypeDefKind::FixedLengthList(t, n) => {
            text(out, "list<");
            spell_type(resolve, *t, out);
            text(out, &format!(", {n}>"));
        }
        TypeDefKind::Result(r) => match (r.ok, r.err) {
            (None, None) => text(out, "result"),
            (Some(ok), None) => generic(out, "result", &[Some(ok)]),
            (ok, Some(err)) => generic(out, "result", &[ok, Some(err)]),
        },
        TypeDefKind::Tuple(t) => {
            let args: Vec<Option<Type>> = t.types.iter().copied().map(Some).collect();
            generic(out, "tuple", &args);
        }
        TypeDefKind::Future(None) => text(out, "future"),
        TypeDefKind::Future(Some(t)) => generic(out, "future", &[Some(*t)]),
        TypeDefKind::Stream(None) => text(out, "stream"),
        TypeDefKind::Stream(Some(t)) => generic(out, "stream", &[Some(*t)]),
        TypeDefKind::Handle(Handle::Own(id)) => spell_type(resolve, Type::Id(*id), out),
        TypeDefKind::Handle(Handle::Borrow(id)) => {
            text(out, "borrow<");
            spell_type(resolve, Type::Id(*id), out);
            text(out, ">");
        }
        TypeDefKind::Type(t) => spell_type(resolve, *t, out),
        TypeDefKind::Record(_)
        | TypeDefKind::Variant(_)
        | TypeDefKind::Enum(_)
        | TypeDefKind::Flags(_)
        | TypeDefKind::Resource
        | TypeDefKind::Unknown => text(out, "(anonymous type)"),
    }
}

fn primitive_name(ty: Type) -> &'static str {
    match ty {
        Type::Bool => "bool",
        Type::U8 => "u8",
        Type::U16 => "u16",
        Type::U32 => "u32",
        Type::U64 => "u64",
        Type::S8 => "s8",
        Type::S16 => "s16",
        Type::S32 => "s32",
        Type::S64 => "s64",
        Type::F32 => "f32",
        Type::F64 => "f64",
        Type::Char => "char",
        Type::String => "string",
        Type::ErrorContext => "error-context",
        Type::Id(_) => "(type)",
    }
}

/// A type as WIT spells it, named types by their name: `list<order-item>`.
pub fn type_wit(resolve: &Resolve, ty: Type) -> String {
    let mut pieces = Vec::new();
    spell_type(resolve, ty, &mut pieces);
    plain(pieces)
}

/// A function's type as WIT spells it: `func(a: t) -> r`.
pub fn signature(resolve: &Resolve, f: &Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, type_wit(resolve, p.ty)))
        .collect();
    let mut sig = format!("func({})", params.join(", "));
    if let Some(result) = f.result {
        let _ = write!(sig, " -> {}", type_wit(resolve, result));
    }
    sig
}

/// A named type's definition as WIT spells it, one line, without docs:
/// `record { amount: u64, currency: string }`. What a `use` alias stands for
/// is named with its interface: `use types.money`.
pub fn definition_wit(resolve: &Resolve, id: TypeId) -> String {
    let def = &resolve.types[id];
    match &def.kind {
        TypeDefKind::Record(r) => {
            let fields: Vec<String> = r
                .fields
                .iter()
                .map(|f| format!("{}: {}", f.name, type_wit(resolve, f.ty)))
                .collect();
            format!("record {{ {} }}", fields.join(", "))
        }
        TypeDefKind::Variant(v) => {
            let cases: Vec<String> = v
                .cases
                .iter()
                .map(|c| match c.ty {
                    Some(t) => format!("{}({})", c.name, type_wit(resolve, t)),
                    None => c.name.clone(),
                })
                .collect();
            format!("variant {{ {} }}", cases.join(", "))
        }
        TypeDefKind::Enum(e) => {
            let cases: Vec<&str> = e.cases.iter().map(|c| c.name.as_str()).collect();
            format!("enum {{ {} }}", cases.join(", "))
        }
        TypeDefKind::Flags(f) => {
            let flags: Vec<&str> = f.flags.iter().map(|c| c.name.as_str()).collect();
            format!("flags {{ {} }}", flags.join(", "))
        }
        TypeDefKind::Resource => "resource".to_string(),
        TypeDefKind::Type(Type::Id(target))
            if resolve.types[*target].name == def.name
                && resolve.types[*target].owner != def.owner =>
        {
            let owner = match resolve.types[*target].owner {
                TypeOwner::Interface(o) => iface_name(resolve, o),
                TypeOwner::World(w) => resolve.worlds[w].name.clone(),
                TypeOwner::None => String::new(),
            };
            format!("use {owner}.{}", def.name.as_deref().unwrap_or_default())
        }
        TypeDefKind::Type(t) => format!("type = {}", type_wit(resolve, *t)),
        kind => {
            let mut pieces = Vec::new();
            spell_kind(resolve, kind, &mut pieces);
            format!("type = {}", plain(pieces))
        }
    }
}

fn push_docs(out: &mut String, docs: &Docs) {
    if let Some(text) = docs.contents.as_deref().map(str::trim)
        && !text.is_empty()
    {
        out.push_str(text);
        out.push_str("\n\n");
    }
}

/// Docs on one line for a table cell.
fn one_line(docs: &Docs) -> Option<String> {
    let text = docs.contents.as_deref()?.trim();
    if text.is_empty() {
        return None;
    }
    Some(
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace('|', "\\|"),
    )
}

fn first_sentence(docs: &Docs) -> Option<String> {
    let line = one_line(docs)?;
    Some(match line.find(". ") {
        Some(end) => line[..=end].to_string(),
        None => line,
    })
}
