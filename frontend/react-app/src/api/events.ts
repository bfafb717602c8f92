import { useEffect } from "react";
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { authFetch } from "./auth";
import { readSSE } from "./sse";
import type { DocumentOut } from "./client";

export type DocumentEvent = Pick<DocumentOut, "id" | "status" | "stage" | "error_code" | "error" | "chunk_count" | "timings" | "updated_at">;

export function applyEvent(qc: QueryClient, ev: DocumentEvent): void {
  let known = false;
  qc.setQueriesData<{ items: DocumentOut[] }>({ queryKey: ["documents"] }, (page) => {
    if (!page) return page;
    const items = page.items.map((d) => (d.id === ev.id ? ((known = true), { ...d, ...ev }) : d));
    return { ...page, items };
  });
  qc.setQueryData<DocumentOut>(["document", ev.id], (d) => (d ? { ...d, ...ev } : d));
  if (!known) void qc.invalidateQueries({ queryKey: ["documents"] });
  if (ev.status === "ready") void qc.invalidateQueries({ queryKey: ["chunks", ev.id] });
}

/** A document deleted in another session (event `deleted`): it leaves every listed page at
 * once (the list is then refetched to fill the page), and an open Document view says so. */
export function applyDeleted(qc: QueryClient, id: string): void {
  let listed = false;
  qc.setQueriesData<{ items: DocumentOut[]; total: number }>({ queryKey: ["documents"] }, (page) => {
    if (!page || !page.items.some((d) => d.id === id)) return page;
    listed = true;
    return { ...page, items: page.items.filter((d) => d.id !== id), total: Math.max(0, page.total - 1) };
  });
  qc.setQueryData(["document-deleted", id], true);
  if (listed) void qc.invalidateQueries({ queryKey: ["documents"] });
}

/** Subscribe to GET /api/v1/events while signed in; reconnect with backoff. */
export function useDocumentEvents(enabled: boolean): void {
  const qc = useQueryClient();
  useEffect(() => {
    if (!enabled) return;
    const abort = new AbortController();
    let delay = 1000;
    (async () => {
      while (!abort.signal.aborted) {
        try {
          const resp = await authFetch("/api/v1/events", { signal: abort.signal, headers: { Accept: "text/event-stream" } });
          if (resp.ok && resp.body) {
            delay = 1000;
            for await (const msg of readSSE(resp.body)) {
              if (msg.event === "document") applyEvent(qc, JSON.parse(msg.data) as DocumentEvent);
              if (msg.event === "deleted") applyDeleted(qc, (JSON.parse(msg.data) as { id: string }).id);
              if (msg.event === "ready") void qc.invalidateQueries({ queryKey: ["documents"] });
            }
          }
        } catch { /* dropped: retry below */ }
        if (abort.signal.aborted) break;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 15000);
      }
    })();
    return () => abort.abort();
  }, [enabled, qc]);
}
