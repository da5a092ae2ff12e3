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

/// Declares an external context's port and serves it to the component, from
/// one list of its calls. Every call of such an import takes an idempotency
/// key and a request and answers a result; the macro writes
///
/// - `pub trait $port: Send + Sync` with `fn call(&self, key: &str,
///   request: &Request) -> Result<Answer, ExternalError>` for each call
///   (another error type where the call names one: `-> Answer, Error as
///   WitError`),
/// - the import's view ([`import_view!`]) and `add_to_linker`,
/// - the generated `Host` on the view, which hands key and request to the
///   port and converts its error to the WIT one.
///
/// The `wit` module, `ExternalError` and `WitExternalError` must be in scope.
macro_rules! keyed_import {
    (
        $view:ident serves $import:literal ($what:literal):
        $(#[$port_doc:meta])*
        pub trait $port:ident {
            $(
                $(#[$call_doc:meta])*
                fn $call:ident($request:ty) -> $answer:ty $(, $error:ty as $wit_error:ty)?;
            )*
        }
    ) => {
        $(#[$port_doc])*
        pub trait $port: Send + Sync {
            $(
                $(#[$call_doc])*
                fn $call(
                    &self,
                    key: &str,
                    request: &$request,
                ) -> Result<$answer, keyed_import!(@error $($error)?)>;
            )*
        }

        import_view! {
            #[doc = concat!(
                "The `", $import, "` import as one store serves it: ", $what,
                ", and nothing else of the host."
            )]
            $view(&dyn $port),
            $import,
            $what
        }

        impl wit::Host for $view<'_> {
            $(
                fn $call(
                    &mut self,
                    key: String,
                    request: $request,
                ) -> Result<$answer, keyed_import!(@wit_error $($wit_error)?)> {
                    Ok(self.0.$call(&key, &request)?)
                }
            )*
        }
    };
    (@error) => { ExternalError };
    (@error $error:ty) => { $error };
    (@wit_error) => { WitExternalError };
    (@wit_error $error:ty) => { $error };
}
