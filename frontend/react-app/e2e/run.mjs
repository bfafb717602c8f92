// End-to-end run of the web app in Debian's chromium (playwright-core; no browser download).
//   node e2e/run.mjs <base url> <email> <password> <files dir> <artifacts dir>
// Prints one JSON line (RESULT {...}) with the axe findings per page; exits non-zero on failure.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, email, password, files, out, friend] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const T = 60_000;
const axe = {};
const shots = [];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.setDefaultTimeout(T);
const consoleErrors = [];
page.on("pageerror", (e) => consoleErrors.push(String(e)));

async function check(name, on = page) {
  await on.addScriptTag({ content: axeSource });
  const result = await on.evaluate(async () =>
    // eslint-disable-next-line no-undef
    (await axe.run(document, { resultTypes: ["violations"] })).violations.map((v) => ({
      id: v.id, impact: v.impact, nodes: v.nodes.length, targets: v.nodes.slice(0, 4).map((n) => `${n.target} ${n.failureSummary?.split("\n").pop() ?? ""}`) })));
  axe[name] = result;
  const file = join(out, `${name}.png`);
  await on.screenshot({ path: file, fullPage: true });
  shots.push(file);
}
const step = (s) => console.log(`e2e: ${s}`);

async function signIn(on) {
  await on.getByLabel("Email").fill(email);
  await on.getByLabel("Password", { exact: false }).first().fill(password);
  await on.getByRole("button", { name: "Sign in" }).click();
  await on.getByRole("heading", { name: "Library" }).waitFor();
}
const rows = 'table[aria-label="Documents"] tbody tr';
async function pick(label, option) {
  await page.getByRole("textbox", { name: label }).click();
  await page.getByRole("option", { name: option }).click();
}
const firstRow = (name) => page.waitForFunction(([sel, n]) => document.querySelector(sel)?.getAttribute("data-doc") === n, [rows, name]);

