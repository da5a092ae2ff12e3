//! The one shape every import's view takes, written once: a view holding
//! only the part of the host that serves the import, the marker the
//! generated linker names it by, and the import's own `add_to_linker`.
//! Each interface module invokes [`import_view!`] and implements the
//! generated `Host` trait on its view.

/// Declares `pub struct $view<'a>(pub &'a $served)`, its linker marker and
/// `pub fn add_to_linker(linker, get)` for the `wit` module in scope.
macro_rules! import_view {
    ($(#[$doc:meta])* $view:ident(&$served:ty), $import:literal, $what:literal) => {
        $(#[$doc])*
        pub struct $view<'a>(pub &'a $served);

        /// Names the view for the generated linker.
        struct ViewData;

        impl wasmtime::component::HasData for ViewData {
            type Data<'a> = $view<'a>;
        }

        #[doc = concat!("Links the `", $import, "` import; `get` finds ", $what, " in a store's data.")]
        pub fn add_to_linker<T: 'static>(
            linker: &mut wasmtime::component::Linker<T>,
            get: fn(&mut T) -> $view<'_>,
        ) -> wasmtime::Result<()> {
            wit::add_to_linker::<T, ViewData>(linker, get)
        }
    };
}
