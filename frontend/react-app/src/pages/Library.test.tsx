import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { apiError, mockApi, renderPage } from "../test/api";
import { Library } from "./Library";

afterEach(() => vi.unstubAllGlobals());

const doc = (id: string, filename: string, content_type: string, size_bytes: number) => ({
  id, filename, content_type, size_bytes, collection: "default", collection_id: "c1", status: "ready", stage: "done",
  error_code: null, error: null, chunk_count: 1, page_count: null, timings: {}, metadata: {},
  created_at: "2026-12-01T10:00:00Z", updated_at: "2026-12-01T10:00:00Z", task_id: null, sha256: "x",
});
const base = { "GET /api/v1/collections": () => [{ id: "c1", name: "default" }] };

test("the type filter and the sort go to the API, and the list shows what it answers", { timeout: 20000 }, async () => {
  const calls = mockApi({ ...base,
    "GET /api/v1/documents": (url) => ({ items: url.searchParams.get("type") === "pdf"
      ? [doc("p", "report.pdf", "application/pdf", 2048)]
      : [doc("a", "notes.txt", "text/plain", 10), doc("p", "report.pdf", "application/pdf", 2048)], total: 2, limit: 20, offset: 0 }),
    "GET /api/v1/labels": () => ({ labels: [{ kind: "topic", value: "finance", count: 3 }] }),
  });
  renderPage(<Library />);
  expect(await screen.findByText("notes.txt")).toBeTruthy();
  expect(screen.getByText("2.0 KB")).toBeTruthy();
  await userEvent.click(screen.getByRole("textbox", { name: "Type" }));
  await userEvent.click(await screen.findByRole("option", { name: "PDF" }));
  await vi.waitFor(() => expect(screen.queryByText("notes.txt")).toBeNull());
  await userEvent.click(screen.getByRole("textbox", { name: "Sort" }));
  await userEvent.click(await screen.findByRole("option", { name: "Name A–Z" }));
  await vi.waitFor(() => {
    const last = calls.filter((c) => c.url.pathname === "/api/v1/documents").at(-1)!.url.searchParams;
    expect([last.get("type"), last.get("sort"), last.get("order")]).toEqual(["pdf", "name", "asc"]);
  });
  // the label filter appears when GET /api/v1/labels answers
  await userEvent.click(await screen.findByRole("textbox", { name: "Label" }));
  await userEvent.click(await screen.findByRole("option", { name: "topic: finance (3)" }));
  await vi.waitFor(() => expect(calls.at(-1)!.url.searchParams.get("label")).toBe("topic:finance"));
});

test("an empty library says how to start, and no label filter shows without the labels API", async () => {
  mockApi({ ...base, "GET /api/v1/documents": () => ({ items: [], total: 0, limit: 20, offset: 0 }) });
  renderPage(<Library />);
  expect(await screen.findByText(/No documents yet/)).toBeTruthy();
  expect(screen.queryByRole("textbox", { name: "Label" })).toBeNull();
});

test("a failing list shows the API's error", async () => {
  mockApi({ ...base, "GET /api/v1/documents": () => apiError(503, "database_unavailable", "The database is not answering.") });
  renderPage(<Library />);
  const alert = await screen.findByRole("alert");
  expect(within(alert).getByText(/database_unavailable: The database is not answering./)).toBeTruthy();
});
