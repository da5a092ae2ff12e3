// A real `order-host serve` for the browser tests and the screenshots:
// 127.0.0.1 only, a temporary SQLite store, one API key per role, seeded
// through the HTTP API and signed carrier webhooks, stopped on every path;
// and Debian's Chromium, headless, with a fresh profile per person.
import { spawn } from "node:child_process";
import { createHash, createHmac, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

export const KEYS = {
  support: "ohk_console_support_0123456789abcdef0123456789abcdef0123456789abcdef",
  warehouse: "ohk_console_warehouse_0123456789abcdef0123456789abcdef0123456789abcd",
  admin: "ohk_console_admin_0123456789abcdef0123456789abcdef0123456789abcdef01",
  reporting: "ohk_console_reporting_0123456789abcdef0123456789abcdef0123456789abcd",
  customer: "ohk_console_customer_0123456789abcdef0123456789abcdef0123456789abcde",
};
export const NAMES = { support: "sam", warehouse: "dock", admin: "root", reporting: "bi", customer: "web" };
export const CUSTOMER = "5b0f3c1e-8a2d-4c6b-9e1f-0a1b2c3d4e5f";
const WEBHOOK_SECRET = "whsec_console_tests";

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

function authFile(dir) {
  let text = "";
  for (const [role, key] of Object.entries(KEYS)) {
    text += `[[api-keys]]\nname = "${NAMES[role]}"\nrole = "${role}"\nhash = "sha256:${sha256(key)}"\n`;
    if (role === "customer") text += `customer-id = "${CUSTOMER}"\n`;
  }
  const file = path.join(dir, "auth.toml");
  fs.writeFileSync(file, text);
  return file;
}

/** The host binary: ORDER_HOST_BIN, or the debug build of this checkout. */
function binary() {
  const bin = process.env.ORDER_HOST_BIN || path.join(root, "target/debug/order-host");
  if (!fs.existsSync(bin)) throw new Error(`no ${bin}: run \`make build\` first`);
  return bin;
}

/**
 * Starts `serve` on 127.0.0.1:0 with a fresh store. The customer's
 * cancellation notices always fail (a simulated transient fault), so a
 * saga compensating an order stays stuck, retrying; notifications retry
 * up to 1000 times, at most 2 s apart.
 */
export async function startServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "order-console-"));
  const policy = path.join(dir, "policy.json");
  fs.writeFileSync(
    policy,
    JSON.stringify({ "notification-retry": { "max-attempts": 1000, "base-delay-ms": 500, "max-delay-ms": 2000, "jitter-permille": 0 } }),
  );
  const args = [
    "--store", path.join(dir, "orders.db"),
    "--sim-state", path.join(dir, "sim.db"),
    "--policy", policy,
    "--fault", "customer.send-order-cancellation=transient:1",
    "serve", "--bind", "127.0.0.1:0",
    "--auth", authFile(dir),
    "--webhook-secret", WEBHOOK_SECRET,
  ];
  const child = spawn(binary(), args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "warn" } });
  let log = "";
  child.stderr.on("data", (d) => { log += d; });
  const stopOnExit = () => child.kill("SIGKILL");
  process.on("exit", stopOnExit);
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start within 60 s:\n${log}`)), 60_000);
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`serve exited (${code}):\n${log}`)); });
  });
  const server = {
    url,
    dir,
    log: () => log,
    async stop() {
      process.off("exit", stopOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** A call of the JSON API with `role`'s key. */
export async function api(server, method, route, body, role = "admin") {
  const headers = { authorization: `Bearer ${KEYS[role]}` };
  if (method === "POST") headers["idempotency-key"] = randomUUID();
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(server.url + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: response.status, json, text };
}

async function webhook(server, source, type, data) {
  const body = JSON.stringify({ id: randomUUID(), type, data });
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac("sha256", WEBHOOK_SECRET).update(`${t}.${body}`).digest("hex");
  const response = await fetch(`${server.url}/webhooks/${source}`, {
    method: "POST",
    headers: { "content-type": "application/json", "order-signature": `t=${t},v1=${v1}` },
    body,
  });
  if (response.status !== 200) throw new Error(`webhook ${type}: ${response.status} ${await response.text()}`);
}

const address = { street1: "1 Market Street", city: "San Francisco", state_province: "CA", postal_code: "94105", country: "US" };

function line(product, name, quantity, cents) {
  return { item_id: randomUUID(), product_id: product, sku: `SKU-${name.toUpperCase().replace(/\W+/g, "-")}`, product_name: name, quantity, unit_price: { amount: cents, currency: "USD" } };
}

const MUG = randomUUID();
const TEA = randomUUID();

async function place(server, items) {
  const order = { order_id: randomUUID(), customer_id: CUSTOMER, items, shipping_address: address, billing_address: address, payment_method: "credit-card" };
  const placed = await api(server, "POST", "/orders", order);
  if (placed.status !== 201) throw new Error(`placing: ${placed.status} ${placed.text}`);
  return placed.json;
}

/** Polls until `done(value)` holds, at most 30 s. */
export async function until(what, read, done) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 30 s: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const orderOf = (server, id) => () => api(server, "GET", `/orders/${id}`).then((r) => r.json);

/**
 * The seeded data: `returned` (delivered, with a requested return of one
 * mug), `picking` (shipped, its parcel waiting for pickup), `stuck` (out of
 * stock, its compensation stuck on the cancellation notice).
 */
export async function seed(server) {
  const returned = await place(server, [line(MUG, "Mug", 2, 2500), line(TEA, "Tea", 1, 1000)]);
  const shipped = await until("shipping", orderOf(server, returned.order_id), (o) => o.status === "shipped");
  const shipment = shipped.shipping.shipment_id;
  const at = Date.now();
  const time = (ms) => new Date(ms).toISOString();
  await webhook(server, "carrier", "shipment-picked-up", { shipment_id: shipment, location: "Origin depot", picked_up_at: time(at) });
  await webhook(server, "carrier", "shipment-delivered-by-carrier", { shipment_id: shipment, delivered_at: time(at + 1), signed_by: "A. Customer" });
  await until("delivery", orderOf(server, returned.order_id), (o) => o.status === "delivered");
  const request = await api(server, "POST", `/orders/${returned.order_id}/returns`, {
    return_id: randomUUID(),
    customer_id: CUSTOMER,
    return_items: [{ item_id: returned.items[0].item_id, product_id: MUG, quantity: 1, return_reason: "defective", condition: "handle cracked" }],
    return_reason: "defective",
    comments: "The handle cracked on the first day.",
  }, "customer");
  if (request.status !== 201) throw new Error(`requesting the return: ${request.status} ${request.text}`);

  const picking = await place(server, [line(TEA, "Tea", 3, 1000)]);
  await until("booking", orderOf(server, picking.order_id), (o) => o.status === "shipped");

  // 600 + 600 units of one product: more than the simulated 1,000 on the shelf.
  const big = randomUUID();
  const stuck = await place(server, [line(big, "Pallet of cups", 600, 100), line(big, "Pallet of cups", 600, 100)]);
  await until("compensation", () => api(server, "GET", `/orders/${stuck.order_id}/saga`).then((r) => r.json), (s) => s.phase === "compensating");

  return { returned, returnId: request.json.return_id, picking, stuck };
}

/** Debian's Chromium, headless, with a fresh profile: one person's browser. */
export async function browser(width = 1280, height = 900) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "order-console-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width, height },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/** Signs `role` in on a new page of `context`; returns the page. */
export async function signIn(server, context, role) {
  const page = await context.newPage();
  await page.goto(`${server.url}/console`);
  await page.getByLabel("API key or token").fill(KEYS[role]);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState("domcontentloaded");
  return page;
}
