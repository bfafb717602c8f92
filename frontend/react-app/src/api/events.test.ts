import { QueryClient } from "@tanstack/react-query";
import { applyDeleted, applyEvent, type DocumentEvent } from "./events";

const doc = (id: string, status: string) => ({ id, status, stage: "queued", error_code: null, error: null, chunk_count: 0, timings: {}, updated_at: "t0", filename: `${id}.pdf` });
const ev = (p: Partial<DocumentEvent>) => ({ id: "a", status: "ready", stage: "done", error_code: null, error: null, chunk_count: 3, timings: { parse_ms: 5 }, updated_at: "t1", ...p }) as DocumentEvent;

test("an event updates the listed document in place, without refetching the list", () => {
  const qc = new QueryClient();
  qc.setQueryData(["documents", null, null, 1], { items: [doc("a", "queued"), doc("b", "queued")], total: 2 });
  const spy = vi.spyOn(qc, "invalidateQueries");
  applyEvent(qc, ev({}));
  const page = qc.getQueryData<{ items: { id: string; status: string; chunk_count: number }[] }>(["documents", null, null, 1])!;
  expect(page.items.map((d) => d.status)).toEqual(["ready", "queued"]);
  expect(page.items[0].chunk_count).toBe(3);
  expect(spy).not.toHaveBeenCalledWith({ queryKey: ["documents"] });
});

test("an event for a document not on screen refetches the list (a new upload elsewhere)", () => {
  const qc = new QueryClient();
  qc.setQueryData(["documents", null, null, 1], { items: [doc("b", "queued")], total: 1 });
  const spy = vi.spyOn(qc, "invalidateQueries");
  applyEvent(qc, ev({ id: "zzz", status: "failed", error_code: "parse_failed" }));
  expect(spy).toHaveBeenCalledWith({ queryKey: ["documents"] });
});

test("a document deleted elsewhere leaves the listed page at once and is marked deleted", () => {
  const qc = new QueryClient();
  qc.setQueryData(["documents", null, null, 1], { items: [doc("a", "ready"), doc("b", "queued")], total: 2 });
  applyDeleted(qc, "a");
  const page = qc.getQueryData<{ items: { id: string }[]; total: number }>(["documents", null, null, 1])!;
  expect(page.items.map((d) => d.id)).toEqual(["b"]);
  expect(page.total).toBe(1);
  expect(qc.getQueryData(["document-deleted", "a"])).toBe(true);
});

test("a deletion of a document not on screen changes no page and refetches nothing", () => {
  const qc = new QueryClient();
  qc.setQueryData(["documents", null, null, 1], { items: [doc("b", "queued")], total: 1 });
  const spy = vi.spyOn(qc, "invalidateQueries");
  applyDeleted(qc, "elsewhere");
  expect(qc.getQueryData<{ total: number }>(["documents", null, null, 1])!.total).toBe(1);
  expect(spy).not.toHaveBeenCalled();
});

test("a deletion with no list loaded yet only marks the document", () => {
  const qc = new QueryClient();
  applyDeleted(qc, "a");
  expect(qc.getQueryData(["documents", null, null, 1])).toBeUndefined();
  expect(qc.getQueryData(["document-deleted", "a"])).toBe(true);
});