try {
  await page.goto(base + "/");
  await page.getByLabel("Email").waitFor();
  await check("01-sign-in");
  await signIn(page);
  step("signed in");

  await page.getByLabel("Upload into collection").fill("e2e");
  await page.locator("input[type=file]").setInputFiles(
    ["basalt.pdf", "granite.pdf", "empty.pdf", "notes.txt", "cat.png"].map((f) => join(files, f)));
  await page.getByRole("listitem").filter({ hasText: "basalt.pdf" }).getByText("created").waitFor();
  for (const name of ["basalt.pdf", "granite.pdf", "notes.txt", "cat.png"]) {
    await page.locator(`tr[data-doc="${name}"] [data-status="ready"]`).waitFor(); // live, no reload
  }
  await page.locator('tr[data-doc="empty.pdf"] .doc-error').waitFor();
  const reason = await page.locator('tr[data-doc="empty.pdf"] .doc-error').innerText();
  step(`uploads ready; the empty PDF failed with: ${reason}`);
  await check("02-library");

  await pick("Type", "PDF");
  await page.locator('tr[data-doc="notes.txt"]').waitFor({ state: "detached" });
  await page.locator('tr[data-doc="basalt.pdf"]').waitFor();
  await pick("Type", "Text & Markdown");
  await page.locator('tr[data-doc="basalt.pdf"]').waitFor({ state: "detached" });
  await page.locator('tr[data-doc="notes.txt"]').waitFor();
  await pick("Type", "Text & Markdown"); // picking it again clears the filter
  await page.locator('tr[data-doc="basalt.pdf"]').waitFor();
  await pick("Sort", "Name Z–A");
  await firstRow("notes.txt");
  await pick("Sort", "Name A–Z");
  await firstRow("basalt.pdf");
  await check("03-library-sorted");
  await pick("Sort", "Newest first");
  step("type filter (PDF, text) and sort by name both ways");

  await page.getByRole("link", { name: "Search" }).click();
  await page.getByLabel("Query").fill("basalt columns");
  await page.getByRole("button", { name: "Search" }).click();
  await page.locator(".hit mark").first().waitFor();
  await check("04-search");
  // search by image: on a server without image search the panel says so (multipart in a real browser)
  await page.locator('form[role="search"] input[type=file]').setInputFiles(join(files, "dot.png"));
  await page.locator(".similar-results").getByText(/not available on this server|score|No similar images/).first().waitFor();
  await page.locator(".similar-results").getByRole("button", { name: "Close" }).click();
  step("search by image answered");
  await page.locator(".hit a").first().click();
  await page.locator(".chunk[aria-current=true]").waitFor();
  step("search hit opened at its chunk");
  await check("05-document");

  await page.getByRole("link", { name: "Chat" }).click();
  await page.getByLabel("Your question").fill("How do basalt columns form?");
  await page.getByRole("button", { name: "Ask" }).click();
  const cite = page.locator(".answer").getByRole("button", { name: /Open source \d+/ }).first();
  await cite.waitFor();
  await page.getByRole("button", { name: "Ask" }).and(page.locator(":enabled")).waitFor();
  const answer = await page.locator(".answer").last().innerText();
  await cite.click();
  await page.locator(".cited-passage").waitFor();
  // axe reads colours as painted: wait for the modal's fade-in to end (mid-transition text is
  // blended with the overlay and fails contrast that the open modal passes)
  await page.waitForFunction(() => [...document.querySelectorAll(".mantine-Modal-content")]
    .every((el) => getComputedStyle(el).opacity === "1"));
  step(`chat answered (${answer.length} chars) and the citation opened its passage`);
  await check("06-chat");
  await page.keyboard.press("Escape");

  await page.getByRole("link", { name: "Collections" }).click();
  await page.getByLabel("New collection").fill("shared-notes");
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByLabel("Share shared-notes with (email)").fill(friend);
  await page.getByLabel("Share shared-notes with (email)").locator("xpath=ancestor::form")
    .getByRole("button", { name: "Share" }).click();
  await page.getByRole("button", { name: `Unshare ${friend}` }).waitFor();
  await check("07-collections");
  await page.getByRole("button", { name: `Unshare ${friend}` }).click();
  await page.getByRole("button", { name: `Unshare ${friend}` }).waitFor({ state: "detached" });
  step("collection created, shared and unshared");

  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByRole("heading", { name: "API keys" }).waitFor();
  await check("08-api-keys");
  await page.getByRole("link", { name: "Status" }).click();
  await page.getByText("Overall:").waitFor();
  await check("09-status");
  await page.getByRole("link", { name: "Review" }).click();
  await page.getByRole("heading", { name: "Review labels" }).waitFor();
  await page.locator("main").getByText(/not available on this server|to review/).first().waitFor();
  await check("10-review");

  // an image document: thumbnail, what the models saw in it (labels), similar images
  await page.getByRole("link", { name: "Library" }).click();
  await page.locator('tr[data-doc="cat.png"] a').first().click();
  await page.locator("img.thumb").first().waitFor();
  await page.locator(".image-meta").getByText(/Objects: .*cat/).waitFor();
  await page.locator(".labels .label").filter({ hasText: /cat/ }).first().waitFor();
  await page.getByRole("button", { name: "Find similar images" }).click();
  await page.getByText(/Similar images|No similar images/).first().waitFor();
  step("opened cat.png: its thumbnail, its object labels (a cat) and similar images");
  await check("13-image");

  // a second session (its own browser context: own tab storage) watches the Library
  const other = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  other.setDefaultTimeout(T);
  other.on("pageerror", (e) => consoleErrors.push(String(e)));
  await other.goto(base + "/");
  await signIn(other);
  await other.locator('tr[data-doc="granite.pdf"]').waitFor();

  await page.getByRole("link", { name: "Library" }).click();
  await page.getByRole("button", { name: "Delete granite.pdf" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.locator('tr[data-doc="granite.pdf"]').waitFor({ state: "detached" });
  step("deleted granite.pdf");
  await other.locator('tr[data-doc="granite.pdf"]').waitFor({ state: "detached", timeout: 20_000 });
  await other.locator('tr[data-doc="basalt.pdf"]').waitFor();
  step("the other session's Library dropped granite.pdf live (event deleted), no reload");
  await check("11-library-other-session", other);

  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole("button", { name: "Toggle navigation" }).waitFor();
  await check("12-library-phone");
  console.log("RESULT " + JSON.stringify({ ok: true, reason, axe, shots, consoleErrors }));
} catch (err) {
  await page.screenshot({ path: join(out, "failure.png"), fullPage: true }).catch(() => {});
  console.log("RESULT " + JSON.stringify({ ok: false, error: String(err), axe, shots, consoleErrors }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
