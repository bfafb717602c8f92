import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import { ApiError, authFetch, errorOf } from "./auth";

export type Schemas = components["schemas"];
export type DocumentOut = Schemas["DocumentOut"];
export type Source = Schemas["Source"];
export interface SearchHit {
  chunk_id: number; document_id: string; filename: string; collection: string;
  page: number | null; ordinal: number; text: string; score: number; highlights: string[];
}

export const api = createClient<paths>({
  baseUrl: typeof window !== "undefined" ? window.location.origin : "http://localhost",
  fetch: (req: Request) => authFetch(req),
});

/** Unwrap an openapi-fetch result: data, or throw the API's error. */
export async function unwrap<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await p;
  if (error !== undefined || !response.ok) {
    const err = (error as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (err) {
      throw new ApiError(response.status, err.code ?? `http_${response.status}`, err.message ?? "Request failed");
    }
    throw await errorOf(response);
  }
  return data as T;
}
