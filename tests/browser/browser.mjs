// Drive headless Chromium through one test plan and print a JSON report on stdout.
//
// Usage: node browser.mjs '<plan json>'   or   node browser.mjs < plan.json
//
// The plan:
//   {
//     "base": "http://127.0.0.1:8000/" | "file:///tmp/site/",  // steps' URLs resolve against it
//     "timeout_ms": 10000,                                      // bound of every wait (optional)
//     "steps": [
//       {"goto": "index.html"},                         // open a page (relative to base)
//       {"click": "Link text"},                         // click a link by its text, wait for the load
//       {"search": "query", "expect": "result text",    // type into Material's search box,
//        "open": false},                                //   wait for a result holding that text
//                                                       //   (and with "open", follow it)
//       {"visible": "css selector"},                    // wait for an element to be visible
//       {"text": "some text"},                          // wait for the text to be visible
//       {"url": "substring"},                           // the page's URL contains it
//       {"screenshot": "/abs/path.png"}                 // save a full-page screenshot
//     ]
//   }
//
// The report: {"ok", "steps": [{"step", "ok", "error"?}], "console_errors", "page_errors",
// "requests" (every URL the page, its frames and its workers asked for), "failed_requests",
// "final_url"}. Steps stop at the first failure; the report is printed either way and the exit
// status is 0. Only a broken harness (no browser, bad plan) exits non-zero, with a message on
// stderr.
//
// The browser cannot reach the network: every host name but 127.0.0.1/localhost resolves to
// nothing, so a stray request fails (and shows up in "requests") instead of leaving the machine.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const nodeModules = process.env.SKILLMEAT_NODE_MODULES || resolve(here, "../../.venv/npm/node_modules");
const executablePath = process.env.SKILLMEAT_CHROMIUM || "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
];

function readPlan() {
  const text = process.argv[2] ?? readFileSync(0, "utf-8");
  const plan = JSON.parse(text);
  if (typeof plan.base !== "string" || !Array.isArray(plan.steps)) {
    throw new Error("a plan needs a 'base' URL and a list of 'steps'");
  }
  return plan;
}

async function runStep(page, step, base, timeout) {
  if ("goto" in step) {
    await page.goto(new URL(step.goto, base).href, { waitUntil: "load", timeout });
  } else if ("click" in step) {
    const link = page.getByRole("link", { name: step.click, exact: true }).first();
    await Promise.all([page.waitForEvent("load", { timeout }), link.click({ timeout })]);
  } else if ("search" in step) {
    // Material's search: on a wide page the box is in the header, on a narrow one a header
    // button opens it. The search worker answers the query.
    const input = page.locator("input.md-search__input");
    if (!(await input.isVisible())) {
      await page.locator("label.md-header__button[for='__search']").click({ timeout });
    }
    await input.click({ timeout });
    // Typed key by key: Material reads the query on keyboard events, not on fill().
    await input.fill("", { timeout });
    await input.pressSequentially(step.search, { timeout });
    const results = page.locator(".md-search-result__item");
    const hit = results.filter({ hasText: step.expect ?? step.search }).first();
    await hit.waitFor({ state: "visible", timeout });
    if (step.open) {
      await Promise.all([page.waitForEvent("load", { timeout }), hit.locator("a").first().click({ timeout })]);
    }
  } else if ("visible" in step) {
    await page.locator(step.visible).first().waitFor({ state: "visible", timeout });
  } else if ("text" in step) {
    await page.getByText(step.text).first().waitFor({ state: "visible", timeout });
  } else if ("url" in step) {
    if (!page.url().includes(step.url)) {
      throw new Error(`the page is ${page.url()}, not one containing ${step.url}`);
    }
  } else if ("screenshot" in step) {
    await page.screenshot({ path: step.screenshot, fullPage: true, timeout });
  } else {
    throw new Error(`unknown step ${JSON.stringify(step)}`);
  }
}

async function main() {
  const plan = readPlan();
  const timeout = plan.timeout_ms ?? 10000;
  const require = createRequire(join(nodeModules, "noop.js"));
  const { chromium } = require("playwright-core");

  const report = {
    ok: true,
    steps: [],
    console_errors: [],
    page_errors: [],
    requests: [],
    failed_requests: [],
    final_url: "",
  };
  const profile = mkdtempSync(join(tmpdir(), "skillmeat-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 800 },
      serviceWorkers: "block",
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const onConsole = (msg) => {
      if (msg.type() === "error") {
        const where = msg.location();
        report.console_errors.push(`${msg.text()} (${where.url || "?"}:${where.lineNumber ?? "?"})`);
      }
    };
    const onRequest = (request) => report.requests.push(request.url());
    const onFailed = (request) => report.failed_requests.push(`${request.url()}: ${request.failure()?.errorText}`);
    page.on("console", onConsole);
    page.on("pageerror", (error) => report.page_errors.push(String(error)));
    page.on("request", onRequest);
    page.on("requestfailed", onFailed);
    page.on("worker", (worker) => {
      report.requests.push(worker.url());
      worker.on("console", onConsole);
    });
    for (const step of plan.steps) {
      try {
        await runStep(page, step, plan.base, timeout);
        report.steps.push({ step, ok: true });
      } catch (error) {
        report.ok = false;
        report.steps.push({ step, ok: false, error: String(error.message ?? error).split("\n")[0] });
        break;
      }
    }
    report.final_url = page.url();
  } finally {
    if (context) await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(report) + "\n");
}

main().catch((error) => {
  process.stderr.write(`browser.mjs: ${error.stack ?? error}\n`);
  process.exit(2);
});
