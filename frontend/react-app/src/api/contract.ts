/**
 * Calls of the labels and images endpoints, typed with the generated OpenAPI schemas
 * (schema.d.ts, `npm run gen:api`).
 *
 * Every call that reads answers `null` when the endpoint (or the thing asked for) answers 404
 * (or 405: a POST to a path only the web app's GET fallback matches),
 * so a page hides that section instead of failing; other errors are thrown (ApiError).
 */
import { authFetch, errorOf } from "./auth";
import type { DocumentOut, Schemas, SearchHit } from "./client";

export type Label = Schemas["LabelOut"];
export type LabelSource = Label["source"];
export type Labeler = Schemas["LabelerOut"];
export type DocumentLabels = Schemas["DocumentLabels"];
export type LabelCount = Schemas["LabelCount"];
export type ReviewItem = Schemas["ReviewItem"];
export type ReviewPage = Schemas["ReviewPage"];
export type ImageInfo = Schemas["ImageOut"];
export type ContractDocument = DocumentOut;
export type OcrBox = Schemas["OcrBox"];
export type ContractChunk = Schemas["ChunkOut"];
export type NearDuplicate = Schemas["NearDuplicateOut"];
export type ImageAnalysis = Schemas["ImageAnalysisOut"];
export type ImageHit = SearchHit;
/** The schema leaves a search hit open (`SearchHit` is shaped in the search domain); client.ts
 * spells out its fields. */
type ImageSearchResponse = Omit<Schemas["ImageSearchResponse"], "results"> & { results: ImageHit[] };

/** An absolute URL on this origin (fetch outside a browser, as in tests, needs one). */
export const apiUrl = (path: string) => new URL(path, typeof window !== "undefined" ? window.location.origin : "http://localhost").href;

/** The endpoint is not on this server: 404, or 405 for a POST to a path that only the web
 * app's GET fallback matches. */
const absent = (resp: Response) => resp.status === 404 || resp.status === 405;

async function json<T>(path: string, init?: RequestInit): Promise<T | null> {
  const resp = await authFetch(apiUrl(path), init);
  if (absent(resp)) return null;
  if (!resp.ok) throw await errorOf(resp);
  return (resp.status === 204 ? undefined : await resp.json()) as T;
}
async function must<T>(path: string, init?: RequestInit): Promise<T> {
  const resp = await authFetch(apiUrl(path), init);
  if (!resp.ok) throw await errorOf(resp);
  return (resp.status === 204 ? undefined : await resp.json()) as T;
}
const post = (body?: unknown): RequestInit => ({
  method: "POST", headers: { "Content-Type": "application/json" },
  body: body === undefined ? undefined : JSON.stringify(body),
});
const q = (params: Record<string, string | number | null | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : "";
};

export const documentLabels = (id: string) => json<DocumentLabels>(`/api/v1/documents/${id}/labels`);
export const addLabel = (id: string, kind: string, value: string) =>
  must<Label>(`/api/v1/documents/${id}/labels`, post({ kind, value }));
export const removeLabel = (id: string, labelId: number) =>
  must<void>(`/api/v1/documents/${id}/labels/${labelId}`, { method: "DELETE" });
export const labelCounts = (collection?: string | null) =>
  json<{ labels: LabelCount[] }>(`/api/v1/labels${q({ collection })}`).then((r) => r?.labels ?? null);
export const reviewQueue = (limit: number, offset: number, collection?: string | null) =>
  json<ReviewPage>(`/api/v1/labels/review${q({ limit, offset, collection })}`);
export const acceptLabel = (labelId: number) => must<Label>(`/api/v1/labels/${labelId}/accept`, post());
export const rejectLabel = (labelId: number) => must<Label>(`/api/v1/labels/${labelId}/reject`, post());
export const nearDuplicates = (id: string) =>
  json<{ near_duplicates: NearDuplicate[] }>(`/api/v1/documents/${id}/near-duplicates`).then((r) => r?.near_duplicates ?? null);
export const imageAnalysis = (id: string) => json<ImageAnalysis>(`/api/v1/documents/${id}/image-analysis`);
export const similarImages = (documentId: string, k = 12, collection?: string | null) =>
  json<ImageSearchResponse>("/api/v1/search/images", post({ document_id: documentId, k, ...(collection ? { collection } : {}) }))
    .then((r) => (r ? r.results.filter((h) => h.document_id !== documentId) : null));

/** Images like an uploaded one (multipart `file`); null when image search is not there. */
export function similarToFile(file: File, k = 12, collection?: string | null) {
  const form = new FormData();
  form.append("file", file);
  form.append("k", String(k));
  if (collection) form.append("collection", collection);
  return json<ImageSearchResponse>("/api/v1/search/images", { method: "POST", body: form }).then((r) => r?.results ?? null);
}

/** The thumbnail as an object URL, or null (no thumbnail, or the endpoint is not there). */
export async function thumbnail(id: string): Promise<string | null> {
  const resp = await authFetch(apiUrl(`/api/v1/documents/${id}/thumbnail`));
  if (resp.status === 404) return null;
  if (!resp.ok) throw await errorOf(resp);
  return URL.createObjectURL(await resp.blob());
}

/** The `label=kind:value` filter of GET /api/v1/documents. */
export function labelQuery(label: string | null): { label?: string[] } {
  return label ? { label: [label] } : {};
}
