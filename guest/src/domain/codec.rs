//! Reading stored events without serde's buffering, from the same JSON.
//!
//! The event enums are internally tagged (`{"type": "order-placed", ...}`).
//! serde's derive reads such an enum by first copying the whole object into
//! a tree of its own (an allocation per nested value) and only then reading
//! the variant from that tree. A stored event names its type beside its
//! payload, so nothing has to be buffered: [`decode`] reads the payload's
//! object straight into the variant the stored type names, checking on
//! the way that the payload's own `"type"` says the same. A nested tagged
//! value (a step's outcome) whose tag comes first, as serde writes it, is
//! read the same way ([`tag_first`]).
//!
//! Whenever that fast path fails for any reason (an unknown stored type,
//! a payload whose `"type"` differs or is missing, a malformed payload),
//! the payload is read again with serde's derived decoding, so the result
//! and every error message are exactly what they were before. Encoding is
//! serde's derived one, unchanged: payloads keep their bytes.
//!
//! [`tagged_enum!`](crate::tagged_enum) declares such an enum once: the
//! enum itself (with serde's derives, the tag, and each variant's name),
//! its `TYPES` and the accessor of a value's type name, and, unseen, an
//! externally tagged copy of its variants (serde's `remote` derive) that
//! reads a variant's fields from a map without buffering it.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{CowStrDeserializer, StrDeserializer};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny, MapAccess,
    VariantAccess, Visitor,
};

/// An internally tagged enum declared with [`tagged_enum!`](crate::tagged_enum).
pub trait Tagged: DeserializeOwned {
    /// The key of the tag in a payload (`type`, `kind`).
    const TAG: &'static str;

    /// Reads the variant `content` names from the map it holds. Called by
    /// [`decode`] and [`tag_first`]; the implementation is generated.
    fn from_variant<'de, D: Deserializer<'de>>(content: Variant<'_, D>) -> Result<Self, D::Error>;
}

/// Decodes a stored event of type `event_type` from its `payload`:
/// straight into the variant when the payload agrees with the stored type,
/// otherwise (or on any error) with serde's derived decoding, whose value
/// or error this returns.
pub fn decode<E: Tagged>(event_type: &str, payload: &str) -> Result<E, serde_json::Error> {
    streamed(event_type, payload).or_else(|_| serde_json::from_str(payload))
}

/// The fast path of [`decode`] alone: the payload read straight into the
/// variant `event_type` names. An error here says only that the fast path
/// does not apply; its message is not the one [`decode`] gives.
pub fn streamed<E: Tagged>(event_type: &str, payload: &str) -> Result<E, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(payload);
    let event = E::from_variant(Variant {
        name: event_type,
        tag: E::TAG,
        seen: false,
        inner: &mut de,
    })?;
    de.end()?;
    Ok(event)
}

/// Reads a nested tagged value whose tag is its first key (as serde
/// writes it) without buffering; used as the `deserialize_with` of such a
/// field in the copy [`tagged_enum!`](crate::tagged_enum) generates. Any
/// other shape is an error, which sends [`decode`] to serde's own path.
pub fn tag_first<'de, D: Deserializer<'de>, T: Tagged>(de: D) -> Result<T, D::Error> {
    de.deserialize_map(TagFirst(PhantomData))
}

struct TagFirst<T>(PhantomData<T>);

impl<'de, T: Tagged> Visitor<'de> for TagFirst<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a map whose first key is `{}`", T::TAG)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        match map.next_key::<Text<'de>>()? {
            Some(Text(key)) if key == T::TAG => {}
            _ => return Err(de::Error::custom(format_args!("`{}` is not first", T::TAG))),
        }
        let Text(name) = map.next_value::<Text<'de>>()?;
        T::from_variant(Variant {
            name: &name,
            tag: T::TAG,
            seen: true,
            inner: Rest(map),
        })
    }
}

/// A map already entered: the rest of its entries, as a deserializer.
struct Rest<A>(A);

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Rest<A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.0)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// A key or a tag's value: borrowed from the payload unless it has escapes.
struct Text<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        de.deserialize_str(TextVisitor)
    }
}

