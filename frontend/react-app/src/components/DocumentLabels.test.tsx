import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { apiError, jsonResponse, mockApi, renderPage } from "../test/api";
import { DocumentLabels } from "./DocumentLabels";

afterEach(() => vi.unstubAllGlobals());

const label = (id: number, kind: string, value: string, source: "model" | "human", confidence = 1) => ({
  id, kind, value, source, confidence, status: "active", model_name: source === "model" ? "m" : null,
  model_version: null, chunk_id: null, created_at: "2026-12-01T10:00:00Z" });
const path = "/api/v1/documents/d1/labels";

test("labels show with their confidence; adding and removing go to the API", async () => {
  const calls = mockApi({
    [`GET ${path}`]: () => ({ labels: [label(1, "topic", "finance", "model", 0.62), label(2, "topic", "audit", "human")],
      labelers: [{ name: "topic", status: "done", error: null, ms: 12.4, finished_at: null }] }),
    [`POST ${path}`]: () => jsonResponse(label(3, "topic", "tax", "human"), 201),
    [`DELETE ${path}/1`]: () => new Response(null, { status: 204 }),
  });
  renderPage(<DocumentLabels id="d1" />);
  expect(await screen.findByText("topic: finance · 62%")).toBeTruthy();
  expect(screen.getByText(/topic: done \(12 ms\)/)).toBeTruthy();
  await userEvent.type(screen.getByLabelText("New label"), "tax");
  await userEvent.click(screen.getByRole("button", { name: "Add label" }));
  await vi.waitFor(() => expect(calls.some((c) => c.method === "POST" && c.body === JSON.stringify({ kind: "topic", value: "tax" }))).toBe(true));
  await userEvent.click(screen.getByRole("button", { name: "Remove label topic: finance" }));
  await vi.waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.url.pathname === `${path}/1`)).toBe(true));
});

test("a document without labels says so", async () => {
  mockApi({ [`GET ${path}`]: () => ({ labels: [label(9, "topic", "old", "human")].map((l) => ({ ...l, status: "rejected" })), labelers: [] }) });
  renderPage(<DocumentLabels id="d1" />);
  expect(await screen.findByText("No labels yet.")).toBeTruthy();
  expect(screen.queryByText(/topic: old/)).toBeNull(); // rejected labels are not shown
});

test("an error shows the API's message, and a 404 (no labels API) hides the section", async () => {
  mockApi({ [`GET ${path}`]: () => apiError(500, "internal", "Labels failed.") });
  const { unmount } = renderPage(<DocumentLabels id="d1" />);
  expect((await screen.findByRole("alert")).textContent).toContain("Labels failed.");
  unmount();
  mockApi({});
  const { container } = renderPage(<DocumentLabels id="d1" />);
  await vi.waitFor(() => expect(screen.queryByText("Loading labels…")).toBeNull());
  expect(container.querySelector("h2, [role=alert], form")).toBeNull();
});
