//! Helpers shared by the end-to-end tests and the `wit-docs` generator.

use std::path::{Path, PathBuf};

pub mod guest_enums;
mod rng;
pub mod wit_docs;
pub mod wit_enums;

pub use rng::Rng;

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives inside the workspace")
        .to_path_buf()
}
