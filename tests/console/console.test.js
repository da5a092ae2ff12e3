// The console in a real browser (Chromium through playwright-core) against
// a real `serve` with seeded data: a support person finds an order, reads
// its saga, approves and refunds a return; a warehouse person sees the pick
// list, receives the return and cannot refund; a customer credential cannot
// open the console; a stuck saga appears in the attention list and is
// retried; the order page updates without a reload.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { KEYS, NAMES, api, browser, seed, signIn, startServer, until } from "./harness.js";

/** Every event of an order, oldest first, following its pages (at most 20). */
async function orderEvents(server, id) {
  const events = [];
  let route = `/orders/${id}/events?limit=200`;
  for (let page = 0; route && page < 20; page += 1) {
    const response = await fetch(server.url + route, { headers: { authorization: `Bearer ${KEYS.admin}` } });
    assert.equal(response.status, 200);
    events.push(...(await response.json()));
    const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("link") ?? "");
    route = next ? next[1].replace(/^https?:\/\/[^/]+/, "") : null;
  }
  return events;
}

describe("the console", { timeout: 240_000 }, () => {
  let server;
  let data;
  const browsers = [];
  const open = async () => {
    const b = await browser();
    browsers.push(b);
    return b.context;
  };

  before(async () => {
    server = await startServer();
    try {
      data = await seed(server);
    } catch (error) {
      await server.stop();
      throw error;
    }
  });

  after(async () => {
    for (const b of browsers) await b.close().catch(() => {});
    if (server) await server.stop();
  });

  test("a customer credential cannot open the console", async () => {
    const context = await open();
    const page = await context.newPage();
    await page.goto(`${server.url}/console`);
    await page.getByLabel("API key or token").fill("ohk_not_a_key_at_all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await assert.doesNotReject(page.getByText("the API key is not valid").waitFor());

    const response = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/console/sign-in") && r.request().method() === "POST"),
      (async () => {
        await page.getByLabel("API key or token").fill((await import("./harness.js")).KEYS.customer);
        await page.getByRole("button", { name: "Sign in" }).click();
      })(),
    ]).then(([r]) => r);
    assert.equal(response.status(), 403);
    await page.getByRole("heading", { name: "The console is for staff" }).waitFor();
    // No cookie was set: the console still sends the customer to sign in.
    const orders = await page.goto(`${server.url}/console/orders`);
    assert.match(orders.url(), /\/console\/sign-in$/);
  });

  test("support finds the order, reads its saga and approves the return", async () => {
    const page = await signIn(server, await open(), "support");
    await page.getByLabel("Order id").fill(data.returned.order_id);
    await page.getByRole("button", { name: "Open order" }).click();
    await page.getByRole("heading", { name: /Fulfilment saga/ }).waitFor();
    const saga = page.locator("section", { has: page.getByRole("heading", { name: /Fulfilment saga/ }) });
    for (const step of ["process-payment", "allocate-inventory", "create-shipment", "notify-customer"]) {
      await assert.doesNotReject(saga.getByText(step, { exact: true }).waitFor(), step);
    }
    assert.match(await saga.innerText(), /completed: paid, allocated and shipped/);
    assert.match(await page.locator("#history").locator("..").innerText(), /Order placed/);
    assert.match(await page.locator("#shipments").locator("..").innerText(), /Origin depot/);

    await page.getByRole("button", { name: "Approve return" }).click();
    await page.getByText("The return is approved.").waitFor();
    const ret = await api(server, "GET", `/returns/${data.returnId}`);
    assert.equal(ret.json.status, "approved");
    assert.equal(ret.json.decided_by, "support:sam", "the actor is the signed-in person");
    // Support may not receive (the API's role table): no such button.
    assert.equal(await page.getByRole("button", { name: "Record receipt" }).count(), 0);
  });

  test("the warehouse sees the pick list, receives the return and cannot refund", async () => {
    const page = await signIn(server, await open(), "warehouse");
    await page.getByRole("link", { name: "Warehouse" }).click();
    const pick = page.locator("section", { has: page.getByRole("heading", { name: /Pick list/ }) });
    await pick.getByRole("link", { name: data.picking.order_id }).waitFor();
    assert.match(await pick.innerText(), /3 × Tea/);
    const receive = page.locator("section", { has: page.getByRole("heading", { name: /Returns to receive/ }) });
    await receive.getByRole("link", { name: `Return ${data.returnId}` }).click();

    await page.getByRole("button", { name: "Record receipt" }).click();
    await page.getByText("The return is recorded as received.").waitFor();
    assert.equal((await api(server, "GET", `/returns/${data.returnId}`)).json.status, "received");
    // No refund, cancel or decision for the warehouse.
    for (const name of ["Refund", "Cancel order", "Approve return", "Deny return"]) {
      assert.equal(await page.getByRole("button", { name }).count(), 0, name);
    }
    // A forged refund form is refused in words, and nothing changes.
    const csrf = await page.locator("input[name=csrf]").first().inputValue();
    const forged = await page.request.post(`${server.url}/console/returns/${data.returnId}/refund`, {
      form: { csrf, amount: "25.00", method: "credit-card" },
    });
    assert.equal(forged.status(), 403);
    assert.match(await forged.text(), /the warehouse role may not refund returns/);
    const untouched = (await api(server, "GET", `/returns/${data.returnId}`)).json;
    assert.equal(untouched.status, "received");
    assert.equal(untouched.refund_amount, null);
  });

  test("support refunds the received return; the page shows it without a reload", async () => {
    const context = await open();
    const watcher = await signIn(server, context, "support");
    await watcher.goto(`${server.url}/console/orders/${data.returned.order_id}`);
    const page = await context.newPage();
    await page.goto(`${server.url}/console/orders/${data.returned.order_id}`);
    const amount = page.getByLabel(/Refund amount/);
    assert.equal(await amount.inputValue(), "25.00", "one mug at 25.00");
    await page.getByRole("button", { name: "Refund" }).click();
    await page.getByText("The refund was sent to the payment gateway.").waitFor();
    const ret = await until("the refund", () => api(server, "GET", `/returns/${data.returnId}`), (r) => r.json.status === "refunded");
    assert.deepEqual(ret.json.refund_amount, { amount: 2500, currency: "USD" });
    // The first page, left open, polls and shows the refund by itself.
    await watcher.getByText(/Refund of 25\.00 USD/).waitFor({ timeout: 20_000 });
  });

  test("a refused action says why in the problem's words", async () => {
    const page = await signIn(server, await open(), "support");
    await page.goto(`${server.url}/console/orders/${data.returned.order_id}`);
    const csrf = await page.locator("input[name=csrf]").first().inputValue();
    // Cancelling a delivered order is not allowed in its state.
    const refused = await page.request.post(`${server.url}/console/orders/${data.returned.order_id}/cancel`, {
      form: { csrf, reason: "changed mind" },
    });
    assert.equal(refused.status(), 409);
    assert.match(await refused.text(), /cancel-order is not allowed while the order is delivered/);
    // A form without the page's token is refused.
    const forged = await page.request.post(`${server.url}/console/orders/${data.returned.order_id}/cancel`, {
      form: { csrf: "0".repeat(64), reason: "changed mind" },
    });
    assert.equal(forged.status(), 403);
    assert.match(await forged.text(), /security token does not match/);
  });

  test("a stuck saga appears in the attention list and is retried", async () => {
    const page = await signIn(server, await open(), "support");
    await page.getByRole("link", { name: "Needs attention" }).click();
    const row = page.locator("tbody tr", { hasText: data.stuck.order_id });
    await row.waitFor();
    assert.match(await row.innerText(), /send-order-cancellation/);
    assert.match(await row.innerText(), /compensating/);
    const before = (await api(server, "GET", `/orders/${data.stuck.order_id}/saga`)).json;
    await row.getByRole("button", { name: `Retry the saga of order ${data.stuck.order_id} now` }).click();
    await page.getByText("The saga was advanced now").waitFor();
    assert.match(page.url(), new RegExp(`/console/orders/${data.stuck.order_id}`));
    const saga = page.locator("section", { has: page.getByRole("heading", { name: /Fulfilment saga/ }) });
    assert.match(await saga.innerText(), /out of stock/);
    const afterRetry = (await api(server, "GET", `/orders/${data.stuck.order_id}/saga`)).json;
    assert.equal(afterRetry.phase, "compensating", "still stuck: the notice keeps failing");
    assert.ok(afterRetry.next_wake_at >= before.next_wake_at, "the saga is scheduled again");
    // The retry cut the saga's own back-off: it is recorded with the
    // signed-in principal, and the notice's next attempt followed it.
    const history = await orderEvents(server, data.stuck.order_id);
    const requests = history.filter((e) => e.event_type === "saga-retry-requested");
    assert.equal(requests.length, 1, "one retry requested");
    assert.equal(requests[0].payload.requested_by, `support:${NAMES.support}`);
    const attempt = history.find((e) =>
      e.event_type === "compensation-started" && e.payload.step === "notify-customer" && e.version > requests[0].version);
    assert.ok(attempt, "the cancellation notice was attempted again after the request");
  });
});
