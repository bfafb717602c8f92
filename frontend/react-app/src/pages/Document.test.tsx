import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { apiError, mockApi, renderPage } from "../test/api";
import { DocumentView } from "./Document";

afterEach(() => vi.unstubAllGlobals());

const doc = { id: "d1", filename: "receipt.png", content_type: "image/png", size_bytes: 2048, collection: "c", collection_id: "c1",
  status: "ready", stage: "done", error_code: null, error: null, chunk_count: 1, page_count: null, timings: {}, metadata: {},
  created_at: "2026-12-01T10:00:00Z", updated_at: "2026-12-01T10:00:00Z", task_id: null, sha256: "x",
  image: { width: 400, height: 300, format: "PNG", exif: { camera: null, taken_at: null }, gps: null, ocr: { engine: "rapidocr", lines: 1, ms: 50 } } };
const chunk = { id: 5, document_id: "d1", ordinal: 0, page: null, text: "TOTAL 42", source: "ocr",
  boxes: [{ text: "TOTAL 42", box: [[10, 10], [90, 10], [90, 30], [10, 30]], score: 0.9 }] };
const png = () => new Response(new Blob(["x"], { type: "image/png" }), { status: 200 });

test("an image document shows its OCR chunk, and the preview draws the boxes over the image", async () => {
  mockApi({ "GET /api/v1/documents/d1": () => doc, "GET /api/v1/documents/d1/chunks": () => ({ items: [chunk], total: 1, limit: 1000, offset: 0 }),
    "GET /api/v1/documents/d1/download": png, "GET /api/v1/documents/d1/thumbnail": png });
  renderPage(<DocumentView />, "/documents/d1", "/documents/:id");
  expect(await screen.findByText("OCR · 1 boxes")).toBeTruthy();
  expect(await screen.findByAltText("Thumbnail of receipt.png")).toBeTruthy();
  await userEvent.click(screen.getByRole("button", { name: "Preview" }));
  expect(await screen.findByRole("img", { name: "1 text boxes found by OCR" })).toBeTruthy();
  expect(screen.getByRole("button", { name: "Find similar images" })).toBeTruthy();
});

test("a document deleted in another session says so", async () => {
  mockApi({ "GET /api/v1/documents/d1": () => doc });
  const { qc } = renderPage(<DocumentView />, "/documents/d1", "/documents/:id");
  qc.setQueryData(["document-deleted", "d1"], true);
  expect(await screen.findByText(/This document was deleted/)).toBeTruthy();
  expect(screen.queryByRole("heading", { name: "receipt.png" })).toBeNull();
});

test("an unknown document shows the API's error", async () => {
  mockApi({ "GET /api/v1/documents/d1": () => apiError(404, "not_found", "No document d1.") });
  renderPage(<DocumentView />, "/documents/d1", "/documents/:id");
  expect((await screen.findByRole("alert")).textContent).toContain("No document d1.");
});
