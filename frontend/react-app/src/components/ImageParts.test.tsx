import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { apiError, mockApi, renderPage } from "../test/api";
import { ImageMeta, OcrOverlay, SimilarImages } from "./ImageParts";
import type { ContractDocument } from "../api/contract";

afterEach(() => vi.unstubAllGlobals());
const png = () => new Response(new Blob(["x"], { type: "image/webp" }), { status: 200 });

test("near-duplicates and similar images are listed with their thumbnails", async () => {
  const calls = mockApi({
    "GET /api/v1/documents/d1/near-duplicates": () => ({ near_duplicates: [{ document_id: "d2", filename: "copy.png", collection: "c", distance: 3 }] }),
    "POST /api/v1/search/images": () => ({ results: [{ document_id: "d1", filename: "self.png", score: 1 }, { document_id: "d3", filename: "cat.png", score: 0.91 }] }),
    "GET /api/v1/documents/d2/thumbnail": png, "GET /api/v1/documents/d3/thumbnail": png,
  });
  renderPage(<SimilarImages id="d1" />);
  expect(await screen.findByText("copy.png")).toBeTruthy();
  expect(screen.getByText("c · distance 3")).toBeTruthy();
  await userEvent.click(screen.getByRole("button", { name: "Find similar images" }));
  expect(await screen.findByText("cat.png")).toBeTruthy();
  expect(screen.queryByText("self.png")).toBeNull(); // the image itself is left out
  expect(JSON.parse(calls.find((c) => c.method === "POST")!.body!)).toEqual({ document_id: "d1", k: 12 });
  expect(await screen.findByAltText("cat.png")).toBeTruthy();
});

test("no near-duplicates and no similar images say so; without the endpoints the section says image search is missing", async () => {
  mockApi({ "GET /api/v1/documents/d1/near-duplicates": () => ({ near_duplicates: [] }), "POST /api/v1/search/images": () => ({ results: [] }) });
  const { unmount } = renderPage(<SimilarImages id="d1" />);
  expect(await screen.findByText("No near-duplicates.")).toBeTruthy();
  await userEvent.click(screen.getByRole("button", { name: "Find similar images" }));
  expect(await screen.findByText("No similar images.")).toBeTruthy();
  unmount();
  mockApi({ "POST /api/v1/search/images": () => apiError(405, "method_not_allowed", "Method Not Allowed") });
  renderPage(<SimilarImages id="d1" />); // the route is missing: only the app's GET fallback matches
  await userEvent.click(screen.getByRole("button", { name: "Find similar images" }));
  expect(await screen.findByText("Image search is not available on this server.")).toBeTruthy();
  expect(screen.queryByText("Near-duplicates")).toBeNull();
});

test("a failing image search shows its error", async () => {
  mockApi({ "POST /api/v1/search/images": () => apiError(503, "model_unavailable", "The vision model is not loaded.") });
  renderPage(<SimilarImages id="d1" />);
  await userEvent.click(screen.getByRole("button", { name: "Find similar images" }));
  expect((await screen.findByRole("alert")).textContent).toContain("The vision model is not loaded.");
});

const imageDoc = { id: "d1", content_type: "image/png", filename: "a.png",
  image: { width: 640, height: 480, format: "PNG", exif: { camera: "Pixel 8", taken_at: "2026-11-30T09:00:00" }, gps: null, ocr: { engine: "rapidocr", lines: 4, ms: 120 } } } as unknown as ContractDocument;

test("image metadata and the analysis show; a document without image data shows nothing", async () => {
  mockApi({ "GET /api/v1/documents/d1/image-analysis": () => ({ objects: [{ value: "cat", confidence: 0.8 }], nsfw: 0.01, phash: "ff", model: "clip", description: "a cat on a mat" }) });
  const { unmount } = renderPage(<ImageMeta doc={imageDoc} />);
  expect(screen.getByText("Dimensions: 640 × 480 (PNG)")).toBeTruthy();
  expect(screen.getByText("Camera: Pixel 8")).toBeTruthy();
  expect(screen.getByText("OCR: rapidocr, 4 lines in 120 ms")).toBeTruthy();
  expect(await screen.findByText("Objects: cat 80%")).toBeTruthy();
  unmount();
  mockApi({});
  const { container } = renderPage(<ImageMeta doc={{ ...imageDoc, content_type: "application/pdf", image: null } as ContractDocument} />);
  expect(container.querySelector("h2, [role=alert], form")).toBeNull();
});

test("OCR boxes are drawn over the image in its pixel coordinates", () => {
  renderPage(<OcrOverlay src="blob:x" alt="scan" width={200} height={100}
    boxes={[{ text: "TOTAL 42", box: [[10, 10], [90, 10], [90, 30], [10, 30]], score: 0.97 }]} />);
  const svg = screen.getByRole("img", { name: "1 text boxes found by OCR" });
  expect(svg.getAttribute("viewBox")).toBe("0 0 200 100");
  expect(svg.querySelector("polygon")!.getAttribute("points")).toBe("10,10 90,10 90,30 10,30");
  expect(svg.querySelector("title")!.textContent).toBe("TOTAL 42 (97%)");
});
