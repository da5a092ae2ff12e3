// The pictures of docs/console/: the main pages on seeded data, at a laptop
// width, and the order page at a phone width (`make console-screenshots`).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { browser, seed, signIn, startServer } from "./harness.js";

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../docs/console");
fs.mkdirSync(out, { recursive: true });

const server = await startServer();
const browsers = [];
try {
  const data = await seed(server);
  const shoot = async (page, name) => {
    await page.waitForLoadState("networkidle");
    await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
    console.log(`docs/console/${name}.png`);
  };

  const laptop = await browser(1280, 800);
  browsers.push(laptop);
  const signInPage = await laptop.context.newPage();
  await signInPage.goto(`${server.url}/console/sign-in`);
  await shoot(signInPage, "sign-in");
  await signInPage.close();

  const page = await signIn(server, laptop.context, "admin");
  await page.goto(`${server.url}/console/orders?customer_id=${data.returned.customer_id}`);
  await shoot(page, "find");
  await page.goto(`${server.url}/console/orders/${data.returned.order_id}`);
  await shoot(page, "order");
  await page.goto(`${server.url}/console/orders/${data.stuck.order_id}`);
  await shoot(page, "order-stuck");
  await page.goto(`${server.url}/console/attention`);
  await shoot(page, "attention");
  await page.goto(`${server.url}/console/warehouse`);
  await shoot(page, "warehouse");
  await page.goto(`${server.url}/console/metrics`);
  await shoot(page, "metrics");

  const phone = await browser(390, 844);
  browsers.push(phone);
  const small = await signIn(server, phone.context, "support");
  await small.goto(`${server.url}/console/orders/${data.returned.order_id}`);
  await shoot(small, "order-phone");
} finally {
  for (const b of browsers) await b.close().catch(() => {});
  await server.stop();
}
