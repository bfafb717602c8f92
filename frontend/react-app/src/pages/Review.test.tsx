import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { apiError, mockApi, renderPage } from "../test/api";
import { Review } from "./Review";

afterEach(() => vi.unstubAllGlobals());

const item = (id: number, value: string) => ({ id, kind: "topic", value, confidence: 0.55, source: "model", status: "active",
  model_name: "zero-shot", model_version: "1", chunk_id: null, created_at: "t", document_id: `d${id}`, filename: `f${id}.pdf`, collection: "c" });

test("accept and reject by button and by keyboard, and the row leaves the queue", async () => {
  const calls = mockApi({
    "GET /api/v1/labels/review": () => ({ items: [item(1, "finance"), item(2, "legal"), item(3, "tax")], total: 3 }),
    "POST /api/v1/labels/1/accept": () => ({ ...item(1, "finance"), source: "human" }),
    "POST /api/v1/labels/2/reject": () => ({ ...item(2, "legal"), source: "human", status: "rejected" }),
    "POST /api/v1/labels/3/accept": () => ({ ...item(3, "tax"), source: "human" }),
  });
  renderPage(<Review />);
  expect(await screen.findByText("3 labels to review.", { exact: false })).toBeTruthy();
  await userEvent.click(screen.getByRole("button", { name: "Accept topic: finance on f1.pdf" }));
  await vi.waitFor(() => expect(screen.queryByText("f1.pdf")).toBeNull());
  screen.getByRole("row", { name: "topic: legal on f2.pdf" }).focus();
  await userEvent.keyboard("r");
  await vi.waitFor(() => expect(screen.queryByText("f2.pdf")).toBeNull());
  screen.getByRole("row", { name: "topic: tax on f3.pdf" }).focus();
  await userEvent.keyboard("a");
  await vi.waitFor(() => expect(calls.some((c) => c.url.pathname === "/api/v1/labels/3/accept")).toBe(true));
  expect(calls.filter((c) => c.method === "POST").map((c) => c.url.pathname)).toEqual(
    ["/api/v1/labels/1/accept", "/api/v1/labels/2/reject", "/api/v1/labels/3/accept"]);
});

test("an empty queue says there is nothing to review; without the labels API it says so", async () => {
  mockApi({ "GET /api/v1/labels/review": () => ({ items: [], total: 0 }) });
  const { unmount } = renderPage(<Review />);
  expect(await screen.findByText(/Nothing to review/)).toBeTruthy();
  unmount();
  mockApi({});
  renderPage(<Review />);
  expect(await screen.findByText(/not available on this server yet/)).toBeTruthy();
});

test("a failing queue or decision shows the error", async () => {
  mockApi({ "GET /api/v1/labels/review": () => ({ items: [item(1, "finance")], total: 1 }),
    "POST /api/v1/labels/1/accept": () => apiError(403, "forbidden", "This collection is shared with you read-only.") });
  const { unmount } = renderPage(<Review />);
  await userEvent.click(await screen.findByRole("button", { name: "Accept topic: finance on f1.pdf" }));
  expect((await screen.findByRole("alert")).textContent).toContain("read-only");
  expect(screen.getByText("f1.pdf")).toBeTruthy(); // still in the queue
  unmount();
  mockApi({ "GET /api/v1/labels/review": () => apiError(500, "internal", "Queue failed.") });
  renderPage(<Review />);
  expect((await screen.findByRole("alert")).textContent).toContain("Queue failed.");
});