/// The content of one variant, named `name`: a map of its fields, in
/// which the tag, if not `seen` yet, must appear once and say `name`.
/// What the generated copy of an enum reads a variant from.
pub struct Variant<'n, D> {
    name: &'n str,
    tag: &'static str,
    seen: bool,
    inner: D,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Variant<'_, D> {
    type Error = D::Error;

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        visitor.visit_enum(self)
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, D::Error> {
        Err(de::Error::custom("a variant is read as an enum"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

impl<'de, D: Deserializer<'de>> EnumAccess<'de> for Variant<'_, D> {
    type Error = D::Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self), D::Error> {
        let variant = seed.deserialize(StrDeserializer::<D::Error>::new(self.name))?;
        Ok((variant, self))
    }
}

impl<'de, D: Deserializer<'de>> VariantAccess<'de> for Variant<'_, D> {
    type Error = D::Error;

    fn unit_variant(self) -> Result<(), D::Error> {
        let fields = Fields {
            name: self.name,
            tag: self.tag,
            seen: self.seen,
            visitor: IgnoredFields,
        };
        self.inner.deserialize_map(fields)
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, _seed: S) -> Result<S::Value, D::Error> {
        Err(de::Error::custom(
            "tagged newtype variants are not streamed",
        ))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, D::Error> {
        Err(de::Error::custom("tagged tuple variants are not streamed"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let fields = Fields {
            name: self.name,
            tag: self.tag,
            seen: self.seen,
            visitor,
        };
        self.inner.deserialize_map(fields)
    }
}

/// A unit variant's map: everything but the tag is ignored, as serde's
/// derive does.
struct IgnoredFields;

impl<'de> Visitor<'de> for IgnoredFields {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// Hands the variant's visitor the map without its tag.
struct Fields<'n, V> {
    name: &'n str,
    tag: &'static str,
    seen: bool,
    visitor: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Fields<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(Untagged {
            map,
            name: self.name,
            tag: self.tag,
            seen: self.seen,
        })
    }
}

/// A map whose tag entry is checked and left out.
struct Untagged<'n, A> {
    map: A,
    name: &'n str,
    tag: &'static str,
    seen: bool,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Untagged<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(Text(key)) = self.map.next_key::<Text<'de>>()? else {
                if !self.seen {
                    return Err(de::Error::missing_field(self.tag));
                }
                return Ok(None);
            };
            if key != self.tag {
                return seed
                    .deserialize(CowStrDeserializer::<A::Error>::new(key))
                    .map(Some);
            }
            let Text(value) = self.map.next_value::<Text<'de>>()?;
            if self.seen || value != self.name {
                return Err(de::Error::custom(format_args!(
                    "the payload's `{}` differs from the stored type",
                    self.tag
                )));
            }
            self.seen = true;
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// Declares an internally tagged enum of struct (and unit) variants, each
/// with its name in payloads, that [`decode`] reads without buffering:
///
/// ```text
/// tagged_enum! {
///     #[tag("type", event_type)]
///     /// docs and derives (not serde's: the macro adds those)
///     #[derive(Clone, Debug, PartialEq, Eq)]
///     pub enum Event {
///         Happened = "happened" {
///             at: u64,
///             outcome: Outcome => "crate::domain::codec::tag_first",
///         },
///         Nothing = "nothing",
///     }
/// }
/// ```
///
/// `"type"` is the tag's key; `event_type` the accessor generated for a
/// value's name; `TYPES` lists every name. A field marked `=> "path"` is
/// read in the fast path with that function (for a nested tagged enum,
/// [`tag_first`]); serde's own path reads it as declared.
#[macro_export]
macro_rules! tagged_enum {
    (
        #[tag($tag:literal, $get:ident)]
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $vname:literal $({
                    $(
                        $(#[$fmeta:meta])*
                        $field:ident : $fty:ty $(=> $with:literal)?
                    ),* $(,)?
                })?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(serde::Serialize, serde::Deserialize)]
        #[serde(tag = $tag)]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $vname)]
                $variant $({ $( $(#[$fmeta])* $field: $fty, )* })?,
            )*
        }

        impl $name {
            /// Every variant's name in payloads, in declaration order.
            pub const TYPES: &'static [&'static str] = &[$($vname),*];

            /// The variant's name in payloads (`order-placed`, ...).
            pub fn $get(&self) -> &'static str {
                match self {
                    $( Self::$variant { .. } => $vname, )*
                }
            }
        }

        const _: () = {
            type Remote = $name;

            /// The variants, externally tagged: serde reads a variant's
            /// fields straight from a map, without buffering it.
            #[allow(dead_code, clippy::enum_variant_names)]
            #[derive(serde::Deserialize)]
            #[serde(remote = "Remote")]
            enum Streamed {
                $(
                    #[serde(rename = $vname)]
                    $variant $({ $(
                        $(#[$fmeta])*
                        $(#[serde(deserialize_with = $with)])?
                        $field: $fty,
                    )* })?,
                )*
            }

            impl $crate::domain::codec::Tagged for $name {
                const TAG: &'static str = $tag;

                fn from_variant<'de, D: serde::Deserializer<'de>>(
                    content: $crate::domain::codec::Variant<'_, D>,
                ) -> Result<Self, D::Error> {
                    Streamed::deserialize(content)
                }
            }
        };
    };
}
