/**
 * Hand-written types and calls for the labels and images endpoints of the shared API contract
 * (/work/notes/contract.md) that are not in the generated schema.d.ts on this branch.
 * AFTER THE MERGE the lead replaces these types with the generated ones (`npm run gen:api`)
 * and the calls with the typed `api` client; nothing else in the app declares them.
 *
 * Every call that reads answers `null` when the endpoint (or the thing asked for) answers 404
 * (or 405: a POST to a path only the web app's GET fallback matches),
 * so a page hides that section instead of failing; other errors are thrown (ApiError).
 */
import { authFetch, errorOf } from "./auth";
import type { DocumentOut, Schemas } from "./client";

export type LabelSource = "model" | "human";
export interface Label {
  id: number; kind: string; value: string; confidence: number; source: LabelSource;
  status: "active" | "rejected"; model_name: string | null; model_version: string | null;
  chunk_id: number | null; created_at: string;
}
export interface Labeler {
  name: string; status: "pending" | "running" | "done" | "failed"; error: string | null;
  ms: number | null; finished_at: string | null;
}
export interface DocumentLabels { labels: Label[]; labelers: Labeler[] }
export interface LabelCount { kind: string; value: string; count: number }
export interface ReviewItem extends Label { document_id: string; filename: string; collection: string }
export interface ReviewPage { items: ReviewItem[]; total: number }

export interface ImageInfo {
  width: number; height: number; format: string;
  exif: { camera: string | null; taken_at: string | null; [key: string]: unknown };
  gps: { lat: number; lon: number } | null;
  ocr: { engine: string; lines: number; ms: number } | null;
}
/** DocumentOut with the contract's `image` (null for non-images; absent before the merge). */
export type ContractDocument = DocumentOut & { image?: ImageInfo | null };
export interface OcrBox { text: string; box: [number, number][]; score: number }
export type ContractChunk = Schemas["ChunkOut"] & {
  source?: "text" | "ocr" | "image_description"; boxes?: OcrBox[] | null;
};
export interface NearDuplicate { document_id: string; filename: string; collection: string; distance: number }
export interface ImageAnalysis {
  objects: { value: string; confidence: number }[]; nsfw: number; phash: string; model: string;
  description: string;
}
export interface ImageHit {
  document_id: string; filename: string; score: number; collection?: string;
  chunk_id?: number; page?: number | null; text?: string;
}

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
  json<{ hits: ImageHit[] }>("/api/v1/search/images", post({ document_id: documentId, k, ...(collection ? { collection } : {}) }))
    .then((r) => (r ? r.hits.filter((h) => h.document_id !== documentId) : null));

/** Images like an uploaded one (multipart `file`); null when image search is not there. */
export function similarToFile(file: File, k = 12, collection?: string | null) {
  const form = new FormData();
  form.append("file", file);
  form.append("k", String(k));
  if (collection) form.append("collection", collection);
  return json<{ hits: ImageHit[] }>("/api/v1/search/images", { method: "POST", body: form }).then((r) => r?.hits ?? null);
}

/** The thumbnail as an object URL, or null (no thumbnail, or the endpoint is not there). */
export async function thumbnail(id: string): Promise<string | null> {
  const resp = await authFetch(apiUrl(`/api/v1/documents/${id}/thumbnail`));
  if (resp.status === 404) return null;
  if (!resp.ok) throw await errorOf(resp);
  return URL.createObjectURL(await resp.blob());
}

/** `label=kind:value` filters of GET /api/v1/documents (the typed client does not know them yet). */
export function labelQuery(label: string | null): { label?: string } {
  return label ? { label } : {};
}
