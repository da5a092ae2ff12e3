//! `order-host api-key new|hash`: the keys of `serve --auth FILE`.

use anyhow::Context as _;
use order_host::config::ConfigError;
use order_server::auth::{AuthFile, Authenticator, hash_key, new_key};

use super::args::ApiKeyCommand;

pub fn run(command: &ApiKeyCommand) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::New {
            role,
            name,
            customer_id,
        } => {
            let key = new_key().context("reading random bytes for the key")?;
            let mut entry = format!(
                "[[api-keys]]\nname = {}\nrole = {}\nhash = \"{}\"\n",
                toml_string(name),
                toml_string(role),
                hash_key(&key)
            );
            if let Some(customer) = customer_id {
                entry.push_str(&format!("customer-id = {}\n", toml_string(customer)));
            }
            // Check the entry as the server will read it.
            let file: AuthFile =
                toml::from_str(&entry).map_err(|e| ConfigError(e.message().to_owned()))?;
            Authenticator::from_settings(file, std::path::Path::new("."))
                .map_err(|e| ConfigError(e.0))?;
            eprintln!("the new key (shown once, keep it secret): {key}");
            print!("{entry}");
        }
        ApiKeyCommand::Hash => {
            let mut key = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut key)?;
            if key.trim().is_empty() {
                return Err(ConfigError("no key on stdin".to_owned()).into());
            }
            println!("{}", hash_key(&key));
        }
    }
    Ok(())
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}
