// The workerd configuration (Cap'n Proto text) of the Worker in build/: one
// service for the Worker, a Durable Object namespace with SQLite storage on
// a local directory, an outbound network service that may reach the
// backends, and one HTTP socket.

import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function files(dir, base = dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path, base) : [relative(base, path)];
  });
}

const text = (s) => JSON.stringify(String(s));

/**
 * Config text for `workerd serve`, to be written into `buildDir` (module
 * paths are relative to it). `listen` is host:port; `storageDir` an absolute
 * directory for the Durable Object's SQLite files; `backendUrl` the base URL
 * of the HTTP backends; `allow` which networks outbound fetch may reach
 * (`local` for 127.0.0.1; a deployment reaching real services: `public`).
 */
export function workerdConfig({ buildDir, listen, storageDir, backendUrl, webhookSecret, policy, allow = ['local', 'private', 'public'] }) {
  const modules = files(buildDir)
    .filter((f) => f.endsWith('.js') || f.endsWith('.wasm'))
    .sort((a, b) => (a === 'worker.js' ? -1 : b === 'worker.js' ? 1 : a.localeCompare(b)))
    .map((f) => `    (name = ${text(f)}, ${f.endsWith('.wasm') ? 'wasm' : 'esModule'} = embed ${text(f)}),`);
  const bindings = [
    '(name = "ORDER_STORE", durableObjectNamespace = "OrderStore")',
    `(name = "BACKEND_URL", text = ${text(backendUrl)})`,
    webhookSecret && `(name = "WEBHOOK_SECRET", text = ${text(webhookSecret)})`,
    policy && `(name = "POLICY", text = ${text(JSON.stringify(policy))})`,
  ].filter(Boolean);
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "orders", worker = .orders),
    (name = "backends", network = (allow = [${allow.map(text).join(', ')}])),
    (name = "order-store-disk", disk = (path = ${text(storageDir)}, writable = true)),
  ],
  sockets = [(name = "http", address = ${text(listen)}, http = (), service = "orders")],
);

const orders :Workerd.Worker = (
  compatibilityDate = "2025-09-01",
  modules = [
${modules.join('\n')}
  ],
  durableObjectNamespaces = [(className = "OrderStore", uniqueKey = "oms-order-store", enableSql = true)],
  durableObjectStorage = (localDisk = "order-store-disk"),
  globalOutbound = "backends",
  bindings = [
    ${bindings.join(',\n    ')},
  ],
);
`;
}
