// Drives the engine's operator console in Debian's chromium (headless) the way an operator
// would: the page loads, the DAG shows, live updates arrive, a node's page draws its chart,
// window heat map and compute-time histogram, its box shows its rates, and its Pause button
// pauses it. Prints a JSON
// summary for tests/integration/test_console.py (which checks the admin socket) and saves a
// screenshot.
// Usage: node console_check.mjs URL NODE SCREENSHOT.png
import { chromium } from "playwright-core";

const [url, node, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(url);
  await page.waitForSelector("body[data-live='1']", { timeout: 20000 }); // an event arrived
  const nodes = await page.$$eval("g.node", (gs) => gs.map((g) => [g.dataset.name, g.dataset.state ?? ""]));
  const edges = await page.$$eval("path.edge", (ps) => ps.length);
  const box = `g.node[data-name="${node.replace(/["\\]/g, "\\$&")}"]`;
  await page.click(box);
  await page.waitForSelector("#chart path.series", { state: "attached", timeout: 20000 });
  await page.waitForSelector("#heatmap canvas.heat", { state: "attached", timeout: 20000 });
  // Some compute-time bucket holds samples.
  await page.waitForFunction(
    () => [...document.querySelectorAll("#histogram rect.bar")].some((r) => Number(r.getAttribute("height")) > 0),
    null,
    { timeout: 20000 },
  );
  // Its box's rates, once two updates came: outputs per second, not a placeholder.
  await page.waitForFunction((sel) => /out [1-9][0-9]*\/s/.test(document.querySelector(sel)?.textContent ?? ""),
    `${box} text.rate`, { timeout: 20000 });
  const rate = await page.$eval(`${box} text.rate`, (t) => t.textContent);
  const facts = await page.$$eval("#node-facts tr", (rows) => rows.map((r) => r.cells[0].textContent));
  await page.click("#pause");
  await page.waitForFunction(() => document.getElementById("node-state").textContent === "PAUSED", null, {
    timeout: 10000,
  });
  const boxState = await page.$eval(`${box} rect`, (r) => r.getAttribute("class"));
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ nodes, edges, facts, boxState, rate, errors }));
} finally {
  await browser.close();
}
