import { render } from "@testing-library/react";
import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter, Route, Routes } from "react-router-dom";

type Handler = (url: URL, init: { method: string; body: string | null }) => unknown;
export interface Call { method: string; url: URL; body: string | null }

/** Stub fetch with routes "METHOD /path" → handler (its return value is the JSON body, or a
 * Response as is). Anything else answers 404 like a missing route. Returns the calls made. */
export function mockApi(routes: Record<string, Handler>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : null;
    const url = new URL(req ? req.url : String(input), "http://localhost");
    const method = (req?.method ?? init?.method ?? "GET").toUpperCase();
    const body = req ? await req.clone().text() || null : (init?.body as string | undefined) ?? null;
    calls.push({ method, url, body });
    const handler = routes[`${method} ${url.pathname}`];
    if (!handler) return jsonResponse({ error: { code: "not_found", message: "Not Found" } }, 404);
    const out = handler(url, { method, body });
    return out instanceof Response ? out : jsonResponse(out, 200);
  }));
  return calls;
}

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}
export const apiError = (status: number, code: string, message: string) => jsonResponse({ error: { code, message } }, status);

/** Render `ui` at `path` (matched by `pattern`) with Mantine, a fresh QueryClient and a router. */
export function renderPage(ui: React.ReactElement, path = "/", pattern = "/") {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const view = render(
    <MantineProvider>
      <QueryClientProvider client={qc}>
        <MemoryRouter initialEntries={[path]}><Routes><Route path={pattern} element={ui} /></Routes></MemoryRouter>
      </QueryClientProvider>
    </MantineProvider>);
  return { ...view, qc };
}
