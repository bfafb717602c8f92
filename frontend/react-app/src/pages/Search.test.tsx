import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { apiError, mockApi, renderPage } from "../test/api";
import { Search, byKind } from "./Search";

afterEach(() => vi.unstubAllGlobals());
const png = () => new Response(new Blob(["x"], { type: "image/webp" }), { status: 200 });
const hit = (id: string, filename: string) => ({ chunk_id: 1, document_id: id, filename, collection: "c", page: null, ordinal: 0, text: `text of ${filename}`, score: 0.5, highlights: [] });
const base = { "GET /api/v1/collections": () => [] };

test("an image hit shows its thumbnail and finds similar images; labels filter the search", { timeout: 20000 }, async () => {
  const calls = mockApi({ ...base,
    "GET /api/v1/labels": () => ({ labels: [{ kind: "topic", value: "pets", count: 2 }] }),
    "POST /api/v1/search": () => ({ results: [hit("img", "cat.png"), hit("txt", "notes.txt")], took_ms: 4 }),
    "GET /api/v1/documents/img/thumbnail": png, "GET /api/v1/documents/sim/thumbnail": png,
    "POST /api/v1/search/images": () => ({ results: [{ document_id: "sim", filename: "kitten.jpg", score: 0.88 }] }),
  });
  renderPage(<Search />);
  await userEvent.click(await screen.findByRole("textbox", { name: "Labels" }));
  await userEvent.click(await screen.findByRole("option", { name: "topic: pets" }));
  await userEvent.type(screen.getByRole("textbox", { name: "Query" }), "cat");
  await userEvent.click(screen.getByRole("button", { name: "Search" }));
  expect(await screen.findByAltText("cat.png")).toBeTruthy();
  const body = JSON.parse(calls.find((c) => c.url.pathname === "/api/v1/search")!.body!);
  expect(body.filters).toEqual({ labels: { topic: ["pets"] } });
  expect(body.highlights).toBe(true); // snippets are marked only when asked
  expect(screen.queryByRole("button", { name: "Find similar images to notes.txt" })).toBeNull(); // no thumbnail
  await userEvent.click(screen.getByRole("button", { name: "Find similar images to cat.png" }));
  expect(await screen.findByText("kitten.jpg")).toBeTruthy();
  expect(byKind(["topic:a", "topic:b", "lang:en"])).toEqual({ topic: ["a", "b"], lang: ["en"] });
});

test("no matches say so, and without the labels API there is no label filter", async () => {
  mockApi({ ...base, "POST /api/v1/search": () => ({ results: [], took_ms: 1 }) });
  renderPage(<Search />);
  await userEvent.type(screen.getByRole("textbox", { name: "Query" }), "nothing");
  await userEvent.click(screen.getByRole("button", { name: "Search" }));
  expect(await screen.findByText("No matches.")).toBeTruthy();
  expect(screen.queryByRole("textbox", { name: "Labels" })).toBeNull();
});

test("a failing find-similar shows its error in the similar panel", async () => {
  mockApi({ ...base, "POST /api/v1/search": () => ({ results: [hit("img", "cat.png")], took_ms: 4 }),
    "GET /api/v1/documents/img/thumbnail": png,
    "POST /api/v1/search/images": () => apiError(422, "not_an_image", "This document is not an image.") });
  renderPage(<Search />);
  await userEvent.type(screen.getByRole("textbox", { name: "Query" }), "cat");
  await userEvent.click(screen.getByRole("button", { name: "Search" }));
  await userEvent.click(await screen.findByRole("button", { name: "Find similar images to cat.png" }));
  expect((await screen.findByRole("alert")).textContent).toContain("This document is not an image.");
});

